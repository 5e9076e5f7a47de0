"""Rules as a TOML file (prsm_monitor.settings.rules_file, watched by prsm_monitor.alerts.rules_file):
good files, bad files named by file, line and key (CLI exit 2, st.error in the app), rules on
fields the active sources declare, and edits applied on the next tick."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from prsm_monitor.alerts.rules_file import ALERT_KEY
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.fields import GAUGE, TIMESTAMP, Field
from prsm_monitor.settings.model import Settings
from prsm_monitor.settings.rules import default_rules
from prsm_monitor.settings.rules_file import load_rules
from prsm_monitor.settings.rules_reader import RulesFileError
from prsm_monitor.settings.thresholds import default_thresholds
from prsm_monitor.settings.values import ConfigError
from prsm_monitor.sources.base import field_units
from prsm_monitor.sources.nodes.source import NodeSource
from prsm_monitor.sources.prsm.source import PrsmSource
from prsm_monitor.sources.system import SYSTEM_FIELDS

from .conftest import wait_until
from .test_app import fresh_app, open_page
from .test_cli import run_cli

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


class Declared:
    """Declares fields as a source does, and collects nothing."""

    def __init__(self, fields):
        self.components = tuple(fields)
        self.fields = fields


THIS_MACHINE = Declared({"system": SYSTEM_FIELDS})
DEMO = Declared(PrsmSource.fields)  # the demo network's report schema (class attributes: no network starts)
NODES = Declared(NodeSource.fields)  # real PRSM nodes'


def load(path: Path, env_set=frozenset(), sources=(THIS_MACHINE, DEMO)):
    return load_rules(path, default_thresholds(), env_set, field_units(sources))


def test_the_example_file_reproduces_the_built_in_rules():
    rules, set_thresholds = load(ROOT / "rules.example.toml")
    assert rules == default_rules() and set_thresholds == set(default_rules())
    assert all(r.runbook_url and r.description for r in rules.values())


def test_a_file_tunes_built_in_rules_and_declares_new_ones(tmp_path):
    path = write(
        tmp_path / "rules.toml",
        """
[rules.cpu]
warning = 70
for = "90s"
runbook = "https://wiki.example.com/cpu"
labels = { team = "infra" }

