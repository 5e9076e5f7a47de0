"""Chart specs: colours anchored on the alert thresholds, no field paths, domains computed here,
specs built once per shape with Altair and this tick's values in datasets."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from prsm_monitor.ui import chartkit, charts
from prsm_monitor.ui.charts import Parts
from prsm_monitor.ui.network_charts import LatencyBands, latency_matrix, topology
from prsm_monitor.ui.style import CALM_COLOR, DOWN_COLOR, LEVEL_COLORS, PARTS_COLOR

from .conftest import wait_until
from .test_app import collector, fresh_app, open_page

BANDS = LatencyBands(warning=100.0, critical=500.0)
NODES = [{"name": n, "status": "up", "latency_ms": 0.5, "links_up": 2, "links_total": 2} for n in ("a", "b", "c", "d")]


def edges(latencies: dict, down=()) -> list[dict]:
    return [{"source": s, "target": t, "up": (s, t) not in down, "latency_ms": ms} for (s, t), ms in latencies.items()]


def color_of(spec_color: dict, band: str) -> str:
    scale = spec_color["scale"]
    return scale["range"][scale["domain"].index(band)]


@pytest.mark.parametrize(
    "latency, kind, color",
    [
        (0.3, "calm", CALM_COLOR),  # a healthy sub-millisecond link is calm, not dark red
        (0.7, "calm", CALM_COLOR),
        (99.9, "calm", CALM_COLOR),
        (100.0, "warning", LEVEL_COLORS["warning"]),  # the rule fires at >= warning
        (300.0, "warning", LEVEL_COLORS["warning"]),
        (500.0, "critical", LEVEL_COLORS["critical"]),
        (2000.0, "critical", LEVEL_COLORS["critical"]),
    ],
)
def test_link_colour_is_anchored_on_the_latency_rule(latency, kind, color):
    assert BANDS.kind(latency, up=True) == kind
    label = BANDS.band(latency, up=True)
    matrix = latency_matrix(edges({("a", "b"): latency}), ["a", "b"], BANDS)
    cells = matrix.data.to_pandas()
    assert set(cells["band"]) == {label}
    assert color_of(matrix.spec["encoding"]["color"], label) == color
    drawing = topology(NODES[:2], edges({("a", "b"): latency}), BANDS)
    links = drawing.datasets["links"].to_pandas()
    assert list(links["band"]) == [label]
    up_links = drawing.spec["layer"][1]
    assert color_of(up_links["encoding"]["color"], label) == color


def test_the_colours_move_with_the_thresholds_and_down_is_not_slow():
    tight = LatencyBands(warning=0.5, critical=1.0)
    assert (
        tight.kind(0.3, True) == "calm" and tight.kind(0.7, True) == "warning" and tight.kind(1.2, True) == "critical"
    )
    matrix = latency_matrix(edges({("a", "b"): 0.4, ("c", "d"): 900.0}, down={("c", "d")}), list("abcd"), BANDS)
    cells = matrix.data.to_pandas().set_index(["from", "to"])
    assert cells.loc[("c", "d"), "band"] == "down" and pd.isna(cells.loc[("c", "d"), "latency"])
    assert color_of(matrix.spec["encoding"]["color"], "down") == DOWN_COLOR
    drawing = topology(NODES, edges({("a", "b"): 0.4, ("c", "d"): 900.0}, down={("c", "d")}), BANDS)
    down_layer, up_layer = drawing.spec["layer"][:2]
    assert down_layer["transform"] == [{"filter": "datum.band == 'down'"}] and down_layer["mark"]["strokeDash"]
    assert "strokeDash" not in up_layer["mark"]
    assert BANDS.kind(None, True) == "unmeasured"


def history(seconds=60, **series) -> pd.DataFrame:
    now = 1_800_000_000.0
    frame = pd.DataFrame({"timestamp": now - np.arange(seconds)[::-1]})
    for name, values in series.items():
        frame[name] = values
    return frame


def lines_of(spec: dict) -> list[dict]:
    """The line layers of a time series, bottom to top (drawn in this order)."""
    return [layer for layer in spec["layer"][0]["layer"] if layer["mark"]["type"] == "line"]


def marks_of(spec: dict, kind: str) -> list[dict]:
    """Every layer of mark type ``kind``, nested or not."""
    found = []
    for layer in spec.get("layer", []):
        if "layer" in layer:
            found += marks_of(layer, kind)
        elif layer["mark"]["type"] == kind:
            found.append(layer)
    return found


def fields_in(spec) -> set[str]:
    """Every "field" named anywhere in the spec."""
    found = set()
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "field" and isinstance(value, str):
                found.add(value)
            else:
                found |= fields_in(value)
    elif isinstance(spec, list):
        for item in spec:
            found |= fields_in(item)
    return found


def scales(spec):
    """(channel, encoding) of every quantitative or temporal position channel of every layer."""
    for layer in [spec, *spec.get("layer", [])]:
        if layer is not spec and "layer" in layer:
            yield from scales(layer)
        for channel, encoding in layer.get("encoding", {}).items():
            if (
                channel in ("x", "y")
                and "datum" not in encoding
                and encoding.get("type") in ("quantitative", "temporal")
            ):
                yield channel, encoding


def test_a_label_with_a_dot_is_never_a_field_name_and_the_series_is_drawn():
    frame = history(mean_absolute_error=np.linspace(0.2, 0.3, 60))
    chart = charts.timeseries(frame, {"mean_absolute_error": "Mean abs. error"}, unit="", title="Mean abs. error")
    assert fields_in(chart.spec) <= {"time", "s0", "y", "kind", "label"}
    table = chart.data.to_pandas()
    assert table["s0"].notna().sum() == 60  # the values the chart draws
    assert lines_of(chart.spec)[0]["encoding"]["color"] == {"datum": "Mean abs. error"}
    assert chart.spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == ["Mean abs. error"]


WINDOW_DOMAINS = {
    "x": [{"expr": "bounds.x"}, {"expr": "bounds.x2"}],
    "y": [{"expr": "bounds.y"}, {"expr": "bounds.y2"}],
}


def domains(spec) -> dict[str, list]:
    """The explicit domains of each positional channel, over every layer (layers that give
    none share the scale of those that do)."""
    found: dict[str, list] = {}
    for channel, encoding in scales(spec):
        found.setdefault(channel, [])
        if "domain" in encoding.get("scale", {}):
            found[channel].append(encoding["scale"]["domain"])
    return found


def test_every_positional_scale_has_a_domain_so_an_empty_first_render_warns_nothing():
    frame = history(cpu_percent=np.full(60, 40.0), cpu_core_0_percent=np.full(60, 30.0), load=np.full(60, np.nan))
    specs = [
        charts.timeseries(frame, {"cpu_percent": "CPU"}, unit="%", thresholds=(80, 95)).spec,
        charts.timeseries(frame, {"cpu_percent": "CPU"}, unit="ms", thresholds=(100, 500)).spec,
        charts.alert_counts([{"timestamp": 1_800_000_000.0, "level": "warning"}], minutes=15, now=1.8e9 + 5).spec,
        charts.distribution({"numpy": 3}, title="Instances").spec,
    ]
    for spec in specs:
        for channel, found in domains(spec).items():
            assert found, (channel, spec)  # at least one layer names it
            assert all(d in WINDOW_DOMAINS.values() for d in found), found  # and every one is this tick's window
    assert charts.timeseries(frame, {"load": "Load"}, unit="") is None  # all NaN: no chart, words instead


def test_the_total_is_drawn_on_top_of_its_parts_and_the_first_series_on_top_of_the_others():
    frame = history(
        cpu_percent=np.full(60, 50.0),
        cpu_core_0_percent=np.full(60, 40.0),
        cpu_core_1_percent=np.full(60, 60.0),
    )
    chart = charts.timeseries(
        frame, {"cpu_percent": "CPU"}, unit="%", parts=Parts(r"cpu_core_(\d+)_percent", "Core {}", "Per core")
    )
    lines = lines_of(chart.spec)
    assert [line["encoding"]["color"]["datum"] for line in lines] == ["Per core", "Per core", "CPU"]  # last on top
    total, part = lines[-1]["mark"], lines[0]["mark"]
    assert total["strokeWidth"] > part["strokeWidth"]
    scale = chart.spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale["range"][scale["domain"].index("Per core")] == PARTS_COLOR  # one faded colour for the parts
    net = charts.timeseries(
        history(sent=np.full(60, 1.0), received=np.full(60, 1.0)), {"sent": "Sent", "received": "Received"}, unit="B/s"
    )
    assert [layer["encoding"]["color"]["datum"] for layer in lines_of(net.spec)] == ["Received", "Sent"]


def marks(chart, *kinds: str) -> list[dict]:
    """This tick's ``marks`` rows of these kinds."""
    return [row for row in chart.datasets["marks"].to_pylist() if row["kind"] in kinds]


