"""Anonymized history and alert exports: names and addresses become stable salted tokens."""

import dataclasses
import re
import time

import requests

from prsm_monitor import MetricsCollector
from prsm_monitor.anonymize import Anonymizer, anonymize_frame, salt_for
from prsm_monitor.api import build_app
from prsm_monitor.fields import GAUGE, TIMESTAMP, Field
from prsm_monitor.settings.model import Settings
from prsm_monitor.sources.prsm.fields import ROWS
from prsm_monitor.ui.export import alerts_frame, to_csv

from .fixtures.server import InProcessServer


def mentions(text: str, name: str) -> bool:
    """``name`` as a whole word (a token like node-1f03... merely starts with the same letters)."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


NAMES = {"node-1": "node", "node-10": "node", "fraud-mlp": "model", "db.example.com": "host"}


def test_names_and_addresses_become_tokens_and_the_rest_stays():
    a = Anonymizer(b"s" * 32, NAMES)
    text = "Node node-1 at 10.1.2.3:7001 and node-10 at [fe80::1]:80 serve fraud-mlp; db.example.com at 12:30:45"
    out = a.text(text)
    for secret in ("node-1", "node-10", "10.1.2.3", "fe80::1", "fraud-mlp", "db.example.com"):
        assert not mentions(out, secret)
    assert a.token("node-1", "node") in out and a.token("10.1.2.3", "ip") + ":7001" in out
    assert "[" + a.token("fe80::1", "ip") + "]:80" in out
    assert "at 12:30:45" in out and out.startswith("Node node-")  # times and words stay
    assert "10.0.0.256" in a.text("version 10.0.0.256")  # not an address
    assert a.text(text) == out  # stable
    assert Anonymizer(b"t" * 32, NAMES).text(text) != out  # and salted


def test_the_salt_is_kept_in_the_data_directory(tmp_path):
    first = salt_for(tmp_path)
    assert len(first) == 32 and (tmp_path / "salt").stat().st_mode & 0o777 == 0o600
    assert salt_for(tmp_path) == first
    assert salt_for(None) == salt_for(None)


def test_an_alert_export_names_no_node_and_no_address(tmp_path):
    settings = dataclasses.replace(Settings(demo_nodes=3), data_dir=str(tmp_path))
    with MetricsCollector(settings=settings) as collector:
        node = collector.collect_once()["network"]["nodes"][2]
        collector.configure(fault={"action": "stop_node", "name": "node-1"})  # logged with the name
        collector.create_alert("warning", "network", f"Node {node['name']} slow at {node['address']}", dict(node))
        frame = alerts_frame(collector, 10)
        plain = to_csv(frame).decode()
        assert mentions(plain, "node-1") and mentions(plain, node["name"]) and "127.0.0.1" in plain
        hidden = to_csv(anonymize_frame(frame, collector)).decode()
        assert not mentions(hidden, "node-1") and not mentions(hidden, node["name"]) and "127.0.0.1" not in hidden
        assert Anonymizer(salt_for(tmp_path), {}).token("node-1", "node") in hidden  # stable across restarts
        assert len(hidden.splitlines()) == len(plain.splitlines())


def test_the_api_anonymizes_history_on_request_and_refuses_a_bad_flag():
    settings = Settings(demo=False)
    with MetricsCollector(settings=settings) as collector, InProcessServer(build_app(settings, collector)) as app:
        collector.collect_once()
        url = app.url + "/api/historical/system"
        plain = requests.get(url, params={"minutes": 5}, timeout=10).json()
        hidden = requests.get(url, params={"minutes": 5, "anonymize": "true"}, timeout=10).json()
        assert hidden["data"] == plain["data"]  # numbers name nothing: unchanged
        bad = requests.get(url, params={"anonymize": "maybe"}, timeout=10)
        assert bad.status_code == 400 and bad.json()["parameter"] == "anonymize"


class NamedNetwork:
    """A network and ai source whose records name nodes, models and an address, as the demo's do."""

    components = ("network", "ai")
    fields = {
        "network": (TIMESTAMP, Field("active_nodes", "1", GAUGE, "nodes up")),
        "ai": (TIMESTAMP, Field("total_models", "1", GAUGE, "models")),
    }
    rows = ROWS

    def collect(self):
        node = {"name": "edge-node-7", "address": "10.1.2.3:9000", "status": "up", "latency_ms": 2.0}
        model = {"node": "edge-node-7", "model": "fraud-mlp", "status": "up", "success_rate": 1.0}
        return {
            "network": {"timestamp": time.time(), "active_nodes": 1, "nodes": [node], "edges": []},
            "ai": {"timestamp": time.time(), "total_models": 1, "models": [model], "models_by_name": {"fraud-mlp": 1}},
        }

    def conditions(self, records):
        yield ("warning", "network", "Node edge-node-7 at 10.1.2.3 is slow", {"node": "edge-node-7"})


SECRETS = ("edge-node-7", "fraud-mlp", "10.1.2.3")


def named_outputs(app) -> dict[str, str]:
    return {
        path: requests.get(app.url + path, params=params, timeout=10).text
        for path, params in (
            ("/api/metrics", {}),
            ("/api/alerts", {}),
            ("/metrics", {"detail": "full"}),
            ("/api/historical/network", {"format": "csv"}),
        )
    }


def test_anonymize_true_changes_every_output_that_names_something():
    settings = Settings(demo=False)
    with (
        MetricsCollector(settings=settings, sources=[NamedNetwork()]) as collector,
        InProcessServer(build_app(settings, collector)) as app,
    ):
        collector.collect_once()
        plain = named_outputs(app)
        assert all(any(s in text for s in SECRETS) for path, text in plain.items() if "historical" not in path)
        for path in ("/api/metrics", "/api/alerts", "/metrics"):
            params = {"anonymize": "true", **({"detail": "full"} if path == "/metrics" else {})}
            hidden = requests.get(app.url + path, params=params, timeout=10)
            assert hidden.status_code == 200 and hidden.text != plain[path], path
            assert not any(mentions(hidden.text, s) for s in SECRETS), (path, hidden.text[:500])
        token = Anonymizer(salt_for(None), {}).token("edge-node-7", "node")
        assert token in requests.get(app.url + "/api/metrics?anonymize=true", timeout=10).text  # stable tokens


def test_with_prsm_anonymize_no_output_names_a_node_a_model_or_an_address():
    settings = Settings(demo=False, anonymize=True)
    with (
        MetricsCollector(settings=settings, sources=[NamedNetwork()]) as collector,
        InProcessServer(build_app(settings, collector)) as app,
    ):
        collector.collect_once()
        for path, text in named_outputs(app).items():
            assert not any(mentions(text, s) for s in SECRETS), (path, text[:500])
        with requests.get(app.url + "/api/stream", stream=True, timeout=10) as stream:
            collector.collect_once()  # a live event too, not only the replay
            lines = []
            for line in stream.iter_lines(decode_unicode=True):
                lines.append(line)
                if sum(1 for x in lines if x.startswith("event: metrics_update")) == 2:
                    break
        events = "\n".join(lines)
        assert "edge-node-7" not in events and "node-" in events
