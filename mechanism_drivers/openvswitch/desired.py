"""What one host's Open vSwitch should hold, computed from facts alone (no I/O).

Inputs:
  * the agent configuration (``config.AgentConfig``);
  * the ports found on the integration bridge (``LocalPort``: OVS port name,
    port id from external_ids:iface-id, and the server's device details, a dict
    with device, port_id, network_id, network_type, physical_network,
    segmentation_id, mtu, mac_address, admin_state_up, device_owner and,
    optionally, fixed_ips, allowed_address_pairs, port_security_enabled);
  * the local VLAN of each network already in use on the host;
  * l2population's forwarding entries,
    {network_id: {"ports": {remote_ip: [[mac, ip], ...]}}}, where the entry
    [00:00:00:00:00:00, 0.0.0.0] means "flood this network's broadcasts there";
  * the tunnel endpoints of the other hosts, {tunnel_type: [ip, ...]}.

Output: ``DesiredState``: bridges, patch and tunnel ports, the tag and
other_config of every instance port, the local VLAN of every network, and the
complete flow tables of br-int, br-tun and each physical bridge, laid out as in
the book (chapter 5): br-int tables 0, 23, 24, 25, 60; br-tun tables 0, 2, 3,
4, 6, 10, 20, 21, 22; table 0 of each physical bridge.
"""
import collections
import dataclasses
import ipaddress

from netweave.core import naming
from netweave.mechanism_drivers.openvswitch import constants as c
from netweave.mechanism_drivers.openvswitch.flows import Flow, in_port, output


@dataclasses.dataclass(frozen=True)
class LocalPort:
    name: str            # port (and interface) name on the integration bridge
    device: str          # Neutron port id, from external_ids:iface-id
    details: dict = None  # the server's device details; None when it does not know the port


@dataclasses.dataclass(frozen=True)
class Network:
    id: str
    network_type: str
    physical_network: str = None
    segmentation_id: int = None


@dataclasses.dataclass(frozen=True)
class BridgeSpec:
    name: str
    datapath_type: str
    fail_mode: str = c.FAIL_MODE_SECURE
    protocols: tuple = c.BRIDGE_PROTOCOLS


@dataclasses.dataclass(frozen=True)
class PortSpec:
    """A port the agent owns outright: a patch port or a tunnel port."""
    bridge: str
    name: str
    type: str
    options: tuple  # sorted (key, value) pairs

    @property
    def options_dict(self):
        return dict(self.options)


@dataclasses.dataclass(frozen=True)
class VmPortSpec:
    """An instance (or DHCP/router) port: created by others, tagged by the agent."""
    name: str
    device: str
    tag: int
    other_config: tuple  # sorted (key, value) pairs the agent manages
    network_id: str = None
    status: str = "dead"  # "up", "down" (known but not wired) or "dead" (unknown)


# Port.other_config keys the agent writes; others are left alone.
MANAGED_OTHER_CONFIG = (c.OC_NET_UUID, c.OC_NETWORK_TYPE, c.OC_PHYSICAL_NETWORK,
                        c.OC_SEGMENTATION_ID, c.OC_TAG)


@dataclasses.dataclass
class DesiredState:
    bridges: dict            # name -> BridgeSpec
    ports: dict              # port name -> PortSpec (patch and tunnel ports)
    vm_ports: dict           # port name -> VmPortSpec
    local_vlans: dict        # network id -> local VLAN
    flows: dict              # bridge name -> tuple of Flow
    networks: dict           # network id -> Network (wired here)

    def devices_with_status(self, status):
        return {p.device for p in self.vm_ports.values() if p.status == status}


def _options(**kwargs):
    return tuple(sorted((k, str(v)) for k, v in kwargs.items() if v is not None))


def network_of(details):
    """Network of a device's details, or None when the server does not know the device."""
    if not details or not details.get("network_id"):
        return None
    seg = details.get("segmentation_id")
    return Network(id=details["network_id"], network_type=details.get("network_type") or c.TYPE_LOCAL,
                   physical_network=details.get("physical_network") or None,
                   segmentation_id=int(seg) if seg not in (None, "") else None)


