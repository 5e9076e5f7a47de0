"""Watching other instances (PRSM_INSTANCES): settings, the poller against real prsm-monitor
servers (unreachable alert fired and resolved, token refused, stale values, back-off, never
blocking the local tick), the remote view the pages read, the sidebar selector and the Fleet page."""

from __future__ import annotations

import json
import socket
import sys
import time

import pytest
import requests
import streamlit as st
from streamlit.testing.v1 import AppTest

from prsm_monitor import MetricsCollector
from prsm_monitor.api import build_app
from prsm_monitor.core import shared
from prsm_monitor.fleet import Fleet, Instance, InstanceClient, InstanceError
from prsm_monitor.fleet.client import MAX_BYTES
from prsm_monitor.fleet.tokens import instance_tokens
from prsm_monitor.settings.model import Settings
from prsm_monitor.settings.values import ConfigError
from prsm_monitor.sources.system import SystemSource

from .conftest import wait_until
from .fixtures.answering import Answering
from .fixtures.server import ROOT, InProcessServer, StreamlitServer, free_port
from .test_cli import run_cli

TOKEN = "fleet-test-token-0123456789"


# -- settings -----------------------------------------------------------------------------------
def test_instances_are_read_in_order_without_a_trailing_slash():
    settings = Settings.from_env({"PRSM_INSTANCES": " lab=https://lab.example:8501/ , edge=http://10.0.0.7:8501"})
    assert settings.instances == (("lab", "https://lab.example:8501"), ("edge", "http://10.0.0.7:8501"))
    assert Settings.from_env({}).instances == ()


@pytest.mark.parametrize(
    "value, pair, expected",
    [
        ("lab", "lab", "name=URL pairs"),
        ("lab=ftp://lab.example", "lab=ftp://lab.example", "http:// or https:// URL"),
        ("lab=http://lab.example:99999", "lab=http://lab.example:99999", "port up to 65535"),
        ("lab=http://lab.example/?x=1", "lab=http://lab.example/?x=1", "no query"),
        ("local=http://a.example", "local=http://a.example", "other than 'local'"),
        ("a=http://a.example,a=http://b.example", "a=http://b.example", "'a' is given twice"),
        ("a b=http://a.example", "a b=http://a.example", "name=URL pairs"),
        ("a=http://a.example,", "", "name=URL pairs"),
    ],
)
def test_a_bad_instance_list_names_the_variable_the_pair_and_what_is_expected(value, pair, expected):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"PRSM_INSTANCES": value})
    assert caught.value.variable == "PRSM_INSTANCES" and caught.value.value == pair
    assert expected in caught.value.expected


def test_a_bad_instance_list_stops_the_cli_with_one_line_and_exit_2():
    result = run_cli("collect", "--once", env={"PRSM_INSTANCES": "edge=10.0.0.7:8501"})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "prsm_monitor: PRSM_INSTANCES='edge=10.0.0.7:8501' is invalid: expected an http:// or https:// URL "
        "after the name (a host, a port up to 65535), no query or fragment"
    ]


def test_tokens_come_from_the_secrets_table_and_a_stray_entry_is_an_error():
    assert instance_tokens(["lab", "edge"], {"edge": {"token": TOKEN}}) == {"lab": None, "edge": TOKEN}
    with pytest.raises(ConfigError, match=r"secrets \[instances.egde\]='egde' is invalid: expected the name"):
        instance_tokens(["lab", "edge"], {"egde": {"token": TOKEN}})
    with pytest.raises(ConfigError) as caught:
        instance_tokens(["edge"], {"edge": {"token": "has a space"}})
    assert "has a space" not in str(caught.value) and caught.value.variable == "secrets [instances.edge] token"


# -- real instances -----------------------------------------------------------------------------
def instance_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "streamlit_app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]


@pytest.fixture(scope="module")
def instances():
    """Two real prsm-monitor instances (demo off): ``open`` without a token, ``locked`` with one."""
    ports = {"open": free_port(), "locked": free_port()}
    servers = {
        "open": StreamlitServer(command=instance_command(ports["open"])),
        "locked": StreamlitServer(command=instance_command(ports["locked"]), env={"PRSM_API_TOKEN": TOKEN}),
    }
    try:
        for server in servers.values():
            server.wait()
        yield servers, ports
    finally:
        for server in servers.values():
            server.stop()


