"""The host layout the ports need, computed from the server's device details (pure).

Input: the details dicts ``get_devices_details_list`` returns, one per tap:
{"device", "port_id", "network_id", "network_type", "physical_network",
"segmentation_id", "mtu", "mac_address", "admin_state_up", "device_owner"}.
A dict without "network_id" is a device the server does not know (or has not
bound here): it is left alone.

Output: a ``Layout``: per network its bridge, the uplink that bridge needs
and the taps that belong in it; the taps to take out of their bridge (admin
state down); and, per device, why it cannot be wired.
"""
import dataclasses

from netweave.core import naming
from netweave.mechanism_drivers.linuxbridge import capabilities as caps_mod
from netweave.mechanism_drivers.linuxbridge import constants

PHYSICAL = "physical"
VLAN = "vlan"
VXLAN = "vxlan"


@dataclasses.dataclass(frozen=True)
class VxlanSpec:
    vni: int
    local: str
    dev: str
    port: int = None            # None: the kernel's default
    ttl: int = None             # None: do not care
    tos: int = None
    learning: bool = True
    proxy: bool = False
    group: str = None
    srcport_min: int = 0
    srcport_max: int = 0


@dataclasses.dataclass(frozen=True)
class Uplink:
    kind: str                   # PHYSICAL, VLAN or VXLAN
    name: str
    parent: str = None          # VLAN: the NIC (or mapped bridge) carrying the tags
    vlan_id: int = None
    mtu: int = None             # VLAN and VXLAN devices are set to the network MTU
    vxlan: VxlanSpec = None


@dataclasses.dataclass(frozen=True)
class TapSpec:
    name: str
    port_id: str
    mtu: int = None
    attach: bool = True         # False: the hypervisor plugs it (device_owner compute:*)


@dataclasses.dataclass(frozen=True)
class NetworkLayout:
    network_id: str
    network_type: str
    bridge: str
    bridge_managed: bool = True  # False for a bridge from bridge_mappings
    uplink: Uplink = None
    taps: tuple = ()            # TapSpec, sorted by name
    segmentation_id: int = None
    physical_network: str = None
    mtu: int = None


@dataclasses.dataclass(frozen=True)
class Layout:
    networks: dict = dataclasses.field(default_factory=dict)   # network_id -> NetworkLayout
    released: frozenset = frozenset()                          # taps to take out of any bridge
    errors: dict = dataclasses.field(default_factory=dict)     # device -> message
    unknown: frozenset = frozenset()                           # taps the server does not know

    def bridges(self):
        return {net.bridge: net for net in self.networks.values()}

    def uplinks(self):
        return {net.uplink.name: net for net in self.networks.values() if net.uplink is not None}

    def taps(self):
        return {tap.name: net for net in self.networks.values() for tap in net.taps}

    def device_network(self, device):
        net = self.taps().get(device)
        return net.network_id if net else None


class _Refused(Exception):
    pass


def _mtu(value):
    try:
        mtu = int(value or 0)
    except (TypeError, ValueError):
        return None
    return mtu if mtu > 0 else None


def is_hypervisor_owned(device_owner):
    return (device_owner or "").startswith(constants.COMPUTE_OWNER_PREFIX)


def _physical(details, settings):
    physnet = details.get("physical_network")
    if not physnet:
        raise _Refused("%s network has no physical_network" % details.get("network_type"))
    if physnet in settings.interfaces:
        return settings.interfaces[physnet], None
    if physnet in settings.bridges:
        return None, settings.bridges[physnet]
    raise _Refused("physical network %r is not in physical_interface_mappings or bridge_mappings "
                   "on this host" % physnet)


