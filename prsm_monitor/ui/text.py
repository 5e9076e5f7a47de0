"""Untrusted text (node and model names, alert messages, anything from the network) in
elements that render Markdown: ``st.markdown``, ``st.caption``, ``st.error`` and the other
alerts, ``st.toast``, button labels.

:func:`escape_markdown` is the one way such text reaches them: it backslash-escapes every
ASCII punctuation character (CommonMark lets any of them be escaped, and every Markdown,
HTML, link, directive such as ``:red[...]``, icon and LaTeX construct starts with one) and
turns line breaks and other control characters into spaces, so the text shows as typed,
on one line. Text in ``st.text``, ``st.code``, tables and charts needs no escaping.
"""

from __future__ import annotations

import re
import string

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_markdown(text: object) -> str:
    """``text`` as it must be written in Markdown to show exactly as typed, on one line."""
    return _PUNCTUATION.sub(r"\\\1", _CONTROL.sub(" ", str(text)))