def unsupported_reason(config, network):
    """Why this host cannot carry ``network``, or None when it can."""
    kind = network.network_type
    if kind == c.TYPE_LOCAL:
        return None
    if kind in c.PHYSICAL_TYPES:
        if network.physical_network not in config.bridge_mappings:
            return "physical network %r has no bridge mapping" % network.physical_network
        if kind == c.TYPE_VLAN and not (network.segmentation_id and 1 <= network.segmentation_id <= 4094):
            return "vlan network without a valid segmentation id"
        return None
    if kind in c.TUNNEL_TYPES:
        if kind not in config.tunnel_types:
            return "tunnel type %s is not enabled" % kind
        if network.segmentation_id is None:
            return "%s network without a segmentation id" % kind
        return None
    return "unknown network type %r" % kind


def recover_local_vlans(port_rows):
    """{network id: local VLAN} from existing br-int ports.

    ``port_rows`` yields (other_config dict, tag) pairs. Networks seen with
    several tags keep the most used one (ties: the lowest); a VLAN claimed by
    two networks goes to the first network in sorted order.
    """
    seen = collections.defaultdict(collections.Counter)
    for other_config, tag in port_rows:
        net = (other_config or {}).get(c.OC_NET_UUID)
        if tag in (None, "", []):
            tag = (other_config or {}).get(c.OC_TAG)
        try:
            tag = int(tag)
        except (TypeError, ValueError):
            continue
        if net and c.MIN_LOCAL_VLAN <= tag <= c.MAX_LOCAL_VLAN:
            seen[net][tag] += 1
    result, taken = {}, set()
    for net in sorted(seen):
        for tag, _count in sorted(seen[net].items(), key=lambda kv: (-kv[1], kv[0])):
            if tag not in taken:
                result[net] = tag
                taken.add(tag)
                break
    return result


def allocate_local_vlans(network_ids, existing):
    """Local VLAN of each network: kept from ``existing`` when possible, else the lowest free."""
    result, taken = {}, set()
    for net in sorted(network_ids):
        vlan = existing.get(net)
        if vlan is not None and c.MIN_LOCAL_VLAN <= vlan <= c.MAX_LOCAL_VLAN and vlan not in taken:
            result[net] = vlan
            taken.add(vlan)
    free = (v for v in range(c.MIN_LOCAL_VLAN, c.MAX_LOCAL_VLAN + 1) if v not in taken)
    for net in sorted(network_ids):
        if net not in result:
            try:
                result[net] = next(free)
            except StopIteration:
                raise RuntimeError("no local VLAN left for network %s" % net) from None
    return result


def ipv6_link_local(mac):
    """EUI-64 link-local address of ``mac`` (fa:16:3e:77:60:c5 -> fe80::f816:3eff:fe77:60c5)."""
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    value = (0xFE80 << 112) | int.from_bytes(bytes(eui), "big")
    return str(ipaddress.IPv6Address(value))


def _port_addresses(details):
    """(IPv4 addresses/CIDRs, IPv6 addresses/CIDRs, MACs) a port may send from."""
    v4, v6, macs = [], [], []
    mac = (details.get("mac_address") or "").lower()
    if mac:
        macs.append(mac)
        v6.append(ipv6_link_local(mac))
    entries = [fip.get("ip_address") for fip in details.get("fixed_ips") or []]
    for pair in details.get("allowed_address_pairs") or []:
        entries.append(pair.get("ip_address"))
        pair_mac = (pair.get("mac_address") or "").lower()
        if pair_mac and pair_mac not in macs:
            macs.append(pair_mac)
    for entry in entries:
        if not entry:
            continue
        net = ipaddress.ip_network(entry, strict=False)
        text = str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
        (v4 if net.version == 4 else v6).append(text)
    return _unique(v4), _unique(v6), _unique(macs)


def _unique(items):
    return list(dict.fromkeys(items))


def _wants_spoofing_protection(details):
    if details.get("port_security_enabled") is False:
        return False
    if (details.get("device_owner") or "").startswith("network:"):
        return False  # DHCP and router ports are trusted
    # Without the port's addresses the ARP rules would block it completely.
    return "fixed_ips" in details


def _spoofing_flows(port_name, details):
    v4, v6, macs = _port_addresses(details)
    port = in_port(port_name)
    flows = [
        Flow(c.LOCAL_SWITCHING, 10, ("icmp6", port, "icmp_type=136"), "resubmit(,%d)" % c.ARP_SPOOF_TABLE),
        Flow(c.LOCAL_SWITCHING, 10, ("arp", port), "resubmit(,%d)" % c.ARP_SPOOF_TABLE),
        Flow(c.LOCAL_SWITCHING, 9, (port,), "resubmit(,%d)" % c.MAC_SPOOF_TABLE),
    ]
    for address in v6:
        flows.append(Flow(c.ARP_SPOOF_TABLE, 2, ("icmp6", port, "icmp_type=136", "nd_target=%s" % address),
                          "resubmit(,%d)" % c.TRANSIENT_TABLE))
    for address in v4:
        flows.append(Flow(c.ARP_SPOOF_TABLE, 2, ("arp", port, "arp_spa=%s" % address),
                          "resubmit(,%d)" % c.MAC_SPOOF_TABLE))
    for mac in macs:
        flows.append(Flow(c.MAC_SPOOF_TABLE, 2, (port, "dl_src=%s" % mac), "resubmit(,%d)" % c.TRANSIENT_TABLE))
    return flows