def _vxlan_uplink(details, settings, capabilities, vtep_device, mtu):
    if not settings.vxlan_enabled:
        raise _Refused("VXLAN is not enabled on this host ([vxlan] enable_vxlan and local_ip)")
    if not capabilities.vxlan:
        raise _Refused(caps_mod.VXLAN_UNSUPPORTED)
    if vtep_device is None:
        raise _Refused("local_ip %s is not configured on any interface of this host" % settings.local_ip)
    vni = int(details["segmentation_id"])
    port = settings.udp_dstport or None
    common = dict(vni=vni, local=settings.local_ip, dev=vtep_device, port=port, ttl=settings.ttl,
                  tos=settings.tos, srcport_min=settings.udp_srcport_min,
                  srcport_max=settings.udp_srcport_max)
    if settings.l2_population and capabilities.fdb_append:
        spec = VxlanSpec(learning=False, proxy=bool(settings.arp_responder), **common)
    elif settings.vxlan_group:
        spec = VxlanSpec(learning=True, group=settings.vxlan_group_for(vni), **common)
    elif settings.l2_population:
        raise _Refused("l2_population needs 'bridge fdb append', which this host lacks, and no "
                       "vxlan_group is set")
    else:
        raise _Refused("VXLAN needs l2_population or a vxlan_group")
    return Uplink(kind=VXLAN, name=naming.vxlan_device(vni), mtu=mtu, vxlan=spec)


def _network(first, settings, capabilities, vtep_device):
    """(bridge, managed, uplink) for the network described by ``first``; _Refused if impossible."""
    network_id = first["network_id"]
    network_type = first.get("network_type")
    bridge = naming.network_bridge(network_id)
    mtu = _mtu(first.get("mtu"))
    if network_type == constants.TYPE_LOCAL:
        return bridge, True, None
    if network_type == constants.TYPE_FLAT:
        nic, mapped_bridge = _physical(first, settings)
        if mapped_bridge:
            return mapped_bridge, False, None
        return bridge, True, Uplink(kind=PHYSICAL, name=nic)
    if network_type == constants.TYPE_VLAN:
        nic, mapped_bridge = _physical(first, settings)
        if not capabilities.vlan:
            raise _Refused(caps_mod.VLAN_UNSUPPORTED)
        parent = nic or mapped_bridge
        vid = int(first["segmentation_id"])
        return bridge, True, Uplink(kind=VLAN, name=naming.vlan_device(parent, vid), parent=parent,
                                    vlan_id=vid, mtu=mtu)
    if network_type == constants.TYPE_VXLAN:
        return bridge, True, _vxlan_uplink(first, settings, capabilities, vtep_device, mtu)
    raise _Refused("network type %r is not supported by the Linux bridge agent (supported: %s)"
                   % (network_type, ", ".join(constants.SUPPORTED_NETWORK_TYPES)))


def compute(details_list, settings, capabilities=None, vtep_device=None):
    """The Layout for ``details_list`` under ``settings``.

    ``capabilities``: what the kernel can do (capabilities.Capabilities; all by
    default). ``vtep_device``: the interface holding settings.local_ip.
    """
    capabilities = capabilities or caps_mod.ALL
    by_network, released, unknown = {}, set(), set()
    for details in details_list:
        device = details.get("device") or naming.tap_device(details.get("port_id", ""))
        if not details.get("network_id") or not details.get("network_type"):
            unknown.add(device)
            continue
        if not details.get("admin_state_up", True):
            released.add(device)
            continue
        by_network.setdefault(details["network_id"], []).append((device, details))

    networks, errors = {}, {}
    carried = {}    # NIC or mapped bridge with a flat network on it -> that network
    for network_id in sorted(by_network):
        ports = sorted(by_network[network_id], key=lambda item: item[0])
        first = ports[0][1]
        try:
            bridge, managed, uplink = _network(first, settings, capabilities, vtep_device)
            if first.get("network_type") == constants.TYPE_FLAT:
                carrier = uplink.name if uplink else bridge
                if carrier in carried:
                    raise _Refused("%s already carries flat network %s; one flat network per "
                                   "physical interface" % (carrier, carried[carrier]))
                carried[carrier] = network_id
        except _Refused as refusal:
            for device, _details in ports:
                errors[device] = "network %s: %s" % (network_id, refusal)
            continue
        taps = tuple(TapSpec(name=device, port_id=details.get("port_id"), mtu=_mtu(details.get("mtu")),
                             attach=not is_hypervisor_owned(details.get("device_owner")))
                     for device, details in ports)
        networks[network_id] = NetworkLayout(
            network_id=network_id, network_type=first.get("network_type"), bridge=bridge,
            bridge_managed=managed, uplink=uplink, taps=taps,
            segmentation_id=first.get("segmentation_id"), physical_network=first.get("physical_network"),
            mtu=_mtu(first.get("mtu")))
    return Layout(networks=networks, released=frozenset(released), errors=errors,
                  unknown=frozenset(unknown))
