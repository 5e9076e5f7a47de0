import pytest

from prsm_monitor.demo.faults import apply_fault
from prsm_monitor.settings.values import ConfigError


class Recorder:
    """Stands in for a DemoNetwork: records fault calls, refuses an unknown node like it does."""

    def __init__(self):
        self.calls = []

    def stop_node(self, name):
        if name != "node-1":
            raise KeyError(f"no node {name!r}: expected one of node-1")
        self.calls.append(("stop_node", name))

    def drift(self, model=None, amount=1.0):
        self.calls.append(("drift", model, amount))


def test_a_fault_is_applied_and_described_for_the_log():
    network = Recorder()
    assert apply_fault(network, {"action": "stop_node", "name": "node-1"}) == (
        "network",
        "Demo fault: node node-1 stopped",
        {"fault": "stop_node", "name": "node-1"},
    )
    component, message, _ = apply_fault(network, {"action": "drift", "amount": 0.5})
    assert (component, message) == ("ai", "Demo fault: input drift 0.5 on every model")
    assert network.calls == [("stop_node", "node-1"), ("drift", None, 0.5)]


@pytest.mark.parametrize(
    "fault, field",
    [
        ({"action": "explode"}, "fault.action"),
        ({"action": "stop_node"}, "fault.name"),
        ({"action": "stop_node", "name": "node-1", "force": True}, "fault.force"),
        ({"action": "stop_node", "name": "node-9"}, "fault.name"),
    ],
)
def test_bad_faults_name_the_field_and_change_nothing(fault, field):
    network = Recorder()
    with pytest.raises(ConfigError) as info:
        apply_fault(network, fault)
    assert info.value.variable == field and network.calls == []


def test_without_a_demo_network_a_fault_is_refused():
    with pytest.raises(ConfigError, match="a running demo network"):
        apply_fault(None, {"action": "heal"})