def arp_responder_actions(mac, ip):
    """Turn an ARP request for ``ip`` into the reply from ``mac``, sent back where it came from."""
    return ("load:0x2->NXM_OF_ARP_OP[],"
            "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
            "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
            "load:%#x->NXM_NX_ARP_SHA[],"
            "load:%#x->NXM_OF_ARP_SPA[],"
            "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
            "mod_dl_src:%s,IN_PORT") % (int(mac.replace(":", ""), 16), int(ipaddress.IPv4Address(ip)), mac)


def learn_action(patch_port):
    """Table 10: remember which tunnel a source MAC lives behind, then hand the frame to br-int."""
    return ("learn(table=%d,hard_timeout=%d,priority=1,cookie=%#x,"
            "NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
            "load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],"
            "output:NXM_OF_IN_PORT[]),%s") % (c.UCAST_TO_TUN, c.LEARN_HARD_TIMEOUT,
                                               c.LEARNED_FLOW_COOKIE, output(patch_port))


def _to_tunnel(segmentation_id, ports):
    return "strip_vlan,load:%#x->NXM_NX_TUN_ID[],%s" % (
        segmentation_id, ",".join(output(p) for p in ports))


def integration_flows(config, networks, local_vlans, vm_ports, port_details):
    flows = [
        Flow(c.LOCAL_SWITCHING, 0, (), "resubmit(,%d)" % c.TRANSIENT_TABLE),
        Flow(c.CANARY_TABLE, 0, (), "drop"),
        Flow(c.ARP_SPOOF_TABLE, 0, (), "drop"),
        Flow(c.TRANSIENT_TABLE, 3, (), "NORMAL"),
    ]
    for bridge in sorted(config.bridge_mappings.values()):
        flows.append(Flow(c.LOCAL_SWITCHING, 2, (in_port(naming.int_peer_port(bridge)),), "drop"))
    for net in sorted(networks.values(), key=lambda n: n.id):
        if net.network_type not in c.PHYSICAL_TYPES:
            continue
        peer = in_port(naming.int_peer_port(config.bridge_mappings[net.physical_network]))
        lvid = local_vlans[net.id]
        if net.network_type == c.TYPE_VLAN:
            match = (peer, "dl_vlan=%d" % net.segmentation_id)
        else:
            match = (peer, "vlan_tci=0x0000/0x1fff")
        flows.append(Flow(c.LOCAL_SWITCHING, 3, match,
                          "mod_vlan_vid:%d,resubmit(,%d)" % (lvid, c.TRANSIENT_TABLE)))
    for spec in sorted(vm_ports.values(), key=lambda p: p.name):
        if spec.status != "up":
            flows.append(Flow(c.LOCAL_SWITCHING, 2, (in_port(spec.name),), "drop"))
            continue
        details = port_details.get(spec.name) or {}
        if _wants_spoofing_protection(details):
            flows.extend(_spoofing_flows(spec.name, details))
    return flows


def physical_flows(config, bridge, physnet, networks, local_vlans):
    peer = naming.phy_peer_port(bridge)
    flows = [
        Flow(0, 0, (), "NORMAL"),
        Flow(0, 2, (in_port(peer),), "drop"),
    ]
    for net in sorted(networks.values(), key=lambda n: n.id):
        if net.physical_network != physnet or net.network_type not in c.PHYSICAL_TYPES:
            continue
        lvid = local_vlans[net.id]
        if net.network_type == c.TYPE_VLAN:
            actions = "mod_vlan_vid:%d,NORMAL" % net.segmentation_id
        else:
            actions = "strip_vlan,NORMAL"
        flows.append(Flow(0, 4, (in_port(peer), "dl_vlan=%d" % lvid), actions))
    return flows


