"""Inference on the demo nodes: the host side (a bounded queue before one accelerator) and the
gateway side (the client that submits requests and times them end to end).

A request enters at a gateway node, which routes it over links towards the nearest host of
the model (:mod:`.routing`); each hop remembers where it came from, and the ``result`` goes
back on that reverse path. A host queues at most ``queue_limit`` requests (more are
*rejected*); its accelerator serves one request at a time, each holding it for the model's
``service_time`` while the NumPy forward pass computes the answer. A request whose deadline
passed while queued is *expired* without being served. At the gateway, success means a
valid answer before the deadline (``inference_timeout`` seconds after submission); the time
measured is from submission to a model's answer, for every answer: one that arrives after the
deadline (a timed-out request the host still served) counts as the failure it is and with the
time it really took, so the inference time agrees with the hosts' own times under overload
instead of stopping at the deadline. Requests no model answered (rejected, expired, no route,
lost) have no inference time; the success rate counts them. So a higher request rate makes
queues, inference time and failures grow for real.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque

from ..sources.prsm.report import TIME_BUCKETS_S, GatewayModelStats, GatewayStats, Histogram, ModelStats
from .models import FRAMEWORK, Model

FAILURES = ("timeout", "rejected", "expired", "no_route", "error")
MAX_HOPS = 16
OVERDUE_KEEP = 60.0  # s after its timeout a request's late answer is still timed (then it is lost)


class _HostCounters:
    __slots__ = ("requests", "served", "rejected", "expired", "errors", "time", "confidence_sum", "confidence_count")
    __slots__ += ("input_energy_sum",)

    def __init__(self):
        self.requests = self.served = self.rejected = self.expired = self.errors = 0
        self.time = Histogram(TIME_BUCKETS_S)
        self.confidence_sum = 0.0
        self.confidence_count = 0
        self.input_energy_sum = 0.0  # over the served requests (see Model.input_energy)


class Host:
    """Serves the node's models from one bounded queue."""

    def __init__(self, node):
        self.node = node
        self.queue: deque[tuple[dict, str | None, float]] = deque()
        self._ready = asyncio.Event()
        self.counters = {name: _HostCounters() for name in node.models}

    def accept(self, request: dict, reply_to: str | None) -> None:
        c = self.counters[request["model"]]
        c.requests += 1
        if len(self.queue) >= self.node.config.queue_limit:
            c.rejected += 1
            self.node.gateway.reply(request, reply_to, error="rejected")
            return
        self.queue.append((request, reply_to, self.node.loop.time()))
        self._ready.set()

    async def worker(self) -> None:
        node = self.node
        while True:
            while not self.queue:
                self._ready.clear()
                await self._ready.wait()
            request, reply_to, arrived = self.queue.popleft()
            model: Model = node.models[request["model"]]
            c = self.counters[model.spec.name]
            if time.time() > request["deadline"]:
                c.expired += 1
                node.gateway.reply(request, reply_to, error="expired")
                continue
            await asyncio.sleep(model.spec.service_time * node.config.service_scale)  # the accelerator is busy
            try:
                prediction, confidence = model.predict(request["x"])
            except (ValueError, TypeError):
                c.errors += 1
                node.gateway.reply(request, reply_to, error="error")
                continue
            c.served += 1
            c.input_energy_sum += model.input_energy(request["x"])
            c.time.observe(node.loop.time() - arrived)
            if confidence is not None:
                c.confidence_sum += confidence
                c.confidence_count += 1
            node.gateway.reply(request, reply_to, prediction=prediction, confidence=confidence)

    def stats(self) -> tuple[ModelStats, ...]:
        out = []
        for name, model in self.node.models.items():
            c = self.counters[name]
            spec = model.spec
            out.append(
                ModelStats(
                    name,
                    FRAMEWORK,
                    spec.architecture,
                    spec.kind,
                    model.parameters,
                    spec.service_time * self.node.config.service_scale,
                    c.requests,
                    c.served,
                    c.rejected,
                    c.expired,
                    c.errors,
                    c.time.snapshot(),
                    c.confidence_sum,
                    c.confidence_count,
                    c.input_energy_sum,
                    model.input_energy_sd,
                )
            )
        return tuple(out)


class _Request:
    __slots__ = ("model", "kind", "truth", "t0", "deadline", "timer")

    def __init__(self, model, kind, truth, t0, deadline, timer):
        self.model, self.kind, self.truth, self.t0, self.deadline, self.timer = model, kind, truth, t0, deadline, timer


class _ModelTally:
    __slots__ = ("completed", "succeeded", "time_sum", "confidence_sum", "confidence_count", "correct")
    __slots__ += ("abs_error_sum", "regressions")

    def __init__(self):
        self.completed = self.succeeded = self.confidence_count = self.correct = self.regressions = 0
        self.time_sum = self.confidence_sum = self.abs_error_sum = 0.0


