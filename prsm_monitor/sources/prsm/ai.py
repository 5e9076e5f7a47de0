"""The ``ai`` record of the PRSM source: inference totals, windowed success, time and
confidence, input drift, distributions, one row per hosted model instance and one per model
name.

*Input scale* is the root mean square of a served input's features, each standardised by the
mean and spread of the model's training inputs, over the window's requests: 1 when inputs
look like the training set, below 1 when they lost spread (a sensor losing gain), above when
they moved away. *Input drift* says how sure that is for the network: per model name, how
many standard errors the window's mean squared standardised input is from the training
set's (1), then the root mean square over the model names. About 1 from sampling alone,
whatever the request rate; with the demo's 5 requests/s it is about 3 at a drift of 0.3 and
8 at 0.8. It grows with the requests as well as with the drift, as a test statistic does:
read it against its own normal, as the anomaly bands do.
"""

from __future__ import annotations

import math

from .fields import FAILURE_FIELDS, MODEL_ROW_KEYS
from .report import TIME_BUCKETS_S, NetworkReport
from .window import ALL, CounterWindow, ratio

HOST_OUTCOMES = ("served", "rejected", "expired", "errors")  # how a request that reached a host ends


def ai_record(win: CounterWindow, report: NetworkReport, now: float) -> dict:
    instances = [(name, m) for name, info in report.directory.items() for m in info.models]
    gateways = [s.gateway.time_s for s in report.stats.values()]
    p50, p95 = win.quantiles((ALL, "gw", "time"), TIME_BUCKETS_S, 0.5, 0.95, samples=gateways)
    record = {
        "timestamp": now,
        "total_models": len(instances),
        "active_models": sum(1 for name, _ in instances if name in report.stats),
        "total_inferences": win.total("gw", "completed"),
        "successful_inferences": win.total("gw", "succeeded"),
        "average_inference_time": win.mean((ALL, "gw", "time", "sum"), (ALL, "gw", "time", "count")),
        "average_confidence": win.mean((ALL, "gw", "confidence_sum"), (ALL, "gw", "confidence_count")),
        "success_rate": win.mean((ALL, "gw", "succeeded"), (ALL, "gw", "completed")),
        "failed_inferences": win.total("gw", "completed") - win.total("gw", "succeeded"),
        "inference_rate": win.rate(ALL, "gw", "completed"),
        "p50_inference_time": p50,
        "p95_inference_time": p95,
        "accuracy": ratio(_sum_models(win, report, "correct"), _sum_models(win, report, "confidence_count")),
        "mean_absolute_error": ratio(
            _sum_models(win, report, "abs_error_sum"), _sum_models(win, report, "regressions")
        ),
        "input_drift": input_drift(win, report),
        "queue_length": sum(s.queue_length for s in report.stats.values()),
        "window_seconds": win.span(),
    }
    for reason, field_name in FAILURE_FIELDS.items():
        record[field_name] = win.total("gw", "failed", reason)
    record.update(distributions(report))
    record["models"] = model_rows(win, report)
    record["model_summary"] = model_summary(win, report)
    return record


def _sum_models(win: CounterWindow, report: NetworkReport, name: str) -> float:
    models = {m for info in report.directory.values() for m in info.models}
    return sum(win.w(ALL, "gwm", m, name) for m in models)


def input_scale(energy_sum: float, served: float) -> float | None:
    """:func:`ratio` of a window's input energy to its requests, as a root mean square."""
    mean = ratio(energy_sum, served)
    return None if mean is None else math.sqrt(mean)


def input_drift(win: CounterWindow, report: NetworkReport) -> float | None:
    """Root mean square over the model names of the z-score of their window's input energy."""
    spread = {m.name: m.input_energy_sd for s in report.stats.values() for m in s.models}
    squares = []
    for model, sd in spread.items():
        served = win.w(ALL, "model", model, "served")
        energy = ratio(win.w(ALL, "model", model, "input_energy_sum"), served)
        if energy is not None and sd > 0:
            squares.append(((energy - 1.0) / (sd / math.sqrt(served))) ** 2)
    return math.sqrt(sum(squares) / len(squares)) if squares else None


