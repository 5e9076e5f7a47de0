"""``python -m prsm_monitor real-demo``: real PRSM 1.7.0 nodes on loopback, real compute jobs
between them, and the dashboard watching them through ``PRSM_NODE_URLS`` (nothing simulated).

The nodes run from the ``prsm-network`` virtual environment (``.venv-prsm`` in the checkout,
or ``PRSM_NODE_VENV``; see :mod:`.real_nodes`). Every ``job_every`` seconds one node, in turn,
submits a ``benchmark`` job (1 FTNS budget) that another node runs, so the AI page's job
counts and the nodes' FTNS balances move as they would on a working network.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from ..outside import OutsideError
from .real_nodes import RealNetwork, RealNodeError

ENTRY = Path(__file__).resolve().parents[2] / "streamlit_app.py"


def submit_jobs(network: RealNetwork, every: float, stop: threading.Event) -> None:
    """One benchmark job every ``every`` seconds, the nodes taking turns as requester."""
    for node in itertools.cycle(network.nodes):
        if stop.wait(every):
            return
        try:
            job = node.submit("benchmark", {"iterations": 5000}, 1.0)
            print(f"{node.name} submitted job {job['job_id'][:8]} ({job['status']})", flush=True)
        except (OutsideError, RealNodeError) as error:  # a node stopped by hand: the others carry on
            print(f"{node.name}: job not submitted ({error})", file=sys.stderr, flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run(settings, nodes: int = 3, job_every: float = 10.0, dashboard: bool = True) -> int:
    """Start the nodes (and the dashboard on ``settings.host``/``settings.port``) until Ctrl-C."""
    try:
        network = RealNetwork(nodes)
    except RealNodeError as error:
        print(f"prsm_monitor real-demo: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    dashboard_process = None
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop: the nodes are stopped too
    # Ctrl-C too, set here: a process started in the background of a script inherits SIGINT
    # ignored, and Python then installs no KeyboardInterrupt of its own
    signal.signal(signal.SIGINT, _interrupt)
    try:
        print(f"Starting {nodes} PRSM nodes (prsm-network, {network.venv}) under {network.root} ...", flush=True)
        network.start()
        network.wait_connected()
        urls = ",".join(network.urls)
        for node in network.nodes:
            print(f"  {node.name}: API {node.url}, P2P ws://127.0.0.1:{node.p2p_port}, log {node.log_path}")
        print(f"PRSM_NODE_URLS={urls}", flush=True)
        threading.Thread(target=submit_jobs, args=(network, job_every, stop), daemon=True).start()
        if dashboard:
            command = [sys.executable, "-m", "streamlit", "run", str(ENTRY), "--server.address", settings.host]
            command += ["--server.port", str(settings.port)]
            env = {**os.environ, "PRSM_NODE_URLS": urls, "PRSM_DEMO": "false"}
            print(f"Dashboard: http://{settings.host}:{settings.port}/ (Ctrl-C stops it and the nodes)", flush=True)
            dashboard_process = subprocess.Popen(command, env=env)  # noqa: S603 - our own command line
            return dashboard_process.wait()
        threading.Event().wait()  # until Ctrl-C
        return 0
    except KeyboardInterrupt:
        return 0
    except RealNodeError as error:
        print(f"prsm_monitor real-demo: {error}", file=sys.stderr)
        return 1
    finally:
        stop.set()
        print(f"Stopping {len(network.nodes)} PRSM nodes ...", flush=True)
        if dashboard_process is not None and dashboard_process.poll() is None:
            dashboard_process.terminate()
            dashboard_process.wait(10)
        network.close()
