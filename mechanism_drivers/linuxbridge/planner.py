"""Desired layout vs kernel state -> the operations that close the gap (pure).

Nothing is planned for what is already right, so planning an unchanged host
gives an empty list. Operations come in this order, each group depending only
on the ones before it:

  1. create bridges, VLAN and VXLAN devices (a device with the wrong
     parameters is deleted and created again)
  2. bridge options (STP off, forward delay 0) and MTUs
  3. addresses of a NIC that joins a bridge move to the bridge
  4. enslave uplinks and taps
  5. set devices up
  6. release taps of ports whose admin state is down
  7. delete bridges left without taps (giving a NIC its addresses back) and
     the VLAN/VXLAN devices that were their uplinks

Bridges the agent deletes are its own: brq* bridges. A bridge from
bridge_mappings, and NICs, are never deleted.
"""
import dataclasses
import ipaddress
import re

from netweave.core import naming
from netweave.mechanism_drivers.linuxbridge import desired as desired_mod
from netweave.mechanism_drivers.linuxbridge import operations as ops

_OWN_VXLAN = re.compile(r"^%s\d+$" % re.escape(naming.VXLAN_PREFIX))


@dataclasses.dataclass(frozen=True)
class Plan:
    operations: tuple = ()
    errors: dict = dataclasses.field(default_factory=dict)   # device -> why it cannot be wired

    def __len__(self):
        return len(self.operations)

    def __iter__(self):
        return iter(self.operations)

    def networks(self):
        return {op.network_id for op in self.operations if op.network_id}


class _Problem(Exception):
    pass


def _same_ip(left, right):
    if left is None or right is None:
        return left == right
    try:
        return ipaddress.ip_address(left) == ipaddress.ip_address(right)
    except ValueError:
        return left == right


def vxlan_differences(spec, info):
    """Names of the VXLAN parameters of ``info`` (kernel) that differ from ``spec`` (wanted)."""
    differences = []
    if info is None:
        return ["vni"]
    if info.vni != spec.vni:
        differences.append("vni")
    if not _same_ip(info.local, spec.local):
        differences.append("local")
    if info.dev != spec.dev:
        differences.append("dev")
    if spec.port is not None and info.port != spec.port:
        differences.append("port")
    if spec.ttl is not None and info.ttl != spec.ttl:
        differences.append("ttl")
    if spec.tos is not None and info.tos != spec.tos:
        differences.append("tos")
    if bool(info.learning) != bool(spec.learning):
        differences.append("learning")
    if bool(info.proxy) != bool(spec.proxy):
        differences.append("proxy")
    if not _same_ip(info.group, spec.group):
        differences.append("group")
    if (spec.srcport_min or spec.srcport_max) and (
            (info.srcport_min, info.srcport_max) != (spec.srcport_min, spec.srcport_max)):
        differences.append("srcport")
    return differences


def _vxlan_create(uplink, network_id):
    spec = uplink.vxlan
    return ops.Operation.make(
        ops.CREATE_VXLAN, uplink.name, network_id, vni=spec.vni, local=spec.local, dev=spec.dev,
        port=spec.port, ttl=spec.ttl, tos=spec.tos, learning=spec.learning, proxy=spec.proxy,
        group=spec.group, srcport_min=spec.srcport_min, srcport_max=spec.srcport_max, mtu=uplink.mtu)


class _Builder:
    """Collects operations by phase; ``operations()`` gives them in order."""

    PHASES = ("create", "settings", "move", "enslave", "up", "release", "delete")

    def __init__(self):
        self.phase = {name: [] for name in self.PHASES}

    def add(self, phase, action, device, network_id=None, **params):
        self.phase[phase].append(ops.Operation.make(action, device, network_id, **params))

    def operations(self):
        return tuple(op for name in self.PHASES for op in self.phase[name])


