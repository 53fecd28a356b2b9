"""The complete firewall of one host, rendered from a FirewallState.

``render(state, layout, zones, use_ipset)`` is pure: the same state gives the
same ``Ruleset`` (chains in the order iptables walks them, ports sorted by id),
so comparing two rulesets tells exactly which chains changed. The layout is
the book's (section 5.4 of the ch06-09 spec):

filter: INPUT -> <p>-INPUT; FORWARD and OUTPUT -> neutron-filter-top -> <p>-local,
then <p>-FORWARD / <p>-OUTPUT. <p>-FORWARD sends traffic to or from a port's
device to <p>-sg-chain, which jumps to the port's i chain (to the port) or o
chain (from the port) and accepts what they RETURN. The o chain checks the
source through the s chain (IP + MAC), drops DHCP and router-advertisement
spoofing, and both end in INVALID drop and <p>-sg-fallback (drop).
raw: PREROUTING -> <p>-PREROUTING sets the conntrack zone of each network.

A stateless port (its security groups have stateful=false) is filtered without
connection tracking, as Neutron's iptables driver does: its chains have no
RELATED,ESTABLISHED shortcut and no INVALID drop (replies need rules of their
own), and the raw table marks its traffic NOTRACK instead of giving it a zone.
"""
import dataclasses
import ipaddress

from netweave.core import naming
from netweave.service_plugins.port_security.firewall import model, names
from netweave.service_plugins.port_security.firewall import rules as rule_text

FILTER, RAW = "filter", "raw"

# Jumps from the built-in chains, in order; created once, never rewritten.
FILTER_HOOKS = (("INPUT", "INPUT"), ("FORWARD", None), ("FORWARD", "FORWARD"), ("OUTPUT", None),
                ("OUTPUT", "OUTPUT"))
RAW_HOOKS = (("PREROUTING", "PREROUTING"), ("OUTPUT", "OUTPUT"))

ESTABLISHED = "-m state --state RELATED,ESTABLISHED -j RETURN"
INVALID = "-m state --state INVALID -j DROP"
PORT_SECURITY_OFF = '-m comment --comment "Accept all packets when port security is disabled." -j ACCEPT'
DHCP_CLIENT = "Allow DHCP client traffic."
DHCP_SPOOF = "Prevent DHCP Spoofing by VM."
RA_DROP = "Drop IPv6 Router Advts from VM Instance."
PAIR_DROP = "Drop traffic without an IP/MAC allow rule."
UNMATCHED = "Send unmatched traffic to the fallback chain."
FALLBACK_DROP = "Default drop rule for unmatched traffic."

# ICMPv6 a port must receive (MLD query, neighbour solicitation and advertisement)
# and may send before it has an address (MLD reports, DAD solicitations).
ICMPV6_INGRESS_TYPES = (130, 135, 136)
ICMPV6_UNSPECIFIED_SOURCE_TYPES = (131, 135, 143)
ICMPV6_ROUTER_ADVERTISEMENT = 134
IPV6_LINK_LOCAL = "fe80::/64"


def comment(text):
    return '-m comment --comment "%s"' % text


def network_zone(port):
    return port.network_id


def port_zone(port):
    return port.id


@dataclasses.dataclass(frozen=True)
class Layout:
    """How one agent plugs ports: its chain prefix, the devices it matches on and what
    a conntrack zone stands for."""
    prefix: str
    port_device: object          # port id -> the device physdev sees (tap...)
    zone_bridge: object          # Port -> the device the zone rules match besides it (brq..., qvb...)
    zone_key: object             # Port -> what owns a zone (its network, or the port itself)
    arp_protection: bool         # ebtables ARP/MAC chains per tap (Linux bridge)

    def chain(self, name):
        return names.wrap(self.prefix, name)


LINUXBRIDGE = Layout(prefix=names.LINUXBRIDGE_PREFIX, port_device=naming.tap_device,
                     zone_bridge=lambda port: naming.network_bridge(port.network_id), zone_key=network_zone,
                     arp_protection=True)
# Neutron's hybrid driver: the instance's tap sits in the port's own qbr bridge,
# whose other leg qvb leads to br-int; filters match the tap, and every port has
# its own zone because a packet between two local ports crosses netfilter once
# in each qbr.
HYBRID = Layout(prefix=names.OVS_PREFIX, port_device=naming.tap_device,
                zone_bridge=lambda port: naming.hybrid_bridge_veth(port.id), zone_key=port_zone,
                arp_protection=False)


