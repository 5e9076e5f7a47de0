"""Demo faults as data: what a presenter may inject into the demo network, and how it is logged.

A fault is a mapping such as ``{"action": "stop_node", "name": "node-3"}``. The action names a
:class:`~prsm_monitor.demo.network.DemoNetwork` method; the other keys are its arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..config import ConfigError, expecting, finite


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
    "clear_faults": Fault("network", (), (), "Demo faults cleared"),
}


NUMBERS = frozenset({"ms", "amount", "factor"})  # the numeric arguments of the faults above


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
        field = next(iter(args), "action")
        raise ConfigError(f"fault.{field}", args.get(field, action), str(error).strip("'\"")) from None
    message = spec.message.format(**{"model": "every model", **args})
    return spec.component, message, {"fault": action, **args}
