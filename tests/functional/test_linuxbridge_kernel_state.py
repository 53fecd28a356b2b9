"""linuxbridge.kernel_state.read: one snapshot of a namespace over a raw rtnetlink socket, as the
planner compares it, of devices and entries made with ip and bridge."""
import subprocess
import uuid

import pytest

from netweave.core.agent import netns, rtnetlink
from netweave.mechanism_drivers.linuxbridge import kernel_state

pytestmark = pytest.mark.system("ip", "bridge")


@pytest.fixture
def namespace():
    name = "nwks-%s" % uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_links_addresses_fdb_and_neighbours_of_vxlan_devices(namespace):
    def ip(*args):
        subprocess.run(["ip", "-n", namespace] + list(args), check=True)
    ip("link", "add", "nwnic0", "type", "veth", "peer", "name", "nwnic1")
    ip("addr", "add", "192.0.2.5/24", "dev", "nwnic0")
    ip("link", "set", "nwnic0", "up")
    ip("link", "add", "brqx", "type", "bridge", "stp_state", "0", "forward_delay", "0")
    ip("link", "add", "vxlan-7", "type", "vxlan", "id", "7", "local", "192.0.2.5", "dev", "nwnic0", "dstport",
       "4789", "ttl", "3", "tos", "4", "nolearning", "proxy", "srcport", "1000", "2000")
    ip("link", "add", "vxlan-8", "type", "vxlan", "id", "8", "group", "239.1.1.1", "dev", "nwnic0", "dstport",
       "8472")
    ip("link", "set", "vxlan-7", "master", "brqx", "mtu", "1400")
    ip("link", "set", "vxlan-7", "up")
    for mac in ("00:00:00:00:00:00", "FA:16:3E:00:00:01"):
        subprocess.run(["bridge", "-n", namespace, "fdb", "append", mac, "dev", "vxlan-7", "dst", "192.0.2.9"],
                       check=True)
    ip("neigh", "replace", "10.0.0.5", "lladdr", "fa:16:3e:00:00:01", "dev", "vxlan-7", "nud", "permanent")
    ip("neigh", "replace", "2001:db8::5", "lladdr", "fa:16:3e:00:00:02", "dev", "vxlan-7", "nud", "permanent")
    with netns.entered(namespace):
        reader = rtnetlink.Reader()
    try:
        state = kernel_state.read(reader)
    finally:
        reader.close()
    nic, bridge, vxlan7, vxlan8 = (state.link(name) for name in ("nwnic0", "brqx", "vxlan-7", "vxlan-8"))
    assert (nic.kind, nic.up, nic.master) == ("veth", True, None)
    assert (bridge.kind, bridge.stp_state, bridge.forward_delay) == ("bridge", 0, 0)
    assert (vxlan7.kind, vxlan7.master, vxlan7.mtu, vxlan7.up) == ("vxlan", "brqx", 1400, True)
    assert vxlan7.vxlan == kernel_state.VxlanInfo(vni=7, local="192.0.2.5", dev="nwnic0", port=4789, ttl=3, tos=4,
                                                  learning=False, proxy=True, group=None, srcport_min=1000,
                                                  srcport_max=2000)
    assert vxlan8.vxlan == kernel_state.VxlanInfo(vni=8, local=None, dev="nwnic0", port=8472, ttl=0, tos=0,
                                                  learning=True, proxy=False, group="239.1.1.1")
    assert state.members("brqx") == ["vxlan-7"]
    assert state.global_addresses("nwnic0") == (kernel_state.Address("192.0.2.5", 24),)
    assert state.device_with_address("192.0.2.5") == "nwnic0"
    assert state.fdb["vxlan-7"] == {("00:00:00:00:00:00", "192.0.2.9"), ("fa:16:3e:00:00:01", "192.0.2.9")}
    assert state.fdb["vxlan-8"] == {("00:00:00:00:00:00", "239.1.1.1")}
    neighbours = state.neighbours["vxlan-7"]
    assert (neighbours["10.0.0.5"], neighbours["2001:db8::5"]) == ("fa:16:3e:00:00:01", "fa:16:3e:00:00:02")
    assert "vxlan-8" not in state.neighbours
