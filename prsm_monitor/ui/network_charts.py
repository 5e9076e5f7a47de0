"""The network's drawings: topology and the node × node latency heatmap.

Both colour a link by the latency rule's own thresholds, so a colour means the same thing on
both and in the alerts: below the warning threshold calm, between warning and critical amber,
at or above critical red. A link that is down is grey (dashed in the topology), never a shade
of "slow".

The specs are built with Altair once per latency bands (and node names, for the heatmap's
order) and shared; the links, nodes and cells come each tick as datasets (:mod:`.chartkit`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import altair as alt
import pandas as pd

from .chartkit import FIT_WIDTH, NO_AXIS, ROWS, Chart, arrow, fitted_legend, to_spec
from .style import CALM_COLOR, DOWN_COLOR, LEVEL_COLORS, UNMEASURED_COLOR

# Below the drawing, in rows of three: a legend at the side would squeeze a half-page chart.
BAND_LEGEND = {"orient": "bottom", "direction": "horizontal"}


@dataclass(frozen=True)
class LatencyBands:
    """The latency rule's thresholds (ms; either may be None) as named colour bands."""

    warning: float | None
    critical: float | None

    def bands(self) -> dict[str, tuple[str, str]]:
        """``{kind: (label, colour)}`` in legend order."""
        w, c = self.warning, self.critical
        low = w if w is not None else c
        bands = {"calm": (f"under {low:g} ms" if low is not None else "measured", CALM_COLOR)}
        if w is not None:
            bands["warning"] = (f"{w:g}–{c:g} ms" if c is not None else f"{w:g} ms and over", LEVEL_COLORS["warning"])
        if c is not None:
            bands["critical"] = (f"{c:g} ms and over", LEVEL_COLORS["critical"])
        bands["unmeasured"] = ("not measured", UNMEASURED_COLOR)
        bands["down"] = ("down", DOWN_COLOR)
        return bands

    def kind(self, latency_ms: float | None, up: bool) -> str:
        """calm, warning, critical, unmeasured or down; a breach is ``>=`` the threshold, as the rule fires."""
        if not up:
            return "down"
        if latency_ms is None or math.isnan(latency_ms):
            return "unmeasured"
        if self.critical is not None and latency_ms >= self.critical:
            return "critical"
        if self.warning is not None and latency_ms >= self.warning:
            return "warning"
        return "calm"

    def band(self, latency_ms: float | None, up: bool) -> str:
        """The legend label of one link's band."""
        return self.bands()[self.kind(latency_ms, up)][0]

    def labels(self) -> tuple[str, ...]:
        return tuple(label for label, _ in self.bands().values())

    def scale(self) -> dict:
        bands = self.bands().values()
        return {"domain": [label for label, _ in bands], "range": [color for _, color in bands]}


def circle_layout(names: list[str]) -> dict[str, tuple[float, float]]:
    """Nodes evenly on a circle, in name order: stable from tick to tick."""
    n = max(1, len(names))
    return {
        name: (math.cos(2 * math.pi * i / n - math.pi / 2), math.sin(2 * math.pi * i / n - math.pi / 2))
        for i, name in enumerate(names)
    }


def topology(nodes: list[dict], edges: list[dict], bands: LatencyBands, *, height: int = 380) -> Chart | None:
    """Node-link drawing: links coloured by latency band (grey dashed when down), down nodes in red."""
    if not nodes:
        return None
    position = circle_layout([n["name"] for n in nodes])
    links = pd.DataFrame(
        [
            {
                "x": position[e["source"]][0],
                "y": position[e["source"]][1],
                "x2": position[e["target"]][0],
                "y2": position[e["target"]][1],
                "link": f"{e['source']} ↔ {e['target']}",
                "band": bands.band(e.get("latency_ms"), e["up"]),
                "latency": e.get("latency_ms") if e["up"] else None,
            }
            for e in edges
            if e["source"] in position and e["target"] in position
        ],
        columns=["x", "y", "x2", "y2", "link", "band", "latency"],
    )
    points = pd.DataFrame(
        [
            {
                "x": position[n["name"]][0],
                "y": position[n["name"]][1],
                "node": n["name"],
                "status": n["status"],
                "latency": n.get("latency_ms"),
                "links": f"{n.get('links_up') or 0}/{'–' if n['links_total'] is None else n['links_total']}",
            }
            for n in nodes
        ]
    )
    return Chart(topology_spec(bands, height), {"links": arrow(links), "points": arrow(points)})


