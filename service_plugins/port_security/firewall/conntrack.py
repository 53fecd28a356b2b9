"""Which conntrack entries to delete when a firewall change takes an allowance away.

A stateful firewall lets established flows through on their conntrack entry,
so removing a rule alone leaves open sessions open. As Neutron's conntrack
manager does, entries are deleted in the port's zone for: rules a port no
longer has (by direction, family, protocol and port), addresses gone from a
remote group the port's rules use, and ports (or port addresses) that go away.
A flow still allowed is picked up again by the rules that remain (TCP
mid-stream pickup is on by default).
``plan(old, new, zones)`` is pure and returns the conntrack argument lists.
"""
import ipaddress
import shutil

from netweave.service_plugins.port_security.firewall import model

BINARY = shutil.which("conntrack") or shutil.which("conntrack", path="/usr/sbin:/sbin") or "conntrack"
_CT_PROTOCOLS = ("tcp", "udp", "icmp", "ipv6-icmp", "sctp", "dccp", "udplite")


def _family(ethertype):
    return "ipv4" if ethertype == model.IPV4 else "ipv6"


def _host(cidr):
    """The address of a host CIDR, None for a wider network (conntrack takes addresses)."""
    network = ipaddress.ip_network(cidr)
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else None


def _port_addresses(port, ethertype):
    return [_host(cidr) for cidr in port.addresses(ethertype)]


def _rule_args(rule, zone, port_address):
    args = ["-D", "-f", _family(rule.ethertype), "-w", str(zone)]
    args += ["-d" if rule.direction == model.INGRESS else "-s", port_address]
    if rule.remote_ip_prefix and _host(rule.remote_ip_prefix):
        args += ["-s" if rule.direction == model.INGRESS else "-d", _host(rule.remote_ip_prefix)]
    if rule.protocol in _CT_PROTOCOLS:
        args += ["-p", "icmpv6" if rule.protocol == "ipv6-icmp" else rule.protocol]
        low, high = rule.port_range_min, rule.port_range_max
        if rule.protocol not in ("icmp", "ipv6-icmp") and low is not None and (high is None or high == low):
            args += ["--dport", str(low)]
    return args


def _network(port):
    return port.network_id


def plan(old, new, zones, zone_key=_network):
    """Argument lists for ``conntrack`` (each starting with -D); ``zones``: zone_key(port) ->
    zone as it was for the old state (a port's network, or the port with hybrid plugging)."""
    commands = []
    for port_id in sorted(old.ports):
        port = old.ports[port_id]
        if not port.filtered or zone_key(port) not in zones:
            continue
        zone = zones[zone_key(port)]
        current = new.ports.get(port_id)
        if current is None or current.network_id != port.network_id:
            commands += _forget_addresses(port.fixed_ips, zone)
            continue
        if not current.filtered:
            continue            # everything is allowed now: nothing to cut
        commands += _forget_addresses(set(port.fixed_ips) - set(current.fixed_ips), zone)
        if current == port and all(old.rules.get(group) == new.rules.get(group) for group in port.security_groups):
            continue            # the same rules as before
        kept = set(new.port_rules(current))
        for rule in old.port_rules(port):
            if rule in kept:
                continue
            for address in _port_addresses(current, rule.ethertype):
                if address:
                    commands.append(_rule_args(rule, zone, address))
    commands += plan_departures(old, new, zones, zone_key)
    unique = []
    for command in commands:
        if command not in unique:
            unique.append(command)
    return unique


def _forget_addresses(addresses, zone):
    commands = []
    for address in sorted(addresses):
        family = _family(model.ethertype_of(address))
        commands.append(["-D", "-f", family, "-w", str(zone), "-d", address])
        commands.append(["-D", "-f", family, "-w", str(zone), "-s", address])
    return commands


def plan_departures(old, new, zones, zone_key=_network):
    """Addresses that left a remote group: cut their flows in every zone where a port
    still has a rule using that group. One command per departed address and zone,
    not per port: a group may be used by hundreds of ports, and a flow the
    remaining rules still allow is simply picked up again."""
    departed = {}
    for group, before in old.members.items():
        after = new.members.get(group) or {}
        for ethertype in model.ETHERTYPES:
            gone = set(before.get(ethertype, ())) - set(after.get(ethertype, ()))
            if gone:
                departed[(group, ethertype)] = gone
    if not departed:
        return []
    rules_using = {}
    for group, rules in new.rules.items():
        using = [rule for rule in rules if (rule.remote_group_id, rule.ethertype) in departed]
        if using:
            rules_using[group] = using
    uses = set()
    for port in new.ports.values():
        if not port.filtered or zone_key(port) not in zones:
            continue
        for group in port.security_groups:
            for rule in rules_using.get(group, ()):
                uses.add((zones[zone_key(port)], rule.ethertype, rule.direction, rule.remote_group_id))
    commands = []
    for zone, ethertype, direction, group in sorted(uses):
        for gone in sorted(departed[(group, ethertype)]):
            remote = _host(gone)
            if remote is None:
                continue
            flag = "-s" if direction == model.INGRESS else "-d"
            commands.append(["-D", "-f", _family(ethertype), "-w", str(zone), flag, remote])
    return commands
