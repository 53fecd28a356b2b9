"""radvd configuration for a router's interfaces on IPv6 subnets with an RA mode.

``render(router, settings)`` is pure and returns the text of radvd.conf, or
None when no interface needs router advertisements. Per qr- interface, the
subnets' ``ipv6_ra_mode`` decides (Neutron's semantics):

- ``slaac``: the prefix is advertised with AdvAutonomous on, no flags;
- ``dhcpv6-stateless``: AdvOtherConfigFlag on (other configuration, e.g. DNS,
  from DHCPv6) and AdvAutonomous on;
- ``dhcpv6-stateful``: AdvManagedFlag on (addresses from DHCPv6) and
  AdvAutonomous off.

AdvLinkMTU carries the network MTU when it is at least IPv6's minimum (1280);
RDNSS lists the subnets' IPv6 DNS servers (at most 3, as radvd takes).
"""
import ipaddress

from netweave.core import naming

SLAAC, STATELESS, STATEFUL = "slaac", "dhcpv6-stateless", "dhcpv6-stateful"
IPV6_MIN_MTU = 1280
MAX_RDNSS = 3


def _ra_subnets(port):
    subnets = []
    for fixed in port.fixed_ips:
        subnet = port.subnet(fixed.subnet_id)
        if subnet is not None and subnet.ip_version == 6 and subnet.ipv6_ra_mode and subnet not in subnets:
            subnets.append(subnet)
    return subnets


def _interface_block(port, subnets, settings):
    modes = {subnet.ipv6_ra_mode for subnet in subnets}
    lines = ["interface %s" % naming.router_interface_device(port.id), "{",
             "    AdvSendAdvert on;",
             "    MinRtrAdvInterval %d;" % settings.min_rtr_adv_interval,
             "    MaxRtrAdvInterval %d;" % settings.max_rtr_adv_interval]
    if port.mtu >= IPV6_MIN_MTU:
        lines.append("    AdvLinkMTU %d;" % port.mtu)
    if STATELESS in modes:
        lines.append("    AdvOtherConfigFlag on;")
    if STATEFUL in modes:
        lines.append("    AdvManagedFlag on;")
    servers = []
    for subnet in subnets:
        servers += [server for server in subnet.dns_nameservers
                    if ipaddress.ip_address(server).version == 6 and server not in servers]
    if servers:
        lines.append("    RDNSS %s {};" % " ".join(servers[:MAX_RDNSS]))
    for subnet in subnets:
        autonomous = "off" if subnet.ipv6_ra_mode == STATEFUL else "on"
        lines += ["    prefix %s" % subnet.cidr, "    {",
                  "        AdvOnLink on;",
                  "        AdvAutonomous %s;" % autonomous,
                  "    };"]
    lines.append("};")
    return lines


def render(router, settings):
    """radvd.conf for ``router``, or None when none of its interfaces advertises."""
    blocks = []
    for port in router.interfaces:
        subnets = _ra_subnets(port)
        if subnets:
            blocks.append("\n".join(_interface_block(port, subnets, settings)))
    if not blocks:
        return None
    return "\n\n".join(blocks) + "\n"