class Gateway:
    """The node as a client (``submit``) and as a router of requests and results."""

    def __init__(self, node):
        self.node = node
        self.pending: dict[str, _Request] = {}
        self.overdue: dict[str, float] = {}  # timed-out request id -> its submission (loop time), oldest first
        self.forwarded: dict[str, tuple[str, float]] = {}  # request id -> (previous hop, loop time)
        self.submitted = self.completed = self.succeeded = self.confidence_count = 0
        self.confidence_sum = 0.0
        self.failed = dict.fromkeys(FAILURES, 0)
        self.time = Histogram(TIME_BUCKETS_S)
        self.models: dict[str, _ModelTally] = {}

    def submit(self, model: str, kind: str, x: list[float], truth: float) -> str:
        """Send one request for ``model`` (``kind`` classifier or regressor, ``truth`` its true
        label or value, kept here to score the answer)."""
        node = self.node
        request_id = node.next_id("r")
        timeout = node.config.inference_timeout
        timer = node.loop.call_later(timeout, self._fail, request_id, "timeout")
        self.pending[request_id] = _Request(model, kind, truth, node.loop.time(), time.time() + timeout, timer)
        self.submitted += 1
        message = {"type": "infer", "id": request_id, "model": model, "x": x, "deadline": time.time() + timeout}
        message["gateway"] = node.name
        self.route(message, None)
        return request_id

    def route(self, request: dict, came_from: str | None) -> None:
        """Serve ``request`` here if this node hosts the model, else pass it one hop on."""
        node = self.node
        model = request["model"]
        if not (isinstance(model, str) and isinstance(request["id"], str) and isinstance(request["x"], list)):
            raise ValueError("bad infer")
        if not isinstance(request["deadline"], (int, float)):
            raise ValueError("bad infer deadline")
        hops = int(request.get("hops", 0))
        if model in node.models:
            node.host_service.accept(request, came_from)
            return
        nxt = node.routing.next_hop(model)
        if not nxt or nxt == came_from or hops >= MAX_HOPS:
            self.reply(request, came_from, error="no_route")
            return
        if came_from is not None:
            self.forwarded[request["id"]] = (came_from, node.loop.time())
        if not node.send_to(nxt, {**request, "hops": hops + 1}):
            self.forwarded.pop(request["id"], None)
            self.reply(request, came_from, error="no_route")

    def reply(self, request: dict, to: str | None, prediction=None, confidence=None, error: str | None = None) -> None:
        """Answer ``request`` towards ``to`` (None: this node is the gateway)."""
        result = {"type": "result", "id": request["id"], "ok": error is None, "host": self.node.name}
        result.update(prediction=prediction, confidence=confidence, error=error)
        if to is None:
            self.on_result(result)
        else:
            self.node.send_to(to, result)

    def on_result(self, result: dict) -> None:
        request_id = result["id"]
        request = self.pending.pop(request_id, None)
        if request is None:
            submitted = self.overdue.pop(request_id, None)
            if submitted is not None:  # the answer to a request that timed out here: late, but timed
                if result.get("ok") is True:
                    self.time.observe(self.node.loop.time() - submitted)
                return
            back = self.forwarded.pop(request_id, None)
            if back is not None:
                self.node.send_to(back[0], result)
            return  # else: late, for a request that already timed out
        request.timer.cancel()
        error = self._check(request, result)
        if error:
            self._tally_failure(request.model, error)
            return
        elapsed = self.node.loop.time() - request.t0
        self.completed += 1
        self.succeeded += 1
        self.time.observe(elapsed)
        t = self._tally(request.model)
        t.completed += 1
        t.succeeded += 1
        t.time_sum += elapsed
        if request.kind == "classifier":
            confidence = float(result["confidence"])
            self.confidence_sum += confidence
            self.confidence_count += 1
            t.confidence_sum += confidence
            t.confidence_count += 1
            t.correct += int(result["prediction"] == request.truth)
        else:
            t.abs_error_sum += abs(float(result["prediction"]) - request.truth)
            t.regressions += 1

    @staticmethod
    def _check(request: _Request, result: dict) -> str | None:
        """The failure reason of an answer, or None for a valid one."""
        if result["ok"] is not True:
            return result["error"] if result["error"] in FAILURES else "error"
        prediction, confidence = result["prediction"], result["confidence"]
        if not isinstance(prediction, (int, float)) or isinstance(prediction, bool) or not math.isfinite(prediction):
            return "error"
        if request.kind == "classifier" and not (isinstance(confidence, float) and 0.0 <= confidence <= 1.0):
            return "error"
        return None

    def _fail(self, request_id: str, reason: str) -> None:
        request = self.pending.pop(request_id, None)
        if request is not None:
            self._tally_failure(request.model, reason)
            now = self.node.loop.time()
            self.overdue[request_id] = request.t0
            while self.overdue:  # forget the oldest once no answer can be expected any more
                oldest = next(iter(self.overdue))
                if self.overdue[oldest] >= now - self.node.config.inference_timeout - OVERDUE_KEEP:
                    break
                del self.overdue[oldest]

    def _tally_failure(self, model: str, reason: str) -> None:
        self.completed += 1
        self.failed[reason] += 1
        self._tally(model).completed += 1

    def _tally(self, model: str) -> _ModelTally:
        tally = self.models.get(model)
        if tally is None:
            tally = self.models[model] = _ModelTally()
        return tally

    def forget_before(self, horizon: float) -> None:
        """Drop reverse-path entries older than ``horizon`` (loop time): their answers are late."""
        stale = [k for k, (_, t) in self.forwarded.items() if t < horizon]
        for k in stale:
            del self.forwarded[k]

    def close(self) -> None:
        for request in self.pending.values():
            request.timer.cancel()
        self.pending.clear()
        self.overdue.clear()

    def stats(self) -> GatewayStats:
        models = tuple(
            GatewayModelStats(
                name,
                t.completed,
                t.succeeded,
                t.time_sum,
                t.confidence_sum,
                t.confidence_count,
                t.correct,
                t.abs_error_sum,
                t.regressions,
            )
            for name, t in sorted(self.models.items())
        )
        return GatewayStats(
            self.submitted,
            len(self.pending),
            self.completed,
            self.succeeded,
            dict(self.failed),
            self.time.snapshot(),
            self.confidence_sum,
            self.confidence_count,
            models,
        )