def hub_of(fleet: Fleet) -> MetricsCollector:
    """A local collector (this process, no demo) with ``fleet`` as a source, started."""
    hub = MetricsCollector(settings=Settings(demo=False, interval=0.2), sources=[SystemSource(), fleet])
    fleet.start()
    hub.start()
    return hub


def active_messages(hub) -> dict[str, str]:
    return {a["message"]: a["level"] for a in hub.get_active_alerts()}


def test_an_instance_that_stops_is_an_error_alert_resolved_when_it_comes_back(instances):
    servers, ports = instances
    url = servers["open"].url
    fleet = Fleet([Instance("edge", url), Instance("lab", servers["locked"].url, TOKEN)], interval=0.5, max_backoff=1)
    hub = hub_of(fleet)
    try:
        wait_until(lambda: {s.status for s in fleet.states()} == {"up"}, 20)
        assert active_messages(hub) == {}
        seen = fleet.state("edge")
        assert seen.metrics["system"]["memory_total_gb"] > 0 and not fleet.is_stale(seen)

        servers["open"].stop()
        wait_until(lambda: active_messages(hub).get("Instance edge is unreachable") == "error", 20)
        down = fleet.state("edge")
        assert down.status == "unreachable" and fleet.is_stale(down)
        assert down.metrics is seen.metrics or down.received_at >= seen.received_at  # the last good answer is kept
        assert down.metrics["system"]["memory_total_gb"] > 0 and down.age(down.received_at + 7) == 7
        view = fleet.view("edge", hub)
        assert view.get_latest_metrics()["system"] == down.metrics["system"]  # pages show the last values
        assert "Instance lab is unreachable" not in active_messages(hub)  # the other one is unaffected

        restarted = StreamlitServer(command=instance_command(ports["open"]))
        servers["open"] = restarted  # the fixture stops it
        restarted.wait()
        wait_until(lambda: "Instance edge is unreachable" not in active_messages(hub), 30)
        events = [e for e in hub.get_alerts() if "Instance edge is unreachable" in e["message"]]
        assert [(e["kind"], e["level"]) for e in events] == [("fired", "error"), ("resolved", "info")]
        assert fleet.state("edge").status == "up"
    finally:
        hub.close()


def test_a_wrong_or_missing_token_is_a_clear_alert_not_a_stack_trace(instances):
    servers, _ = instances
    url = servers["locked"].url
    fleet = Fleet([Instance("wrong", url, "not-the-token-0123456789"), Instance("none", url)], interval=0.5)
    hub = hub_of(fleet)
    try:
        wait_until(lambda: {s.status for s in fleet.states()} == {"unauthorized"}, 20)
        messages = wait_until(lambda: len(active_messages(hub)) == 2 and active_messages(hub), 10)
        assert messages == {
            "Instance wrong refused the token (HTTP 401): check [instances.wrong] token in .streamlit/secrets.toml": (
                "error"
            ),
            "Instance none asks for a token (HTTP 401): set [instances.none] token in .streamlit/secrets.toml": "error",
        }
        assert all("Traceback" not in s.error and "not-the-token" not in s.error for s in fleet.states())
    finally:
        hub.close()