def test_thresholds_near_the_data_are_drawn_and_far_ones_named_above_the_plot():
    frame = history(latency=np.full(60, 0.8))
    chart = charts.timeseries(frame, {"latency": "Latency"}, unit="ms", title="Round trip", thresholds=(100, 500))
    (window,) = marks(chart, "window")
    assert window["label"] == "↑ warning 100 ms · critical 500 ms" and not marks(chart, "warning", "critical")
    assert window["y2"] < 100  # the lines keep the plot's height
    near = charts.timeseries(
        history(latency=np.full(60, 200.0)),
        {"latency": "Latency"},
        unit="ms",
        title="Round trip",
        thresholds=(100, 500),
    )
    rules = marks(near, "warning", "critical")
    assert [row["y"] for row in rules] == [100, 500] and [row["kind"] for row in rules] == ["warning", "critical"]
    assert [row["label"] for row in rules] == ["warning 100 ms", "critical 500 ms"]
    assert marks(near, "window")[0]["label"] is None
    # drawn by a dashed rule and a label in the row's own colour, in the one spec of this shape
    (group,) = [layer for layer in near.spec["layer"] if layer.get("data") == {"name": "marks"} and "layer" in layer]
    assert group["transform"] == [{"filter": {"field": "kind", "oneOf": ["warning", "critical"]}}]
    assert [layer["mark"]["type"] for layer in group["layer"]] == ["rule", "text"]
    assert group["layer"][0]["mark"]["strokeDash"] and group["encoding"]["color"]["field"] == "kind"
    scale = group["encoding"]["color"]["scale"]  # each in its level's colour
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {lv: LEVEL_COLORS[lv] for lv in scale["domain"]}
    moved = charts.timeseries(
        history(latency=np.full(60, 200.0)),
        {"latency": "Latency"},
        unit="ms",
        title="Round trip",
        thresholds=(150, 400),
    )
    assert moved.spec is near.spec and near.spec is not chart.spec  # thresholds move in data; rules drawn or not: shape
    assert [row["y"] for row in marks(moved, "warning", "critical")] == [150, 400]
    assert near.spec["autosize"]["type"] == "fit-x"  # the declared height is the plot's, legend aside


