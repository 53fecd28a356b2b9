"""Linux bridge trunks: VLAN sub-interfaces of the parent's tap, planned (no I/O).

The book's layout (chapter 14, B.8): each subport's device is a VLAN sub-interface of
the parent's tap, ``ip link add link tap<parent[:11]> name tap<subport[:11]> type vlan id
<segmentation id>``, enslaved to the subport network's ``brq`` bridge, with IPv6 off
(as upstream's plumber). The kernel strips the guest's tag there and the frame follows
the bridge like any port's.

``parse_vlan_children(text, parent)`` reads ``ip -d link list`` output; ``plan(...)``
compares the children found with the ones wanted: stale ones (unknown, or with another
VLAN id) are deleted, missing ones created, and each wanted one ends enslaved and up.
"""
import dataclasses
import re

from netweave.core import naming

# "33: tapcd6850a0-18@tapa6546d52-bc: <...> mtu 1500 ... master brq3f05db4d-c4 ..."
_LINK = re.compile(r"^\d+:\s+(?P<name>[^@:\s]+)(?:@(?P<parent>[^:\s]+))?:\s")
_VLAN_ID = re.compile(r"vlan protocol 802\.1Q id (?P<vid>\d+)|vlan_protocol 802\.1Q id (?P<vid2>\d+)")
_MASTER = re.compile(r"\smaster (?P<master>\S+)")


@dataclasses.dataclass(frozen=True)
class VlanChild:
    name: str
    vlan_id: int
    master: str | None = None


@dataclasses.dataclass(frozen=True)
class CreateVlan:
    name: str
    parent: str
    vlan_id: int


@dataclasses.dataclass(frozen=True)
class DeleteDevice:
    name: str


@dataclasses.dataclass(frozen=True)
class DisableIpv6:
    name: str


@dataclasses.dataclass(frozen=True)
class Enslave:
    name: str
    bridge: str


@dataclasses.dataclass(frozen=True)
class SetUp:
    name: str


def parse_vlan_children(text, parent):
    """{name: VlanChild} of the 802.1Q devices whose lower device is ``parent``."""
    children, current = {}, None
    for line in text.splitlines():
        link = _LINK.match(line)
        if link:
            current = link.group("name") if link.group("parent") == parent else None
            if current:
                master = _MASTER.search(line)
                children[current] = VlanChild(current, -1, master.group("master") if master else None)
            continue
        vid = _VLAN_ID.search(line)
        if current and vid:
            children[current] = dataclasses.replace(children[current],
                                                    vlan_id=int(vid.group("vid") or vid.group("vid2")))
    return children


def wanted_children(trunk, subport_networks):
    """{name: VlanChild} of a trunk: one per subport, in its network's bridge.

    ``subport_networks`` maps a subport's port id to its network id; subports whose
    network is not known yet are left for a later pass.
    """
    result = {}
    for sub in trunk["sub_ports"]:
        network_id = subport_networks.get(sub["port_id"])
        if network_id is None:
            continue
        name = naming.tap_device(sub["port_id"])
        result[name] = VlanChild(name, int(sub["segmentation_id"]), naming.network_bridge(network_id))
    return result


def plan(parent_tap, wanted, found):
    """Operations turning the children ``found`` into the ``wanted`` ones (deletes first)."""
    ops = []
    for name, child in sorted(found.items()):
        if name not in wanted or wanted[name].vlan_id != child.vlan_id:
            ops.append(DeleteDevice(name))
    for name, child in sorted(wanted.items()):
        have = found.get(name)
        fresh = have is None or have.vlan_id != child.vlan_id
        if fresh:
            ops += [CreateVlan(name, parent_tap, child.vlan_id), DisableIpv6(name)]
        if fresh or have.master != child.master:
            ops.append(Enslave(name, child.master))
        if fresh:
            ops.append(SetUp(name))
    return ops