@dataclasses.dataclass(frozen=True)
class Ruleset:
    """tables: {ethertype: {table: {chain: (rule body, ...)}}};
    hooks: {table: ((built-in chain, our chain), ...)};
    ipsets: {name: (ethertype, (cidr, ...))}; ebtables: {chain: (rule body, ...)} (nat table)."""
    tables: dict
    hooks: dict
    ipsets: dict
    ebtables: dict


def render(state, layout, zones, use_ipset=True):
    """The Ruleset for ``state``; ``zones``: {layout.zone_key(port): conntrack zone}."""
    tables = {ethertype: {FILTER: _filter_chains(state, layout, ethertype, use_ipset),
                          RAW: _raw_chains(state, layout, zones, ethertype)}
              for ethertype in model.ETHERTYPES}
    hooks = {FILTER: tuple((builtin, layout.chain(ours) if ours else names.FILTER_TOP)
                           for builtin, ours in FILTER_HOOKS),
             RAW: tuple((builtin, layout.chain(ours)) for builtin, ours in RAW_HOOKS)}
    ipsets = _ipsets(state) if use_ipset else {}
    ebtables = _ebtables_chains(state, layout) if layout.arp_protection else {}
    return Ruleset(tables=tables, hooks=hooks, ipsets=ipsets, ebtables=ebtables)


# --- filter -----------------------------------------------------------------------------------


def _physdev(direction, device):
    return "-m physdev --%s %s --physdev-is-bridged" % (direction, device)


def _filter_chains(state, layout, ethertype, use_ipset):
    sg_chain, fallback = layout.chain("sg-chain"), layout.chain("sg-fallback")
    chains = {
        names.FILTER_TOP: ("-j %s" % layout.chain("local"),),
        layout.chain("local"): (),
        layout.chain("OUTPUT"): (),
        layout.chain("sg-fallback"): ("%s -j DROP" % comment(FALLBACK_DROP),),
    }
    forward, inputs, sg_rules = [], [], []
    for port in state.filtered_ports():
        device = layout.port_device(port.id)
        ingress = names.port_chain(layout.prefix, names.INGRESS_LETTER, port.id)
        egress = names.port_chain(layout.prefix, names.EGRESS_LETTER, port.id)
        spoof = names.port_chain(layout.prefix, names.SPOOF_LETTER, port.id)
        forward.append("%s -j %s" % (_physdev("physdev-out", device), sg_chain))
        forward.append("%s -j %s" % (_physdev("physdev-in", device), sg_chain))
        sg_rules.append("%s -j %s" % (_physdev("physdev-out", device), ingress))
        sg_rules.append("%s -j %s" % (_physdev("physdev-in", device), egress))
        inputs.append("%s -j %s" % (_physdev("physdev-in", device), egress))
        port_rules = state.port_rules(port)
        chains[ingress] = _ingress_chain(port, port_rules, state, ethertype, use_ipset, fallback)
        chains[egress] = _egress_chain(port, port_rules, state, ethertype, use_ipset, fallback, spoof)
        chains[spoof] = _spoof_chain(port, ethertype)
    for port in state.unfiltered_ports():
        device = layout.port_device(port.id)
        forward.append("%s %s" % (_physdev("physdev-out", device), PORT_SECURITY_OFF))
        forward.append("%s %s" % (_physdev("physdev-in", device), PORT_SECURITY_OFF))
        inputs.append("%s %s" % (_physdev("physdev-in", device), PORT_SECURITY_OFF))
    sg_rules.append("-j ACCEPT")
    chains[layout.chain("FORWARD")] = tuple(forward)
    chains[layout.chain("INPUT")] = tuple(inputs)
    chains[sg_chain] = tuple(sg_rules)
    return chains


def _sg_rule_bodies(port_rules, direction, state, ethertype, use_ipset):
    bodies, seen = [], set()
    for rule in port_rules:
        if rule.direction != direction or rule.ethertype != ethertype:
            continue
        for body in rule_text.rule_bodies(rule, state.members, use_ipset):
            if body not in seen:        # several groups may hold the same rule
                seen.add(body)
                bodies.append(body)
    return bodies