def test_the_remote_view_reads_history_and_alerts_once_per_version(instances):
    servers, _ = instances
    fleet = Fleet([Instance("lab", servers["locked"].url, TOKEN)], interval=0.5)
    hub = hub_of(fleet)
    try:
        wait_until(lambda: fleet.state("lab").status == "up", 20)
        view = fleet.view("lab", hub)
        assert fleet.view("lab", hub) is view  # one object per instance: caches keyed on it last
        wait_until(lambda: len(view.history("system", 5, 50)) >= 3, 20)
        version = view.version
        frame = view.history("system", 5, 50)
        if view.version == version:  # no new answer in between: the same frame, not read again
            assert view.history("system", 5, 50) is frame
        assert list(frame.columns[:2]) == ["timestamp", "cpu_percent"] and frame["memory_percent"].notna().all()
        assert frame["timestamp"].is_monotonic_increasing
        wait_until(lambda: view.version != version, 10)  # a new answer changes the version
        assert view.history("node:node-0", 5).empty  # drill-downs are not served by the API
        assert view.get_alerts() == [] or all("message" in e for e in view.get_alerts())
        assert view.rules["cpu"].warning == 80.0 and view.acknowledge(1) is False
        with pytest.raises(PermissionError):
            view.configure(thresholds={"cpu": (10, 20)})
    finally:
        hub.close()


def test_a_failing_instance_backs_off_and_a_silent_one_never_holds_up_the_local_tick():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]  # nothing listens here once closed
    silent = socket.socket()  # accepts connections (the backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        fleet = Fleet(
            [
                Instance("dead", f"http://127.0.0.1:{dead}"),
                Instance("silent", f"http://127.0.0.1:{silent.getsockname()[1]}"),
            ],
            interval=0.5,
            timeout=1.5,
            max_backoff=4.0,
        )
        gaps = []
        for _ in range(5):  # polled by hand: the schedule after each failure
            fleet._poll("dead")
            gaps.append(round(fleet._next["dead"] - time.monotonic(), 1))
        assert gaps == [0.5, 1.0, 2.0, 4.0, 4.0]
        assert fleet.state("dead").status == "unreachable" and "Connection refused" in fleet.state("dead").error

        hub = hub_of(fleet)
        try:
            ticks = wait_until(lambda: (hub.latest("collector") or {}).get("ticks_total"), 10)
            wait_until(lambda: "silent" in fleet._busy, 10)  # its read is waiting for an answer
            hub.collect_once()
            assert "silent" in fleet._busy  # the tick did not wait for it
            wait_until(lambda: hub.get_latest_metrics()["collector"]["ticks_total"] >= ticks + 3, 10)
            wait_until(lambda: fleet.state("silent").status == "unreachable", 30)
            assert "no whole answer within 1.5 s" in fleet.state("silent").error
        finally:
            hub.close()
    finally:
        silent.close()


# -- the pages ----------------------------------------------------------------------------------
@pytest.fixture
def hub_app(monkeypatch, instances):
    servers, _ = instances
    monkeypatch.setenv("PRSM_DEMO", "false")
    monkeypatch.setenv("PRSM_METRICS_INTERVAL", "0.2")
    monkeypatch.setenv("PRSM_INSTANCES", f"edge={servers['open'].url},gone=http://127.0.0.1:{free_port()}")
    st.cache_resource.clear()
    shared.release_collector()
    yield AppTest.from_file("../streamlit_app.py", default_timeout=30)
    st.cache_resource.clear()
    shared.release_collector()


def test_the_fleet_page_has_a_row_per_instance_and_the_selector_shows_one_on_every_page(hub_app):
    hub_app.switch_page("pages/5_Fleet.py")
    hub_app.run()
    hub = shared.current_collector()
    fleet = next(s for s in hub.sources if isinstance(s, Fleet))
    gone = "Instance gone is unreachable"
    wait_until(lambda: fleet.state("edge").status == "up" and gone in active_messages(hub), 20)
    hub_app.run()
    assert not hub_app.exception, [e.value for e in hub_app.exception]
    table = hub_app.dataframe[0].value
    assert table["instance"].tolist() == ["This instance", "edge", "gone"]
    assert table["status"].tolist() == ["up", "up", "unreachable"]
    assert table.loc[1, "memory"] > 0 and table.loc[2, "last_seen"] == "never"
    assert table.loc[0, "error"] == 1  # this instance's own alert: gone is unreachable
    assert [b.label for b in hub_app.button if b.key.startswith("fleet_open_")] == ["This instance", "edge", "gone"]

    hub_app.sidebar.selectbox(key="instance").set_value("edge").run()
    assert [t.value for t in hub_app.title] == ["Fleet · edge"]
    links = {link.label: link for link in hub_app.sidebar.get("page_link")}
    assert links["System"].proto.query_string == "instance=edge"  # the links keep the instance
    viewer = AppTest.from_file("../streamlit_app.py", default_timeout=30)  # another viewer opens that link
    viewer.query_params["instance"] = "edge"
    viewer.switch_page("pages/1_System.py")
    viewer.run()
    assert not viewer.exception, [e.value for e in viewer.exception]
    assert [t.value for t in viewer.title] == ["System · edge"]
    assert len(viewer.sidebar.number_input) == 0  # thresholds change the local instance only
    assert any("changed on each instance itself" in c.value for c in viewer.sidebar.caption)
    assert any("Not served by an instance's API" in c.value for c in viewer.caption)  # no local processes
    assert {m.label for m in viewer.metric} >= {"CPU", "Memory"}