[rules.load]
component = "system"
field = "load_1m"
comparison = "above"
critical = 8
average = "1m"
description = "Too many runnable processes."
""",
    )
    rules, set_thresholds = load(path)
    cpu, load_rule = rules["cpu"], rules["load"]
    assert (cpu.warning, cpu.critical, cpu.for_seconds) == (70, 95, 90) and cpu.labels == (("team", "infra"),)
    assert cpu.runbook_url == "https://wiki.example.com/cpu" and cpu.clear_margin == default_rules()["cpu"].clear_margin
    assert (load_rule.component, load_rule.field, load_rule.direction) == ("system", "load_1m", "above")
    assert (load_rule.warning, load_rule.critical, load_rule.smooth_seconds) == (None, 8, 60)
    assert rules["memory"] == default_rules()["memory"] and set_thresholds == {"cpu", "load"}
    # a threshold variable that is set wins over the file, as the environment wins everywhere
    assert load(path, frozenset({"PRSM_CPU_THRESHOLD"}))[0]["cpu"].warning == 80


@pytest.mark.parametrize(
    ("text", "line", "key", "expected"),
    [
        ("[rules.cpu]\nwarning = 80\ncritical = 95 95\n", 3, "rules.cpu.critical", "TOML"),
        ("[rules.cpu]\nwarning = \n", 2, "rules.cpu.warning", "TOML"),
        ("[rules.cpu\n", 1, "rules.cpu", "TOML"),
        ("[rules.cpu]\n\nwarning = 150\n", 3, "rules.cpu.warning", "a number from 0 to 100"),
        ("[rules.cpu]\nwarning = 96\n", 2, "rules.cpu.warning", "at or below the critical level 95"),
        ("[rules.cpu]\nwarnin = 80\n", 2, "rules.cpu.warnin", "one of the keys"),
        ("[rules.cpu]\nfield = 'load_1m'\n", 2, "rules.cpu.field", "'cpu_percent'"),
        ("[rules.cpu]\nfor = 'soon'\n", 2, "rules.cpu.for", "a duration"),
        ("[rules.cpu]\nclear_margin = -1\n", 2, "rules.cpu.clear_margin", "at least 0"),
        ("# mine\n[rules.x]\ncomponent = 'system'\nfield = 'cpu'\n", 4, "rules.x.field", "load_1m"),
        ("[rules.x]\nfield = 'load_1m'\n", 1, "rules.x.component", "a new rule needs a component"),
        ("[rules.x]\ncomponent = 'ai'\nfield = 'success_rate'\ncomparison = '<'\n", 4, "rules.x.comparison", "below"),
        ("[rules.x]\ncomponent='ai'\nfield='success_rate'\ncomparison='below'\n", 1, "rules.x.warning", "threshold"),
        ("[rules.cpu]\nlabels = { 'a b' = 'x' }\n", 2, "rules.cpu.labels", "a table of names"),
        ("[rules.Bad]\nwarning = 1\n", 1, "rules.Bad", "lower-case"),
        ("[alerts]\nx = 1\n", 1, "alerts", "only [rules.<name>] tables"),
        ("[rules.cpu]\nrunbook = 'javascript:alert(1)'\n", 2, "rules.cpu.runbook", "an http:// or https:// URL"),
        ("[rules.cpu]\nrunbook = 'data:text/html,x'\n", 2, "rules.cpu.runbook", "a relative path"),
        ("[rules.cpu]\nrunbook = '//evil.example/x'\n", 2, "rules.cpu.runbook", "a relative path"),
        ("[rules.latency]\nwarning = 1e308\n", 2, "rules.latency.warning=1e+308", "a number from 0 to 60000"),
        (
            "[rules.p95]\ncomponent = 'network'\nfield = 'p95_latency'\ncomparison = 'above'\nwarning = 1e308\n",
            5,
            "rules.p95.warning=1e+308",
            "a number from 0 to 3.6e+06 (ms)",
        ),
        (
            "[rules.x]\ncomponent = 'system'\nfield = 'cpu_percent'\ncomparison = 'above'\ncritical = -5\n",
            5,
            "rules.x.critical=-5",
            "a number from 0 to 100 (%)",
        ),
        (
            "[rules.x]\ncomponent = 'network'\nfield = 'total_nodes'\ncomparison = 'below'\nwarning = 1e13\n",
            5,
            "rules.x.warning=10000000000000.0",
            "a number from -1e+12 to 1e+12",
        ),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_line_and_key(tmp_path, text, line, key, expected):
    path = write(tmp_path / "rules.toml", text)
    with pytest.raises(RulesFileError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: {key}") and expected in message and "\n" not in message
    assert isinstance(caught.value, ConfigError) and caught.value.line == line


RULE_ON = "[rules.watch]\ncomponent = 'network'\nfield = '{}'\ncomparison = 'above'\nwarning = 2\n"


@pytest.mark.parametrize(
    ("field", "sources", "unit"),
    [("peer_evictions", (THIS_MACHINE, NODES), ""), ("bytes_rate", (THIS_MACHINE, DEMO), "B/s")],
)
def test_a_custom_rule_may_watch_any_field_the_active_sources_declare(tmp_path, field, sources, unit):
    """Issue 20: the reader judged fields by the demo's list, whatever the sources were."""
    rules, _ = load(write(tmp_path / "rules.toml", RULE_ON.format(field)), sources=sources)
    assert (rules["watch"].field, rules["watch"].unit) == (field, unit)  # the unit is the field's


@pytest.mark.parametrize(
    ("field", "sources", "there"),
    [
        ("bytes_rate", (THIS_MACHINE, NODES), "peer_evictions"),  # the demo's: would never fire on real nodes
        ("peer_evictions", (THIS_MACHINE, DEMO), "bytes_rate"),
        ("peer_evictions", (THIS_MACHINE,), "none: no active source reports it"),
    ],
)
def test_a_rule_on_a_field_no_active_source_declares_names_the_field_and_those_there_are(
    tmp_path, field, sources, there
):
    path = write(tmp_path / "rules.toml", RULE_ON.format(field))
    with pytest.raises(RulesFileError) as caught:
        load(path, sources=sources)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: rules.watch.field='{field}' is invalid")
    assert "the active sources declare for network" in message and there in message
    assert load_rules(path, default_thresholds())[0]["watch"].field == field  # syntax alone: the reader's part