def _connection_rules(port):
    """The conntrack shortcut and drop of a stateful port's chains; none for a stateless one."""
    if port.stateful:
        return [ESTABLISHED], [INVALID]
    return [], []


def _ingress_chain(port, port_rules, state, ethertype, use_ipset, fallback):
    established, invalid = _connection_rules(port)
    body = list(established)
    if ethertype == model.IPV4:
        for address in port.addresses(model.IPV4):
            body.append("-d %s -p udp -m udp --sport 67 --dport 68 -j RETURN" % address)
        body.append("-d 255.255.255.255/32 -p udp -m udp --sport 67 --dport 68 -j RETURN")
    else:
        body += ["-p ipv6-icmp -m icmp6 --icmpv6-type %d -j RETURN" % kind for kind in ICMPV6_INGRESS_TYPES]
        for address in port.addresses(model.IPV6) + (IPV6_LINK_LOCAL,):
            body.append("-d %s -p udp -m udp --sport 547 --dport 546 -j RETURN" % address)
    body += _sg_rule_bodies(port_rules, model.INGRESS, state, ethertype, use_ipset)
    body += invalid + ["-j %s" % fallback]
    return tuple(body)


def _egress_chain(port, port_rules, state, ethertype, use_ipset, fallback, spoof):
    established, invalid = _connection_rules(port)
    if ethertype == model.IPV4:
        body = ["-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 -j RETURN",
                "-j %s" % spoof,
                "-p udp -m udp --sport 68 --dport 67 %s -j RETURN" % comment(DHCP_CLIENT),
                "-p udp -m udp --sport 67 --dport 68 %s -j DROP" % comment(DHCP_SPOOF)]
    else:
        body = ["-s ::/128 -d ff02::/16 -p ipv6-icmp -m icmp6 --icmpv6-type %d -j RETURN" % kind
                for kind in ICMPV6_UNSPECIFIED_SOURCE_TYPES]
        body += ["-j %s" % spoof,
                 "-p ipv6-icmp -m icmp6 --icmpv6-type %d %s -j DROP" % (ICMPV6_ROUTER_ADVERTISEMENT,
                                                                       comment(RA_DROP)),
                 "-p ipv6-icmp -j RETURN",
                 "-p udp -m udp --sport 546 --dport 547 %s -j RETURN" % comment(DHCP_CLIENT),
                 "-p udp -m udp --sport 547 --dport 546 %s -j DROP" % comment(DHCP_SPOOF)]
    body += established
    body += _sg_rule_bodies(port_rules, model.EGRESS, state, ethertype, use_ipset)
    body += invalid + ["%s -j %s" % (comment(UNMATCHED), fallback)]
    return tuple(body)


