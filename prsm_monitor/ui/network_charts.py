"""The network's drawings: topology and the node × node latency heatmap.

Both colour a link by the latency rule's own thresholds, so a colour means the same thing on
both and in the alerts: below the warning threshold calm, between warning and critical amber,
at or above critical red. A link that is down is grey (dashed in the topology), never a shade
of "slow".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .charts import FIT_WIDTH, NO_AXIS, Chart, _arrow
from .style import CALM_COLOR, DOWN_COLOR, LEVEL_COLORS, UNMEASURED_COLOR

# Below the drawing, in rows of three: a legend at the side would squeeze a half-page chart.
BAND_LEGEND = {"orient": "bottom", "direction": "horizontal", "columns": 3, "labelFontSize": 11}


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
    scale = {"domain": [-1.35, 1.35]}
    xy = {
        "x": {"field": "x", "type": "quantitative", "axis": NO_AXIS, "scale": scale},
        "y": {"field": "y", "type": "quantitative", "axis": NO_AXIS, "scale": scale},
    }
    ends = {"x2": {"field": "x2"}, "y2": {"field": "y2"}}
    link_tooltip = [
        {"field": "link", "type": "nominal", "title": "Link"},
        {"field": "band", "type": "nominal", "title": "State"},
        {"field": "latency", "type": "quantitative", "title": "Latency (ms)", "format": ".2f"},
    ]
    link_color = {
        "field": "band",
        "type": "nominal",
        "title": "Link latency",
        "scale": bands.scale(),
        "legend": {**BAND_LEGEND, "symbolType": "stroke", "symbolStrokeWidth": 3},
    }
    spec = {
        "height": height,
        "autosize": FIT_WIDTH,
        "datasets": {"links": _arrow(links), "points": _arrow(points)},
        "layer": [
            {
                "data": {"name": "links"},
                "transform": [{"filter": "datum.band == 'down'"}],
                "mark": {"type": "rule", "strokeDash": [4, 4], "strokeWidth": 1.5},
                "encoding": {**xy, **ends, "tooltip": link_tooltip, "color": link_color},
            },
            {
                "data": {"name": "links"},
                "transform": [{"filter": "datum.band != 'down'"}],
                "mark": {"type": "rule", "strokeWidth": 3},
                "encoding": {**xy, **ends, "tooltip": link_tooltip, "color": link_color},
            },
            {
                "data": {"name": "points"},
                "mark": {"type": "circle", "size": 420, "opacity": 1, "stroke": "white", "strokeWidth": 2},
                "encoding": {
                    **xy,
                    "fill": {
                        "field": "status",
                        "type": "nominal",
                        "scale": {"domain": ["up", "down"], "range": [LEVEL_COLORS["info"], LEVEL_COLORS["critical"]]},
                        "legend": {**BAND_LEGEND, "title": "Node", "columns": 2},
                    },
                    "tooltip": [
                        {"field": "node", "type": "nominal", "title": "Node"},
                        {"field": "status", "type": "nominal", "title": "Status"},
                        {"field": "links", "type": "nominal", "title": "Links up"},
                        {"field": "latency", "type": "quantitative", "title": "Latency (ms)", "format": ".2f"},
                    ],
                },
            },
            {
                "data": {"name": "points"},
                "mark": {"type": "text", "dy": -20, "fontSize": 12, "fontWeight": "bold"},
                "encoding": {**xy, "text": {"field": "node", "type": "nominal"}},
            },
        ],
        "config": {"view": {"strokeWidth": 0}},
    }
    return Chart(spec)


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
    spec = {
        "height": height,
        "autosize": FIT_WIDTH,
        "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1},
        "encoding": {
            "x": {"field": "to", "type": "nominal", "title": "Peer", "sort": names, "scale": {"domain": names}},
            "y": {"field": "from", "type": "nominal", "title": "Node", "sort": names, "scale": {"domain": names}},
            "color": {
                "field": "band",
                "type": "nominal",
                "title": "Link latency",
                "scale": bands.scale(),
                "legend": {**BAND_LEGEND, "symbolType": "square"},
            },
            "tooltip": [
                {"field": "from", "type": "nominal", "title": "Node"},
                {"field": "to", "type": "nominal", "title": "Peer"},
                {"field": "band", "type": "nominal", "title": "State"},
                {"field": "latency", "type": "quantitative", "title": "Latency (ms)", "format": ".2f"},
            ],
        },
    }
    return Chart(spec, _arrow(pd.DataFrame(cells, columns=["from", "to", "band", "latency"])))
