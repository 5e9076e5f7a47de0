"""Real PRSM nodes on loopback: ``prsm-network`` 1.7.0 from PyPI, started with its own CLI.

Used by the real-node tests and by ``python -m prsm_monitor real-demo``. Each node runs as
``prsm node start --no-dashboard`` in a virtual environment of its own (see :func:`find_venv`),
with its own ``HOME`` holding ``.prsm/node_config.json``. What 1.7.0 needs to start here,
found by trying (no file of the package is edited):

- two names its node modules use in annotations and never import (``Callable`` in
  ``payment_escrow.py``, ``ShardManifest`` in ``content_uploader.py``): a ``sitecustomize.py``
  on ``PYTHONPATH`` puts both into ``builtins``;
- its libp2p shared library is not shipped: ``PRSM_TRANSPORT_BACKEND=websocket``;
- the CLI migrates ``node_config.json`` into ``config.yaml`` when there is no ``config.yaml``
  and then runs on defaults (public bootstrap hosts): a ``config.yaml`` written beforehand
  leaves ``node_config.json`` as the config the node reads.

A node tries its bootstrap peers once, at start: the first node starts alone and the others
bootstrap to it once its API answers (the first node lists the others too, for when it is
restarted), so they connect within seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ..outside import Client, OutsideError

VERSION = "1.7.0"
VENV_VARIABLE = "PRSM_NODE_VENV"
SITECUSTOMIZE = """\
# Written by prsm_monitor.demo.real_nodes: names prsm-network 1.7.0 uses in annotations without importing them.
import builtins
import typing

builtins.Callable = typing.Callable
try:
    from prsm.storage.models import ShardManifest
except Exception:  # noqa: BLE001 - not a prsm process
    pass
else:
    builtins.ShardManifest = ShardManifest
"""
START_SECONDS = 60.0  # for a node's API to answer after its process starts


class RealNodeError(RuntimeError):
    """A real node could not be started; ``str()`` says why and where its log is."""


def find_venv(root: str | os.PathLike | None = None) -> Path | None:
    """The virtual environment holding ``prsm-network``: ``$PRSM_NODE_VENV``, else
    ``.venv-prsm`` in the checkout (where ``test.sh`` installs it). None when neither has
    a ``prsm`` command."""
    candidates = []
    if os.environ.get(VENV_VARIABLE):
        candidates.append(Path(os.environ[VENV_VARIABLE]))
    checkout = Path(root) if root else Path(__file__).resolve().parents[2]
    candidates.append(checkout / ".venv-prsm")
    for venv in candidates:
        if (venv / "bin" / "prsm").is_file():
            return venv
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealNode:
    """One node: its directory, ports and process (None while stopped)."""

    def __init__(self, name: str, home: Path, p2p_port: int, api_port: int):
        self.name = name
        self.home = home
        self.p2p_port = p2p_port
        self.api_port = api_port
        self.process: subprocess.Popen | None = None
        self.client = Client(self.url, deadline=10.0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def log_path(self) -> Path:
        return self.home / "node.log"

    def status(self) -> dict:
        """The node's own ``GET /status``."""
        return self.client.get_json("/status")

    def submit(self, job_type: str = "benchmark", payload: dict | None = None, budget: float = 1.0) -> dict:
        """``POST /compute/submit``: a compute job the network runs; returns the node's answer."""
        body = json.dumps({"job_type": job_type, "payload": payload or {"iterations": 1000}, "ftns_budget": budget})
        answer = self.client.request(
            "POST", "/compute/submit", body=body.encode(), headers={"Content-Type": "application/json"}
        )
        if answer.status != 200:
            raise RealNodeError(f"{self.name}: /compute/submit answered HTTP {answer.status}: {answer.body[:200]!r}")
        return answer.json()

    def job(self, job_id: str) -> dict:
        return self.client.get_json(f"/compute/job/{job_id}")


