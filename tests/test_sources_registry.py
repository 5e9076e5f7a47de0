"""The source registry: kinds by name, a duplicate refused, a kind's module imported only
when its settings turn it on, and the rules file's fields those of the configured sources."""

import subprocess
import sys
from pathlib import Path

import pytest

from prsm_monitor.settings.model import Settings
from prsm_monitor.sources.base import PluginSource, Source, as_source
from prsm_monitor.sources.registry import REGISTRY, Registry

ROOT = Path(__file__).resolve().parents[1]


def test_registering_a_name_twice_is_refused():
    registry = Registry()
    registry.register("system", "prsm_monitor.sources.system", "SystemSource", lambda s: True)
    with pytest.raises(ValueError, match="name='system' is already registered"):
        registry.register("system", "somewhere.else", "Other", lambda s: True)
    assert [k.name for k in registry.kinds()] == ["system"]


@pytest.mark.parametrize(
    "settings, kinds",
    [
        (Settings(demo=False), ["system"]),
        (Settings(demo=True), ["system", "demo"]),
        (Settings(demo=True, node_urls=("http://node-a:8000",)), ["system", "nodes"]),  # real nodes replace the demo
        (Settings(demo=True, prometheus_url="http://prom:9090"), ["system", "prometheus", "demo"]),
    ],
)
def test_the_settings_choose_the_kinds_in_registration_order(settings, kinds):
    assert [k.name for k in REGISTRY.configured(settings)] == kinds


def test_with_the_demo_the_real_node_source_is_never_imported():
    script = (
        "import sys\n"
        "from prsm_monitor.settings.model import Settings\n"
        "from prsm_monitor.core.collector import MetricsCollector\n"
        "settings = Settings(demo=True, demo_nodes=2, demo_peers=1, rules_file=None)\n"
        "with MetricsCollector(settings=settings) as collector:\n"
        "    collector.collect_once()\n"
        "    print(sorted(type(s).__name__ for s in collector.sources))\n"
        "print(sorted(m for m in sys.modules if m.startswith('prsm_monitor.sources.nodes')))\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PRSM_PERSIST": "false", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    assert out.stdout.splitlines() == ["['DemoSource', 'SystemSource']", "[]"], out.stderr


def test_a_duck_typed_source_is_taken_under_the_contract_with_its_own_hooks():
    class Counter:
        components = ("system",)
        fields = {"system": ()}
        closed = False

        def collect(self):
            return {"system": {"timestamp": 1.0}}

        def close(self):
            self.closed = True

    counter = Counter()
    source = as_source(counter)
    assert isinstance(source, PluginSource) and source.plugin is counter
    assert list(source.conditions({})) == [] and source.rows == () and source.demo_network is None
    source.close()
    assert counter.closed
    assert as_source(source) is source and isinstance(source, Source)
