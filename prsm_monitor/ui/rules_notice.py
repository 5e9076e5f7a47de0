"""The rules file's problem on every page: an edit that could not be applied."""

from __future__ import annotations

import streamlit as st

from ..core.collector import MetricsCollector
from .text import escape_markdown


def rules_file_error(collector: MetricsCollector) -> None:
    """``st.error`` naming the file, line and key while the edited rules file is bad (the
    rules in force stay until it is fixed)."""
    watched = collector.rules_file
    error = watched.error if watched is not None else None
    if error is not None:
        st.error(escape_markdown(f"Rules file not applied, the rules in force stay: {error}"), icon=":material/rule:")