def distributions(report: NetworkReport) -> dict:
    """Model instances by framework (``model_distribution``, the guide's shape, and
    ``distribution_by_framework``), by name (``models_by_name``), by type (classifier/regressor)
    and by architecture."""
    by_name: dict[str, int] = {}
    by: dict[str, dict[str, int]] = {"framework": {}, "kind": {}, "architecture": {}}
    seen_specs = {m.name: m for s in report.stats.values() for m in s.models}
    for info in report.directory.values():
        for model in info.models:
            by_name[model] = by_name.get(model, 0) + 1
            spec = seen_specs.get(model)
            for key in by:
                value = getattr(spec, key) if spec else "unknown"
                by[key][value] = by[key].get(value, 0) + 1
    return {
        "model_distribution": by["framework"],
        "models_by_name": dict(sorted(by_name.items())),
        "distribution_by_framework": by["framework"],
        "distribution_by_type": by["kind"],
        "distribution_by_architecture": by["architecture"],
    }


def model_rows(win: CounterWindow, report: NetworkReport) -> list[dict]:
    """One row per hosted model instance, seen from its host; windowed unless noted.

    Its success rate is the served share of the requests that *ended* at the host in the
    window (served, rejected, expired or failed), so numerator and denominator count the
    same requests: a ratio of arrivals to answers could exceed 1 while a queue drains."""
    rows = []
    known = {m.name: m for s in report.stats.values() for m in s.models}  # labels of down nodes' models
    for name, info in report.directory.items():
        s = report.stats.get(name)
        hosted = {m.name: m for m in s.models} if s else {}
        for model in info.models:
            m = hosted.get(model)
            row = dict.fromkeys(MODEL_ROW_KEYS)  # the same keys whether up or down
            row.update(node=name, model=model, status="up" if m else "down")
            label = m or known.get(model)
            if label is not None:
                row.update(framework=label.framework, type=label.kind, architecture=label.architecture)
                row.update(parameters=label.parameters, service_time_s=label.service_time_s)
            if m is not None:
                key = (name, "model", model)
                ended = sum(win.w(*key, outcome) for outcome in HOST_OUTCOMES)
                p50, p95 = win.quantiles((*key, "time"), TIME_BUCKETS_S, 0.5, 0.95, samples=[m.time_s])
                row.update(
                    inferences=m.served,  # cumulative, this incarnation
                    requests_window=win.w(*key, "requests"),
                    success_rate=ratio(win.w(*key, "served"), ended),
                    p50_time_s=p50,
                    p95_time_s=p95,
                    mean_confidence=win.mean((*key, "confidence_sum"), (*key, "confidence_count")),
                    input_scale=input_scale(win.w(*key, "input_energy_sum"), win.w(*key, "served")),
                )
            rows.append(row)
    return rows


def model_summary(win: CounterWindow, report: NetworkReport) -> list[dict]:
    """One row per model name, seen from the clients (gateways); windowed."""
    drift = report.faults.get("drift", {})
    kinds = {m.name: m.kind for s in report.stats.values() for m in s.models}
    hosts: dict[str, list[str]] = {}
    for name, info in report.directory.items():
        for model in info.models:
            hosts.setdefault(model, []).append(name)
    rows = []
    for model, names in sorted(hosts.items()):
        key = (ALL, "gwm", model)
        completed, succeeded = win.w(*key, "completed"), win.w(*key, "succeeded")
        rows.append(
            {
                "model": model,
                "type": kinds.get(model),
                "hosts": len(names),
                "live_hosts": sum(1 for n in names if n in report.stats),
                "inferences": completed,
                "success_rate": ratio(succeeded, completed),
                "average_time_s": ratio(win.w(*key, "time_sum_s"), succeeded),
                "mean_confidence": win.mean((*key, "confidence_sum"), (*key, "confidence_count")),
                "accuracy": win.mean((*key, "correct"), (*key, "confidence_count")),
                "mean_absolute_error": win.mean((*key, "abs_error_sum"), (*key, "regressions")),
                "input_scale": input_scale(
                    win.w(ALL, "model", model, "input_energy_sum"), win.w(ALL, "model", model, "served")
                ),
                "drift": drift.get(model, 0.0),
            }
        )
    return rows
