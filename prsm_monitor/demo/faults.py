"""Demo faults: what a presenter may inject into the demo network, and how it is logged.

:class:`NetworkFaults` holds the fault methods of
:class:`~prsm_monitor.demo.network.DemoNetwork`: one call each, reversible, thread-safe:
:meth:`~NetworkFaults.stop_node`/``start_node``, ``add_delay``/``clear_delay``,
``drift``/``clear_drift``, ``set_rate``, ``overload``/``clear_overload``,
``partition``/``heal``, and ``clear_faults`` for all of them.

A fault as data is a mapping such as ``{"action": "stop_node", "name": "node-3"}``: the action
names one of those methods, the other keys are its arguments (:data:`FAULTS`,
:func:`apply_fault`, used by ``collector.configure(fault=...)``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..settings.values import ConfigError, expecting, finite
from .leak import MIB


@dataclass(frozen=True)
class Fault:
    component: str  # where its effect shows, for the log
    required: tuple[str, ...]
    optional: tuple[str, ...]
    message: str  # formatted with the arguments


FAULTS = {
    "stop_node": Fault("network", ("name",), (), "Demo fault: node {name} stopped"),
    "start_node": Fault("network", ("name",), (), "Demo fault cleared: node {name} started"),
    "add_delay": Fault("network", ("name", "ms"), (), "Demo fault: {ms:g} ms delay added to node {name}'s links"),
    "clear_delay": Fault("network", (), ("name",), "Demo fault cleared: link delays removed"),
    "partition": Fault("network", (), ("group",), "Demo fault: network partitioned in two"),
    "heal": Fault("network", (), (), "Demo fault cleared: partition healed"),
    "drift": Fault("ai", ("amount",), ("model",), "Demo fault: input drift {amount:g} on {model}"),
    "clear_drift": Fault("ai", (), ("model",), "Demo fault cleared: input drift removed"),
    "overload": Fault("ai", ("factor",), (), "Demo fault: request rate raised {factor:g}x"),
    "clear_overload": Fault("ai", (), (), "Demo fault cleared: request rate back to normal"),
    "leak": Fault(
        "network", ("name", "mb_per_min"), (), "Demo fault: memory leak of {mb_per_min:g} MiB/min on node {name}"
    ),
    "clear_leak": Fault("network", (), ("name",), "Demo fault cleared: leaked memory released"),
    "clear_faults": Fault("network", (), (), "Demo faults cleared"),
}


NUMBERS = frozenset({"ms", "amount", "factor", "mb_per_min"})  # the numeric arguments of the faults above


def apply_fault(network, fault: Mapping) -> tuple[str, str, dict]:
    """Validate ``fault`` and apply it to ``network``; return (component, message, details) to log.

    Bad input raises :class:`ConfigError` naming the field, the value and what is expected."""
    if network is None:
        raise ConfigError("fault", dict(fault), "a running demo network (PRSM_DEMO=true)")
    action = fault.get("action")
    spec = FAULTS.get(action)
    if spec is None:
        raise ConfigError("fault.action", action, f"one of {', '.join(FAULTS)}")
    args = {k: v for k, v in fault.items() if k != "action"}
    missing = [k for k in spec.required if k not in args]
    unknown = [k for k in args if k not in spec.required + spec.optional]
    if missing:
        raise ConfigError(f"fault.{missing[0]}", None, f"a value for {action}")
    if unknown:
        raise ConfigError(f"fault.{unknown[0]}", args[unknown[0]], f"no such argument of {action}")
    for key in NUMBERS & set(args):  # the settings' own check: finite, no subnormal, no huge int
        if finite(args[key]) is None:
            raise ConfigError(f"fault.{key}", args[key], expecting("a finite number", args[key]))
    try:
        getattr(network, action)(**args)
    except (KeyError, ValueError, RuntimeError) as error:
        said = str(error).strip("'\"")
        field = next((k for k in args if said.startswith(f"{k}=")), next(iter(args), "action"))  # the one it names
        raise ConfigError(f"fault.{field}", args.get(field, action), said) from None
    message = spec.message.format(**{"model": "every model", **args})
    return spec.component, message, {"fault": action, **args}


@dataclass(frozen=True)
class Cause:
    """A fault injected now, as a cause alerts follow from: ``id`` (``("leak", "node-0")``),
    the ``title`` an incident of it carries (``node-0 memory leak``) and the ``node`` it is on."""

    id: tuple[str, ...]
    title: str
    node: str | None = None


def _leak(name: str) -> Cause:
    return Cause(("leak", name), f"{name} memory leak", name)


def _delay(name: str) -> Cause:
    return Cause(("delay", name), f"link delay on {name}", name)


def _stop(name: str) -> Cause:
    return Cause(("stop", name), f"{name} stopped", name)


def _drift(model: str | None) -> Cause:
    return Cause(("drift", model or "*"), f"input drift on {model}" if model else "input drift")


def _overload(factor: float) -> Cause:
    return Cause(("overload",), f"request rate ×{factor:g}")


PARTITION = Cause(("partition",), "network partition")


def fault_causes(details: Mapping) -> tuple[list[Cause], list[tuple[str, ...]]]:
    """What a logged fault change (its details: ``fault``, the action, and its arguments) starts
    and ends: ``(causes started, ids ended)``, an id ending every cause it is a prefix of
    (``("delay",)``: every delay; ``()``: every cause)."""
    action, name, model = details.get("fault"), details.get("name"), details.get("model")
    starts = {
        "stop_node": lambda: [_stop(name)],
        "leak": lambda: [_leak(name)] if details.get("mb_per_min") else [],
        "add_delay": lambda: [_delay(name)] if details.get("ms") else [],
        "partition": lambda: [PARTITION],
        "drift": lambda: [_drift(model)] if details.get("amount") else [],
        "overload": lambda: [_overload(details["factor"])] if details.get("factor", 1) != 1 else [],
    }
    ends = {
        "start_node": [("stop", name)],
        "leak": [] if details.get("mb_per_min") else [("leak", name)],
        "add_delay": [] if details.get("ms") else [("delay", name)],
        "clear_leak": [("leak", name) if name else ("leak",)],
        "clear_delay": [("delay", name) if name else ("delay",)],
        "heal": [PARTITION.id],
        "drift": [] if details.get("amount") else [("drift", model or "*")],
        "clear_drift": [("drift", model) if model else ("drift",)],
        "overload": [("overload",)],  # a new factor replaces the old one
        "clear_overload": [("overload",)],
        "clear_faults": [()],
    }
    return starts.get(action, list)(), ends.get(action, [])


def injected(faults: Mapping) -> list[Cause]:
    """The causes injected now, from :meth:`NetworkFaults.faults` (or a record's ``faults``)."""
    causes = [_stop(n) for n in faults.get("stopped") or ()]
    causes += [_leak(n) for n in faults.get("leak_mb_per_min") or {}]
    causes += [_delay(n) for n in faults.get("delay_ms") or {}]
    drifting = list(faults.get("drift") or {})
    causes += [_drift(drifting[0])] if len(drifting) == 1 else [_drift(None)] if drifting else []
    base, rate = faults.get("base_rate"), faults.get("rate")
    if base and rate and abs(rate / base - 1) > 1e-9:
        causes.append(_overload(round(rate / base, 2)))
    if faults.get("partition"):
        causes.append(PARTITION)
    return causes


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class NetworkFaults:
    """Mixed into DemoNetwork, whose ``_call(fn, *args)`` runs ``fn`` on the network's loop."""

    def stop_node(self, name: str) -> None:
        """Crash-stop a node: its server and connections close, its peers notice."""
        self._call(self.node(name).stop)

    def start_node(self, name: str) -> None:
        """Bring a stopped node back (a new incarnation, counters from zero)."""
        node = self.node(name)
        if not node.running:
            self._call(node.start)

    def add_delay(self, name: str, ms: float) -> None:
        """Delay every frame ``name`` sends by ``ms`` milliseconds (a slow interface): each of
        its links' round trips grows by ``ms``."""
        if not (_number(ms) and 0 <= ms <= 60_000):
            raise ValueError(f"ms={ms!r}: expected 0 to 60000 milliseconds")
        node = self.node(name)
        self._call(setattr, node, "delay", ms / 1000.0)

    def clear_delay(self, name: str | None = None) -> None:
        for node in [self.node(name)] if name else self.nodes.values():
            self._call(setattr, node, "delay", 0.0)

    def drift(self, model: str | None = None, amount: float = 1.0) -> None:
        """Shift the input distribution the workload samples for ``model`` (None: every model)
        by ``amount`` in [0, 1] (see :mod:`.models`)."""
        if not (_number(amount) and 0 <= amount <= 1):
            raise ValueError(f"amount={amount!r}: expected a number from 0 to 1")
        for name in self._model_names(model):
            self._call(self._workload.drift.__setitem__, name, float(amount))

    def clear_drift(self, model: str | None = None) -> None:
        for name in self._model_names(model):
            self._call(self._workload.drift.pop, name, None)

    def _model_names(self, model: str | None) -> list[str]:
        if model is None:
            return self.models
        if model not in self.models:
            raise KeyError(f"no model {model!r}: expected one of {', '.join(self.models)}")
        return [model]

    def set_rate(self, rate: float) -> None:
        """Inference requests per second from now on."""
        if not (_number(rate) and 0 <= rate <= 10_000):
            raise ValueError(f"rate={rate!r}: expected 0 to 10000 requests/s")
        self._call(setattr, self._workload, "rate", float(rate))

    def overload(self, factor: float = 20.0) -> None:
        """Raise the request rate to ``factor`` times the base rate. With the 5-node default,
        20x (100 requests/s) saturates the accelerators: queues grow, requests time out and
        the success rate, then the average inference time, cross their alert thresholds."""
        if not (_number(factor) and factor >= 0):
            raise ValueError(f"factor={factor!r}: expected a number at least 0")
        self.set_rate(self.base_rate * factor)

    def clear_overload(self) -> None:
        self.set_rate(self.base_rate)

    def leak(self, name: str, mb_per_min: float) -> None:
        """Make node ``name`` leak ``mb_per_min`` MiB of real, written memory per minute (see
        :mod:`.leak`); at its memory limit the node is stopped, as out of memory."""
        if not (_number(mb_per_min) and 0 <= mb_per_min <= 1024):
            raise ValueError(f"mb_per_min={mb_per_min!r}: expected 0 to 1024 MiB per minute")
        node = self.node(name)
        self._call(lambda: node.memory.leak(mb_per_min * MIB / 60.0, time.time()))

    def clear_leak(self, name: str | None = None) -> None:
        for node in [self.node(name)] if name else self.nodes.values():
            self._call(node.memory.free)

    def partition(self, group: Iterable[str] | None = None) -> tuple[list[str], list[str]]:
        """Cut the network in two: ``group`` (default: the first half of the nodes by name) and
        the rest. Frames between the sides are dropped silently, both ways."""
        if isinstance(group, str):
            group = [group]
        side_a = sorted(group) if group is not None else self.names[: self.size // 2]
        for name in side_a:
            self.node(name)
        side_b = [n for n in self.names if n not in side_a]
        if not side_a or not side_b:
            raise ValueError("a partition needs nodes on both sides")

        def cut():
            for name in side_a:
                self.nodes[name].blocked = set(side_b)
            for name in side_b:
                self.nodes[name].blocked = set(side_a)
            self._partition = (side_a, side_b)

        self._call(cut)
        return side_a, side_b

    def heal(self) -> None:
        """Undo a partition."""

        def mend():
            for node in self.nodes.values():
                node.blocked = set()
            self._partition = None

        self._call(mend)

    def clear_faults(self) -> None:
        """Undo every fault: heal, no delays, no drift, base rate, every node running."""
        self.heal()
        self.clear_delay()
        self.clear_drift()
        self.clear_overload()
        self.clear_leak()
        for name, node in self.nodes.items():
            if not node.running:
                self.start_node(name)

    def _faults(self) -> dict:
        """What is injected now (settings, not measurements)."""
        w = self._workload
        return {
            "stopped": [n for n, node in self.nodes.items() if not node.running],
            "leak_mb_per_min": {n: node.memory.rate * 60 / MIB for n, node in self.nodes.items() if node.memory.rate},
            "delay_ms": {n: node.delay * 1000.0 for n, node in self.nodes.items() if node.delay},
            "drift": dict(w.drift),
            "rate": w.rate,
            "base_rate": self.base_rate,
            "partition": [list(side) for side in self._partition] if self._partition else None,
        }

    def faults(self) -> dict:
        """What is injected now: stopped nodes, delays (ms), drift per model, request rate and
        base rate (requests/s), the partition's two sides or None."""
        return self._call(self._faults) if self.running else self._faults()