def _bridge(net, state, out):
    link = state.link(net.bridge)
    if not net.bridge_managed:
        if link is None or link.kind != "bridge":
            raise _Problem("bridge %s (bridge_mappings, physical network %s) does not exist"
                           % (net.bridge, net.physical_network))
        return
    if link is None:
        out.add("create", ops.CREATE_BRIDGE, net.bridge, net.network_id)
    elif link.kind != "bridge":
        raise _Problem("device %s exists and is not a bridge" % net.bridge)
    elif link.stp_state or link.forward_delay:
        out.add("settings", ops.SET_BRIDGE_OPTIONS, net.bridge, net.network_id)


def _physical_uplink(net, uplink, state, out):
    nic = state.link(uplink.name)
    if nic is None:
        raise _Problem("physical interface %s (physical network %s) does not exist"
                       % (uplink.name, net.physical_network))
    if nic.kind == "bridge":
        raise _Problem("physical interface %s is a bridge; list it in bridge_mappings" % uplink.name)
    if nic.master != net.bridge:
        addresses = state.global_addresses(nic.name)
        if addresses:
            out.add("move", ops.MOVE_ADDRESSES, nic.name, net.network_id, target=net.bridge,
                    addresses=tuple((a.address, a.prefixlen) for a in addresses))
        out.add("enslave", ops.ENSLAVE, nic.name, net.network_id, bridge=net.bridge)
    if not nic.up:
        out.add("up", ops.SET_UP, nic.name, net.network_id)


def _vlan_uplink(net, uplink, state, out):
    parent = state.link(uplink.parent)
    if parent is None:
        raise _Problem("interface %s for the VLANs of physical network %s does not exist"
                       % (uplink.parent, net.physical_network))
    link = state.link(uplink.name)
    if link is not None and link.kind != "vlan":
        raise _Problem("device %s exists and is not a VLAN device" % uplink.name)
    if link is not None and (link.vlan_id != uplink.vlan_id or link.parent != uplink.parent):
        out.add("create", ops.DELETE_LINK, uplink.name, net.network_id)
        link = None
    if link is None:
        out.add("create", ops.CREATE_VLAN, uplink.name, net.network_id, parent=uplink.parent,
                vlan_id=uplink.vlan_id, mtu=uplink.mtu)
    elif uplink.mtu and link.mtu != uplink.mtu:
        out.add("settings", ops.SET_MTU, uplink.name, net.network_id, mtu=uplink.mtu)
    if not parent.up:
        out.add("up", ops.SET_UP, parent.name, net.network_id)
    if link is None or link.master != net.bridge:
        out.add("enslave", ops.ENSLAVE, uplink.name, net.network_id, bridge=net.bridge)
    if link is None or not link.up:
        out.add("up", ops.SET_UP, uplink.name, net.network_id)


def _vxlan_uplink(net, uplink, state, out):
    link = state.link(uplink.name)
    if link is not None and link.kind != "vxlan":
        raise _Problem("device %s exists and is not a VXLAN device" % uplink.name)
    if link is not None and vxlan_differences(uplink.vxlan, link.vxlan):
        out.add("create", ops.DELETE_LINK, uplink.name, net.network_id)
        link = None
    if link is None:
        out.phase["create"].append(_vxlan_create(uplink, net.network_id))
    elif uplink.mtu and link.mtu != uplink.mtu:
        out.add("settings", ops.SET_MTU, uplink.name, net.network_id, mtu=uplink.mtu)
    if link is None or link.master != net.bridge:
        out.add("enslave", ops.ENSLAVE, uplink.name, net.network_id, bridge=net.bridge)
    if link is None or not link.up:
        out.add("up", ops.SET_UP, uplink.name, net.network_id)


_UPLINKS = {
    desired_mod.PHYSICAL: _physical_uplink,
    desired_mod.VLAN: _vlan_uplink,
    desired_mod.VXLAN: _vxlan_uplink,
}


