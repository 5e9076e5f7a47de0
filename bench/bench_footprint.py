"""Footprint at rest beside the tools an operator would run instead: prints figures, asserts nothing.

Subjects, each started fresh as this script's own child (a new session, so its whole process
tree is measured and stopped), alternated over ``--rounds`` rounds:

- ``prsm demo`` / ``prsm no demo``: ``streamlit run streamlit_app.py`` (headless, loopback, a
  free port, a fresh ``PRSM_DATA_DIR``) with ``PRSM_DEMO=true`` / ``false``, from ``--app``
  (default: this checkout; repeat ``--app LABEL=DIR`` to compare checkouts in one run);
- ``glances -w`` (REST server) and ``glances -q`` (collect only, no display): Glances 4.5 from a
  virtual environment of its own, never the project's requirements::

      python3 -m venv /opt/glances-venv && /opt/glances-venv/bin/pip install 'glances[web]==4.5.*'

  then ``--glances /opt/glances-venv/bin/glances`` or ``GLANCES=/opt/glances-venv/bin/glances``;
- ``netdata``: Debian's package (``apt-get install -y netdata``), run in the foreground
  (``-D``) on a free loopback port (``--netdata`` or ``NETDATA`` for another binary).

Figures per subject and round:

- idle CPU: % of one core used by the whole process tree (utime + stime from /proc, through
  psutil) from ``--warmup`` seconds after launch to ``--minutes`` after launch, nobody viewing;
- RSS: resident memory of the whole tree ``--minutes`` after launch (the main process alone
  in brackets);
- launch to first answer: from ``Popen`` to the first 200 on ``/health`` (prsm),
  ``/api/4/status`` (Glances REST), ``/api/v1/info`` (Netdata); and the CPU seconds the
  tree had used by then (the work done before answering, which a loaded machine stretches
  less than the wall time);
- the demo's own loop: for ``prsm demo``, the CPU of the thread named ``prsm-demo-network``
  over the same window (its native id from ``py-spy dump``, its times from ``/proc``; skipped
  without ``py-spy``). That thread is the watched network itself (five nodes' heartbeats,
  gossip, votes and inferences over loopback sockets), which a real deployment runs
  elsewhere; the tree's CPU less it is what the monitor spends watching it;
- requests/s, after the idle window: ``/health`` and Streamlit's own ``/_stcore/health`` on
  the same server, alternated ``--load-rounds`` times, and Glances' ``/api/4/status``; with
  ``wrk`` (``apt-get install -y wrk``) when installed, else a keep-alive Python load loop
  (said so in the output).

The machine may be shared: the 1-minute load average is printed beside every figure.

Run from the repo root: ``python bench/bench_footprint.py [--minutes 2] [--rounds 3]``.

Memory over time instead (bench/footprint_memory.py): ``--memory-hours N`` collects N simulated
hours in-process as fast as it can (real demo nodes, the store's real tiers and ring
eviction) and prints RSS per simulated hour (``--memory-speed K``: K ticks per real second and
the demo's traffic K times faster, so what follows the demo's own activity is compressed too);
``--memory-minutes M`` runs the real app for M minutes and prints its RSS every minute and the
slope in MB/h.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load1() -> float:
    return os.getloadavg()[0]


@dataclass
class Figure:
    value: float
    load: float


@dataclass
class Subject:
    name: str
    command: list[str]
    cwd: Path
    env: dict
    first_path: str | None  # the route whose first 200 ends "launch"; None: nothing to ask
    port: int | None = None
    load_paths: tuple[str, ...] = ()
    results: dict[str, list[Figure]] = field(default_factory=dict)

    def add(self, measure: str, value: float | None) -> None:
        if value is not None:
            self.results.setdefault(measure, []).append(Figure(value, load1()))


def tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(root: psutil.Process) -> dict[int, float]:
    """CPU seconds per live pid of the tree (own + reaped children)."""
    out = {}
    for p in tree(root):
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return out


DEMO_THREAD = "prsm-demo-network"
DUMP_THREAD = re.compile(r'^Thread (\d+) \([^)]*\): "(.*)"$', re.M)


def thread_named(pid: int, name: str) -> int | None:
    """The native id of the process's Python thread called ``name`` (``py-spy dump``), or None."""
    if not shutil.which("py-spy"):
        return None
    dump = subprocess.run(
        ["py-spy", "dump", "--nonblocking", "--pid", str(pid)], capture_output=True, text=True, timeout=30
    )
    return next((int(tid) for tid, n in DUMP_THREAD.findall(dump.stdout) if n == name), None)


