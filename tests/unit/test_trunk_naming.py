"""Open vSwitch trunk device names: Neutron's, so Nova/os-vif and the agent agree."""
from netweave.core import naming

TRUNK = "82597947-6e0a-40f3-b4ff-ccedd8c74ff8"
PARENT = "a6546d52-bc8b-4ca0-bd3a-bda1afcde6bb"
CHILD = "cd6850a0-186d-47ac-8981-6fa52088088e"


def test_trunk_bridge_and_patch_ports():
    assert naming.trunk_bridge(TRUNK) == "tbr-82597947-6"
    assert naming.trunk_parent_int_port(PARENT) == "tpi-a6546d52-bc"
    assert naming.trunk_parent_trunk_port(PARENT) == "tpt-a6546d52-bc"
    assert naming.subport_int_port(CHILD) == "spi-cd6850a0-18"
    assert naming.subport_trunk_port(CHILD) == "spt-cd6850a0-18"
    assert all(len(name) <= naming.DEVICE_NAME_MAX_LEN for name in (
        naming.trunk_bridge(TRUNK), naming.trunk_parent_int_port(PARENT), naming.subport_trunk_port(CHILD)))
