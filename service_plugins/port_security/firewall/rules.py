"""One security group rule -> the iptables rule bodies of a port's i/o chain.

The text is what ``iptables-save`` prints (address first, then protocol and
its match, then the set match), so the rendered chains read like the book's
sample. A rule body is everything after ``-A <chain>``.
"""
from netweave.service_plugins.port_security.firewall import model, names

_PORT_PROTOCOLS = ("tcp", "udp", "sctp", "dccp", "udplite")
ALL_PORTS = (1, 65535)


def protocol_match(rule):
    """['-p', 'tcp', '-m', 'tcp', '--dport', '80'] and the like; [] for any protocol."""
    protocol = rule.protocol
    if protocol is None:
        return []
    args = ["-p", protocol]
    low, high = rule.port_range_min, rule.port_range_max
    if protocol in _PORT_PROTOCOLS:
        if low is None and high is None:
            return args
        low = high if low is None else low
        high = low if high is None else high
        if (low, high) == ALL_PORTS:
            return args
        if low == high:
            return args + ["-m", protocol, "--dport", str(low)]
        return args + ["-m", "multiport", "--dports", "%d:%d" % (low, high)]
    if protocol in ("icmp", "ipv6-icmp") and low is not None:
        # For ICMP the port fields carry type (min) and code (max).
        kind = str(low) if high is None else "%d/%d" % (low, high)
        if protocol == "icmp":
            return args + ["-m", "icmp", "--icmp-type", kind]
        return args + ["-m", "icmp6", "--icmpv6-type", kind]
    return args


def rule_bodies(rule, members=None, use_ipset=True):
    """Bodies for one rule. ``members``: {group: {ethertype: (cidr, ...)}} for remote
    groups; without ipset each member address becomes a rule of its own."""
    address_flag = "-s" if rule.direction == model.INGRESS else "-d"
    match = protocol_match(rule)
    if rule.remote_group_id:
        if use_ipset:
            set_dir = "src" if rule.direction == model.INGRESS else "dst"
            name = names.ipset_name(rule.ethertype, rule.remote_group_id)
            return [" ".join(match + ["-m", "set", "--match-set", name, set_dir, "-j", "RETURN"])]
        addresses = ((members or {}).get(rule.remote_group_id) or {}).get(rule.ethertype, ())
        return [" ".join([address_flag, address] + match + ["-j", "RETURN"]) for address in addresses]
    prefix = [address_flag, rule.remote_ip_prefix] if rule.remote_ip_prefix else []
    return [" ".join(prefix + match + ["-j", "RETURN"])]
