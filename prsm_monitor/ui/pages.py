"""The dashboard's pages, declared once: the sidebar's links and each page's title and icon."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Page:
    path: str  # relative to the app's directory, as st.page_link takes it
    title: str
    icon: str


PAGES = (
    Page("streamlit_app.py", "Overview", ":material/dashboard:"),
    Page("pages/1_System.py", "System", ":material/memory:"),
    Page("pages/2_Network.py", "Network", ":material/hub:"),
    Page("pages/3_AI_Models.py", "AI Models", ":material/psychology:"),
    Page("pages/4_Alerts.py", "Alerts", ":material/notifications:"),
    Page("pages/5_Fleet.py", "Fleet", ":material/lan:"),
    Page("pages/6_Incident.py", "Incident", ":material/crisis_alert:"),
)


def page_of(script: str) -> Page:
    """The page whose script is ``script`` (a page file's ``__file__``)."""
    script_path = Path(script).as_posix()
    for page in PAGES:
        if script_path.endswith(page.path):
            return page
    raise ValueError(f"script={script!r} is not a page: expected one of {', '.join(p.path for p in PAGES)}")