@functools.lru_cache(maxsize=32)
def topology_spec(bands: LatencyBands, height: int) -> dict:
    scale = alt.Scale(domain=[-1.35, 1.35])
    xy = {"x": alt.X("x:Q", axis=NO_AXIS, scale=scale), "y": alt.Y("y:Q", axis=NO_AXIS, scale=scale)}
    latency = alt.Tooltip("latency:Q", title="Latency (ms)", format=".2f")
    links = alt.Chart(alt.NamedData("links")).encode(
        **xy,
        x2=alt.X2("x2"),
        y2=alt.Y2("y2"),
        tooltip=[alt.Tooltip("link:N", title="Link"), alt.Tooltip("band:N", title="State"), latency],
        color=alt.Color(
            "band:N",
            title="Link latency",
            scale=alt.Scale(**bands.scale()),
            legend=fitted_legend(bands.labels(), 11, **BAND_LEGEND, symbolType="stroke", symbolStrokeWidth=3),
        ),
    )
    points = alt.Chart(alt.NamedData("points")).encode(**xy)
    status = alt.Scale(domain=["up", "down"], range=[LEVEL_COLORS["info"], LEVEL_COLORS["critical"]])
    chart = alt.layer(
        links.transform_filter("datum.band == 'down'").mark_rule(strokeDash=[4, 4], strokeWidth=1.5),
        links.transform_filter("datum.band != 'down'").mark_rule(strokeWidth=3),
        points.mark_circle(size=420, opacity=1, stroke="white", strokeWidth=2).encode(
            fill=alt.Fill(
                "status:N",
                scale=status,
                legend=alt.Legend(orient="top", direction="horizontal", title="Node", labelFontSize=11),
            ),
            tooltip=[
                alt.Tooltip("node:N", title="Node"),
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("links:N", title="Links up"),
                latency,
            ],
        ),
        points.mark_text(dy=-20, fontSize=12, fontWeight="bold").encode(text="node:N"),
    )
    chart = chart.properties(height=height, autosize=FIT_WIDTH).configure_view(strokeWidth=0)
    return to_spec(chart, "topology")


def latency_matrix(edges: list[dict], names: list[str], bands: LatencyBands, *, height: int = 300) -> Chart | None:
    """Node × node heatmap of link latency by band; pairs without a link stay blank."""
    cells = []
    for e in edges:
        if e["source"] not in names or e["target"] not in names:
            continue
        band = bands.band(e.get("latency_ms"), e["up"])
        latency = e.get("latency_ms") if e["up"] else None
        for a, b in ((e["source"], e["target"]), (e["target"], e["source"])):
            cells.append({"from": a, "to": b, "band": band, "latency": latency})
    if not cells:
        return None
    cells = pd.DataFrame(cells, columns=["from", "to", "band", "latency"])
    return Chart(latency_matrix_spec(bands, tuple(names), height), {ROWS: arrow(cells)})


@functools.lru_cache(maxsize=32)
def latency_matrix_spec(bands: LatencyBands, names: tuple[str, ...], height: int) -> dict:
    order = alt.Scale(domain=list(names))
    chart = (
        alt.Chart(alt.NamedData(ROWS))
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("to:N", title="Peer", sort=list(names), scale=order),
            y=alt.Y("from:N", title="Node", sort=list(names), scale=order),
            color=alt.Color(
                "band:N",
                title="Link latency",
                scale=alt.Scale(**bands.scale()),
                legend=fitted_legend(bands.labels(), 11, **BAND_LEGEND, symbolType="square"),
            ),
            tooltip=[
                alt.Tooltip("from:N", title="Node"),
                alt.Tooltip("to:N", title="Peer"),
                alt.Tooltip("band:N", title="State"),
                alt.Tooltip("latency:Q", title="Latency (ms)", format=".2f"),
            ],
        )
        .properties(height=height, autosize=FIT_WIDTH)
    )
    return to_spec(chart, "latency_matrix")
