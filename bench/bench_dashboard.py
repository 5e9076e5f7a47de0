"""Dashboard benchmarks: server time of a page rerun with 24 h of 1 Hz history, and the bytes
each refresh tick sends to a real browser. Prints figures; asserts nothing.

    python bench/bench_dashboard.py            # both
    python bench/bench_dashboard.py --rerun    # only the AppTest timing
    python bench/bench_dashboard.py --bytes    # only the browser measurement (needs chromium)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["streamlit_app.py", "pages/1_System.py", "pages/2_Network.py", "pages/3_AI_Models.py", "pages/4_Alerts.py"]
POINTS = 86_400


def fill_history(collector, points: int) -> None:
    """Give every component ``points`` rows at 1 Hz ending now, shaped like its latest record
    (each field's latest value with a slow wave on it), so charts have 24 h to downsample."""
    import numpy as np

    now = time.time()
    for component in ("system", "network", "ai", "collector"):
        latest = collector.get_latest_metrics().get(component)
        names = collector.store.fields(component)
        if not latest or not names:
            continue
        wave = 1 + 0.2 * np.sin(np.arange(points) / 600)
        rows = {n: (float(latest[n]) * wave if isinstance(latest.get(n), (int, float)) else None) for n in names}
        for i in range(points):
            record = {n: (None if v is None else v[i]) for n, v in rows.items()}
            record["timestamp"] = now - points + i
            collector.store.append(component, record)


def rerun_times(repeats: int = 7) -> None:
    os.environ.setdefault("PRSM_METRICS_HISTORY", str(POINTS + 100))
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from prsm_monitor.core import shared

    collector = shared.get_collector()
    started = time.perf_counter()
    fill_history(collector, POINTS)
    print(
        f"filled {POINTS:,} points per component in {time.perf_counter() - started:.1f} s "
        f"(demo network: {'on' if collector.settings.demo else 'off'})"
    )
    print(f"\n{'page (24 h range, 86,400 points)':40} {'median':>10} {'min':>10} {'max':>10}   target <= 150 ms")
    for path in PAGES:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
        at.query_params["range"] = "24 h"
        if path != "streamlit_app.py":
            at.switch_page(path)
        at.run()
        if at.exception:
            print(path, "raised:", at.exception[0].value)
            continue
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            at.run()
            times.append((time.perf_counter() - t) * 1000)
        print(f"{path:40} {statistics.median(times):8.1f} ms {min(times):8.1f} ms {max(times):8.1f} ms")
    print("(a whole script run: sidebar and page frame included, so an upper bound of the fragment rerun)")
    st.cache_resource.clear()
    shared.release_collector()


def websocket_bytes(seconds: float = 12.0, warm_up: float = 80.0) -> None:
    """Bytes per refresh tick as the browser receives them. The server collects every 0.1 s
    so that after ``warm_up`` seconds each chart of the 15 min range holds more points than it
    may draw: every chart is at its downsampled maximum, the steady state of a long run."""
    from playwright.sync_api import sync_playwright

    from tests.fixtures.server import StreamlitServer

    chromium = shutil.which("chromium")
    if not chromium:
        print("chromium not installed: skipping the bytes-per-tick measurement")
        return
    urls = {"Overview": "", "System": "System", "Network": "Network", "AI Models": "AI_Models", "Alerts": "Alerts"}
    print(f"\n{'page (refresh 1 s, 15 min range)':34} {'ticks':>6} {'KB/tick':>9} {'max KB':>8}   target <= 40 KB")
    server = StreamlitServer(ROOT / "streamlit_app.py", env={"PRSM_DEMO": "true", "PRSM_METRICS_INTERVAL": "0.1"})
    base = server.wait(timeout=60).url
    with sync_playwright() as p:
        time.sleep(warm_up)  # history accumulates in the server
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        for title, path in urls.items():
            page = browser.new_page(viewport={"width": 1440, "height": 1800})
            frames: list[tuple[float, bytes]] = []
            page.on(
                "websocket",
                lambda ws, frames=frames: ws.on(
                    "framereceived", lambda payload: frames.append((time.monotonic(), payload))
                ),
            )
            page.goto(f"{base}/{path}")
            page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']")
            page.locator("[data-testid=stSidebar]").get_by_text("1 s", exact=True).click()
            page.wait_for_timeout(3000)  # the first full render is not a tick
            start = time.monotonic()
            page.wait_for_timeout(seconds * 1000)
            ticks, sizes = split_ticks([p for t, p in frames if t >= start])
            per_tick = sum(sizes) / max(1, len(sizes)) / 1024
            print(f"{title:34} {len(sizes):6d} {per_tick:9.1f} {max(sizes, default=0) / 1024:8.1f}")
            page.close()
        browser.close()
    server.stop()


def split_ticks(payloads: list) -> tuple[int, list[int]]:
    """Group WebSocket messages into script runs (each ends with ``script_finished``); return
    the number of complete runs and the bytes of each."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    sizes, current, started = [], 0, False
    for payload in payloads:
        data = payload if isinstance(payload, bytes) else payload.encode()
        message = ForwardMsg()
        message.ParseFromString(data)
        current += len(data)
        if message.WhichOneof("type") == "script_finished":
            if started:
                sizes.append(current)
            started, current = True, 0
    return len(sizes), sizes


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rerun", action="store_true")
    parser.add_argument("--bytes", action="store_true")
    args = parser.parse_args()
    both = not (args.rerun or args.bytes)
    if args.rerun or both:
        rerun_times()
    if args.bytes or both:
        websocket_bytes()