def _layers(spec: dict) -> list[dict]:
    return [layer for group in spec["layer"] for layer in group.get("layer", [group])]


def test_a_rollup_frame_draws_its_min_max_band_under_the_mean():
    t = 1_800_000_000.0 + np.arange(0, 3600 * 24 * 7, 3600.0)  # a week of hourly buckets
    mean = 50 + 10 * np.sin(t / 86400)
    frame = pd.DataFrame(
        {"timestamp": t, "cpu_percent": mean, "cpu_percent_min": mean - 20, "cpu_percent_max": mean + 30}
    )
    chart = charts.timeseries(frame, {"cpu_percent": "CPU"}, unit="%", title="CPU")
    areas = [layer for layer in _layers(chart.spec) if layer.get("mark", {}).get("type") == "area"]
    assert (
        len(areas) == 1 and areas[0]["encoding"]["y"]["field"] == "lo" and areas[0]["encoding"]["y2"]["field"] == "hi"
    )
    table = chart.data.to_pandas()
    assert np.allclose(table["hi"] - table["lo"], 50, atol=1e-3)  # the bucket's real spread, not the mean's
    assert chartkit.time_format(7 * 86400) == "%b %d"  # a week is read in days, not clock times


def test_raw_history_draws_no_band():
    t = 1_800_000_000.0 + np.arange(0, 600, 1.0)
    frame = pd.DataFrame({"timestamp": t, "cpu_percent": np.full(len(t), 40.0)})
    chart = charts.timeseries(frame, {"cpu_percent": "CPU"}, unit="%", title="CPU")
    assert not [layer for layer in _layers(chart.spec) if layer.get("mark", {}).get("type") == "area"]
    assert "lo" not in chart.data.column_names