def thread_seconds(pid: int, tid: int | None) -> float | None:
    try:
        return next((t.user_time + t.system_time for t in psutil.Process(pid).threads() if t.id == tid), None)
    except psutil.NoSuchProcess:
        return None


def rss_mb(root: psutil.Process) -> tuple[float, float]:
    """(whole tree, main process) resident MB."""
    total = main = 0.0
    for p in tree(root):
        try:
            rss = p.memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            continue
        total += rss
        if p.pid == root.pid:
            main = rss
    return total, main


def get_status(port: int, path: str, timeout: float = 2.0) -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def wrk(port: int, path: str, seconds: float) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {path}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def python_load(port: int, path: str, seconds: float) -> float:
    """CONNECTIONS keep-alive threads with http.client; requests/s."""
    counts = []
    stop = time.monotonic() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = 0
        while time.monotonic() < stop:
            conn.request("GET", path)
            conn.getresponse().read()
            n += 1
        counts.append(n)

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - start)


def request_rate(port: int, path: str, seconds: float) -> float:
    return wrk(port, path, seconds) if shutil.which("wrk") else python_load(port, path, seconds)


def run_once(subject: Subject, args) -> None:
    port = free_port() if subject.first_path or subject.load_paths else None
    command = [c.replace("{port}", str(port)) for c in subject.command]
    data_dir = tempfile.mkdtemp(prefix="bench-footprint-")
    env = {**subject.env}
    if "PRSM_DATA_DIR" in env:
        env["PRSM_DATA_DIR"] = data_dir
    t0 = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=subject.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    root = psutil.Process(proc.pid)
    try:
        if subject.first_path:
            deadline = t0 + 120
            while get_status(port, subject.first_path, timeout=1.0) != 200:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{subject.name} did not answer {subject.first_path} (exit {proc.poll()})")
                time.sleep(0.01)
            subject.add("launch", time.monotonic() - t0)
            subject.add("launch_cpu", sum(cpu_seconds(root).values()))  # the work done first: steadier under load
        time.sleep(max(0.0, t0 + args.warmup - time.monotonic()))
        demo = thread_named(proc.pid, DEMO_THREAD) if subject.env.get("PRSM_DEMO") == "true" else None
        start_cpu, start_demo, w0 = cpu_seconds(root), thread_seconds(proc.pid, demo), time.monotonic()
        time.sleep(max(0.0, t0 + args.minutes * 60 - time.monotonic()))
        end_cpu, end_demo, w1 = cpu_seconds(root), thread_seconds(proc.pid, demo), time.monotonic()
        if proc.poll() is not None:
            raise RuntimeError(f"{subject.name} exited during the idle window (exit {proc.returncode})")
        used = sum(v - start_cpu.get(pid, 0.0) for pid, v in end_cpu.items())
        subject.add("cpu", 100.0 * used / (w1 - w0))
        if start_demo is not None and end_demo is not None:
            subject.add("cpu demo loop", 100.0 * (end_demo - start_demo) / (w1 - w0))
            subject.add("cpu less demo loop", 100.0 * (used - (end_demo - start_demo)) / (w1 - w0))
        total, main = rss_mb(root)
        subject.add("rss", total)
        subject.add("rss_main", main)
        for _ in range(args.load_rounds):
            for path in subject.load_paths:
                subject.add(f"rate {path}", request_rate(port, path, args.load_seconds))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
        shutil.rmtree(data_dir, ignore_errors=True)