def test_the_cli_stops_on_a_bad_file_with_one_line_and_exit_2(tmp_path):
    path = write(tmp_path / "rules.toml", "[rules.memory]\ncritical = 'high'\n")
    result = run_cli("collect", "--once", env={"PRSM_RULES_FILE": str(path)})
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert f"{path}:2: rules.memory.critical='high' is invalid" in line
    missing = run_cli("collect", "--once", env={"PRSM_RULES_FILE": str(tmp_path / "none.toml")})
    assert missing.returncode == 2 and "PRSM_RULES_FILE=" in missing.stderr


class Memory:
    """A source whose memory_percent the test sets."""

    components = ("system",)
    fields = {"system": (TIMESTAMP, Field("memory_percent", "%", GAUGE, "test value"))}
    value = 50.0

    def collect(self):
        return {"system": {"timestamp": time.time(), "memory_percent": self.value}}


def edit(path: Path, text: str) -> None:
    """Rewrite the file so that its signature changes even within one mtime tick."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def tick(collector) -> None:
    """Let the file's watch read it (as its thread does each second), then tick."""
    collector.rules_file.poll()
    collector.collect_once()


def test_an_edit_applies_on_the_next_tick_and_a_bad_edit_keeps_the_rules_in_force(tmp_path):
    path = write(tmp_path / "rules.toml", "[rules.memory]\nwarning = 90\ncritical = 95\n")
    with MetricsCollector(settings=Settings(demo=False, rules_file=str(path)), sources=[Memory()]) as collector:
        tick(collector)
        assert collector.rules["memory"].warning == 90 and not collector.get_active_alerts()
        edit(path, "[rules.memory]\nwarning = 40\ncritical = 95\n")
        tick(collector)
        [alert] = collector.get_active_alerts()
        assert alert["key"] == "rule:memory" and alert["details"]["threshold"] == 40
        assert alert["details"]["runbook_url"] == "docs/runbooks.md#memory" and alert["details"]["description"]

        edit(path, "[rules.memory]\nwarning = 40\ncritical = 'x'\n")
        tick(collector)
        problem = next(a for a in collector.get_active_alerts() if a["key"] == ALERT_KEY)
        assert f"{path}:3: rules.memory.critical='x'" in problem["message"] and problem["level"] == "error"
        assert collector.rules["memory"].warning == 40  # the rules in force stay
        collector.collect_once()  # reported once, not on every tick
        assert sum(e["details"].get("key") == "rules.memory.critical" for e in collector.get_alerts()) == 1

        edit(path, "[rules.memory]\nwarning = 60\ncritical = 95\n\n[rules.mem_low]\ncomponent = 'system'\n"
                   "field = 'memory_percent'\ncomparison = 'below'\nwarning = 55\n")  # fmt: skip
        tick(collector)
        keys = {a["key"] for a in collector.get_active_alerts()}
        assert keys == {"rule:mem_low"}  # memory resolved at 60, the new rule fires, the problem recovered
        edit(path, "[rules.memory]\nwarning = 60\n")
        tick(collector)
        assert "mem_low" not in collector.rules and not collector.get_active_alerts()
        assert any(e["message"].startswith(f"Rules file {path} applied") for e in collector.get_alerts())


def test_a_collector_judges_the_file_by_the_fields_of_its_own_sources(tmp_path):
    path = write(tmp_path / "rules.toml", RULE_ON.format("peer_evictions"))
    with pytest.raises(RulesFileError, match="rules.watch.field='peer_evictions'.*for network: none"):
        MetricsCollector(settings=Settings(demo=False, rules_file=str(path)), sources=[Memory()])
    edit(path, "[rules.memory]\nwarning = 60\n")
    with MetricsCollector(settings=Settings(demo=False, rules_file=str(path)), sources=[Memory()]) as collector:
        edit(path, "[rules.memory]\nwarning = 40\n\n" + RULE_ON.format("load_1m").replace("network", "system"))
        tick(collector)  # an edit is judged the same way: one alert, the rules in force stay
        problem = next(a for a in collector.get_active_alerts() if a["key"] == ALERT_KEY)
        assert (
            "rules.watch.field='load_1m'" in problem["message"] and "for system: memory_percent" in problem["message"]
        )
        assert collector.rules["memory"].warning == 60 and "watch" not in collector.rules


