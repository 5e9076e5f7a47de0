"""The stakeholder hour: the real dashboard, every feature at once, the way a demo shows them.

    python bench/stakeholder_hour.py            # the hour: 30 min of healthy learning, then every
                                                # demo fault for 3 min, cleared, 2 min apart
    python bench/stakeholder_hour.py --quick    # ~16 min: 2 min of learning, each fault 100 s on,
                                                # 25 s apart
    python bench/stakeholder_hour.py --out DIR  # report and screenshots there (default bench/out/hour-*)

It runs ``streamlit run streamlit_app.py --server.headless true`` on a free port with the
product's defaults (every ``PRSM_*`` variable removed, ``PRSM_DATA_DIR`` a new temporary
directory; ``--quick`` also sets ``PRSM_ANOMALY_LEARNING=2m``), and drives it as a presenter
does, in headless Chromium (Playwright): the sidebar's *Demo faults* controls inject each fault
(select the node, move the slider with the keyboard, press the button) and *Clear all faults*
clears it. What the dashboard raised is read from its JSON API (``/api/alerts``,
``/api/notifications``). For each fault the table says:

- *alert after*: seconds from the injection (its logged fault event) to the first rule alert;
- *worst level*: the highest level a rule alert reached while the fault was on;
- *anomaly after* and *forecast after*: to the first anomaly and the first forecast alert;
- *incidents*: incidents opened from the injection to the next fault (want 1), with the title;
- *events while on*: opening and closing events of the alerts the fault raised while it was on;
  *flapping* names an alert (a rule, or an anomaly's or forecast's series and field) that opened
  twice or more while the fault was steady (want none: one fired, one resolved);
- *clear after*: seconds from the clear until none of the alerts the fault raised is active.

A second browser thread takes screenshots of every page (Overview, System, Network, AI Models,
Alerts, Fleet) at 1024 and 1440 px every :data:`SHOT_EVERY` seconds (the range the page opens
with, 15 min), and at 1440 px the chart pages at the 24 h range too. Every chart a page draws is
also checked from the data the browser received (the Vega-Lite datasets in Streamlit's
websocket frames): its newest value is at most :data:`NEWEST_SLACK` seconds older than the page
run that drew it, and a break in its line (an empty row, which ``break_gaps`` inserts) lies
where the record has a gap (a step over five ticks in the collector's own history) or where a
node was stopped. Exit status 1 when a check fails, a fault opens more than one incident or an
alert flaps.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
PAGES = ("Overview", "System", "Network", "AI Models", "Alerts", "Fleet")
CHART_PAGES = ("Overview", "System", "Network", "AI Models")
WIDTHS = (1024, 1440)
HEIGHT = 1000
MAX_HEIGHT = 9000  # px: a screenshot's height at most
TALL = """() => Math.max(...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stSidebarContent"]')]
  .map(e => e.scrollHeight + e.getBoundingClientRect().top), 0)"""
OPENING = {"fired", "escalated", "anomaly", "forecast", "error"}
CLOSING = {"resolved", "recovered"}
LEVELS = ("info", "warning", "error", "critical")
TAIL_LABEL = "Newest values"  # a chart's tail's description: prsm_monitor.ui.charts.TAIL_LABEL
GAP_STEPS = 5  # a step this many times the typical one is a gap: the rule of ui/chart_rows.py's break_gaps
NEWEST_SLACK = 2.5 + 3.0  # s: 2.5 ticks of 1 s, and the frame's way from the script to the browser
SHOT_EVERY = 300.0
START_UP = 60.0  # s: values the first minute lacks (rates need two samples, nodes connect) are no break
# (label, what the presenter does in the sidebar, the fault event it logs): every demo fault
FAULTS = (
    ("stop node", ("stop", "node-1"), {"fault": "stop_node", "name": "node-1"}),
    ("link delay", ("delay", "node-2", 100), {"fault": "add_delay", "name": "node-2", "ms": 100.0}),
    ("drift", ("drift", 0.8), {"fault": "drift", "amount": 0.8}),
    ("overload", ("rate", 20), {"fault": "overload", "factor": 20.0}),
    ("partition", ("partition",), {"fault": "partition"}),
    ("leak", ("leak", "node-0", 16), {"fault": "leak", "name": "node-0", "mb_per_min": 16.0}),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """``streamlit run streamlit_app.py`` with the product's defaults, its output in ``log``."""

    def __init__(self, out: Path, extra_env: dict[str, str]):
        self.data_dir = tempfile.mkdtemp(prefix="prsm-hour-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PRSM_")}
        env.update(PRSM_DATA_DIR=self.data_dir, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", **extra_env)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(out / "streamlit.log", "w")  # noqa: SIM115 - open while the server runs
        command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true"]
        command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.session = requests.Session()

    def wait(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.session.get(self.url + "/health", timeout=5)
                return
            except requests.RequestException:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the dashboard did not start: see {self.log.name}") from None
                time.sleep(0.5)

    def get(self, path: str, **params) -> dict:
        answer = self.session.get(self.url + path, params=params, timeout=60)
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class Record:
    """Alert events and incidents as the API lists them, gathered by polling (events by id)."""

    def __init__(self, app: App, since: float):
        self.app = app
        self.since = since
        self.events: dict[int, dict] = {}
        self.incidents: dict[str, dict] = {}
        self.lock = threading.Lock()

    def poll(self) -> None:
        body = self.app.get("/api/alerts", since=self.since, limit=100_000)
        notes = self.app.get("/api/notifications", limit=100_000)
        with self.lock:
            for event in body["alerts"]:
                self.events[event["id"]] = event
            for incident in notes["incidents"]:
                self.incidents[str(incident.get("id", incident["started"]))] = incident

    def sorted_events(self) -> list[dict]:
        with self.lock:
            return sorted(self.events.values(), key=lambda e: (e["timestamp"], e["id"]))

    def fault_event(self, expected: dict, after: float) -> dict | None:
        """The logged fault event with ``expected`` details, at or after ``after``."""
        for event in self.sorted_events():
            d = event.get("details") or {}
            if event["timestamp"] >= after and all(d.get(k) == v for k, v in expected.items()):
                return event
        return None


class Presenter:
    """A browser page at 1440 px with the sidebar's *Demo faults* open: the presenter's hands."""

    def __init__(self, browser, url: str):
        self.page = browser.new_context(viewport={"width": 1440, "height": 2600}).new_page()
        self.page.goto(url)
        self.page.wait_for_selector(CONNECTED, timeout=120_000)
        self.sidebar = self.page.locator("[data-testid='stSidebar']")
        expander = self.sidebar.get_by_text("Demo faults")
        expect(expander).to_be_visible(timeout=180_000)  # the first run on a busy machine
        expander.click()
        expect(self.sidebar.get_by_text("Injected now:")).to_be_visible(timeout=60_000)

    def select(self, label: str, option: str) -> None:
        box = self.sidebar.get_by_role("combobox", name=label, exact=True)
        if box.input_value() == option:
            return
        box.click()
        self.page.get_by_role("option", name=option, exact=True).click()
        expect(box).to_have_value(option, timeout=60_000)
        self.idle()  # the rerun that redraws the node's controls

    def slide(self, label: str, value: float, step: float) -> None:
        """Move the slider to ``value`` with the arrow keys, as a keyboard user does."""
        thumb = self.sidebar.locator(f"input[type='range'][aria-label='{label}']")
        expect(thumb).to_have_count(1, timeout=60_000)  # a rerun's stale copy (a re-keyed slider) is gone
        presses = round((value - float(thumb.input_value())) / step)
        thumb.focus()
        for _ in range(abs(presses)):
            thumb.press("ArrowRight" if presses > 0 else "ArrowLeft")
        expect(thumb).to_have_value(f"{value:g}", timeout=60_000)

    def press(self, name: str) -> None:
        button = self.sidebar.get_by_role("button", name=name, exact=True)
        expect(button).to_have_count(1, timeout=60_000)
        button.click()

    def idle(self) -> None:
        """Wait (30 s at most: a busy page may rerun all the time) until the page has no script
        run going, so a slider's change has reached the script."""
        try:
            expect(self.page.locator("[data-testid='stStatusWidget']")).to_have_count(0, timeout=30_000)
        except AssertionError:
            pass  # the fault event tells whether the click did what it should; act() retries

    def inject(self, action: tuple) -> None:
        kind, *args = action
        if kind == "stop":
            self.select("Node", args[0])
            self.press(f"Stop {args[0]}")
        elif kind == "delay":
            self.select("Node", args[0])
            self.slide("Added link delay (ms)", args[1], 50)
            self.idle()
            self.press(f"Set delay on {args[0]}")
        elif kind == "drift":
            self.select("Model", "every model")
            self.slide("Input drift", args[0], 0.1)
            self.idle()
            self.press("Apply drift")
        elif kind == "rate":
            self.slide("Request rate (× normal)", args[0], 1)
            self.idle()
            self.press("Set request rate")
        elif kind == "partition":
            self.press("Partition in two")
        elif kind == "leak":
            self.select("Node", args[0])
            self.slide("Memory leak (MiB/min)", args[1], 1)
            self.idle()
            self.press(f"Leak memory on {args[0]}")

    def clear(self) -> None:
        self.press("Clear all faults")

    def learnt(self) -> str:
        """The sidebar's note on what the normal bands were learnt from."""
        note = self.sidebar.get_by_text("learnt from")
        return note.first.inner_text() if note.count() else "(no note on learning in the sidebar)"

    def injected(self) -> str:
        return self.sidebar.get_by_text("Injected now:").inner_text()


class Run:
    """One page's script runs as the browser received them: the charts of the last whole run."""

    def __init__(self, page):
        self.page = page
        self.runs = 0
        self.current: list = []
        self.started: float | None = None
        self.last: tuple[float, list] = (0.0, [])
        self.sent: dict[str, ForwardMsg] = {}  # what Streamlit sent whole, by hash: it sends a
        # message it sent this browser before as a reference (ref_hash), as a held chart body is
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        message = ForwardMsg()
        message.ParseFromString(payload if isinstance(payload, bytes) else payload.encode())
        kind = message.WhichOneof("type")
        if kind == "ref_hash" and message.ref_hash in self.sent:
            message, kind = self.sent[message.ref_hash], "delta"
        elif message.hash and kind == "delta":
            self.sent[message.hash] = message
        if kind == "delta":
            if self.started is None:
                self.started = time.time()
            element = message.delta.new_element
            if element.WhichOneof("type") == "vega_lite_chart":
                self.current.append(element.vega_lite_chart)
        elif kind == "script_finished":
            self.runs += 1
            if self.current:
                self.last = (self.started or time.time(), self.current)
            self.current, self.started = [], None

    def wait_runs(self, count: int, timeout: float = 120.0) -> None:
        target = self.runs + count
        deadline = time.monotonic() + timeout
        while self.runs < target and time.monotonic() < deadline:
            self.page.wait_for_timeout(100)  # lets Playwright deliver the frames; the loop is the deadline


def _titles(spec) -> list[str]:
    """The title strings in a Vega-Lite spec (axis titles, the chart's), outermost first."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            found += [value] if key == "title" and isinstance(value, str) else _titles(value)
    elif isinstance(spec, list):
        for value in spec:
            found += _titles(value)
    return found


def chart_series(chart) -> tuple[str, np.ndarray, np.ndarray, float | None] | None:
    """``(title, row times, breaks, start)`` of a time chart's measured rows (epoch s), ``breaks`` the
    times of the empty rows ``break_gaps`` inserted (an all-empty row where the step around it
    is over :data:`GAP_STEPS` typical steps; an empty row on the grid is a value the record
    lacks, not a break). None for a chart without a time axis (bars, topology, heatmap) or of
    event counts (a column that is not a number, the level: its newest bar is the newest event,
    not the newest row). ``start`` is the chart's window start (epoch s), which a tail's times
    count from (None for a tail)."""
    tables = {d.name: pa.ipc.open_stream(d.data.data).read_all() for d in chart.datasets}
    if not tables:
        return tail_series(json.loads(chart.spec))
    rows, marks = tables.get("rows"), tables.get("marks")
    if rows is None or marks is None or "t" not in rows.column_names or not marks.num_rows:
        return None
    base = marks.column("x")[0].as_py()
    kinds = {n: rows.schema.field(n).type for n in rows.column_names if n != "t"}
    if base is None or not all(pa.types.is_floating(k) or pa.types.is_integer(k) for k in kinds.values()):
        return None
    t = base / 1000.0 + rows.column("t").to_numpy(zero_copy_only=False).astype("float64")
    present = np.zeros(len(t), bool)
    for name in kinds:
        present |= np.isfinite(rows.column(name).to_numpy(zero_copy_only=False).astype("float64"))
    breaks = np.zeros(0)
    if len(t) >= 3:
        around = t[2:] - t[:-2]  # the step a row in the middle sits in
        typical = float(np.median(np.diff(t)))
        inserted = np.r_[False, (~present[1:-1]) & (around > GAP_STEPS * typical), False]
        breaks = t[inserted]
    skip = ("time", "lowest", "highest", "threshold")  # the x axis and the band's tooltips: not a series
    titles = [x for x in _titles(json.loads(chart.spec)) if x.strip() and not x.lower().startswith(skip)]
    return (titles[0] if titles else ", ".join(kinds)[:60]), t, breaks, base / 1000.0


def tail_series(spec: dict) -> tuple[str, np.ndarray, np.ndarray, None] | None:
    """``("tail", row times, no breaks, None)`` of a chart's tail (``charts.tail``: placed just
    before the body it is drawn over, the rows after the body's last one inline, their times in
    seconds after the body's window start), else None."""
    if spec.get("description") != TAIL_LABEL:
        return None
    layer = spec.get("layer", [{}])[0]
    values = layer.get("data", {}).get("values") if isinstance(layer.get("data"), dict) else None
    if values is None:
        return None
    return "tail", np.array([row["t"] for row in values], dtype="float64"), np.zeros(0), None


class Shooter(threading.Thread):
    """Screenshots of every page at both widths every ``every`` seconds, and the chart checks."""

    def __init__(self, url: str, out: Path, every: float, record: Record, stopped_nodes):
        super().__init__(name="shooter", daemon=True)
        self.url, self.out, self.every, self.record = url, out, every, record
        self.stopped_nodes = stopped_nodes  # () -> [(from, to)] while a node was stopped
        self.stop_event = threading.Event()
        self.started_at = time.time()
        self.record_start = time.time()  # the app started just before: its first minute is start-up
        self.shots: list[Path] = []
        self.checked = 0
        self.lags: list[float] = []
        self.problems: list[str] = []
        self.errors: list[str] = []

    def run(self) -> None:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = {}
            for width in WIDTHS:
                page = browser.new_context(viewport={"width": width, "height": HEIGHT}).new_page()
                page.set_default_timeout(120_000)  # a loaded machine takes its time
                pages[width] = (page, Run(page))
            while not self.stop_event.is_set():
                began = time.time()
                try:
                    self.round(pages)
                except Exception:  # noqa: BLE001 - one failed round is reported, the next one tried
                    if not self.stop_event.is_set():  # not the dashboard going away at the end
                        self.errors.append(traceback.format_exc(limit=3))
                self.stop_event.wait(max(0.0, self.every - (time.time() - began)))
            browser.close()

    def round(self, pages) -> None:
        stamp = f"{(time.time() - self.started_at) / 60:05.1f}min"
        for width, (page, run) in pages.items():
            for title in PAGES:
                if self.stop_event.is_set():
                    return
                try:
                    self.visit(page, run, title)
                    self.shoot(page, run, f"{stamp}-{width}-{title.lower().replace(' ', '_')}")
                except PlaywrightError as error:  # a page that did not load in time: the next one
                    if not self.stop_event.is_set():
                        self.errors.append(f"{stamp} {width} px {title}: {str(error).splitlines()[0]}")
        page, run = pages[1440]
        page.goto(f"{self.url}/?range=24+h")  # a new session at the longest range; the links keep it
        page.wait_for_selector(CONNECTED, timeout=120_000)
        for title in CHART_PAGES:
            if self.stop_event.is_set():
                break
            self.visit(page, run, title)
            self.shoot(page, run, f"{stamp}-1440-{title.lower().replace(' ', '_')}-24h")
        page.goto(self.url)  # back to the range a page opens with
        page.wait_for_selector(CONNECTED, timeout=120_000)

    def visit(self, page, run: Run, title: str) -> None:
        if not page.url.startswith(self.url):
            page.goto(self.url)
            page.wait_for_selector(CONNECTED, timeout=120_000)
        run.last = (0.0, [])  # the charts checked are this page's, not the page before's
        if title != "Overview" or page.get_by_role("heading", name="Overview", exact=True).count() == 0:
            page.locator("[data-testid='stSidebar']").get_by_role("link", name=title, exact=True).click()
        expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible(timeout=120_000)
        run.wait_runs(2)  # the page drawn twice since the click: its charts have this run's data

    def shoot(self, page, run: Run, name: str) -> None:
        path = self.out / f"{name}.png"
        # the page scrolls inside Streamlit's main block, not the document: as tall as its content
        width = page.viewport_size["width"]
        tall = page.evaluate(TALL)
        page.set_viewport_size({"width": width, "height": max(HEIGHT, min(int(tall), MAX_HEIGHT))})
        try:
            page.wait_for_timeout(500)  # the layout settles at the new height (charts keep their width)
            page.screenshot(path=path, full_page=True)
        finally:
            page.set_viewport_size({"width": width, "height": HEIGHT})
        self.shots.append(path)
        self.check(run, name)

    def check(self, run: Run, name: str) -> None:
        drawn_at, charts = run.last
        if not charts:
            return
        gaps = None
        drawn = [s for s in map(chart_series, charts) if s is not None]
        for i, (title, times, breaks, start) in enumerate(drawn):
            if title == "tail":
                continue  # counted with its body, the chart it is drawn over (just after it)
            if i > 0 and drawn[i - 1][0] == "tail":
                times = np.r_[times, start + drawn[i - 1][1]]  # the line reaches the tail's newest row
            self.checked += 1
            if not times.size:
                continue
            lag = drawn_at - times.max()  # the newest row, with or without a value
            self.lags.append(lag)
            if lag > NEWEST_SLACK:
                self.problems.append(f"{name}: chart '{title}' ends {lag:.0f} s before its page run")
            breaks = breaks[breaks > self.record_start + START_UP]
            if breaks.size:
                if gaps is None:
                    gaps = self.record_gaps()
                for at in breaks:
                    if not any(a <= at <= b for a, b in gaps + self.stopped_nodes()):
                        when = time.strftime("%H:%M:%S", time.gmtime(at))
                        self.problems.append(
                            f"{name}: chart '{title}' breaks at {when} UTC without a gap in the record"
                        )

    def record_gaps(self) -> list[tuple[float, float]]:
        """Stretches of the collector's own history longer than five ticks without a row."""
        rows = self.record.app.get("/api/historical/collector", minutes=1440)
        ts = np.array([r["timestamp"] for r in rows["data"] if "timestamp" in r] if isinstance(rows, dict) else [])
        steps = np.diff(ts)
        return [(ts[i], ts[i + 1]) for i in np.flatnonzero(steps > GAP_STEPS * 1.0)]


def key_of(event: dict) -> str:
    """What an alert is about, across its firings: its rule, or its anomaly's or forecast's
    series and field."""
    d = event.get("details") or {}
    if d.get("rule"):
        return f"rule {d['rule']}"
    return f"{event['kind']} {d.get('series', event['component'])} {d.get('field', event['message'][:30])}"


def summarise(label: str, at: float, cleared: float, end: float, events: list[dict], incidents: list[dict]) -> dict:
    window = [e for e in events if at <= e["timestamp"] < end and e.get("alert_id") is not None]
    keys = {e["alert_id"]: key_of(e) for e in events if e["kind"] in OPENING}  # an alert id is one firing
    raised = {e["alert_id"] for e in window if e["kind"] in OPENING}  # by this fault, not the one before
    steady = [e for e in window if e["timestamp"] < cleared]
    opened = Counter(keys[e["alert_id"]] for e in steady if e["kind"] in OPENING and e["kind"] != "escalated")
    closed = Counter(keys.get(e["alert_id"]) for e in steady if e["kind"] in CLOSING and e["alert_id"] in raised)
    flapping = sorted(k for k in set(opened) | set(closed) if k and (opened[k] > 1 or closed[k] > 1))
    closes = {e["alert_id"]: e["timestamp"] for e in events if e["kind"] in CLOSING and e["alert_id"] in raised}
    ends = [closes.get(a) for a in raised]
    first = {}
    for e in window:
        first.setdefault("rule" if e["kind"] in ("fired", "escalated") else e["kind"], e["timestamp"] - at)
    rule_levels = [e["level"] for e in steady if e["kind"] in ("fired", "escalated")]
    mine = [i for i in incidents if at <= i["started"] < end]
    return {
        "fault": label,
        "alert": first.get("rule"),
        "worst": max(rule_levels, key=LEVELS.index) if rule_levels else "–",
        "anomaly": first.get("anomaly"),
        "forecast": first.get("forecast"),
        "incidents": len(mine),
        "titles": [i["title"][:70] for i in mine],
        "opened": sum(opened.values()),
        "closed": sum(closed.values()),
        "flapping": flapping,
        "clear": None if None in ends or not ends else max(0.0, max(ends) - cleared),
        "raised": len(raised),
    }


def seconds(x: float | None) -> str:
    return "–" if x is None else f"{x:.0f} s"


def table(rows: list[dict]) -> str:
    lines = [
        "| fault | alert after | worst level | anomaly after | forecast after | incidents (want 1) "
        "| events while on: opened / closed | flapping | clear after | incident title |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['fault']} | {seconds(r['alert'])} | {r['worst']} | {seconds(r['anomaly'])} | "
            f"{seconds(r['forecast'])} | {r['incidents']} | {r['opened']} / {r['closed']} of {r['raised']} alerts | "
            f"{', '.join(r['flapping']) or 'none'} | {seconds(r['clear']) if r['raised'] else '–'} | "
            f"{'; '.join(r['titles']) or '–'} |"
        )
    return "\n".join(lines)


def wait_polling(record: Record, until: float) -> None:
    """Read the API every 2 s (as an open Alerts page does) until ``until``."""
    while time.time() < until:
        try:
            record.poll()
        except requests.RequestException as error:
            print(f"  API read failed: {error}", flush=True)
        time.sleep(max(0.0, min(2.0, until - time.time())))


def act(presenter: Presenter, record: Record, do, expected: dict, what: str) -> float:
    """Do a sidebar action (three times at most) until its fault event is logged; its time."""
    for attempt in range(3):
        asked = time.time() - 1.0
        try:
            do()
        except (PlaywrightError, AssertionError) as error:
            print(f"  {what}: the sidebar did not take it (attempt {attempt + 1}): {str(error)[:300]}", flush=True)
            continue
        deadline = time.time() + 60
        while time.time() < deadline:
            record.poll()
            event = record.fault_event(expected, asked)
            if event is not None:
                return event["timestamp"]
            time.sleep(1.0)
        print(f"  {what}: no fault event after the click (attempt {attempt + 1}); sidebar: "
              f"{presenter.injected()!r}", flush=True)  # fmt: skip
    raise SystemExit(f"{what}: the sidebar did not inject it")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    # stopped with kill (a nohup'd run ignores Ctrl-C): still stop the dashboard and its demo network
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out = args.out or ROOT / "bench" / "out" / ("hour-quick" if args.quick else "hour-full")
    shots = out / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    on, gap, learn, every = (100.0, 25.0, 120.0, 180.0) if args.quick else (180.0, 120.0, 1800.0, SHOT_EVERY)
    app = App(out, {"PRSM_ANOMALY_LEARNING": "2m"} if args.quick else {})
    started = time.time()
    record = Record(app, started - 5)
    times: list[tuple[str, float, float, float]] = []
    stopped: list[tuple[float, float]] = []
    shooter = None
    learnt = ""
    healthy: Counter = Counter()
    try:
        app.wait()
        print(f"dashboard at {app.url}, data in {app.data_dir}; report in {out}", flush=True)
        shooter = Shooter(app.url, shots, every, record, lambda: list(stopped))
        shooter.start()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            presenter = Presenter(browser, app.url)
            print(f"learning {learn / 60:.0f} min with the product's defaults ...", flush=True)
            wait_polling(record, started + learn + 10)
            learnt = presenter.learnt()
            print(f"  {learnt}", flush=True)
            for label, action, expected in FAULTS:
                at = act(presenter, record, lambda a=action: presenter.inject(a), expected, label)
                wait_polling(record, at + on)
                cleared = act(presenter, record, presenter.clear, {"fault": "clear_faults"}, f"clear {label}")
                if expected["fault"] == "stop_node":
                    stopped.append((at - 5, cleared + 15))
                wait_polling(record, cleared + gap)
                times.append((label, at, cleared, time.time()))
                print(f"  {label}: on {cleared - at:.0f} s; sidebar after: {presenter.injected()!r}", flush=True)
            browser.close()
        shooter.stop_event.set()
        shooter.join(600)
        record.poll()
        events, incidents = record.sorted_events(), list(record.incidents.values())
        (out / "events.json").write_text(json.dumps({"events": events, "incidents": incidents, "times": times}))
        rows = [summarise(label, at, cl, end, events, incidents) for label, at, cl, end in times]
        first = times[0][1] if times else time.time()
        healthy = Counter(e["kind"] for e in events if e["timestamp"] < first and e["kind"] in OPENING)
    finally:
        if shooter is not None:
            shooter.stop_event.set()
        app.stop()
    mode = (
        f"--quick ({on:.0f} s on, {gap:.0f} s apart, 2 min learning)"
        if args.quick
        else "the hour (3 min on, 2 min apart)"
    )
    lines = [
        f"{mode}, {time.time() - started:.0f} s in all, `streamlit run streamlit_app.py`, product defaults, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(started))} UTC",
        "",
        f"Sidebar after learning: {learnt}",
        f"While healthy (before the first fault): {healthy['fired']} rule alerts, {healthy['anomaly']} anomalies, "
        f"{healthy['forecast']} forecasts, {healthy['error']} source errors",
        "",
        table(rows),
        "",
        f"screenshots: {len(shooter.shots)} in {shots}",
        f"charts checked: {shooter.checked} (newest value {np.median(shooter.lags) if shooter.lags else 0:.1f} s "
        f"before its page run at the median, {max(shooter.lags, default=0):.1f} s at most); "
        f"{len(shooter.problems)} problems",
        *("  " + p for p in shooter.problems[:30]),
        *(f"screenshot round failed: {e}" for e in shooter.errors[:5]),
    ]
    report = "\n".join(lines)
    print("\n" + report)
    (out / "report.md").write_text(report + "\n")
    bad = [r for r in rows if r["incidents"] > 1 or r["flapping"]]
    return 1 if shooter.problems or shooter.errors or bad else 0


if __name__ == "__main__":
    sys.exit(main())