class RealNetwork:
    """``count`` real nodes on 127.0.0.1 under ``root`` (a temporary directory by default)."""

    def __init__(self, count: int = 3, *, venv: Path | None = None, root: str | os.PathLike | None = None):
        self.venv = venv or find_venv()
        if self.venv is None:
            raise RealNodeError(
                f"no prsm-network virtual environment: set {VENV_VARIABLE} or run "
                f"`python -m venv .venv-prsm && .venv-prsm/bin/pip install prsm-network=={VERSION}`"
            )
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="prsm-nodes-") if root is None else root)
        (self.root / "site").mkdir(parents=True, exist_ok=True)
        (self.root / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
        self.nodes = [
            RealNode(f"real-{i + 1}", self.root / f"real-{i + 1}", free_port(), free_port()) for i in range(count)
        ]

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def _configure(self, node: RealNode) -> None:
        prsm = node.home / ".prsm"
        prsm.mkdir(parents=True, exist_ok=True)
        config = {
            "display_name": node.name,
            "roles": ["full"],
            "listen_host": "127.0.0.1",
            "p2p_port": node.p2p_port,
            "api_port": node.api_port,
            "bootstrap_nodes": [f"ws://127.0.0.1:{n.p2p_port}" for n in self._bootstrap(node)],
            "bootstrap_fallback_enabled": False,
            "data_dir": str(prsm),
        }
        (prsm / "node_config.json").write_text(json.dumps(config, indent=2))
        (prsm / "config.yaml").write_text("setup_completed: true\n")  # no migration: node_config.json is read

    def _bootstrap(self, node: RealNode) -> list[RealNode]:
        first = self.nodes[0]
        return [n for n in self.nodes if n is not node] if node is first else [first]

    def _environment(self, node: RealNode) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PRSM_", "PYTHON", "VIRTUAL_ENV"))}
        env.update(
            HOME=str(node.home),
            PYTHONPATH=str(self.root / "site"),
            PRSM_TRANSPORT_BACKEND="websocket",
            PYTHONUNBUFFERED="1",
            VIRTUAL_ENV=str(self.venv),
            PATH=f"{self.venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
        )
        return env

    def start_node(self, node: RealNode) -> None:
        """Start ``node``'s process (its config written afresh); returns once it is launched."""
        if node.process is not None and node.process.poll() is None:
            return
        self._configure(node)
        command = [
            str(self.venv / "bin" / "prsm"),
            "node",
            "start",
            "--no-dashboard",
            "--p2p-port",
            str(node.p2p_port),
            "--api-port",
            str(node.api_port),
        ]
        with open(node.log_path, "ab") as log:
            node.process = subprocess.Popen(  # noqa: S603 - our own command line
                command,
                cwd=node.home,
                env=self._environment(node),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_up(self, node: RealNode, seconds: float = START_SECONDS) -> dict:
        """The node's first ``/status`` once its API answers; RealNodeError after ``seconds``."""
        end = time.monotonic() + seconds
        while True:
            if node.process is None or node.process.poll() is not None:
                raise RealNodeError(f"{node.name} exited; see {node.log_path}:\n{self.tail(node)}")
            try:
                return node.status()
            except OutsideError:
                if time.monotonic() > end:
                    raise RealNodeError(f"{node.name}: no /status within {seconds:g} s; see {node.log_path}") from None
                time.sleep(0.2)

    def wait_connected(self, seconds: float = START_SECONDS, peers: int = 1) -> None:
        """Until every node has at least ``peers`` connected peers. (A node connects to the
        first bootstrap peer that answers, so three nodes started together make a star or a
        line, not always a triangle.)"""
        want = peers
        end = time.monotonic() + seconds
        while True:
            counts = {n.name: n.status()["peers"]["connected"] for n in self.nodes}
            if all(c >= want for c in counts.values()):
                return
            if time.monotonic() > end:
                raise RealNodeError(f"peers after {seconds:g} s: {counts}, want {want} each")
            time.sleep(0.2)

    def start(self) -> RealNetwork:
        """Start the first node, then the others (bootstrapping to it) once it answers."""
        self.start_node(self.nodes[0])
        self.wait_up(self.nodes[0])
        for node in self.nodes[1:]:
            self.start_node(node)
        for node in self.nodes[1:]:
            self.wait_up(node)
        return self

    def stop_node(self, node: RealNode, seconds: float = 15.0) -> None:
        """Stop ``node`` (SIGINT, as Ctrl-C would; SIGKILL after ``seconds``)."""
        self.stop_nodes([node], seconds)

    def stop_nodes(self, nodes: list[RealNode], seconds: float = 15.0) -> None:
        """Stop ``nodes`` together: SIGINT to each at once, then SIGKILL to those still running
        after ``seconds`` (one after the other, N nodes took up to N x ``seconds``)."""
        running = []
        for node in nodes:
            process, node.process = node.process, None
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
                running.append(process)
        deadline = time.monotonic() + seconds
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for node in nodes:  # after: a request in flight (it holds the client) ends with its node
            node.client.close()

    def tail(self, node: RealNode, lines: int = 20) -> str:
        try:
            return "\n".join(node.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def close(self) -> None:
        self.stop_nodes(self.nodes)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> RealNetwork:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
