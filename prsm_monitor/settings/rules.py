"""Alert rules as data: :class:`Rule` and the built-in rules (:func:`default_rules`).

The evaluator (:mod:`prsm_monitor.alerts.evaluator`) judges them; the rules file
(:mod:`.rules_file`) tunes them and declares new ones."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .thresholds import SPECS_BY_RULE, Threshold, default_thresholds

ABOVE = "above"
BELOW = "below"


@dataclass(frozen=True)
class Rule:
    """Watch one field of one component.

    The rule breaches when the value reaches ``warning`` (or ``critical``) in
    ``direction`` (``>=`` for above, ``<=`` for below);
    it fires once the breach has lasted ``for_seconds``. A firing rule
    steps down only once the value is back by more than ``clear_margin`` (hysteresis) and has
    stayed back for ``clear_seconds`` (Prometheus' ``keep_firing_for``), so a value hovering at a
    threshold, or straddling its clear line under a steady fault, does not flap. Either
    threshold may be ``None``.

    With ``smooth_seconds`` the rule judges a moving average of the field rather than each
    sample: an exponentially weighted mean with that time constant (as the load average is),
    so a burst shorter than that moves it only part of the way.
    """

    name: str
    component: str
    field: str
    label: str
    unit: str
    direction: str
    warning: float | None
    critical: float | None
    for_seconds: float = 0.0
    clear_margin: float = 0.0
    smooth_seconds: float = 0.0
    runbook_url: str = ""  # what to do when it fires (docs/runbooks.md for the built-in rules)
    description: str = ""  # what it means, in a sentence
    labels: tuple[tuple[str, str], ...] = ()  # extra labels (team, service, ...), sorted by name
    clear_seconds: float = 0.0

    def __post_init__(self):
        if self.direction not in (ABOVE, BELOW):
            raise ValueError(f"Rule {self.name!r}: direction must be 'above' or 'below', not {self.direction!r}")
        if self.for_seconds < 0 or self.clear_margin < 0 or self.smooth_seconds < 0:
            raise ValueError(f"Rule {self.name!r}: for_seconds, clear_margin and smooth_seconds must not be negative")

    def with_threshold(self, threshold: Threshold) -> Rule:
        return dataclasses.replace(self, warning=threshold.warning, critical=threshold.critical)


# name: (component, field, label, for_seconds, clear_margin, smooth_seconds). Units and direction
# come from the settings table in thresholds.py, so a rule and its variables cannot disagree.
# CPU is tuned for a small (2-core) host that also runs builds and tests: it judges the 1-minute
# mean and waits 5 minutes, so bursts at full load stay quiet and only a sustained overload alerts.
_DEFAULT_RULES = {
    "cpu": ("system", "cpu_percent", "CPU usage", 300.0, 5.0, 60.0),
    "memory": ("system", "memory_percent", "Memory usage", 0.0, 2.0, 0.0),
    "disk": ("system", "disk_percent", "Disk usage", 0.0, 1.0, 0.0),
    "latency": ("network", "average_latency", "Average latency", 3.0, 10.0, 0.0),
    "consensus_rejections": ("network", "consensus_rejection_rate", "Proposal rejection rate", 0.0, 0.1, 0.0),
    "confidence": ("ai", "average_confidence", "Average confidence", 3.0, 0.08, 0.0),  # drift straddles 0.7
    "inference_time": ("ai", "average_inference_time", "Average inference time", 3.0, 0.25, 0.0),
    "success_rate": ("ai", "success_rate", "Inference success rate", 3.0, 0.06, 0.0),  # see CLEAR_HOLD
    # real PRSM nodes (PRSM_NODE_URLS): fields of sources/nodes/fields.py, None (never firing) otherwise
    "peers": ("network", "min_peers", "Fewest peers of a node", 10.0, 0.0, 0.0),
    "job_failures": ("ai", "job_failure_share", "Failed share of compute jobs (10 min)", 0.0, 0.05, 0.0),
    "consensus_disagreements": ("ai", "consensus_disagreements", "Result disagreements (10 min)", 0.0, 0.0, 0.0),
    "ledger_discrepancies": ("network", "ledger_discrepancies_recent", "Ledger discrepancies (10 min)", 0.0, 0.0, 0.0),
    "storage_full": ("network", "storage_used_percent", "Storage used of pledged", 0.0, 2.0, 0.0),
    "balance_falling": ("network", "balance_change", "FTNS balance change (10 min)", 0.0, 1.0, 0.0),
}


# The clear hold of the built-in network and AI rules: they judge means over a window of a few
# requests or round trips, which straddle their clear line under a steady fault.
CLEAR_SECONDS = 5.0
# The success rate is a share of a 10 s window's ~50 requests (binomial sd ~0.04 at the 0.9 line).
# A steady partition (93 % +- 3 %) fired it twice in 3 min with +0.03 held 5 s; +0.06 held 30 s
# (three whole windows) flapped in none of 300 simulated partitions, and clears ~36 s after a heal.
CLEAR_HOLD = {"success_rate": 30.0}

RUNBOOKS = "docs/runbooks.md"  # the built-in rules' runbooks, one section each, in this repository

# name: what the alert means (the description notifications and the alert row carry)
_DESCRIPTIONS = {
    "cpu": "This machine's CPU has been busy for minutes on end: the monitor and the PRSM node on it slow down.",
    "memory": "This machine is running out of memory: processes will swap or be killed.",
    "disk": "The disk holding the monitor's data is filling up: history and logs stop being written when it is full.",
    "latency": "Round trips between PRSM nodes are slow: gossip, consensus and routed inference all wait on them.",
    "consensus_rejections": "Registry proposals are being rejected: the live nodes cannot reach a 2/3 quorum.",
    "confidence": "Models answer with low confidence: their inputs may have drifted from what they were trained on.",
    "inference_time": "Inference requests take long: nodes are queueing requests beyond their capacity.",
    "success_rate": "Inference requests fail or time out: clients do not get answers.",
    "peers": "A PRSM node has no peer left: it is cut off from the network and neither serves nor gets work.",
    "job_failures": "Compute jobs the nodes submitted are failing: providers reject them, crash or time out.",
    "consensus_disagreements": "Providers returned results that did not agree: one of them computes wrongly.",
    "ledger_discrepancies": "Ledger reconciliation found balances the nodes disagree on: a transfer was lost.",
    "storage_full": "A node's pledged storage is nearly used up: new content cannot be pinned on it.",
    "balance_falling": "A node's FTNS balance is falling fast: it pays for more jobs than it earns, or is drained.",
}


def runbook_url(name: str) -> str:
    """Where the runbook of built-in rule ``name`` is: a section of :data:`RUNBOOKS`."""
    return f"{RUNBOOKS}#{name.replace('_', '-')}"


def default_rules(thresholds: dict[str, Threshold] | None = None) -> dict[str, Rule]:
    """The built-in rules, with thresholds from the settings (or the defaults)."""
    thresholds = thresholds or default_thresholds()
    rules = {}
    for name, (component, field, label, for_seconds, margin, smooth) in _DEFAULT_RULES.items():
        spec = SPECS_BY_RULE[name]
        t = thresholds[name]
        rules[name] = Rule(
            name,
            component,
            field,
            label,
            spec.unit,
            spec.direction,
            t.warning,
            t.critical,
            for_seconds,
            margin,
            smooth,
            runbook_url(name),
            _DESCRIPTIONS[name],
            clear_seconds=CLEAR_HOLD.get(name, CLEAR_SECONDS) if component in ("network", "ai") else 0.0,
        )
    return rules
