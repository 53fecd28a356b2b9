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


def test_device_namer_names_the_inside_device_only():
    port = "6c15d7b8-87a4-4b0e-9f3a-1c2d3e4f5a6b"
    def namer(port_id):
        return "qr-" + port_id[:11]
    assert interface.BridgeInterfaceDriver(device_namer=namer).device_name(port) == "qr-6c15d7b8-87"
    assert interface.BridgeInterfaceDriver(device_namer=namer).host_device_name(port) == "tap6c15d7b8-87"
    assert interface.OVSInterfaceDriver(device_namer=namer).device_name(port) == "qr-6c15d7b8-87"
    assert interface.OVSInterfaceDriver(use_veth=True, device_namer=namer).device_name(port) == "qr-6c15d7b8-87"
    loaded = interface.load_driver("linuxbridge", device_namer=namer)
    assert loaded.device_name(port) == "qr-6c15d7b8-87"