def _fdb_for(fdb, network_id, local_ip):
    """{remote ip: [(mac, ip), ...]} of one network, without this host's own entries."""
    ports = ((fdb or {}).get(network_id) or {}).get("ports") or {}
    result = {}
    for remote_ip, entries in ports.items():
        if remote_ip == local_ip:
            continue
        pairs = []
        for entry in entries or []:
            if isinstance(entry, dict):
                mac, ip = entry.get("mac_address"), entry.get("ip_address")
            else:
                mac, ip = entry[0], entry[1] if len(entry) > 1 else None
            pairs.append(((mac or "").lower(), ip))
        if pairs:
            result[remote_ip] = pairs
    return result


def tunnel_ports(config, networks, fdb, tunnel_endpoints):
    """{(tunnel type, remote ip)} the tunnel bridge needs."""
    wanted = set()
    if not config.tunnelling:
        return wanted
    if config.l2_population:
        for net in networks.values():
            if net.network_type in c.TUNNEL_TYPES:
                for remote_ip in _fdb_for(fdb, net.id, config.local_ip):
                    wanted.add((net.network_type, remote_ip))
    else:
        for kind in config.tunnel_types:
            for remote_ip in (tunnel_endpoints or {}).get(kind, ()):
                if remote_ip and remote_ip != config.local_ip:
                    wanted.add((kind, remote_ip))
    return wanted


def tunnel_flows(config, networks, local_vlans, fdb, tunnels):
    """The tunnel bridge's tables. ``tunnels`` is {(type, remote ip): port name}."""
    patch = config.tun_peer_patch_port
    flows = [
        Flow(0, 1, (in_port(patch),), "resubmit(,%d)" % c.PATCH_LV_TO_TUN),
        Flow(0, 0, (), "drop"),
        Flow(c.PATCH_LV_TO_TUN, 0, ("dl_dst=00:00:00:00:00:00/01:00:00:00:00:00",),
             "resubmit(,%d)" % c.UCAST_TO_TUN),
        Flow(c.PATCH_LV_TO_TUN, 0, ("dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",),
             "resubmit(,%d)" % c.FLOOD_TO_TUN),
        Flow(c.GRE_TUN_TO_LV, 0, (), "drop"),
        Flow(c.VXLAN_TUN_TO_LV, 0, (), "drop"),
        Flow(c.GENEVE_TUN_TO_LV, 0, (), "drop"),
        Flow(c.LEARN_FROM_TUN, 1, (), learn_action(patch)),
        Flow(c.UCAST_TO_TUN, 0, (), "resubmit(,%d)" % c.FLOOD_TO_TUN),
        Flow(c.FLOOD_TO_TUN, 0, (), "drop"),
    ]
    if config.arp_responder_enabled:
        flows.append(Flow(c.PATCH_LV_TO_TUN, 1, ("arp", "dl_dst=ff:ff:ff:ff:ff:ff"),
                          "resubmit(,%d)" % c.ARP_RESPONDER))
        flows.append(Flow(c.ARP_RESPONDER, 0, (), "resubmit(,%d)" % c.FLOOD_TO_TUN))
    for (kind, _remote), name in sorted(tunnels.items(), key=lambda kv: kv[1]):
        flows.append(Flow(0, 1, (in_port(name),), "resubmit(,%d)" % c.TUN_TABLE[kind]))

    for net in sorted(networks.values(), key=lambda n: n.id):
        if net.network_type not in c.TUNNEL_TYPES:
            continue
        lvid = local_vlans[net.id]
        seg = net.segmentation_id
        flows.append(Flow(c.TUN_TABLE[net.network_type], 1, ("tun_id=%#x" % seg,),
                          "mod_vlan_vid:%d,resubmit(,%d)" % (lvid, c.LEARN_FROM_TUN)))
        if config.l2_population:
            entries = _fdb_for(fdb, net.id, config.local_ip)
            flood = sorted(tunnels[(net.network_type, ip)] for ip, pairs in entries.items()
                           if any(mac == c.FLOODING_MAC for mac, _ in pairs))
            unicast, arp = {}, {}
            for remote_ip in sorted(entries):
                port = tunnels[(net.network_type, remote_ip)]
                for mac, ip in entries[remote_ip]:
                    if not mac or mac == c.FLOODING_MAC:
                        continue
                    unicast.setdefault(mac, port)
                    if ip and ipaddress.ip_address(ip).version == 4:
                        arp.setdefault(ip, mac)
            for mac, port in sorted(unicast.items()):
                flows.append(Flow(c.UCAST_TO_TUN, 2, ("dl_vlan=%d" % lvid, "dl_dst=%s" % mac),
                                  _to_tunnel(seg, [port])))
            if config.arp_responder_enabled:
                for ip, mac in sorted(arp.items(), key=lambda kv: ipaddress.ip_address(kv[0])):
                    flows.append(Flow(c.ARP_RESPONDER, 1, ("arp", "dl_vlan=%d" % lvid, "arp_tpa=%s" % ip),
                                      arp_responder_actions(mac, ip)))
        else:
            flood = sorted(name for (kind, _ip), name in tunnels.items() if kind == net.network_type)
        if flood:
            flows.append(Flow(c.FLOOD_TO_TUN, 1, ("dl_vlan=%d" % lvid,), _to_tunnel(seg, flood)))
    return flows


