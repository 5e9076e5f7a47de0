"""Benchmark of a hub watching other instances (PRSM_INSTANCES): prints figures, asserts nothing.

1. Records real ``/api/metrics`` answers: one real ``streamlit run streamlit_app.py`` with the
   default 5-node demo (heavier answers than a demo-off instance), read once a second for
   ``--record`` seconds after a warm-up, and its ``/api/settings``.
2. Serves them from ``--instances`` fixture servers (default 20) in ONE separate process:
   a threaded HTTP/1.1 keep-alive server per port that answers ``/api/metrics`` with the
   recording, advancing one answer per wall-clock second as a live instance does. These are
   lightweight fixture servers with real recorded payloads, not 20 prsm-monitor processes:
   the hub's cost is what is measured, and 20 dashboards would load this shared machine.
3. Alternates, ``--rounds`` times, two hub processes with the same settings (default demo on,
   1 s interval, memory only): ``alone`` (no PRSM_INSTANCES) and ``fleet`` (watching every
   fixture server at 1 Hz). Each one, after a 5 s warm-up, measures over ``--seconds``: its CPU
   (process time / wall time, % of one core, every thread), missed local ticks, the median
   local tick time, polls made; then the Fleet page's rerun time (AppTest, whole script,
   median and p95 of 20 runs after 3 warm-up runs; AppTest skips Streamlit's post-run GC).

Run from the repo root: ``python bench/bench_fleet.py [--instances 20] [--seconds 20] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"


def record(seconds: int) -> dict:
    import requests

    from tests.fixtures.server import StreamlitServer

    server = StreamlitServer(
        ROOT / "streamlit_app.py", env={"PRSM_DEMO": "true", "PRSM_METRICS_INTERVAL": "1", "PRSM_PERSIST": "false"}
    ).wait(timeout=120)
    try:
        time.sleep(12)  # the demo's 10 s windows fill
        answers = []
        for _ in range(seconds):
            answers.append(requests.get(server.url + "/api/metrics", timeout=5).text)
            time.sleep(1)  # pacing the recording at the instance's interval
        settings = requests.get(server.url + "/api/settings", timeout=5).text
    finally:
        server.stop()
    return {"metrics": answers, "settings": settings}


def serve(payloads: Path, count: int) -> None:
    """``count`` fixture servers; prints their ports as one JSON line, then serves until killed."""
    data = json.loads(payloads.read_text())
    bodies = [a.encode() for a in data["metrics"]]
    settings = data["settings"].encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Streamlit's server

        def do_GET(self):  # noqa: N802 - the http.server spelling
            if self.path.startswith("/api/metrics"):
                body = bodies[int(time.time()) % len(bodies)]
            elif self.path.startswith("/api/settings"):
                body = settings
            else:
                body = b'{"error": "not_found"}'
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ports = []
    for _ in range(count):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ports.append(server.server_address[1])
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps(ports), flush=True)
    threading.Event().wait()


def phase(name: str, ports: list[int], seconds: float) -> dict:
    """One hub process: CPU, missed ticks and tick time over ``seconds``; the Fleet page's rerun time."""
    os.environ.setdefault("PRSM_PERSIST", "false")
    if name == "fleet":
        os.environ["PRSM_INSTANCES"] = ",".join(f"i{n:02d}=http://127.0.0.1:{p}" for n, p in enumerate(ports))
    from streamlit.testing.v1 import AppTest

    from prsm_monitor.core import shared
    from prsm_monitor.fleet import fleet_of

    collector = shared.get_collector()
    time.sleep(5)  # warm-up: the demo and the first polls
    fleet = fleet_of(collector)
    before = collector.latest("collector") or {}
    polls = fleet.polls if fleet else 0
    cpu, wall = time.process_time(), time.monotonic()
    time.sleep(seconds)  # the measured window: the hub runs on its own threads
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    after = collector.latest("collector") or {}
    ticks = collector.history("collector", minutes=seconds / 60)
    result = {
        "phase": name,
        "cpu_percent": 100 * cpu / wall,
        "missed_ticks": after.get("missed_ticks_total", 0) - before.get("missed_ticks_total", 0),
        "ticks": after.get("ticks_total", 0) - before.get("ticks_total", 0),
        "tick_ms_median": float(ticks["tick_duration_ms"].median()),
        "polls_per_s": ((fleet.polls - polls) / wall) if fleet else 0.0,
        "up": sum(s.status == "up" for s in fleet.states()) if fleet else 0,
    }
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    app.switch_page("pages/5_Fleet.py")
    for _ in range(3):
        app.run()
    times = []
    for _ in range(20):
        started = time.perf_counter()
        app.run()
        times.append(1000 * (time.perf_counter() - started))
    assert not app.exception, [e.value for e in app.exception]
    result["rows"] = len(app.dataframe[0].value)
    result["page_ms_median"] = statistics.median(times)
    result["page_ms_p95"] = sorted(times)[int(0.95 * len(times)) - 1]
    shared.release_collector()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--record", type=int, default=30, help="seconds of /api/metrics answers to record")
    parser.add_argument("--payloads", type=Path, default=OUT / "fleet_payloads.json")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.payloads, args.instances)
    if args.phase:
        print(json.dumps(phase(args.phase, json.loads(args.ports), args.seconds)), flush=True)
        return None

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (shared with other work)")
    if not args.payloads.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        print(f"recording {args.record} s of /api/metrics from a real instance (5-node demo)...", flush=True)
        args.payloads.write_text(json.dumps(record(args.record)))
    data = json.loads(args.payloads.read_text())
    sizes = [len(m) for m in data["metrics"]]
    print(f"payloads: {len(sizes)} recorded answers, {statistics.median(sizes) / 1024:.1f} KiB median")
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--payloads", str(args.payloads), "--instances", str(args.instances)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ports = json.loads(server.stdout.readline())
        results = []
        for _ in range(args.rounds):
            for name in ("alone", "fleet"):
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--phase",
                        name,
                        "--ports",
                        json.dumps(ports),
                        "--seconds",
                        str(args.seconds),
                    ],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    timeout=300,
                )
                line = [x for x in out.stdout.splitlines() if x.startswith("{")]
                if not line:
                    raise SystemExit(f"phase {name} failed:\n{out.stderr[-3000:]}")
                results.append(json.loads(line[-1]))
                print(json.dumps(results[-1]), flush=True)
    finally:
        server.kill()
        server.wait()
    print()
    print(
        "| hub (5-node demo, 1 s ticks) | CPU % of one core | missed ticks | tick median | polls/s | Fleet page rerun |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name in ("alone", "fleet"):
        rows = [r for r in results if r["phase"] == name]
        cpus = ", ".join(f"{r['cpu_percent']:.1f}" for r in rows)
        label = "alone" if name == "alone" else f"watching {args.instances} instances at 1 Hz ({rows[0]['up']} up)"
        print(
            f"| {label} | {cpus} "
            f"| {sum(r['missed_ticks'] for r in rows)} of {sum(r['ticks'] for r in rows)} "
            f"| {statistics.median(r['tick_ms_median'] for r in rows):.2f} ms "
            f"| {statistics.median(r['polls_per_s'] for r in rows):.1f} "
            f"| {statistics.median(r['page_ms_median'] for r in rows):.0f} / "
            f"{statistics.median(r['page_ms_p95'] for r in rows):.0f} ms ({rows[0]['rows']} rows) |"
        )
    return None


if __name__ == "__main__":
    main()
