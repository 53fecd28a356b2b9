"""linuxbridge kernel_state reads a VXLAN device's settings as the kernel reports them."""
import subprocess
import uuid

import pytest
from pyroute2 import NetNS

from netweave.mechanism_drivers.linuxbridge import kernel_state

pytestmark = pytest.mark.system("ip")


@pytest.fixture
def namespace():
    name = "nwks-%s" % uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_a_vxlan_source_port_range_is_read_and_an_unset_one_is_zero(namespace):
    def add(name, vni, *extra):
        subprocess.run(["ip", "-n", namespace, "link", "add", name, "type", "vxlan", "id", str(vni),
                        "dstport", "4789", "local", "127.0.0.1", *extra], check=True)

    add("vxranged", 42, "srcport", "1000", "2000")
    add("vxplain", 43)
    with NetNS(namespace) as ipr:
        state = kernel_state.read(ipr)
    ranged, plain = state.links["vxranged"].vxlan, state.links["vxplain"].vxlan
    assert (ranged.vni, ranged.srcport_min, ranged.srcport_max) == (42, 1000, 2000)
    assert (plain.vni, plain.srcport_min, plain.srcport_max) == (43, 0, 0)
