"""Security group rules as values: conversion of API input, validation, canonical forms.

Pure functions only; the service stores what ``validate_rule`` returns. The
behaviour is Neutron's: protocols by name or number, ``any``/null for every
protocol, ICMP type and code carried in the port fields, ethertypes checked
against the prefix and the protocol.
"""
import netaddr

from netweave.core.api import validators
from netweave.service_plugins.port_security import exceptions as sg_exc

INGRESS = "ingress"
EGRESS = "egress"
DIRECTIONS = (INGRESS, EGRESS)
IPV4 = "IPv4"
IPV6 = "IPv6"
ETHERTYPES = (IPV4, IPV6)

# Names the API accepts (Neutron's IP_PROTOCOL_MAP) and their IANA numbers.
PROTOCOL_NUMBERS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2, "ip": 0,
    "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59,
    "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17,
    "udplite": 136, "vrrp": 112,
}
# "icmpv6" is the legacy spelling: it is stored as the canonical "ipv6-icmp".
_LEGACY_NAMES = {"icmpv6": "ipv6-icmp"}
# Protocols only meaningful over IPv6 (refused on IPv4 rules).
_IPV6_ONLY = {"ipv6-encap", "ipv6-frag", "ipv6-icmp", "ipv6-nonxt", "ipv6-opts", "ipv6-route"}
# Rows stored before the API spelled IPv6 destination options as Neutron does.
_FORMER_NAMES = {"ipv6-opt": 60}
_IPV6_ONLY_NUMBERS = {PROTOCOL_NUMBERS[name] for name in _IPV6_ONLY}
# Protocols with ports; ICMP carries type and code in the port fields instead.
_PORT_PROTOCOLS = {6, 17, 33, 132, 136}
_ICMP_PROTOCOLS = {1, 58}

ANY_PREFIXES = {IPV4: "0.0.0.0/0", IPV6: "::/0"}
# The names the agents' firewall drivers match by; other protocols go to them as numbers.
_AGENT_NAMES = {6: "tcp", 17: "udp", 1: "icmp", 58: "ipv6-icmp"}


def _supported_values():
    return [None] + sorted(PROTOCOL_NUMBERS)


# --- attribute converters (the API layer calls them) ------------------------

@validators.described({"anyOf": [{"type": "null"}, {"enum": ["any"] + sorted(PROTOCOL_NUMBERS)},
                                   {"type": "integer", "minimum": 0, "maximum": 255},
                                   {"type": "string", "pattern": "^[0-9]{1,3}$"}]})
def convert_protocol(value):
    """None (any), a known name in lower case, or a number 0-255 as a string."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise sg_exc.SecurityGroupRuleInvalidProtocol(protocol=value, values=_supported_values())
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        number = int(value)
        if 0 <= number <= 255:
            return str(number)
        raise sg_exc.SecurityGroupRuleInvalidProtocol(protocol=value, values=_supported_values())
    if isinstance(value, str):
        name = value.strip().lower()
        if name == "any":
            return None
        if name in PROTOCOL_NUMBERS:
            return _LEGACY_NAMES.get(name, name)
    raise sg_exc.SecurityGroupRuleInvalidProtocol(protocol=value, values=_supported_values())


@validators.described({"enum": list(ETHERTYPES)})
def convert_ethertype(value):
    if isinstance(value, str):
        for ethertype in ETHERTYPES:
            if ethertype.lower() == value.lower():
                return ethertype
    raise sg_exc.SecurityGroupRuleInvalidEtherType(ethertype=value, values=list(ETHERTYPES))


@validators.described({"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 0, "maximum": 65535}]})
def convert_port(value):
    if value is None:
        return None
    if isinstance(value, bool):
        raise sg_exc.SecurityGroupInvalidPortValue(port=value)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise sg_exc.SecurityGroupInvalidPortValue(port=value)
    if isinstance(value, float) and value != number:
        raise sg_exc.SecurityGroupInvalidPortValue(port=value)
    if 0 <= number <= 65535:
        return number
    raise sg_exc.SecurityGroupInvalidPortValue(port=value)


@validators.described({"anyOf": [{"type": "null"}, {"type": "string", "format": "cidr"}]})
def convert_ip_prefix(value):
    """A CIDR as given (host bits kept, /32 or /128 added to a bare address), or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise sg_exc.InvalidCIDR(input=value)
    address, slash, length = value.partition("/")
    try:
        address = validators.ip_address(address)
        network = netaddr.IPNetwork(address)
        if slash:
            if not length.isdigit() or int(length) > network.prefixlen:
                raise sg_exc.InvalidCIDR(input=value)
            network.prefixlen = int(length)
    except validators.AttributeInvalid:
        raise sg_exc.InvalidCIDR(input=value)
    return str(network)