def test_a_gap_in_the_record_breaks_the_line_instead_of_bridging_it():
    """A monitor stopped for 30 s (or an instance that did not answer) was drawn as a straight
    line across the gap: values nobody measured. An empty row in the gap breaks the line
    (Vega-Lite breaks path marks at null values by default); regular steps get none."""
    seconds = np.r_[np.arange(0, 10), np.arange(40, 50)].astype(float)
    frame = pd.DataFrame({"timestamp": 1_700_000_000 + seconds, "cpu_percent": np.linspace(10, 90, 20)})
    data = charts.timeseries(frame, {"cpu_percent": "CPU"}, unit="%").data.to_pandas()
    assert len(data) == 21
    gap = data[data["s0"].isna()]
    assert gap["t"].tolist() == [24.5]  # halfway between 9 s and 40 s
    steady = charts.timeseries(frame.iloc[:10], {"cpu_percent": "CPU"}, unit="%").data.to_pandas()
    assert steady["s0"].notna().all() and len(steady) == 10


def test_a_spec_is_built_once_per_shape_and_each_tick_only_sends_rows():
    """Altair builds a chart in milliseconds: once per shape, never per tick. Two ticks of the
    same chart (new values, moved thresholds) share one spec object; a new series, unit or
    insight choice builds another."""
    charts.timeseries_spec.cache_clear()
    before = chartkit.built["timeseries"]
    first = charts.timeseries(history(cpu=np.linspace(1, 9, 60)), {"cpu": "CPU"}, unit="%", thresholds=(80, 95))
    later = history(seconds=90, cpu=np.linspace(20, 60, 90))
    later["timestamp"] += 30
    second = charts.timeseries(later, {"cpu": "CPU"}, unit="%", thresholds=(70, 90))
    assert second.spec is first.spec and chartkit.built["timeseries"] == before + 1
    assert first.datasets["rows"].num_rows == 60 and second.datasets["rows"].num_rows == 90
    (w1,), (w2,) = marks(first, "window"), marks(second, "window")
    assert w2["x2"] - w1["x2"] == 30_000  # the window moves in the data
    assert "datasets" not in first.spec and set(first.vega_lite()["datasets"]) == {"rows", "marks"}
    other = charts.timeseries(history(cpu=np.linspace(1, 9, 60)), {"cpu": "CPU"}, unit="ms")
    assert other.spec is not first.spec and chartkit.built["timeseries"] == before + 2


def test_every_scale_reads_its_domain_from_the_window():
    """The domains the browser draws are this tick's (the window row of ``marks``), not the spec's."""
    frame = history(cpu=np.full(60, 40.0))
    spec = charts.timeseries(frame, {"cpu": "CPU"}, unit="%", thresholds=(80, 95)).spec
    assert {channel: found[0] for channel, found in domains(spec).items()} == WINDOW_DOMAINS
    assert spec["params"] == [{"name": "bounds", "expr": chartkit.BOUNDS.param.expr}]
    assert chartkit.BOUNDS.param.expr.startswith("data('marks')[0]")


@pytest.mark.parametrize("module", ["charts", "chartkit", "bar_charts", "network_charts", "insight_layers"])
def test_every_chart_module_builds_with_altair(module):
    source = (Path(charts.__file__).parent / f"{module}.py").read_text()
    assert "import altair as alt" in source and "alt." in source


