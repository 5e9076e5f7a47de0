"""The inference workload driver: requests at ``rate`` per second into random gateways.

Arrivals are a seeded Poisson process. Each request picks a running node as its gateway
(uniformly), a model (uniformly among the models some node hosts) and an input drawn from
that model's task, under the model's current drift (see :mod:`.models`). The gateway then
routes it over the links (see :mod:`.inference`).
"""

from __future__ import annotations

import asyncio

import numpy as np

from .models import Task


class Workload:
    """Runs on the network's event loop; ``rate`` and ``drift`` may be changed at any time."""

    def __init__(self, nodes: dict, tasks: dict[str, Task], rate: float, seed: int):
        self.nodes = nodes
        self.tasks = tasks
        self.models = sorted({m for node in nodes.values() for m in node.models})
        self.rate = rate  # requests per second
        self.drift: dict[str, float] = {}  # model -> drift in [0, 1]
        self.rng = np.random.default_rng(seed)
        self.sent = 0  # requests submitted, cumulative

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            rate = self.rate
            if rate <= 0:
                await asyncio.sleep(0.1)
                next_at = loop.time()
                continue
            next_at += self.rng.exponential(1.0 / rate)
            wait = next_at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                if wait < -1.0:  # far behind (a stalled loop): do not send a burst
                    next_at = loop.time()
                await asyncio.sleep(0)
            self.send_one()

    def send_one(self) -> None:
        live = [node for node in self.nodes.values() if node.running]
        if not live or not self.models:
            return
        gateway = live[int(self.rng.integers(len(live)))]
        model = self.models[int(self.rng.integers(len(self.models)))]
        task = self.tasks[model]
        x, y = task.sample(self.rng, 1, self.drift.get(model, 0.0))
        gateway.gateway.submit(model, task.spec.kind, x[0].tolist(), y[0].item())
        self.sent += 1
