"""Many viewers: server CPU and WebSocket bytes per open Chromium tab, "before" against "after".

Two real ``streamlit run`` servers, side by side: "before" is a snapshot of a baseline commit
(``git archive``, default 91a5267, the commit issue 15 was measured on) and "after" is this
tree. For each page and each tab count, with the two servers measured alternately (the order
flips every round, so machine noise hits both alike), the script

1. measures the server process's CPU with no tab open (its idle: collector, demo network);
2. opens N real Chromium tabs on the page, each set to a 1 s refresh by clicking the sidebar's
   "1 s" (range 15 min, the default);
3. after a warm-up, measures for ``--seconds``: the server's CPU time (psutil, all threads) and
   every WebSocket frame the tabs receive (Playwright's ``framereceived``).

It prints, per page, tab count and server: CPU % of one core per tab ((busy - idle) / N) and
KB per tab per second. Then, with 10 tabs on the Overview of each server, ``wrk`` hammers
``/api/metrics`` for ``--wrk-seconds`` and the collector's own ``missed_ticks_total`` is read
before and after (the collector counts a tick it had to skip).

    python bench/bench_viewers.py                 # every page, 1/5/10 tabs, 20 s windows, wrk 60 s (~40 min)
    python bench/bench_viewers.py --quick         # Overview and System, 1/5 tabs, 8 s, wrk 20 s (~10 min)
    python bench/bench_viewers.py --gc            # this tree only: GC after every rerun vs off vs gc.freeze()
    python bench/bench_viewers.py --memory 20     # this tree only: RSS every 30 s with 5 tabs for 20 min
    python bench/bench_viewers.py --chart-cost    # no server: one tick's chart work, before and after, in-process
    python bench/bench_viewers.py --baseline --floor --history 900   # this tree, live and held still

``--floor`` adds a server "still": this tree with its collector's ticks made to do nothing after
``--history`` ticks (``STILL``). Every rerun then reuses what is shared per version, so what a tab
costs there is Streamlit's work for the page's messages and the page's own glue: the floor
under the live page, which adds what a lone viewer's refresh recomputes each tick.

Ports: 8710 and up (``--port``). Needs /usr/bin/chromium (or ``chromium`` on PATH), Playwright,
psutil, git; ``wrk`` for the missed-tick check. Figures depend on the machine: run it where
nothing else runs, or read them as "before vs after in one run".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "91a5267"
PAGES = {"Overview": "", "System": "System", "Network": "Network", "AI Models": "AI_Models", "Alerts": "Alerts"}
CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    # every tab is a viewer looking at its page: no timer throttling of "background" tabs
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
# gc.freeze() once the app has started: the long-lived objects (modules, the collector, its
# history) move out of the collector's reach, so Streamlit's gc.collect(2) after each rerun
# walks only what the reruns allocated. Run as ``python -c FREEZE streamlit run ...``.
FREEZE = """
import gc, sys, threading, time
def freeze():
    deadline = time.time() + 120
    while time.time() < deadline:
        shared = sys.modules.get("prsm_monitor.core.shared")
        if shared is not None and shared.current_collector() is not None:
            break
        time.sleep(0.2)
    time.sleep(3)
    gc.collect()
    gc.freeze()
    print("gc.freeze(): froze", gc.get_freeze_count(), "objects", flush=True)
threading.Thread(target=freeze, daemon=True).start()
sys.argv = sys.argv[1:]
from streamlit.web.cli import main
sys.exit(main())
"""
# The same page with nothing of ours left to compute per refresh: once the collector has ticked
# PRSM_BENCH_STILL times its ticks do nothing, so its version (ticks, alert log, thresholds) stays
# put and every result shared per version (bodies, tails, cards, headings) is reused by every
# rerun. A tab then costs what Streamlit spends to run the page's script and send its messages
# (all of them references to the browser's copies) plus the page's own glue: the floor under
# the live page's cost per viewer. Run as ``python -c STILL streamlit run ...``.
STILL = """
import os, sys, threading, time
def still():
    ticks = int(os.environ["PRSM_BENCH_STILL"])
    while True:
        shared = sys.modules.get("prsm_monitor.core.shared")
        collector = shared.current_collector() if shared is not None else None
        if collector is not None and collector.version[0] >= ticks:
            collector.loop._tick = lambda: None
            print("collector held still at version", collector.version, flush=True)
            return
        time.sleep(0.2)