def normalized_cidr(prefix):
    """The network of a remote prefix without host bits ("10.0.0.0/24" for "10.0.0.1/24")."""
    if prefix is None:
        return None
    return str(netaddr.IPNetwork(prefix).cidr)


# --- whole-rule checks -------------------------------------------------------

def protocol_number(protocol):
    if protocol is None:
        return None
    if protocol.isdigit():
        return int(protocol)
    if protocol in PROTOCOL_NUMBERS:
        return PROTOCOL_NUMBERS[protocol]
    return _FORMER_NAMES[protocol]


def validate_rule(rule):
    """Check a converted rule body as a whole; returns it with canonical values.

    ``rule`` has direction, ethertype, protocol, port_range_min/max,
    remote_ip_prefix and remote_group_id, already converted.
    """
    rule = dict(rule)
    if rule.get("remote_ip_prefix") and rule.get("remote_group_id"):
        raise sg_exc.SecurityGroupRemoteGroupAndRemoteIpPrefix()
    ethertype = rule["ethertype"]
    prefix = rule.get("remote_ip_prefix")
    if prefix is not None:
        version = netaddr.IPNetwork(prefix).version
        if (version == 4) != (ethertype == IPV4):
            raise sg_exc.SecurityGroupRuleParameterConflict(ethertype=ethertype, cidr=prefix)
    number = protocol_number(rule.get("protocol"))
    if ethertype == IPV4 and number in _IPV6_ONLY_NUMBERS:
        raise sg_exc.SecurityGroupEthertypeConflictWithProtocol(ethertype=ethertype, protocol=rule["protocol"])
    _validate_ports(rule, number)
    return rule


def _validate_ports(rule, number):
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if low is None and high is None:
        return
    if rule.get("protocol") is None:
        raise sg_exc.SecurityGroupProtocolRequiredWithPorts()
    if number in _PORT_PROTOCOLS:
        if low == 0 or high == 0:
            raise sg_exc.SecurityGroupInvalidPortValue(port=0)
        if low is not None and high is not None and low <= high:
            return
        raise sg_exc.SecurityGroupInvalidPortRange()
    if number in _ICMP_PROTOCOLS:
        for attr, field, value in (("port_range_min", "type", low), ("port_range_max", "code", high)):
            if value is not None and not 0 <= value <= 255:
                raise sg_exc.SecurityGroupInvalidIcmpValue(field=field, attr=attr, value=value)
        if low is None and high is not None:
            raise sg_exc.SecurityGroupMissingIcmpType(value=high)
        return
    raise sg_exc.SecurityGroupInvalidProtocolForPortRange(protocol=number)


def canonical_protocol(protocol, ethertype):
    """The protocol as the agents match it, whatever spelling the rule was created with:
    "tcp", "udp", "icmp", "ipv6-icmp" (any ICMP over IPv6) or else its number as a string."""
    number = protocol_number(protocol)
    if number is None:
        return None
    if ethertype == IPV6 and number in _ICMP_PROTOCOLS:
        return "ipv6-icmp"
    return _AGENT_NAMES.get(number, str(number))


def duplicate_key(rule):
    """What makes two rules of a group the same rule: equal keys mean a duplicate.

    A remote prefix covering everything equals no prefix, and a protocol given by
    number equals the same protocol by name.
    """
    prefix = rule.get("remote_ip_prefix")
    if prefix is not None:
        prefix = normalized_cidr(prefix)
        if prefix == ANY_PREFIXES[rule["ethertype"]]:
            prefix = None
    return (rule["security_group_id"], rule["direction"], rule["ethertype"],
            canonical_protocol(rule.get("protocol"), rule["ethertype"]), rule.get("port_range_min"),
            rule.get("port_range_max"), prefix, rule.get("remote_group_id"))

