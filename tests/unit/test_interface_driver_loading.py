"""interface_driver names: the entry points, Neutron's class paths and plain class paths."""
import pytest

from netweave.core.agent import interface


@pytest.mark.parametrize("name, expected", [
    ("linuxbridge", interface.BridgeInterfaceDriver),
    ("openvswitch", interface.OVSInterfaceDriver),
    ("neutron.agent.linux.interface.BridgeInterfaceDriver", interface.BridgeInterfaceDriver),
    ("neutron.agent.linux.interface.OVSInterfaceDriver", interface.OVSInterfaceDriver),
    ("netweave.core.agent.interface.OVSInterfaceDriver", interface.OVSInterfaceDriver),
])
def test_names_load_the_driver(name, expected):
    driver = interface.load_driver(name, host_namespace="h1", integration_bridge="br-x", use_veth=False)
    assert type(driver) is expected
    assert driver.host_namespace == "h1"


@pytest.mark.parametrize("name", ["", None, "nosuchdriver", "netweave.core.agent.interface.Nope",
                                  "no.such.module.Driver"])
def test_bad_names_are_refused_with_a_message(name):
    with pytest.raises(ValueError) as error:
        interface.load_driver(name)
    assert "interface_driver" in str(error.value)


def test_device_names():
    port = "6c15d7b8-8700-4000-8000-00000000dddd"
    assert interface.BridgeInterfaceDriver().device_name(port) == "ns-6c15d7b8-87"
    assert interface.BridgeInterfaceDriver().host_device_name(port) == "tap6c15d7b8-87"
    assert interface.OVSInterfaceDriver().device_name(port) == "tap6c15d7b8-87"
    assert interface.OVSInterfaceDriver(use_veth=True).device_name(port) == "ns-6c15d7b8-87"