def test_api_fleet_lists_this_instance_and_each_other_with_its_status_and_figures(instances):
    servers, _ = instances
    gone = f"http://127.0.0.1:{free_port()}"
    fleet = Fleet([Instance("edge", servers["open"].url), Instance("gone", gone)], interval=0.5, max_backoff=1)
    hub = hub_of(fleet)
    try:
        wait_until(lambda: [s.status for s in fleet.states()] == ["up", "unreachable"], 20)
        wait_until(lambda: "Instance gone is unreachable" in active_messages(hub), 20)
        with InProcessServer(build_app(Settings(), hub)) as server:
            answer = requests.get(server.url + "/api/fleet", timeout=10)
            refused = requests.get(server.url + "/api/fleet", params={"x": 1}, timeout=10)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        local, edge, down = body["instances"]
        assert (local["name"], local["status"], local["url"]) == ("local", "up", None)
        assert (edge["name"], edge["status"], edge["url"], edge["error"]) == ("edge", "up", servers["open"].url, None)
        assert 0 < edge["memory_percent"] <= 100 and edge["age_seconds"] < 30
        assert edge["total_nodes"] is None  # its demo is off: not reported, not made up
        assert (down["status"], down["url"], down["age_seconds"], down["cpu_percent"]) == (
            "unreachable",
            gone,
            None,
            None,
        )
        assert down["error"]  # why, in words (connection refused)
        assert local["active_alerts"]["error"] == 1  # this instance's own alert: gone is unreachable
        assert body["poll_interval"] == 0.5 and "scraped" not in body
        assert refused.status_code == 400 and refused.json()["parameter"] == "x"
    finally:
        hub.close()


def test_without_instances_the_fleet_page_shows_this_one_and_how_to_add_others(monkeypatch):
    monkeypatch.delenv("PRSM_INSTANCES", raising=False)
    monkeypatch.setenv("PRSM_DEMO", "false")
    st.cache_resource.clear()
    shared.release_collector()
    try:
        app = AppTest.from_file("../streamlit_app.py", default_timeout=30)
        app.switch_page("pages/5_Fleet.py")
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        assert app.dataframe[0].value["instance"].tolist() == ["This instance"]
        assert any("PRSM_INSTANCES" in i.value for i in app.info)
        assert app.sidebar.get("selectbox") == [] or all(s.key != "instance" for s in app.sidebar.selectbox)
    finally:
        st.cache_resource.clear()
        shared.release_collector()


def test_tokens_are_read_from_the_secrets_and_a_stray_entry_closes_the_api(instances):
    servers, _ = instances
    wrong = json.dumps({"edge": {"token": "wrong-token-0123456789"}})
    hub = StreamlitServer(env={"PRSM_INSTANCES": f"edge={servers['locked'].url}", "TEST_SECRET_INSTANCES": wrong})
    stray = StreamlitServer(env={"PRSM_INSTANCES": "edge=http://127.0.0.1:9", "TEST_SECRET_INSTANCES": '{"egde": {}}'})
    try:
        hub.wait()
        refused = "Instance edge refused the token (HTTP 401)"  # not "asks for a token": the secret was read

        def alerts():
            return [a["message"] for a in requests.get(hub.url + "/api/alerts?active=true", timeout=5).json()["active"]]

        wait_until(lambda: any(m.startswith(refused) for m in alerts()), 20)
        stray.wait()
        # /health answers 'starting' at once; the bad entry is found when the collector is created
        (answer,) = wait_until(
            lambda: (r := requests.get(stray.url + "/health", timeout=5)).status_code == 503 and (r,)
        )
        assert answer.json()["error"] == "configuration_error"
        assert answer.json()["setting"] == "secrets [instances.egde]"
    finally:
        hub.stop()
        stray.stop()