def _network(net, state, out):
    _bridge(net, state, out)
    if net.uplink is not None:
        _UPLINKS[net.uplink.kind](net, net.uplink, state, out)
    for tap in net.taps:
        link = state.link(tap.name)
        if link is None:
            continue    # gone since the scan; the next pass reports it down
        if tap.mtu and link.mtu != tap.mtu:
            out.add("settings", ops.SET_MTU, tap.name, net.network_id, mtu=tap.mtu)
        if tap.attach:
            if link.master != net.bridge:
                out.add("enslave", ops.ENSLAVE, tap.name, net.network_id, bridge=net.bridge)
            if not link.up:
                out.add("up", ops.SET_UP, tap.name, net.network_id)
    bridge = state.link(net.bridge)
    if net.bridge_managed and (bridge is None or not bridge.up):
        out.add("up", ops.SET_UP, net.bridge, net.network_id)


def _is_network_bridge(link, layout_bridges):
    return link is not None and link.kind == "bridge" and (
        link.name.startswith(naming.BRIDGE_PREFIX) or link.name in layout_bridges)


def _cleanup(layout, state, doomed_bridges, out):
    wanted_bridges = layout.bridges()
    wanted_uplinks = layout.uplinks()
    leaving = {op.device for op in out.phase["enslave"]}

    for device in sorted(layout.released):
        link = state.link(device)
        if link is not None and link.master and _is_network_bridge(state.link(link.master), wanted_bridges):
            out.add("release", ops.RELEASE, device, None)
            leaving.add(device)

    for link in sorted(state.links.values(), key=lambda item: item.name):
        if link.kind != "bridge" or not link.name.startswith(naming.BRIDGE_PREFIX):
            continue
        if link.name in wanted_bridges:
            continue
        members = [name for name in state.members(link.name) if name not in leaving]
        taps = [name for name in members if name.startswith(naming.TAP_PREFIX)]
        if taps and link.name not in doomed_bridges:
            continue
        uplinks = [state.link(name) for name in members if not name.startswith(naming.TAP_PREFIX)]
        nics = [member for member in uplinks if member.kind not in ("vlan", "vxlan", "bridge")]
        addresses = state.global_addresses(link.name)
        if addresses and len(nics) == 1 and nics[0].name not in wanted_uplinks:
            out.add("delete", ops.MOVE_ADDRESSES, link.name, None, target=nics[0].name,
                    addresses=tuple((a.address, a.prefixlen) for a in addresses))
        out.add("delete", ops.DELETE_LINK, link.name, None)
        for member in uplinks:
            if member.name in wanted_uplinks:
                continue
            if member.kind == "vlan" or (member.kind == "vxlan" and _OWN_VXLAN.match(member.name)):
                out.add("delete", ops.DELETE_LINK, member.name, None)

    # A vxlan-<vni> device in no bridge is a leftover (e.g. an interrupted pass).
    for link in sorted(state.links.values(), key=lambda item: item.name):
        if (link.kind == "vxlan" and _OWN_VXLAN.match(link.name) and link.master is None
                and link.name not in wanted_uplinks):
            out.add("delete", ops.DELETE_LINK, link.name, None)


def plan(layout, state, doomed_networks=()):
    """The Plan that turns ``state`` (KernelState) into ``layout`` (desired.Layout).

    ``doomed_networks``: ids of networks deleted on the server; their bridges
    go even if taps are still in them.
    """
    out = _Builder()
    errors = dict(layout.errors)
    for network_id in sorted(layout.networks):
        net = layout.networks[network_id]
        attempt = _Builder()
        try:
            _network(net, state, attempt)
        except _Problem as problem:
            for tap in net.taps:
                errors[tap.name] = "network %s: %s" % (network_id, problem)
            continue
        for name in out.PHASES:
            out.phase[name].extend(attempt.phase[name])
    doomed_bridges = {naming.network_bridge(network_id) for network_id in doomed_networks
                      if network_id not in layout.networks}
    _cleanup(layout, state, doomed_bridges, out)
    return Plan(operations=out.operations(), errors=errors)
