"""Address arithmetic shared by the IPAM modules (pure functions, no database)."""
import netaddr

IPV6_SLAAC = "slaac"
DHCPV6_STATEFUL = "dhcpv6-stateful"
DHCPV6_STATELESS = "dhcpv6-stateless"
IPV6_MODES = (IPV6_SLAAC, DHCPV6_STATEFUL, DHCPV6_STATELESS)
AUTO_ADDRESS_MODES = (IPV6_SLAAC, DHCPV6_STATELESS)

ROUTER_INTERFACE_OWNERS = ("network:router_interface",
                           "network:ha_router_replicated_interface",
                           "network:router_interface_distributed")
ROUTER_INTERFACE_OWNERS_SNAT = ROUTER_INTERFACE_OWNERS + ("network:router_centralized_snat",)
ROUTER_PORT_OWNERS = ROUTER_INTERFACE_OWNERS_SNAT + ("network:router_gateway",)


def normalise_cidr(cidr):
    """'192.168.1.5/24' -> '192.168.1.0/24' (IPv6 in compact form)."""
    net = netaddr.IPNetwork(cidr)
    return str(net.cidr)


def ip_version_of(address_or_cidr):
    return netaddr.IPNetwork(address_or_cidr).version


def default_gateway(cidr):
    """Neutron's automatic gateway: the address right after the network address.

    A single-address subnet has no such address inside it, so it gets none.
    """
    net = netaddr.IPNetwork(cidr)
    if net.first + 1 > net.last:
        return None
    return str(netaddr.IPAddress(net.first + 1, net.version))


def generate_pools(cidr, gateway_ip):
    """Default allocation pools: the usable addresses of ``cidr`` minus the gateway.

    IPv4 loses its network and broadcast addresses, except on /31 and /32 where
    every address is usable (RFC 3021). IPv6 loses only the subnet-router anycast
    address (the first one); its last address is usable.
    Returns a list of ``netaddr.IPRange``.
    """
    net = netaddr.IPNetwork(cidr)
    first, last = net.first, net.last
    if first == last:
        return [netaddr.IPRange(net.network, net.network)]
    if net.version == 4 and net.prefixlen <= 30:
        first, last = first + 1, last - 1
    elif net.version == 6:
        first += 1
    usable = netaddr.IPSet(netaddr.IPRange(netaddr.IPAddress(first, net.version),
                                           netaddr.IPAddress(last, net.version)))
    if gateway_ip:
        usable.remove(netaddr.IPAddress(gateway_ip))
    return list(usable.iter_ipranges())


def range_to_pool(ip_range):
    """An IPRange as the API's {"start", "end"} dict."""
    return {"start": str(netaddr.IPAddress(ip_range.first, ip_range.version)),
            "end": str(netaddr.IPAddress(ip_range.last, ip_range.version))}


def is_valid_ip_for_subnet(cidr, ip_address, device_owner=""):
    """Whether a port may hold ``ip_address`` on ``cidr``.

    IPv4 excludes the network and broadcast addresses; IPv6 excludes the
    subnet-router anycast address except for router ports, which may own it.
    """
    ip = netaddr.IPAddress(ip_address)
    net = netaddr.IPNetwork(cidr)
    if ip.version != net.version or ip not in net:
        return False
    if net.version == 6:
        return ip != net.network or device_owner in ROUTER_PORT_OWNERS
    if net.prefixlen >= 31:
        return True
    return ip != net.network and ip != net.broadcast


def is_gateway_invalid_on_subnet(cidr, gateway_ip):
    """A gateway inside the subnet must not be its IPv4 network or broadcast address.

    A gateway outside the subnet is accepted: its own subnet is unknown here.
    """
    ip = netaddr.IPAddress(gateway_ip)
    net = netaddr.IPNetwork(cidr)
    if net.version != 4 or ip not in net:
        return False
    return int(ip) in (net.first, net.last)


def is_auto_address_subnet(ipv6_ra_mode, ipv6_address_mode):
    """SLAAC and DHCPv6-stateless subnets derive port addresses from the MAC."""
    return ipv6_address_mode in AUTO_ADDRESS_MODES or ipv6_ra_mode in AUTO_ADDRESS_MODES


def eui64_address(cidr, mac_address):
    """The modified EUI-64 address of ``mac_address`` in an IPv6 prefix."""
    net = netaddr.IPNetwork(cidr)
    return str(netaddr.EUI(mac_address).ipv6(net.first))
