"""What the pages say about time: the viewer's zone, named once, and a range the history does not cover."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from prsm_monitor.ui.clock import clock, offset_label, zone_note
from prsm_monitor.ui.views.common import coverage_note

from .conftest import wait_until
from .test_app import collector, fresh_app, open_page

NOW = 1_800_000_000.0  # 2027-01-15 08:00 UTC


def test_a_covered_range_says_nothing():
    assert coverage_note(NOW - 15 * 60 + 3, 15, "15 min", 900, 1000, now=NOW) is None
    assert coverage_note(None, 15, "15 min", 0, 1000, now=NOW) is None


def test_a_range_longer_than_the_history_says_where_the_history_starts_and_why():
    note = coverage_note(NOW - 16 * 60, 1440, "24 h", 1000, 1000, now=NOW)
    start = clock(NOW - 16 * 60, ZoneInfo("UTC"), seconds=False)
    assert note.startswith(f"History starts {start}, 16 min ago: the monitor keeps the latest 1,000 points")
    assert note.endswith("so only the last 16 min of the 24 h range have data.")
    young = coverage_note(NOW - 90, 60, "1 h", 180, 1000, now=NOW)
    assert "collecting since then" in young and "1 min ago" in young  # 90 s: whole minutes, as a clock counts


def test_the_zone_is_named_with_its_offset_at_that_moment():
    berlin = ZoneInfo("Europe/Berlin")
    winter = dt.datetime(2027, 1, 15, tzinfo=dt.UTC).timestamp()
    summer = dt.datetime(2027, 7, 15, tzinfo=dt.UTC).timestamp()
    assert zone_note(berlin, winter) == "Times in Europe/Berlin (UTC+01:00)"
    assert offset_label(berlin, summer) == "UTC+02:00"
    assert offset_label(ZoneInfo("America/St_Johns"), winter) == "UTC-03:30"
    assert clock(winter, ZoneInfo("America/New_York")) == "19:00:00"


@pytest.fixture
def app(monkeypatch):
    yield from fresh_app(monkeypatch, PRSM_DEMO="false")


def test_the_page_names_the_viewers_zone_and_shows_table_times_in_it(app: AppTest):
    app.context = {"timezone": "America/New_York"}
    open_page(app, "pages/4_Alerts.py")
    c = collector()
    c.add_alert_rule(lambda metrics: c.create_alert("warning", "system", "Disk filling", {}))  # held: no resolution
    wait_until(lambda: "Disk filling" in [a["message"] for a in c.get_active_alerts()])
    app.run()
    expected = zone_note(ZoneInfo("America/New_York"), c.get_alerts()[-1]["timestamp"])
    assert any(expected in caption.value for caption in app.caption)
    history = next(table.value for table in app.dataframe if "time" in table.value.columns)  # not the incidents'
    times = history["time"]
    assert str(times.dt.tz) == "America/New_York"
    assert times.iloc[0].timestamp() == pytest.approx(c.get_alerts()[-1]["timestamp"])


def test_a_long_range_the_history_does_not_cover_says_so(app: AppTest):
    app.query_params["range"] = "24 h"
    open_page(app, "pages/1_System.py")
    c = collector()
    wait_until(lambda: c.store.count("system") >= 2)
    app.run()
    notes = [c.value for c in app.caption if "History starts" in c.value]
    assert len(notes) == 1 and "of the 24 h range have data" in notes[0], notes


def test_long_ranges_are_offered_only_where_history_lasts():
    from types import SimpleNamespace

    from prsm_monitor.ui.sidebar import ranges

    def collector(data_dir=None, prometheus_url=None):
        return SimpleNamespace(settings=SimpleNamespace(data_dir=data_dir, prometheus_url=prometheus_url))

    assert ranges(collector())[-1] == "24 h"  # memory only: at most what the ring holds
    assert ranges(collector(data_dir="/var/lib/prsm"))[-3:] == ["7 d", "30 d", "1 y"]
    assert ranges(collector(prometheus_url="http://prometheus:9090"))[-1] == "1 y"
