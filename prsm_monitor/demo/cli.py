"""``python -m prsm_monitor demo``: run the demo network alone and print its metrics every second."""

from __future__ import annotations

import sys
import time

from .network import DemoNetwork


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


def run(settings) -> int:
    """Start ``settings.demo_nodes`` nodes (``demo_peers`` links each, ``demo_rate`` requests/s),
    print a metrics line every second until Ctrl-C, then stop cleanly. Returns the exit code."""
    from ..sources.prsm import PrsmSource

    try:
        network = DemoNetwork.from_settings(settings)
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