def link_local_address(mac):
    """The EUI-64 fe80:: address a port derives from its MAC."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    return str(ipaddress.IPv6Address(bytes([0xFE, 0x80] + [0] * 6 + eui)))


def spoof_pairs(port, ethertype):
    """(source CIDR or None, MAC) pairs the port may send from: fixed IPs (plus, for IPv6,
    the link-local address of its MAC), then allowed address pairs."""
    pairs = []
    for address in port.addresses(ethertype):
        pairs.append((address, port.mac_address))
    if ethertype == model.IPV6 and (pairs or not port.fixed_ips):
        pairs.append((link_local_address(port.mac_address) + "/128", port.mac_address))
    for pair in port.allowed_address_pairs:
        if model.ethertype_of(pair.ip_address) == ethertype:
            pairs.append((pair.ip_address, pair.mac_address))
            if ethertype == model.IPV6:
                pairs.append((link_local_address(pair.mac_address) + "/128", pair.mac_address))
    if not port.fixed_ips:
        pairs.append((None, port.mac_address))
    unique = []
    for pair in pairs:
        if pair not in unique:
            unique.append(pair)
    return unique


def _spoof_chain(port, ethertype):
    body = []
    for address, mac in spoof_pairs(port, ethertype):
        source = "-s %s " % address if address else ""
        body.append("%s-m mac --mac-source %s -j RETURN" % (source, mac.upper()))
    body.append("%s -j DROP" % comment(PAIR_DROP))
    return tuple(body)


# --- raw: conntrack zones -----------------------------------------------------------------------


def _raw_chains(state, layout, zones, ethertype):
    """Zones of stateful ports; NOTRACK for stateless ones, first: the first CT target a
    packet meets decides (a later one leaves a packet that has a conntrack alone)."""
    untracked, prerouting = [], []
    for port in state.filtered_ports():
        bridge = layout.zone_bridge(port)
        if not port.stateful:
            tail = "%s -j CT --notrack" % comment(names.notrack_comment(port.id))
            untracked.append("-m physdev --physdev-in %s %s" % (layout.port_device(port.id), tail))
            for address in _addresses_to(port, ethertype):
                # In iptables-save's order (addresses first), so an unchanged chain compares equal.
                untracked.append("-d %s -m physdev --physdev-in %s %s" % (address, bridge, tail))
                untracked.append("-d %s -i %s %s" % (address, bridge, tail))
            continue
        zone = zones[layout.zone_key(port)]
        tail = '%s -j CT --zone %d' % (comment(names.zone_comment(port.id)), zone)
        prerouting.append("-m physdev --physdev-in %s %s" % (bridge, tail))
        prerouting.append("-i %s %s" % (bridge, tail))
        prerouting.append("-m physdev --physdev-in %s %s" % (layout.port_device(port.id), tail))
    return {layout.chain("OUTPUT"): (), layout.chain("PREROUTING"): tuple(untracked + prerouting)}


def _addresses_to(port, ethertype):
    """The port's fixed IPs and allowed pair addresses of one family: traffic to them is the port's."""
    addresses = list(port.addresses(ethertype))
    addresses += [pair.ip_address for pair in port.allowed_address_pairs
                  if model.ethertype_of(pair.ip_address) == ethertype]
    return list(dict.fromkeys(addresses))


# --- ipsets -------------------------------------------------------------------------------------


def _ipsets(state):
    wanted = set()
    for port in state.filtered_ports():
        for rule in state.port_rules(port):
            if rule.remote_group_id:
                wanted.add((rule.remote_group_id, rule.ethertype))
    sets = {}
    for group, ethertype in sorted(wanted):
        members = (state.members.get(group) or {}).get(ethertype, ())
        sets[names.ipset_name(ethertype, group)] = (ethertype, tuple(members))
    return sets


# --- ebtables: ARP and MAC spoofing (Linux bridge) ---------------------------------------------------


def _ebtables_chains(state, layout):
    top = []
    chains = {}
    for port in state.filtered_ports():
        tap = naming.tap_device(port.id)
        mac_chain, arp_chain = names.ebtables_mac_chain(port.id), names.ebtables_arp_chain(port.id)
        top.append("-i %s -j %s" % (tap, mac_chain))
        top.append("-p ARP -i %s -j %s" % (tap, arp_chain))
        macs = [port.mac_address] + [pair.mac_address for pair in port.allowed_address_pairs]
        chains[mac_chain] = tuple("-s %s -j RETURN" % mac for mac in dict.fromkeys(macs)) + ("-j DROP",)
        sources = list(port.addresses(model.IPV4))
        sources += [pair.ip_address for pair in port.allowed_address_pairs
                    if model.ethertype_of(pair.ip_address) == model.IPV4]
        arp = ["-p ARP --arp-ip-src %s -j ACCEPT" % _ebtables_address(source) for source in dict.fromkeys(sources)]
        chains[arp_chain] = tuple(arp) + ("-j DROP",)
    chains[layout.chain("PREROUTING")] = tuple(top)
    return chains


def _ebtables_address(cidr):
    network = ipaddress.ip_network(cidr)
    return str(network.network_address) if network.prefixlen == 32 else str(network)


def save_text(ruleset, ethertype, table):
    """One table as ``iptables-save`` would print it after a restore (counters omitted):
    built-in chains, our chains sorted, then the hooks and every chain's rules."""
    chains = ruleset.tables[ethertype][table]
    builtins = {FILTER: ("INPUT", "FORWARD", "OUTPUT"), RAW: ("PREROUTING", "OUTPUT")}[table]
    lines = ["*" + table]
    lines += [":%s ACCEPT" % chain for chain in builtins]
    lines += [":%s - [0:0]" % chain for chain in sorted(chains)]
    lines += ["-A %s -j %s" % hook for hook in ruleset.hooks[table]]
    for chain in sorted(chains):
        lines += ["-A %s %s" % (chain, body) for body in chains[chain]]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"
