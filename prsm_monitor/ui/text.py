"""Showing untrusted text (node names, alert messages) safely in Markdown-rendering elements."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$])")


def escape_markdown(text: object) -> str:
    """Backslash-escape every Markdown (and HTML-starting) character, so the text shows as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")
