"""Thresholds on a time-series chart: which are drawn and which only named above it, their
labels (every value with its unit, :func:`~prsm_monitor.units.value_text`), and the dashed
rule layers in the alert levels' colours."""

from __future__ import annotations

import altair as alt

from ..units import value_text
from .chartkit import MARKS
from .style import LEVEL_COLORS


def threshold_label(level: str, value: float, unit: str) -> str:
    return f"{level} {value_text(value, '' if unit == 'ratio' else unit)}"  # every value with its unit, one way


def split_thresholds(thresholds, data_max: float, unit: str) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """``(shown, off_chart)`` as ``(level, value)`` pairs. A threshold far above the data
    would flatten the lines to nothing, so it stays off the chart and is only named (percent
    and 0..1 ratio charts always show theirs)."""
    shown, off_chart = [], []
    for level, value in zip(("warning", "critical"), thresholds or (None, None), strict=True):
        if value is None:
            continue
        far = unit not in ("%", "ratio") and value > 3 * max(data_max, 1e-9)
        (off_chart if far else shown).append((level, value))
    return shown, off_chart


def threshold_marks(shown, unit: str) -> list[dict]:
    """``marks`` rows: a dashed rule per shown threshold (its ``kind`` is its level)."""
    return [{"kind": level, "y": value, "label": threshold_label(level, value, unit)} for level, value in shown]


def above_note(off_chart, unit: str) -> str | None:
    """The thresholds above the plot, named: ``↑ warning 100 ms · critical 500 ms``."""
    if not off_chart:
        return None
    return "↑ " + " · ".join(threshold_label(level, value, unit) for level, value in off_chart)


# A rule's label sits under it, or over it when the rule is too near the plot's bottom to hold
# it: nothing is drawn outside the plot, so nothing there moves the plot (a tail lies over it),
# and two rules' labels do not meet unless the rules do.
NEAR_BOTTOM = "scale('y', datum.y) > height - 14"
LABEL_BASELINE = alt.ExprRef(f"{NEAR_BOTTOM} ? 'bottom' : 'top'")
LABEL_DY = alt.ExprRef(f"{NEAR_BOTTOM} ? -3 : 3")


def threshold_layers(y: alt.Y, labelled: bool) -> list[alt.Chart]:
    """Dashed rule lines at the warning and critical levels, in the alert levels' colours,
    each named at its right end (under it: :data:`LABEL_BASELINE`); thresholds above the chart
    are named above the plot, right-aligned, with an arrow instead (:func:`above_note`, drawn by
    the window's layer)."""
    levels = ["warning", "critical"]
    color = alt.Color("kind:N", scale=alt.Scale(domain=levels, range=[LEVEL_COLORS[lv] for lv in levels]), legend=None)
    drawn = [
        alt.Chart()
        .mark_rule(strokeDash=[6, 4], strokeWidth=1.5, clip=True)
        .encode(tooltip=alt.Tooltip("label:N", title="Threshold"))
    ]
    if labelled:
        at_right = {
            "align": "right",
            "baseline": LABEL_BASELINE,
            "dx": -2,
            "dy": LABEL_DY,
            "fontSize": 10,
            "clip": True,
        }
        drawn.append(alt.Chart().mark_text(**at_right).encode(x=alt.XValue("width"), text="label:N"))
    rows = alt.FieldOneOfPredicate(field="kind", oneOf=levels)
    return [alt.layer(*drawn, data=alt.NamedData(MARKS)).transform_filter(rows).encode(y=y, color=color)]