def test_an_instance_read_is_bounded_and_never_shows_its_password():
    """Through the shared outside client: a redirect is not followed (a bad answer naming
    where it pointed), a password in the URL is sent as basic authentication and never shown,
    an answer over the size cap is refused."""
    probe = Answering({"/api/metrics": (200, {"system": {}})})
    instance = Answering(
        {
            "/api/metrics": (302, {}, {"Location": f"http://127.0.0.1:{probe.port}/api/metrics"}),
            "/api/settings": (200, {"thresholds": {}}),
            "/api/alerts": (200, {"alerts": ["x" * 1000] * 10_000}),
        }
    )
    try:
        client = InstanceClient("edge", f"http://inst:INSTPW@127.0.0.1:{instance.port}", timeout=2.0)
        assert client.url == f"http://inst:****@127.0.0.1:{instance.port}" and "INSTPW" not in repr(client.url)
        with pytest.raises(InstanceError) as caught:
            client.get_json("/api/metrics")
        assert caught.value.kind == "bad_answer" and "redirected (HTTP 302)" in str(caught.value)
        assert "INSTPW" not in str(caught.value) and probe.seen == []
        assert client.get_json("/api/settings") == {"thresholds": {}}
        assert {auth for _, auth in instance.seen} == {"Basic aW5zdDpJTlNUUFc="}  # inst:INSTPW
        with_token = InstanceClient("edge", f"http://127.0.0.1:{instance.port}", token=TOKEN)
        with pytest.raises(InstanceError) as caught:  # 10 MB of alerts
            with_token.get_json("/api/alerts")
        assert caught.value.kind == "bad_answer" and f"over {MAX_BYTES}" in str(caught.value)
        assert instance.seen[-1][1] == f"Bearer {TOKEN}"
    finally:
        probe.close()
        instance.close()


def test_an_instance_that_stops_answering_shows_its_last_figures_and_their_age(monkeypatch):
    now = time.time

    def metrics():
        return {
            "system": {"timestamp": now(), "cpu_percent": 37.5, "memory_percent": 40.0},
            "network": None,
            "ai": None,
            "collector": {"timestamp": now(), "ticks_total": int(now() * 10)},
            "alerts": [],
            "active_alerts": [],
        }

    instance = Answering({"/api/metrics": (200, metrics), "/api/settings": (200, {"thresholds": {}})})
    monkeypatch.setenv("PRSM_DEMO", "false")
    monkeypatch.setenv("PRSM_METRICS_INTERVAL", "0.5")
    monkeypatch.setenv("PRSM_INSTANCES", f"edge=http://127.0.0.1:{instance.port}")
    st.cache_resource.clear()
    shared.release_collector()
    try:
        app = AppTest.from_file("../streamlit_app.py", default_timeout=30)
        app.switch_page("pages/5_Fleet.py")
        app.run()
        fleet = next(s for s in shared.current_collector().sources if isinstance(s, Fleet))
        wait_until(lambda: fleet.state("edge").status == "up", 20)
        instance.close()  # it stops answering
        wait_until(lambda: fleet.state("edge").status == "unreachable", 30)
        wait_until(lambda: fleet.state("edge").age(time.time()) >= 2, 10)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        edge = app.dataframe[0].value.iloc[1]
        assert (edge["instance"], edge["status"], edge["cpu"]) == ("edge", "unreachable", 37.5)  # its last figure
        assert edge["last_seen"].endswith(" ago") and edge["last_seen"] != "never"  # and how old it is
    finally:
        st.cache_resource.clear()
        shared.release_collector()
