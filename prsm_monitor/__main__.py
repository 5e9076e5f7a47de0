"""Command line: ``python -m prsm_monitor serve|collect|demo ...``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from .settings.limits import check_interval
from .settings.model import Settings
from .settings.values import ConfigError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m prsm_monitor", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the dashboard and its HTTP API (streamlit run streamlit_app.py)")
    serve.add_argument("--host", help="address to listen on (default: PRSM_DASHBOARD_HOST, localhost)")
    serve.add_argument("--port", help="port to listen on (default: PRSM_DASHBOARD_PORT, 8501)")
    serve.add_argument("--no-demo", action="store_true", help="do not start the demo PRSM network")
    serve.add_argument("--debug", action="store_true", help="debug logging (default: PRSM_DASHBOARD_DEBUG)")
    collect = commands.add_parser("collect", help="collect metrics and print them each tick")
    collect.add_argument("--once", action="store_true", help="collect one tick, print it and exit")
    collect.add_argument("--interval", type=float, help="seconds between ticks (default: PRSM_METRICS_INTERVAL)")
    collect.add_argument("--json", action="store_true", help="print JSON lines instead of the console view")
    collect.add_argument("--no-demo", action="store_true", help="do not start the demo PRSM network")
    demo = commands.add_parser("demo", help="run the demo PRSM network alone and print its metrics")
    demo.add_argument("--nodes", type=int, help="number of nodes (default: PRSM_DEMO_NODES)")
    demo.add_argument("--rate", type=float, help="inference requests per second (default: PRSM_DEMO_RATE)")
    demo.add_argument(
        "--node-api",
        action="store_true",
        help="each node also serves a PRSM node's management API on 127.0.0.1; prints PRSM_NODE_URLS for them",
    )
    real = commands.add_parser(
        "real-demo", help="start real PRSM 1.7.0 nodes (prsm-network, .venv-prsm) and the dashboard watching them"
    )
    real.add_argument("--nodes", type=int, default=3, help="number of nodes (default: 3)")
    real.add_argument("--job-every", type=float, default=10.0, help="seconds between compute jobs (default: 10)")
    real.add_argument("--no-dashboard", action="store_true", help="only the nodes; print PRSM_NODE_URLS for them")
    return parser


def _fmt(value, digits=1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def console_line(metrics: dict) -> str:
    """One compact line per tick for the console view."""
    s, n, a = metrics.get("system"), metrics.get("network"), metrics.get("ai")
    parts = []
    if s:
        parts.append(
            f"cpu {_fmt(s['cpu_percent'])}% mem {_fmt(s['memory_percent'])}% "
            f"disk {_fmt(s.get('disk_percent'))}% conn {s.get('active_connections', '-')}"
        )
    if n:
        parts.append(
            f"nodes {n['active_nodes']}/{n['total_nodes']} lat {_fmt(n['average_latency'])} ms "
            f"msg/s {_fmt(n['message_rate'])}"
        )
    if a:
        parts.append(
            f"models {a['active_models']}/{a['total_models']} inf {a['total_inferences']} "
            f"ok {_fmt(None if a['success_rate'] is None else 100 * a['success_rate'])}%"
        )
    active = metrics.get("active_alerts") or []
    parts.append(f"alerts {len(active)}" + (f" (worst {active[0]['level']})" if active else ""))
    return " | ".join(parts)


def collect(settings: Settings, args) -> int:
    # imported here for start-up cost: the collector (pandas, the sources) is loaded only by the commands that collect
    from .core.collector import MetricsCollector
    from .health import health_report

    if args.no_demo:
        settings = _replace(settings, demo=False)
    if args.interval is not None:
        settings = _replace(settings, interval=check_interval(args.interval, "--interval"))
    collector = MetricsCollector(settings=settings)

    shown_problems: list[str] = []

    def emit(metrics):
        health = health_report(collector, time.time())[1] if collector.running else None  # not with --once
        if args.json:
            if health:
                metrics["health"] = {"status": health["status"], "problems": health["problems"]}
            print(json.dumps(metrics, default=str), flush=True)
            return
        print(console_line(metrics), flush=True)
        for event in metrics["new_alerts"]:
            print(f"  [{event['level']}] {event['component']}: {event['message']}", flush=True)
        if health and health["problems"] != shown_problems:  # the monitor's own health, when it changes
            shown_problems[:] = health["problems"]
            for problem in health["problems"] or ["the monitor works again"]:
                print(f"  [health {health['status']}] {problem}", flush=True)

    try:
        if args.once:
            metrics = collector.collect_once()
            if (metrics.get("system") or {}).get("cpu_percent") is None:  # CPU use needs a span: measure one
                time.sleep(min(collector.collection_interval, 1.0))  # the measuring window, not a wait for a thread
                metrics = collector.collect_once()
            metrics["new_alerts"] = collector.get_alerts()
            emit(metrics)
            return 0
        last_id = 0

        class Printer:
            def process(self, metrics):
                nonlocal last_id
                new = collector.get_alerts(since_id=last_id)
                if new:
                    last_id = new[-1]["id"]
                emit({**metrics, "new_alerts": new})

        collector.add_plugin(Printer())
        collector.start()
        threading.Event().wait()  # until Ctrl-C
    except KeyboardInterrupt:
        return 0
    finally:
        collector.close()
    return 0


ENTRY = Path(__file__).resolve().parent.parent / "streamlit_app.py"


def serve_command(settings: Settings, args, entry: Path = ENTRY) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` command line and environment that ``serve`` runs."""
    host = settings.host if args.host is None else args.host.strip()
    if not host or any(c.isspace() for c in host):
        raise ConfigError("--host", args.host, "a host name or address without spaces")
    port = settings.port
    if args.port is not None:
        try:
            port = int(args.port)
        except ValueError:
            raise ConfigError("--port", args.port, "a whole number from 1 to 65535") from None
        if not 1 <= port <= 65535:
            raise ConfigError("--port", args.port, "a whole number from 1 to 65535")
    if not entry.is_file():
        raise ConfigError("entry", str(entry), "streamlit_app.py beside the prsm_monitor package (run from the repo)")
    debug = args.debug or settings.debug
    command = [sys.executable, "-m", "streamlit", "run", str(entry), "--server.address", host]
    command += ["--server.port", str(port)]
    env = dict(os.environ)
    if args.no_demo:
        env["PRSM_DEMO"] = "false"
    if debug:
        env["PRSM_DASHBOARD_DEBUG"] = "true"
        command += ["--logger.level", "debug"]
    return command, env


