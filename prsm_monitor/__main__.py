"""Command line: ``python -m prsm_monitor collect|demo ...``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import threading

from .config import ConfigError, Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m prsm_monitor", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    collect = commands.add_parser("collect", help="collect metrics and print them each tick")
    collect.add_argument("--once", action="store_true", help="collect one tick, print it and exit")
    collect.add_argument("--interval", type=float, help="seconds between ticks (default: PRSM_METRICS_INTERVAL)")
    collect.add_argument("--json", action="store_true", help="print JSON lines instead of the console view")
    collect.add_argument("--no-demo", action="store_true", help="do not start the demo PRSM network")
    demo = commands.add_parser("demo", help="run the demo PRSM network alone and print its metrics")
    demo.add_argument("--nodes", type=int, help="number of nodes (default: PRSM_DEMO_NODES)")
    demo.add_argument("--rate", type=float, help="inference requests per second (default: PRSM_DEMO_RATE)")
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
    from .collector import MetricsCollector

    if args.no_demo:
        settings = _replace(settings, demo=False)
    if args.interval is not None:
        if not 0 < args.interval <= 3600:
            raise ConfigError("--interval", args.interval, "seconds, more than 0 and at most 3600")
        settings = _replace(settings, interval=args.interval)
    collector = MetricsCollector(settings=settings)

    def emit(metrics):
        if args.json:
            print(json.dumps(metrics, default=str), flush=True)
        else:
            print(console_line(metrics), flush=True)
            for event in metrics["new_alerts"]:
                print(f"  [{event['level']}] {event['component']}: {event['message']}", flush=True)

    try:
        if args.once:
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


def _replace(settings: Settings, **changes) -> Settings:
    return dataclasses.replace(settings, **changes)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "demo":
            if args.nodes is not None:
                settings = _replace(settings, demo_nodes=args.nodes)
            if args.rate is not None:
                settings = _replace(settings, demo_rate=args.rate)
            from .demo.cli import run as run_demo

            return run_demo(settings)
        return collect(settings, args)
    except ConfigError as error:
        print(f"prsm_monitor: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