def build(config, local_ports, existing_vlans=None, fdb=None, tunnel_endpoints=None):
    """DesiredState of the host. ``local_ports``: iterable of LocalPort."""
    existing_vlans = existing_vlans or {}
    networks, vm_ports, port_details, wired = {}, {}, {}, {}
    for port in sorted(local_ports, key=lambda p: p.name):
        net = network_of(port.details)
        if net is None:
            vm_ports[port.name] = VmPortSpec(port.name, port.device, c.DEAD_VLAN, (), None, "dead")
            continue
        port_details[port.name] = port.details
        reason = unsupported_reason(config, net)
        if reason is not None or not port.details.get("admin_state_up", True):
            vm_ports[port.name] = VmPortSpec(port.name, port.device, c.DEAD_VLAN, (), net.id, "down")
            continue
        networks.setdefault(net.id, net)
        wired[port.name] = (port, networks[net.id])

    local_vlans = allocate_local_vlans(networks, existing_vlans)
    for name, (port, net) in wired.items():
        lvid = local_vlans[net.id]
        other = {c.OC_NET_UUID: net.id, c.OC_NETWORK_TYPE: net.network_type, c.OC_TAG: str(lvid)}
        if net.physical_network:
            other[c.OC_PHYSICAL_NETWORK] = net.physical_network
        if net.segmentation_id is not None:
            other[c.OC_SEGMENTATION_ID] = str(net.segmentation_id)
        vm_ports[name] = VmPortSpec(name, port.device, lvid, tuple(sorted(other.items())), net.id, "up")

    bridges = {config.integration_bridge: BridgeSpec(config.integration_bridge, config.datapath_type)}
    ports = {}
    flows = {config.integration_bridge: tuple(integration_flows(
        config, networks, local_vlans, vm_ports, port_details))}

    for physnet, bridge in sorted(config.bridge_mappings.items()):
        bridges[bridge] = BridgeSpec(bridge, config.datapath_type)
        int_peer, phy_peer = naming.int_peer_port(bridge), naming.phy_peer_port(bridge)
        ports[int_peer] = PortSpec(config.integration_bridge, int_peer, "patch", _options(peer=phy_peer))
        ports[phy_peer] = PortSpec(bridge, phy_peer, "patch", _options(peer=int_peer))
        flows[bridge] = tuple(physical_flows(config, bridge, physnet, networks, local_vlans))

    if config.tunnelling:
        tun = config.tunnel_bridge
        bridges[tun] = BridgeSpec(tun, config.datapath_type)
        ports[config.int_peer_patch_port] = PortSpec(
            config.integration_bridge, config.int_peer_patch_port, "patch",
            _options(peer=config.tun_peer_patch_port))
        ports[config.tun_peer_patch_port] = PortSpec(
            tun, config.tun_peer_patch_port, "patch", _options(peer=config.int_peer_patch_port))
        tunnels = {}
        for kind, remote_ip in sorted(tunnel_ports(config, networks, fdb, tunnel_endpoints)):
            name = naming.ovs_tunnel_port(kind, remote_ip)
            tunnels[(kind, remote_ip)] = name
            dst_port = config.vxlan_udp_port if (
                kind == c.TYPE_VXLAN and config.vxlan_udp_port != c.DEFAULT_VXLAN_UDP_PORT) else None
            ports[name] = PortSpec(tun, name, kind, _options(
                remote_ip=remote_ip, local_ip=config.local_ip, in_key="flow", out_key="flow",
                df_default="true" if config.dont_fragment else "false", dst_port=dst_port))
        flows[tun] = tuple(tunnel_flows(config, networks, local_vlans, fdb, tunnels))

    return DesiredState(bridges=bridges, ports=ports, vm_ports=vm_ports, local_vlans=local_vlans,
                        flows=flows, networks=networks)
