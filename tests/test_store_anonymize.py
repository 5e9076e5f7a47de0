"""Anonymized history and alert exports: names and addresses become stable salted tokens."""

import dataclasses
import re

import requests

from prsm_monitor import MetricsCollector
from prsm_monitor.anonymize import Anonymizer, anonymize_frame, salt_for
from prsm_monitor.api import build_app
from prsm_monitor.config import Settings
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