def subjects(args) -> list[Subject]:
    out = []
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PRSM_")}
    for label, app in args.app:
        env = {**base_env, "PYTHONPATH": str(app), "PRSM_DATA_DIR": "", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.port",
            "{port}",
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ]
        for demo in ("true", "false"):
            name = f"{label} {'demo' if demo == 'true' else 'no demo'}"
            paths = ("/health", "/_stcore/health") if demo == "true" else ()
            out.append(Subject(name, command, app, {**env, "PRSM_DEMO": demo}, "/health", load_paths=paths))
    if args.glances:
        g = [args.glances, "--disable-autodiscover", "--disable-check-update"]
        out.append(
            Subject(
                "glances -w",
                [*g, "-w", "--disable-webui", "-B", "127.0.0.1", "-p", "{port}"],
                ROOT,
                base_env,
                "/api/4/status",
                load_paths=("/api/4/status",),
            )
        )
        out.append(Subject("glances -q", [*g, "-q"], ROOT, base_env, None))
    if args.netdata:
        command = [args.netdata, "-D", "-i", "127.0.0.1", "-p", "{port}", "-W", "set", "global", "run as user", "root"]
        out.append(Subject("netdata", command, ROOT, base_env, "/api/v1/info"))
    return out


def summary(figures: list[Figure] | None, fmt: str) -> str:
    if not figures:
        return "—"
    values = [f.value for f in figures]
    lo, hi = min(values), max(values)
    loads = "/".join(f"{f.load:.1f}" for f in figures)
    body = fmt.format(lo) if lo == hi else f"{fmt.format(lo)}–{fmt.format(hi)}"
    return f"{body} (load {loads})"


def median(subject: Subject | None, measure: str) -> float | None:
    if subject is None or not subject.results.get(measure):
        return None
    return statistics.median(f.value for f in subject.results[measure])


def ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or not b else f"{a / b:.2f}×"


def print_table(subs: list[Subject], args) -> None:
    by = {s.name: s for s in subs}
    rows = [
        ("idle CPU, % of a core", "cpu", "{:.2f} %"),
        (f"of which the demo's loop ({DEMO_THREAD})", "cpu demo loop", "{:.2f} %"),
        ("idle CPU less the demo's loop", "cpu less demo loop", "{:.2f} %"),
        (f"RSS after {args.minutes:g} min, MB (tree)", "rss", "{:.0f}"),
        ("RSS main process, MB", "rss_main", "{:.0f}"),
        ("launch to first answer, s", "launch", "{:.2f}"),
        ("CPU used to first answer, s", "launch_cpu", "{:.2f}"),
        ("/health requests/s", "rate /health", "{:,.0f}"),
        ("/_stcore/health requests/s", "rate /_stcore/health", "{:,.0f}"),
        ("/api/4/status requests/s", "rate /api/4/status", "{:,.0f}"),
    ]
    print("\n| measure | " + " | ".join(s.name for s in subs) + " |")
    print("|---|" + "---|" * len(subs))
    for title, key, fmt in rows:
        if any(s.results.get(key) for s in subs):
            print(f"| {title} | " + " | ".join(summary(s.results.get(key), fmt) for s in subs) + " |")
    print("\nRatios (medians; goal in brackets):")
    anchor = {name: by.get(name) for name in ("netdata", "glances -q", "glances -w")}
    for label, _ in args.app:
        demo, nodemo = by.get(f"{label} demo"), by.get(f"{label} no demo")
        lines = [
            ("idle CPU demo / netdata", median(demo, "cpu"), median(anchor["netdata"], "cpu"), "≤ 1"),
            (
                "idle CPU demo less the demo's loop / netdata",
                median(demo, "cpu less demo loop"),
                median(anchor["netdata"], "cpu"),
                "",
            ),
            ("idle CPU no demo / glances -q", median(nodemo, "cpu"), median(anchor["glances -q"], "cpu"), "≤ 1"),
            ("launch demo / glances -w", median(demo, "launch"), median(anchor["glances -w"], "launch"), "≤ 1"),
            (
                "CPU to first answer demo / glances -w",
                median(demo, "launch_cpu"),
                median(anchor["glances -w"], "launch_cpu"),
                "",
            ),
            ("/health / /_stcore/health", median(demo, "rate /health"), median(demo, "rate /_stcore/health"), "≥ 0.9"),
            ("RSS demo / netdata", median(demo, "rss"), median(anchor["netdata"], "rss"), ""),
            ("RSS demo / glances -w", median(demo, "rss"), median(anchor["glances -w"], "rss"), ""),
        ]
        print(f"  {label}:")
        for title, a, b, goal in lines:
            print(f"    {title}: {ratio(a, b)}" + (f" ({goal})" if goal else ""))