threading.Thread(target=still, daemon=True).start()
sys.argv = sys.argv[1:]
from streamlit.web.cli import main
sys.exit(main())
"""


class Meter:
    """A TCP relay in front of a server, counting the bytes the server sends through it: what
    the tabs receive on the wire (compressed when the WebSocket is). Playwright's frame events
    report payloads after decompression, so they alone would not show what compression saves.
    It counts what the tabs send too (``up``): each rerun request carries the hashes of every
    message the browser holds, so more references cost more upstream."""

    def __init__(self, target: int, port: int):
        self.target, self.port, self.down, self.up = target, port, 0, 0
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _relay(self, reader, writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return

        async def pipe(source, sink, counted: bool) -> None:
            try:
                while data := await source.read(65536):
                    if counted:
                        self.down += len(data)
                    else:
                        self.up += len(data)
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer, False), pipe(upstream_reader, writer, True))


@dataclass
class Server:
    """``streamlit run streamlit_app.py`` of ``tree`` on ``port``, memory-only history, demo on."""

    name: str
    tree: Path
    port: int
    args: tuple[str, ...] = ()
    freeze: bool = False
    still: int = 0  # > 0: the collector's ticks do nothing after this many (STILL)
    process: subprocess.Popen | None = None
    log: list[str] = field(default_factory=list)
    meter: Meter | None = None
    fixed_ports: bool = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def browser_url(self) -> str:
        """Where the tabs connect: through the byte meter (port + 6; a free port when ports are picked free)."""
        if self.meter is None:
            self.meter = Meter(self.port, self.port + 6 if self.fixed_ports else free_port())
        return f"http://127.0.0.1:{self.meter.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(self.tree),
            "PRSM_DATA_DIR": "",  # memory only: no disk writes, nothing shared between the two
            "PRSM_METRICS_INTERVAL": "1",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            "PRSM_BENCH_STILL": str(self.still),
        }
        run = ["streamlit", "run", "streamlit_app.py", "--server.port", str(self.port)]
        run += ["--server.address", "127.0.0.1", "--server.headless", "true", *self.args]
        prelude = FREEZE if self.freeze else STILL if self.still else None
        command = [sys.executable, "-c", prelude, *run] if prelude else [sys.executable, "-m", *run]
        self.process = subprocess.Popen(
            command, cwd=self.tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=lambda: self.log.extend(self.process.stdout), daemon=True).start()

    def wait(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {''.join(self.log)[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer /health within {timeout} s")

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def rss_mb(self) -> float:
        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def collector_record(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/api/metrics", timeout=10) as answer:
            return json.loads(answer.read())["collector"]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def press(button) -> None:
    """Click ``button``; on a loaded machine a toast or a rerun can hold Playwright's click
    back for a minute, so after 20 s the click event is dispatched to the button itself."""
    button.wait_for(timeout=180_000)  # a loaded machine may take minutes to draw the sidebar
    try:
        button.click(timeout=20_000)
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError: fall back to the event
        button.dispatch_event("click")


class Tabs:
    """N Chromium tabs on one page of a server at a 1 s refresh, counting WebSocket bytes."""

    def __init__(self, browser, server: Server, page: str, count: int, time_range: str | None = None):
        self.bytes = 0
        self.runs = 0  # script runs the tabs saw finish (refreshes that arrived)
        self.elements: Counter[str] = Counter()  # bytes per element (kind and delta path), refs apart
        self.server = server
        self.contexts = []
        for _ in range(count):
            context = browser.new_context(viewport={"width": 1440, "height": 1400})
            tab = context.new_page()
            tab.on("websocket", self._watch)
            tab.goto(f"{server.browser_url}/{PAGES[page]}", wait_until="commit", timeout=120_000)
            tab.wait_for_selector(CONNECTED, timeout=120_000)
            press(tab.locator("[data-testid='stSidebar']").get_by_text("1 s", exact=True))
            if time_range:  # a sidebar range button, e.g. "5 min"
                press(tab.locator("[data-testid='stSidebar']").get_by_text(time_range, exact=True))
            self.contexts.append(context)

    def _watch(self, websocket) -> None:
        websocket.on("framereceived", self._frame)

    def _frame(self, payload) -> None:
        self.bytes += len(payload)
        if isinstance(payload, bytes):
            message = ForwardMsg()
            message.ParseFromString(payload)
            self.runs += message.WhichOneof("type") == "script_finished"
            self.elements[element_of(message)] += len(payload)

    def pump(self, seconds: float) -> None:
        """Let Playwright deliver events for ``seconds`` (its callbacks run on this thread)."""
        deadline = time.monotonic() + seconds
        page = self.contexts[0].pages[0]
        while time.monotonic() < deadline:
            page.wait_for_timeout(min(200, max(1, (deadline - time.monotonic()) * 1000)))

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def element_of(message: ForwardMsg) -> str:
    """What a ForwardMsg carries, for the per-element table: an element's kind and its delta
    path (``vega_lite_chart @0.3.1``), a reference to the browser's copy (``ref @0.3.1``), or
    the message type."""
    kind = message.WhichOneof("type")
    where = ".".join(map(str, message.metadata.delta_path))
    if kind == "ref_hash":
        return f"ref @{where}"
    if kind == "delta":
        delta = message.delta
        if delta.WhichOneof("type") == "new_element":
            return f"{delta.new_element.WhichOneof('type')} @{where}"
        return f"{delta.WhichOneof('type')} @{where}"
    return kind or "?"


@dataclass
class Sample:
    tabs: int
    idle_cpu: float  # % of one core with no tab open
    busy_cpu: float  # % of one core with the tabs open
    kb_per_tab_s: float  # WebSocket payloads, as the page's script sees them
    wire_kb_per_tab_s: float  # bytes on the wire (after compression, with HTTP and WebSocket framing)
    runs_per_tab_s: float  # refreshes that arrived: below 1 when the machine could not keep up
    up_kb_per_tab_s: float = 0.0  # bytes on the wire from the tabs (rerun requests)
    elements: dict[str, float] = field(default_factory=dict)  # KB per tab per second, per element

    @property
    def cpu_per_tab(self) -> float:
        return (self.busy_cpu - self.idle_cpu) / self.tabs


def cpu_over(server: Server, seconds: float, pump=None) -> float:
    """CPU % of one core the server used over ``seconds`` (while ``pump`` delivers browser events)."""
    before, started = server.cpu_seconds(), time.monotonic()
    (pump or time.sleep)(seconds)
    return 100 * (server.cpu_seconds() - before) / (time.monotonic() - started)


def measure(
    browser, server: Server, page: str, count: int, seconds: float, warmup: float, time_range: str | None = None
) -> Sample:
    idle = cpu_over(server, min(seconds, 8))
    tabs = Tabs(browser, server, page, count, time_range)
    try:
        tabs.pump(warmup)
        start_bytes, start_wire, start_runs, start_up = tabs.bytes, server.meter.down, tabs.runs, server.meter.up
        start_elements = Counter(tabs.elements)
        started = time.monotonic()
        busy = cpu_over(server, seconds, tabs.pump)
        elapsed = time.monotonic() - started
        kb = (tabs.bytes - start_bytes) / 1024 / count / elapsed
        wire = (server.meter.down - start_wire) / 1024 / count / elapsed
        up = (server.meter.up - start_up) / 1024 / count / elapsed
        runs = (tabs.runs - start_runs) / count / elapsed
        elements = {k: v / 1024 / count / elapsed for k, v in (tabs.elements - start_elements).items()}
    finally:
        tabs.close()
    return Sample(count, idle, busy, kb, wire, runs, up, elements)


def free_port() -> int:
    """A port nothing listens on now (bound to 0, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ports(first: int, count: int) -> list[int]:
    """``count`` server ports from ``first`` (0: free ports)."""
    return [free_port() for _ in range(count)] if first == 0 else [first + i for i in range(count)]


def baseline_tree(commit: str, into: Path) -> Path:
    """The files of ``commit`` (``git archive``: no worktree metadata left in the repository)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def launch(playwright):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
    return playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)


def start_all(servers: list[Server], ticks: int = 10) -> None:
    """Start the servers and wait until each has collected ``ticks`` times. 160 (at 1 s) fill
    the 15 min charts to their downsampled maximum (150 points); a chart's body still holds
    still for only a tenth of the history's age then (18-42 s, ``shared_views.hold_of``); 60 s,
    as on a long-running server, from 600 ticks on (``--history 900``: full 15 min charts too)."""
    for server in servers:
        server.start()
    for server in servers:
        server.wait()
    deadline = time.monotonic() + ticks * 3 + 60
    while time.monotonic() < deadline and any(s.collector_record()["ticks_total"] < ticks for s in servers):
        time.sleep(1)


def compare(args, servers: list[Server]) -> None:
    from playwright.sync_api import sync_playwright

    head = "  ".join(f"{s.name + ' CPU%/tab':>24} {'KB/s/tab':>8} {'wire':>6} {'up':>5} {'runs/s':>6}" for s in servers)
    print(f"\n{'page':10} {'tabs':>4}  {head}")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        round_ = 0
        for page in args.pages:
            by_count = {}
            for count in args.tabs:
                order = servers if round_ % 2 == 0 else servers[::-1]
                round_ += 1
                samples = by_count[count] = {
                    s.name: measure(browser, s, page, count, args.seconds, args.warmup, args.range) for s in order
                }
                cells = "  ".join(
                    f"{samples[s.name].cpu_per_tab:24.2f} {samples[s.name].kb_per_tab_s:8.1f} "
                    f"{samples[s.name].wire_kb_per_tab_s:6.1f} {samples[s.name].up_kb_per_tab_s:5.1f} "
                    f"{samples[s.name].runs_per_tab_s:6.2f}"
                    for s in servers
                )
                idle = ", ".join(f"{s.name} idle {samples[s.name].idle_cpu:.1f}%" for s in servers)
                per_run = ", ".join(  # what one refresh costs, whatever the rate a loaded machine kept up
                    f"{s.name} {samples[s.name].kb_per_tab_s / max(samples[s.name].runs_per_tab_s, 1e-9):.1f} KB "
                    f"{10 * samples[s.name].cpu_per_tab / max(samples[s.name].runs_per_tab_s, 1e-9):.0f} ms"
                    for s in servers
                )
                print(f"{page:10} {count:>4}  {cells}   ({idle})", flush=True)
                print(f"{'':10} {'':>4}  per refresh per tab: {per_run}", flush=True)
                if args.elements:
                    print_elements(samples, servers, args.elements)
            if len(by_count) > 1:  # what one more viewer costs: the slope from the fewest to the most tabs
                low, high = min(by_count), max(by_count)
                slope = ", ".join(
                    f"{s.name} {(by_count[high][s.name].busy_cpu - by_count[low][s.name].busy_cpu) / (high - low):.2f}%"
                    for s in servers
                )
                print(f"{page:10} each extra viewer ({low} -> {high} tabs): {slope} of a core", flush=True)
        if args.wrk_seconds:
            for server in servers:
                missed_ticks(browser, server, args.wrk_seconds)
        browser.close()


def print_elements(samples: dict[str, Sample], servers: list[Server], top: int) -> None:
    """The ``top`` elements by payload KB per tab per second (the most any server sends first), each
    server's figure; then each kind of element summed over the page."""
    keys = sorted(
        set().union(*(samples[s.name].elements for s in servers)),
        key=lambda k: -max(samples[s.name].elements.get(k, 0) for s in servers),
    )
    for key in keys[:top]:
        cells = "  ".join(f"{samples[s.name].elements.get(key, 0):8.2f}" for s in servers)
        print(f"    {key:34} {cells}")
    kinds = sorted({key.split(" @")[0] for key in keys})  # per kind of element, summed over the page
    for kind in kinds:
        cells = "  ".join(
            f"{sum(v for k, v in samples[s.name].elements.items() if k.split(' @')[0] == kind):8.2f}" for s in servers
        )
        print(f"    {'all ' + kind:34} {cells}")


def missed_ticks(browser, server: Server, seconds: int) -> None:
    if shutil.which("wrk") is None:
        print("wrk is not installed: missed-tick check skipped")
        return
    tabs = Tabs(browser, server, "Overview", 10)
    try:
        tabs.pump(5)
        before = server.collector_record()
        wrk = subprocess.Popen(
            ["wrk", "-t2", "-c8", f"-d{seconds}s", f"{server.url}/api/metrics"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        busy = cpu_over(server, seconds, tabs.pump)
        output = wrk.communicate()[0]
        after = server.collector_record()
    finally:
        tabs.close()
    requests = next((line.split()[1] for line in output.splitlines() if line.startswith("Requests/sec")), "?")
    print(
        f"{server.name}: 10 tabs on the Overview + wrk on /api/metrics for {seconds} s: "
        f"{after['ticks_total'] - before['ticks_total']:.0f} ticks, "
        f"{after['missed_ticks_total'] - before['missed_ticks_total']:.0f} missed; "
        f"{requests} requests/s; server CPU {busy:.0f}% of a core; last tick {after['tick_duration_ms']:.1f} ms",
        flush=True,
    )


def gc_variants(args) -> None:
    """This tree with Streamlit's gc.collect(2) after every rerun, without it, and with it after gc.freeze()."""
    servers = [
        Server("gc-each-rerun", ROOT, args.port, ("--runner.postScriptGC", "true")),
        Server("postScriptGC-off", ROOT, args.port + 1, ("--runner.postScriptGC", "false")),
        Server("freeze+gc", ROOT, args.port + 2, ("--runner.postScriptGC", "true"), freeze=True),
    ]
    try:
        start_all(servers, args.history)
        args.wrk_seconds = 0
        compare(args, servers)
    finally:
        for server in servers:
            server.stop()


def memory(args) -> None:
    """RSS of this tree's server with 5 tabs on the Overview at 1 s, every 30 s."""
    from playwright.sync_api import sync_playwright

    server = Server("after", ROOT, args.port)
    try:
        start_all([server])
        with sync_playwright() as playwright:
            browser = launch(playwright)
            tabs = Tabs(browser, server, "Overview", 5)
            started = time.monotonic()
            print(f"{'minute':>6} {'RSS MB':>8} {'CPU %':>6} {'ticks':>6}")
            while time.monotonic() - started < args.memory * 60:
                cpu = cpu_over(server, 30, tabs.pump)
                ticks = server.collector_record()["ticks_total"]
                print(
                    f"{(time.monotonic() - started) / 60:6.1f} {server.rss_mb():8.1f} {cpu:6.1f} {ticks:6.0f}",
                    flush=True,
                )
            tabs.close()
            browser.close()
    finally:
        server.stop()


# One tick of the System page's seven charts, in a process of each tree: the shared work (once per
# collector version: the chart from the history) and each viewer's (Streamlit turning the chart
# into its message), best of several rounds, and the message's size.
CHART_COST = """
import json, sys, time
sys.path.insert(0, ".")
from streamlit.elements import vega_charts as vc
from streamlit.proto.VegaLiteChart_pb2 import VegaLiteChart
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.settings.model import Settings
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.settings.model import Settings
from prsm_monitor.ui import timechart
from prsm_monitor.ui.shared_views import history
from prsm_monitor.ui.views.system import CHARTS
collector = MetricsCollector(settings=Settings(demo=False))
for _ in range(40):
    collector.collect_once()
frame = history(collector, "system", 15)
declared = [chart for row in CHARTS for chart in row]

def message(chart):
    spec = chart.vega_lite() if hasattr(chart, "vega_lite") else dict(chart.spec)
    proto = VegaLiteChart()
    spec = vc._prepare_vega_lite_spec(spec, True)
    vc._marshall_chart_data(proto, spec, getattr(chart, "data", None) if not hasattr(chart, "vega_lite") else None)
    proto.spec = vc._stabilize_vega_json_spec(json.dumps(spec))
    return proto

def best(work, rounds=30):
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times) * 1e6

drawn = [timechart.spec(c, collector, frame, band=True) for c in declared]
shared = best(lambda: [timechart.spec(c, collector, frame, band=True) for c in declared])
viewer = best(lambda: [message(chart) for chart in drawn if chart is not None])
size = sum(message(chart).ByteSize() for chart in drawn if chart is not None)
count = sum(c is not None for c in drawn)
print(json.dumps({"charts": count, "shared_us": shared, "viewer_us": viewer, "bytes": size}))
"""


def chart_cost(args) -> None:
    """One tick's chart work and bytes on the System page, before against after, without a server."""
    with tempfile.TemporaryDirectory(prefix="prsm-before-") as tmp:
        trees = {f"before({c})": baseline_tree(c, Path(tmp) / c) for c in args.baseline} | {"after": ROOT}
        print(f"{'tree':>18} {'charts':>6} {'shared us/tick':>14} {'viewer us/tick':>14} {'bytes/update':>12}")
        for name, tree in trees.items():
            command = [sys.executable, "-c", CHART_COST]
            out = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{name:>18} {r['charts']:>6} {r['shared_us']:>14.0f} {r['viewer_us']:>14.0f} {r['bytes']:>12,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Overview and System, 1 and 5 tabs, short windows")
    parser.add_argument("--pages", nargs="+", choices=list(PAGES), default=list(PAGES))
    parser.add_argument("--tabs", nargs="+", type=int, default=[1, 5, 10])
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring window per sample")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--wrk-seconds", type=int, default=60, help="0: no missed-tick check")
    parser.add_argument(
        "--baseline",
        nargs="*",
        default=[BASELINE],
        help="commits measured as 'before' (one server each, up to 4; none: this tree alone)",
    )
    parser.add_argument(
        "--port", type=int, default=8710, help="first of 12 ports (servers, and +6 the byte meters); 0: free ports"
    )
    parser.add_argument("--no-tree", action="store_true", help="only the --baseline commits, not this tree")
    parser.add_argument("--elements", type=int, default=0, metavar="N", help="also the N elements sending the most")
    parser.add_argument("--history", type=int, default=160, help="ticks each server collects before measuring")
    parser.add_argument(
        "--range",
        help="sidebar time range the tabs pick (default: the page's, 15 min); '5 min' with --history 330 "
        "fills every chart to its 150 points, each redrawn every 2 s: the most bytes a range sends",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also 'still': this tree with its collector held still after --history ticks (STILL), "
        "what a viewer costs with nothing of ours recomputed",
    )
    parser.add_argument("--gc", action="store_true", help="compare the three garbage-collection settings")
    parser.add_argument("--memory", type=float, metavar="MINUTES", help="RSS over time with 5 tabs")
    parser.add_argument("--chart-cost", action="store_true", help="one tick's chart work and bytes, in-process")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.tabs = ["Overview", "System"], [1, 5]
        args.seconds, args.warmup, args.wrk_seconds = 8.0, 3.0, min(args.wrk_seconds, 20)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}")
    if args.memory:
        memory(args)
        return
    if args.chart_cost:
        chart_cost(args)
        return
    if args.gc:
        gc_variants(args)
        return
    with tempfile.TemporaryDirectory(prefix="prsm-before-") as tmp:
        fixed, at = args.port != 0, ports(args.port, len(args.baseline) + 2)
        servers = [
            Server(f"before({c})" if i == 0 else c, baseline_tree(c, Path(tmp) / c), at[i], fixed_ports=fixed)
            for i, c in enumerate(args.baseline)
        ]
        if not args.no_tree:
            servers.append(Server("after", ROOT, at[-2], fixed_ports=fixed))
        if args.floor:
            servers.append(Server("still", ROOT, at[-1], fixed_ports=fixed, still=args.history))
        try:
            start_all(servers, args.history)
            compare(args, servers)
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