def test_thresholds_tuned_on_the_page_survive_an_edit_of_other_rules(tmp_path):
    path = write(tmp_path / "rules.toml", "[rules.disk]\nwarning = 50\ncritical = 60\n")
    with MetricsCollector(settings=Settings(demo=False, rules_file=str(path)), sources=[Memory()]) as collector:
        collector.configure(thresholds={"cpu": {"warning": 70}}, actor="alice")
        assert collector.get_alerts()[-1]["details"]["actor"] == "alice"
        edit(path, "[rules.disk]\nwarning = 55\ncritical = 60\n")
        tick(collector)
        assert collector.rules["cpu"].warning == 70 and collector.rules["disk"].warning == 55
        edit(path, "")  # the file stops setting disk: back to its default
        tick(collector)
        assert collector.rules["disk"].warning == 90 and collector.rules["cpu"].warning == 70


def test_the_app_shows_a_bad_edit_with_st_error(monkeypatch, tmp_path):
    path = write(tmp_path / "rules.toml", "[rules.memory]\nwarning = 90\n")
    for app in fresh_app(monkeypatch, PRSM_DEMO="false", PRSM_RULES_FILE=str(path)):
        open_page(app, "streamlit_app.py")
        assert not app.error
        assert app.sidebar.number_input[2].value == 90  # memory's warning, from the file
        app.sidebar.number_input[2].set_value(80.0)
        next(b for b in app.sidebar.button if b.label == "Apply to all viewers").click().run()
        from prsm_monitor.core import shared

        assert shared.current_collector().rules["memory"].warning == 80
        app.sidebar.button(key="thr_reset").click().run()
        assert shared.current_collector().rules["memory"].warning == 90  # "defaults" are the file's
        edit(path, "[rules.memory]\nwarning = 90\nfor = -3\n")
        from prsm_monitor.core import shared

        tick(shared.current_collector())
        app.run()
        [error] = [e.value.replace("\\", "") for e in app.error]
        assert (
            error.startswith("Rules file not applied, the rules in force stay: ")
            and "rules.toml:3: rules.memory.for" in error
        )
        assert [t.value for t in app.title] == ["Overview"]  # the page goes on, with the rules in force


def test_the_app_shows_a_bad_file_at_start_with_st_error(monkeypatch, tmp_path):
    path = write(tmp_path / "rules.toml", "[rules.memory\n")
    for app in fresh_app(monkeypatch, PRSM_DEMO="false", PRSM_RULES_FILE=str(path)):
        app.run()
        assert any(f"{path}:1" in e.value.replace("\\", "") for e in app.error)


def test_after_a_restart_the_file_wins_over_thresholds_tuned_before(tmp_path):
    path = write(tmp_path / "rules.toml", "[rules.disk]\nwarning = 50\ncritical = 60\n")
    settings = Settings(demo=False, rules_file=str(path), data_dir=str(tmp_path / "data"))
    with MetricsCollector(settings=settings, sources=[Memory()]) as collector:
        collector.configure(thresholds={"disk": {"warning": 55}, "cpu": {"warning": 70}})
        tick(collector)
    with MetricsCollector(settings=settings, sources=[Memory()]) as collector:
        assert collector.rules["disk"].warning == 50 and collector.rules["cpu"].warning == 70


def test_a_runbook_is_an_http_url_or_a_relative_path(tmp_path):
    for runbook in ("https://wiki.example.com/cpu", "http://wiki/cpu#x", "docs/runbooks.md#cpu", "/wiki/cpu"):
        path = write(tmp_path / "rules.toml", f"[rules.cpu]\nrunbook = '{runbook}'\n")
        assert load(path)[0]["cpu"].runbook_url == runbook


