"""The Open vSwitch trunk plumbing with packets (userspace datapath): the book's trunk0
(parent on one network, a subport tagged 42 by the guest on another).

The instance is a namespace behind a small bridge of its own, as a guest with a VLAN
sub-interface would be: ``ens3`` untagged (the parent) and ``ens3.42``, an access port
tagged 42 (this kernel has no 8021q). Its vNIC is plugged into the trunk bridge tbr-
as Nova would; ovs_plan/ovs_apply add the patch pairs. The L2 agent's local VLANs on
br-int (1 for the parent's network, 2 for the subport's) are set by the test here.
"""
import uuid

import pytest

from harness import ovs as ovsfx
from harness.ovs import ovs_sandbox, ovs_switch  # noqa: F401 - pytest fixtures
from netweave.core import naming
from netweave.service_plugins.trunk.agent import ovs_apply, ovs_plan

PARENT_MAC, CHILD_MAC = "fa:16:3e:1c:3d:d3", "fa:16:3e:a9:48:cc"


def internal_port(sandbox, bridge, name, namespace, mac, cidr, **port_columns):
    extra = []
    for column, value in port_columns.items():
        extra += ["--", "set", "port", name, "%s=%s" % (column, value)]
    ovsfx.vsctl("add-port", bridge, name, "--", "set", "interface", name, "type=internal", *extra)
    ovsfx.ip("link", "set", name, "netns", namespace)
    ovsfx.in_netns(namespace, "ip", "link", "set", name, "address", mac)
    ovsfx.in_netns(namespace, "ip", "addr", "add", cidr, "dev", name)
    ovsfx.in_netns(namespace, "ip", "link", "set", name, "up")


def fdb(bridge):
    """{(vlan, mac): port number} of a bridge's MAC learning table."""
    lines = ovsfx.appctl("fdb/show", bridge).splitlines()[1:]
    return {(int(f[1]), f[2]): f[0] for f in (line.split() for line in lines)}


def sync(trunk, integration):
    tbr = naming.trunk_bridge(trunk["id"])
    desired = ovs_plan.desired_ports(trunk, PARENT_MAC, {s["port_id"]: CHILD_MAC for s in trunk["sub_ports"]},
                                     integration)
    ops = ovs_plan.plan(desired, ovs_apply.read([integration, tbr]), {integration, tbr})
    ovs_apply.apply(ops)
    return ops


@pytest.fixture
def trunk_host(ovs_sandbox):  # noqa: F811
    sb = ovs_sandbox
    trunk = {"id": str(uuid.uuid4()), "port_id": str(uuid.uuid4()),
             "sub_ports": [{"port_id": str(uuid.uuid4()), "segmentation_type": "vlan", "segmentation_id": 42}]}
    integration = sb.add_bridge(sb.name("nwi"))
    tbr = sb.add_bridge(naming.trunk_bridge(trunk["id"]))          # Nova plugs the vNIC into tbr-
    guest_bridge = sb.add_bridge(sb.name("nwg"))
    sb.patch(guest_bridge, sb.name("nwg", "u"), tbr, naming.tap_device(trunk["port_id"]))
    guest = sb.add_namespace(sb.name("nwn", "g"))
    internal_port(sb, guest_bridge, sb.name("nwg", "0"), guest, PARENT_MAC, "172.24.100.7/24", trunks="0")
    internal_port(sb, guest_bridge, sb.name("nwg", "42"), guest, CHILD_MAC, "172.16.0.11/24", tag="42")
    green, red = sb.add_namespace(sb.name("nwn", "G")), sb.add_namespace(sb.name("nwn", "R"))
    internal_port(sb, integration, sb.name("nwh", "G"), green, "fa:16:3e:00:00:02", "172.24.100.2/24", tag="1")
    internal_port(sb, integration, sb.name("nwh", "R"), red, "fa:16:3e:00:00:03", "172.16.0.2/24", tag="2")
    return trunk, integration, tbr, guest


def local_vlans(trunk, integration):
    # What the L2 agent does for the ports it finds by iface-id on br-int.
    ovsfx.vsctl("set", "port", naming.trunk_parent_int_port(trunk["port_id"]), "tag=1")
    for sub in trunk["sub_ports"]:
        ovsfx.vsctl("set", "port", naming.subport_int_port(sub["port_id"]), "tag=2")


def test_parent_untagged_subport_tagged_and_removal_cuts_only_its_vlan(trunk_host):
    trunk, integration, tbr, guest = trunk_host
    assert len(sync(trunk, integration)) == 4
    assert sync(trunk, integration) == []          # nothing left to do
    local_vlans(trunk, integration)
    assert ovsfx.wait_ping(guest, "172.24.100.2")   # parent: untagged, like any port
    assert ovsfx.wait_ping(guest, "172.16.0.2")  # subport: the guest's VLAN 42
    # The subport's MAC is tagged 42 on the instance side, carried on the local VLAN 2 on br-int.
    assert (42, CHILD_MAC) in fdb(tbr) and (0, PARENT_MAC) in fdb(tbr)
    assert (2, CHILD_MAC) in fdb(integration) and (1, PARENT_MAC) in fdb(integration)
    assert (42, CHILD_MAC) not in fdb(integration)
    # A restarted agent reads the same ports back and changes nothing: traffic keeps flowing.
    assert sync(trunk, integration) == []
    assert ovsfx.ping(guest, "172.16.0.2") and ovsfx.ping(guest, "172.24.100.2")

    # Remove the subport while the "instance" runs: VLAN 42 is cut, the parent stays.
    without = dict(trunk, sub_ports=[])
    ops = sync(without, integration)
    assert ops == [ovs_plan.DelPort(integration, naming.subport_int_port(trunk["sub_ports"][0]["port_id"])),
                   ovs_plan.DelPort(tbr, naming.subport_trunk_port(trunk["sub_ports"][0]["port_id"]))]
    assert not ovsfx.ping(guest, "172.16.0.2", count=2)
    assert ovsfx.ping(guest, "172.24.100.2")