def parse_app(text: str) -> tuple[str, Path]:
    label, _, directory = text.rpartition("=")
    return (label or "prsm"), Path(directory).resolve()


def memory_over_time(args) -> None:
    """``--memory-hours`` / ``--memory-minutes`` (see bench/footprint_memory.py), for the first ``--app``."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import footprint_memory

    root = args.app[0][1]
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; app {root}")
    if args.memory_hours:
        footprint_memory.simulated(args.memory_hours, not args.memory_no_demo, root, args.memory_speed)
    if args.memory_minutes:
        footprint_memory.real_time(args.memory_minutes, args.memory_from, root, free_port())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0, help="RSS is read this long after launch")
    parser.add_argument("--warmup", type=float, default=30.0, help="idle CPU is measured from here to --minutes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load-seconds", type=float, default=3.0)
    parser.add_argument("--load-rounds", type=int, default=3)
    parser.add_argument("--app", action="append", type=parse_app, help="[LABEL=]DIR of a checkout (repeatable)")
    parser.add_argument("--glances", default=os.environ.get("GLANCES") or shutil.which("glances"))
    parser.add_argument("--netdata", default=os.environ.get("NETDATA") or shutil.which("netdata"))
    parser.add_argument("--only", help="comma-separated subject names to run (default: all)")
    parser.add_argument("--memory-hours", type=float, help="instead: RSS over this many simulated hours (in-process)")
    parser.add_argument(
        "--memory-speed",
        type=float,
        help="--memory-hours at this many ticks per real second, the demo's traffic as many times faster",
    )
    parser.add_argument("--memory-no-demo", action="store_true", help="--memory-hours without the demo network")
    parser.add_argument("--memory-minutes", type=float, help="instead: RSS of the real app every minute for this long")
    parser.add_argument("--memory-from", type=float, default=10.0, help="--memory-minutes: the slope from this minute")
    args = parser.parse_args()
    args.app = args.app or [("prsm", ROOT)]
    if args.memory_hours or args.memory_minutes:
        memory_over_time(args)
        return
    if args.warmup >= args.minutes * 60:
        parser.error(f"--warmup {args.warmup:g} s must be shorter than --minutes {args.minutes:g} min")
    subs = subjects(args)
    if args.only:
        wanted = {n.strip() for n in args.only.split(",")}
        subs = [s for s in subs if s.name in wanted]
    print(
        f"machine: {platform.node()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; load generator: {'wrk' if shutil.which('wrk') else 'Python keep-alive'}"
    )
    print(
        f"subjects: {', '.join(s.name for s in subs)}; rounds {args.rounds}, "
        f"idle from {args.warmup:g} s to {args.minutes:g} min"
    )
    if not args.glances:
        print("Glances not found: --glances PATH or GLANCES=PATH (see --help)")
    if not args.netdata:
        print("Netdata not found: apt-get install -y netdata, or --netdata PATH")
    for r in range(args.rounds):
        for s in subs:
            try:
                run_once(s, args)
            except RuntimeError as error:
                print(f"round {r + 1} {s.name}: {error}")
            last = {k: round(v[-1].value, 2) for k, v in s.results.items() if v}
            print(f"round {r + 1} {s.name}: {last} load {load1():.2f}", flush=True)
    print_table(subs, args)


if __name__ == "__main__":
    main()