def serve(settings: Settings, args) -> int:
    """Replace this process with ``streamlit run streamlit_app.py`` (the dashboard and the API)."""
    command, env = serve_command(settings, args)
    if os.name == "posix":
        os.execve(sys.executable, command, env)  # signals reach Streamlit directly; no orphan
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0


def _f(value, digits: int = 1, scale: float = 1.0) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


def metrics_line(records: dict) -> str:
    """One compact line from the ``network`` and ``ai`` records of a PrsmSource."""
    n, a = records["network"], records["ai"]
    faults = n.get("faults") or {}
    active = [
        *(f"down {name}" for name in faults.get("stopped", ())),
        *(f"delay {name} {ms:g}ms" for name, ms in faults.get("delay_ms", {}).items()),
        *(f"drift {model} {x:g}" for model, x in faults.get("drift", {}).items()),
        *(["partition"] if faults.get("partition") else []),
        *([f"rate {faults['rate']:g}/s"] if faults.get("rate") != faults.get("base_rate") else []),
    ]
    return (
        f"{time.strftime('%H:%M:%S')} nodes {n['active_nodes']}/{n['total_nodes']} "
        f"links {n['total_connections']}/{n['configured_links']} "
        f"lat {_f(n['average_latency'])} ms p95 {_f(n['p95_latency'])} msg/s {_f(n['message_rate'], 0)} "
        f"gossip {_f(n['gossip_propagation_ms'])} ms | consensus {n['consensus_commits']:.0f} ok "
        f"{n['consensus_rejections']:.0f} rejected | inf/s {_f(a['inference_rate'])} "
        f"ok {_f(a['success_rate'], 1, 100)}% t {_f(a['average_inference_time'], 3)} s "
        f"conf {_f(a['average_confidence'], 3)} queue {a['queue_length']}"
        + (f" | {', '.join(active)}" if active else "")
    )


def demo(settings, node_api: bool = False) -> int:
    """Start ``settings.demo_nodes`` nodes (``demo_peers`` links each, ``demo_rate`` requests/s),
    print a metrics line every second until Ctrl-C, then stop cleanly. Returns the exit code."""
    # imported here for start-up cost: the demo network and the PRSM source load only for ``demo``
    from .demo.network import DemoNetwork
    from .sources.prsm import PrsmSource

    try:
        network = DemoNetwork.from_settings(settings, node_api=node_api)
    except ValueError as error:
        print(f"prsm_monitor demo: {error}", file=sys.stderr)
        return 2
    print(f"Starting {network.size} nodes, {network.peers} links each, {network.base_rate:g} requests/s", flush=True)
    network.start()
    source = PrsmSource(network)
    try:
        addresses = ", ".join(f"{name} {':'.join(map(str, network.address(name)))}" for name in network.names[:5])
        more = f" and {network.size - 5} more" if network.size > 5 else ""
        print(f"Ready in {network.startup_seconds:.2f} s: {addresses}{more}. Ctrl-C stops.", flush=True)
        if node_api:  # another monitor can watch these nodes as a real network
            print(f"PRSM_NODE_URLS={','.join(network.api_urls())}", flush=True)
        next_at = time.monotonic()
        while True:
            next_at += 1.0
            time.sleep(max(0.0, next_at - time.monotonic()))  # pacing the output, not synchronising
            print(metrics_line(source.collect()), flush=True)
    except KeyboardInterrupt:
        return 0
    finally:
        while True:  # a second Ctrl-C (or a process-group SIGINT) must not skip the clean stop
            try:
                source.close()
                break
            except KeyboardInterrupt:
                continue


def _replace(settings: Settings, **changes) -> Settings:
    return dataclasses.replace(settings, **changes)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "demo":
            if args.nodes is not None:
                if not 2 <= args.nodes <= 200:
                    raise ConfigError("--nodes", args.nodes, "a whole number from 2 to 200")
                names = settings.demo_names if len(settings.demo_names) == args.nodes else ()
                settings = _replace(settings, demo_nodes=args.nodes, demo_names=names)
            if args.rate is not None:
                if not 0 <= args.rate <= 10_000:
                    raise ConfigError("--rate", args.rate, "requests per second from 0 to 10000")
                settings = _replace(settings, demo_rate=args.rate)
            return demo(settings, node_api=args.node_api)
        if args.command == "serve":
            return serve(settings, args)
        if args.command == "real-demo":
            if not 2 <= args.nodes <= 10 or not 1 <= args.job_every <= 3600:
                raise ConfigError("--nodes/--job-every", (args.nodes, args.job_every), "2 to 10 nodes, 1 to 3600 s")
            from .demo import real_demo  # starts processes and threads: loaded only when asked for

            return real_demo.run(settings, args.nodes, args.job_every, dashboard=not args.no_dashboard)
        return collect(settings, args)
    except ConfigError as error:
        print(f"prsm_monitor: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