@pytest.fixture
def system_app(monkeypatch):
    yield from fresh_app(monkeypatch, PRSM_DEMO="false")


def test_reruns_of_a_page_build_no_spec_and_send_the_same_one(system_app):
    """Each refresh tick reruns the page: it sends new rows under the spec it sent before, built
    once. A new threshold (a settings revision) moves the rule, not the spec."""
    open_page(system_app, "pages/1_System.py")
    wait_until(lambda: collector().store.count("system") >= 3, 20)
    open_page(system_app, "pages/1_System.py")
    first = bodies(system_app)
    built = dict(chartkit.built, tail=0)
    collector().configure(thresholds={"cpu": (33.0, 96.0)})
    system_app.run()
    second = bodies(system_app)
    assert len(first) == len(second) >= 4 and dict(chartkit.built, tail=0) == built
    assert [p.spec for p in second] == [p.spec for p in first]
    thresholds = [row for p in second for row in marks_rows(p) if row["kind"] in ("warning", "critical")]
    assert "warning 33%" in [row["label"] for row in thresholds]


def bodies(app) -> list:
    """The charts' bodies (a tail drawn over one has its few rows inline, no dataset)."""
    return [element.proto for element in app.get("vega_lite_chart") if element.proto.datasets]


def marks_rows(proto) -> list[dict]:
    data = next(d.data.data for d in proto.datasets if d.name == "marks")
    return pa.ipc.open_stream(data).read_all().to_pylist()


def test_whole_second_times_travel_in_two_bytes_and_others_keep_their_fraction():
    whole = charts.timeseries(history(cpu=np.linspace(1, 9, 60)), {"cpu": "CPU"}, unit="%").data
    assert str(whole.schema.field("t").type) == "uint16" and whole.column("t").to_pylist()[-1] == 59
    fast = history(cpu=np.linspace(1, 9, 60))
    fast["timestamp"] = 1_800_000_000.0 + np.arange(60) * 0.5  # ticks every half second
    t = charts.timeseries(fast, {"cpu": "CPU"}, unit="%").data.column("t")
    assert str(t.type) == "float" and t.to_pylist()[1] == 0.5


def test_a_chart_heading_says_what_each_line_is_from_the_source_s_declared_fields(system_app):
    """The help beside a heading (Netdata's chart info) names each series, the help its source
    declares and its field's name as the API's JSON has it; the per-core lines and the dashed
    limits are said once. Made once from the declarations, so every refresh sends the same heading."""
    open_page(system_app, "pages/1_System.py")
    wait_until(lambda: collector().store.count("system") >= 3, 20)
    open_page(system_app, "pages/1_System.py")
    helps = {h.value: h.proto.help for h in system_app.subheader}
    declared = {f.name: f.help for f in collector().fields["system"]}
    assert f"**CPU**: {declared['cpu_percent']}. Field `cpu_percent`." in helps["CPU"]
    assert "**Per core**, one thin line each: CPU use of core 0, and so on." in helps["CPU"]
    assert "alert rule `cpu`" in helps["CPU"] and "alert rule" not in helps["Disk I/O"]
    assert f"**Swap**: {declared['swap_percent']}. Field `swap_percent`." in helps["Memory"]
    assert helps["Top processes"].startswith("Read live with psutil")
    system_app.run()
    assert {h.value: h.proto.help for h in system_app.subheader} == helps


def test_a_chart_without_a_declared_series_has_no_help():
    from prsm_monitor.fields import GAUGE, Field
    from prsm_monitor.ui.timechart import TimeChart, about

    chart = TimeChart("Load", {"load_1m": "Load 1m", "load_5m": "Load 5m"}, "")
    assert about(chart, {}) is None
    only = about(chart, {"load_5m": Field("load_5m", "1", GAUGE, "Load average over 5 minutes")})
    assert only == "**Load 5m**: Load average over 5 minutes. Field `load_5m`."
