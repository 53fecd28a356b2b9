"""The firewall's desired state as immutable values, built from the server's answer.

``security_group_info_for_devices`` (see the sg contract) gives plain dicts;
``Port.from_dict`` and ``Rule.from_dict`` check and normalise them once, so the
renderers work on hashable, comparable values and two equal states render the
same text.
"""
import dataclasses
import functools
import ipaddress

IPV4, IPV6 = "IPv4", "IPv6"
INGRESS, EGRESS = "ingress", "egress"
ETHERTYPES = (IPV4, IPV6)
NETWORK_OWNER_PREFIX = "network:"

# Protocol numbers clients may send instead of names.
_PROTOCOL_NAMES = {"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp", "132": "sctp", "33": "dccp"}
_ICMPV6_ALIASES = ("icmpv6", "ipv6-icmp", "icmp")


@functools.lru_cache(maxsize=65536)
def ethertype_of(address):
    """IPv4 or IPv6 for an address or CIDR string."""
    return IPV4 if ipaddress.ip_network(address, strict=False).version == 4 else IPV6


@functools.lru_cache(maxsize=65536)
def as_cidr(address):
    """'10.0.0.5' -> '10.0.0.5/32', '10.0.0.0/24' kept, host bits of a CIDR cleared."""
    return str(ipaddress.ip_network(address, strict=False))


def normalise_protocol(protocol, ethertype):
    if protocol in (None, "", "any", "0"):
        return None
    name = _PROTOCOL_NAMES.get(str(protocol), str(protocol).lower())
    if ethertype == IPV6 and name in _ICMPV6_ALIASES:
        return "ipv6-icmp"
    return name


@dataclasses.dataclass(frozen=True, order=True)
class Rule:
    """One security group rule, as the agent renders it."""
    direction: str
    ethertype: str
    protocol: str = None
    port_range_min: int = None
    port_range_max: int = None
    remote_ip_prefix: str = None
    remote_group_id: str = None

    @classmethod
    def from_dict(cls, rule):
        ethertype = rule.get("ethertype") or IPV4
        direction = rule.get("direction")
        if direction not in (INGRESS, EGRESS) or ethertype not in ETHERTYPES:
            raise ValueError("bad rule direction/ethertype: %r" % (rule,))
        prefix = rule.get("remote_ip_prefix")
        if prefix:
            prefix = as_cidr(prefix)
            if ethertype_of(prefix) != ethertype:
                raise ValueError("remote_ip_prefix %s is not %s" % (prefix, ethertype))
            if ipaddress.ip_network(prefix).prefixlen == 0:
                prefix = None     # 0.0.0.0/0 and ::/0 match everything: no -s/-d at all
        low, high = rule.get("port_range_min"), rule.get("port_range_max")
        return cls(direction=direction, ethertype=ethertype,
                   protocol=normalise_protocol(rule.get("protocol"), ethertype),
                   port_range_min=None if low is None else int(low),
                   port_range_max=None if high is None else int(high),
                   remote_ip_prefix=prefix, remote_group_id=rule.get("remote_group_id") or None)


@dataclasses.dataclass(frozen=True)
class AddressPair:
    ip_address: str         # address or CIDR, normalised to a CIDR
    mac_address: str


@dataclasses.dataclass(frozen=True)
class Port:
    """A port as its firewall sees it."""
    id: str
    network_id: str
    mac_address: str
    fixed_ips: tuple = ()
    allowed_address_pairs: tuple = ()
    security_groups: tuple = ()
    port_security_enabled: bool = True
    device_owner: str = ""
    stateful: bool = True           # False: its groups are stateless, no connection tracking

    @classmethod
    def from_dict(cls, port):
        mac = str(port["mac_address"]).lower()
        fixed = []
        for entry in port.get("fixed_ips") or ():
            address = entry["ip_address"] if isinstance(entry, dict) else entry
            fixed.append(str(ipaddress.ip_address(address)))
        pairs = []
        for pair in port.get("allowed_address_pairs") or ():
            pairs.append(AddressPair(as_cidr(pair["ip_address"]), str(pair.get("mac_address") or mac).lower()))
        enabled = port.get("port_security_enabled")
        return cls(id=port.get("id") or port["device"], network_id=port.get("network_id") or "",
                   mac_address=mac, fixed_ips=tuple(fixed), allowed_address_pairs=tuple(pairs),
                   security_groups=tuple(port.get("security_groups") or ()),
                   port_security_enabled=True if enabled is None else bool(enabled),
                   device_owner=port.get("device_owner") or "", stateful=port.get("stateful") is not False)

    @property
    def filtered(self):
        """Port security on, and not a port of the network itself (DHCP, router): Neutron
        trusts those and lets their traffic through."""
        return self.port_security_enabled and not self.device_owner.startswith(NETWORK_OWNER_PREFIX)

    def addresses(self, ethertype):
        """Fixed IPs of one family, as CIDRs (what the port may use as a source)."""
        return tuple(as_cidr(ip) for ip in self.fixed_ips if ethertype_of(ip) == ethertype)

    def all_addresses(self):
        """Fixed IPs and pair IPs: what makes the port a member of its groups' ipsets."""
        return tuple(self.fixed_ips) + tuple(pair.ip_address for pair in self.allowed_address_pairs)


@dataclasses.dataclass(frozen=True)
class FirewallState:
    """Everything one host's firewall needs: ports (by id), rules and remote members (by group)."""
    ports: dict
    rules: dict          # sg id -> tuple(Rule)
    members: dict        # sg id -> {"IPv4": tuple(cidr), "IPv6": tuple(cidr)}

    def port_rules(self, port):
        """The port's rules in a stable order, duplicates across its groups dropped."""
        seen, ordered = set(), []
        for group in port.security_groups:
            for rule in self.rules.get(group, ()):
                if rule not in seen:
                    seen.add(rule)
                    ordered.append(rule)
        return ordered

    def filtered_ports(self):
        return [self.ports[key] for key in sorted(self.ports) if self.ports[key].filtered]

    def unfiltered_ports(self):
        return [self.ports[key] for key in sorted(self.ports) if not self.ports[key].filtered]

    def remote_groups(self):
        """Groups that rules of filtered ports on this host reference as remote_group_id."""
        wanted = set()
        for port in self.filtered_ports():
            wanted.update(rule.remote_group_id for rule in self.port_rules(port) if rule.remote_group_id)
        return sorted(wanted)


def members_from_dict(ips_by_ethertype):
    """{"IPv4": [...], "IPv6": [...]} -> the same with sorted, de-duplicated CIDRs."""
    result = {}
    for ethertype in ETHERTYPES:
        cidrs = set()
        for address in (ips_by_ethertype or {}).get(ethertype) or ():
            cidrs.add(as_cidr(address))
        result[ethertype] = tuple(sorted(cidrs, key=_cidr_key))
    return result


def _cidr_key(cidr):
    network = ipaddress.ip_network(cidr)
    return (network.version, int(network.network_address), network.prefixlen)