# -- what the file is: a regular file of at most 1 MiB, read off the tick -------------------------
def not_applied(collector) -> list[dict]:
    """The rules-file problem events in the alert log."""
    prefix = "Rules file not applied"
    return [e for e in collector.get_alerts() if e["kind"] == "error" and e["message"].startswith(prefix)]


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda p: os.mkfifo(p), "it is a FIFO"),
        (lambda p: os.symlink("/dev/zero", p), "it is a character device"),
        (lambda p: os.mkdir(p), "it is a directory"),
        (lambda p: p.write_bytes(b"# padding\n" * 110_000), "it has 1,100,000 bytes"),
    ],
    ids=["fifo", "dev-zero", "directory", "over-1-MiB"],
)
def test_a_file_that_is_not_a_small_regular_one_is_refused_without_reading_it(tmp_path, make, what):
    path = tmp_path / "rules.toml"
    make(path)
    with pytest.raises(RulesFileError) as caught:  # a FIFO with no writer would block a plain open()
        load(path)
    assert str(caught.value).startswith(f"{path}: {path!s}") or str(path) in str(caught.value)
    assert what in str(caught.value) and "a regular UTF-8 TOML file of at most 1 MiB" in str(caught.value)


@pytest.mark.parametrize("swap", ["fifo", "dev-zero"])
def test_a_running_collector_keeps_ticking_when_its_file_becomes_a_fifo_or_dev_zero(tmp_path, swap):
    """The attack of issue 22: rules.toml replaced by a FIFO (ticks froze until something wrote
    to it) or by a symlink to /dev/zero (MemoryError in the tick). Now the watch thread refuses
    either without opening it, the running collector raises one alert, keeps its rules and
    goes on ticking; a good file afterwards is applied and resolves the alert."""
    path = write(tmp_path / "rules.toml", "[rules.memory]\nwarning = 70\ncritical = 95\n")
    settings = Settings(demo=False, rules_file=str(path), interval=0.1)
    with MetricsCollector(settings=settings, sources=[Memory()]) as collector:
        collector.rules_file.every = 0.05
        collector.start()
        wait_until(lambda: (collector.latest("collector") or {}).get("ticks_total", 0) >= 2)
        path.unlink()
        os.mkfifo(path) if swap == "fifo" else os.symlink("/dev/zero", path)
        [problem] = wait_until(lambda: not_applied(collector))
        assert "it is a FIFO" in problem["message"] or "it is a character device" in problem["message"]
        assert problem["message"].startswith("Rules file not applied, the rules in force stay: ")
        ticks = collector.latest("collector")["ticks_total"]
        wait_until(lambda: collector.latest("collector")["ticks_total"] >= ticks + 5)  # the clock goes on
        reads = collector.rules_file.reads
        wait_until(
            lambda: collector.rules_file.reads == reads and collector.latest("collector")["ticks_total"] >= ticks + 10
        )
        assert len(not_applied(collector)) == 1  # one alert, not one per tick or per poll
        assert collector.rules["memory"].warning == 70  # the rules in force stay
        path.unlink()
        write(path, "[rules.memory]\nwarning = 60\ncritical = 95\n")
        wait_until(lambda: collector.rules["memory"].warning == 60)
        wait_until(lambda: not any(a["key"] == ALERT_KEY for a in collector.get_active_alerts()))


def test_the_tick_never_reads_the_file(tmp_path):
    """Edits reach the rules only through the watch: a tick alone neither reads nor applies them."""
    path = write(tmp_path / "rules.toml", "[rules.memory]\nwarning = 70\ncritical = 95\n")
    watched_every = 3600.0  # the thread would not look again within this test
    with MetricsCollector(settings=Settings(demo=False, rules_file=str(path)), sources=[Memory()]) as collector:
        collector.rules_file.every = watched_every
        reads = collector.rules_file.reads
        edit(path, "[rules.memory]\nwarning = 40\ncritical = 95\n")
        for _ in range(3):
            collector.collect_once()
        assert collector.rules_file.reads == reads and collector.rules["memory"].warning == 70
        assert collector.rules_file.poll() and collector.rules_file.reads == reads + 1  # what the thread does
        collector.collect_once()
        assert collector.rules["memory"].warning == 40
