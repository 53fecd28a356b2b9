"""IPv6 router advertisements of a router: radvd.conf and what to do with the router's radvd.

Both functions are pure. ``render(router, settings)`` returns the text of
radvd.conf, or None when no interface advertises. As Neutron's L3 agent
(neutron/agent/linux/ra.py), every qr- interface with an IPv6 subnet among its
fixed IPs advertises the router (the subnets' gateway: an interface added by
subnet takes its gateway_ip) and, per subnet ``ipv6_ra_mode``:

- ``slaac``: the prefix with AdvAutonomous on; its IPv6 DNS servers as RDNSS
  (at most 3, as radvd takes);
- ``dhcpv6-stateless``: the prefix with AdvAutonomous on and AdvOtherConfigFlag
  on the interface (other configuration, e.g. DNS, from DHCPv6);
- ``dhcpv6-stateful``: the prefix with AdvAutonomous off and AdvManagedFlag on
  the interface (addresses from DHCPv6);
- unset: no prefix; hosts learn only their default route from the RA (the
  server refuses interfaces on subnets whose address mode expects another router).

Autonomous prefixes come before stateful ones. AdvLinkMTU carries the network
MTU when it is at least IPv6's minimum (1280). Without IPv6 in the kernel
(``settings.use_ipv6`` false) nothing is advertised.

``plan(desired, state)`` compares that text with what the host has (the
config file radvd was last given, whether it runs) and says what to do:
START it, RELOAD it (SIGHUP: radvd reads its file again), STOP it, or NONE.
"""
import dataclasses
import ipaddress

from netweave.core import naming

SLAAC, STATELESS, STATEFUL = "slaac", "dhcpv6-stateless", "dhcpv6-stateful"
AUTONOMOUS_MODES = (SLAAC, STATELESS)
IPV6_MIN_MTU = 1280
MAX_RDNSS = 3

START, RELOAD, STOP, NONE = "start", "reload", "stop", "none"


def _ipv6_subnets(port):
    """The IPv6 subnets of ``port``'s fixed IPs, in fixed IP order."""
    subnets = []
    for fixed in port.fixed_ips:
        subnet = port.subnet(fixed.subnet_id)
        if subnet is not None and subnet.ip_version == 6 and subnet not in subnets:
            subnets.append(subnet)
    return subnets


def _prefix_block(subnet):
    autonomous = "on" if subnet.ipv6_ra_mode in AUTONOMOUS_MODES else "off"
    return ["    prefix %s" % subnet.cidr, "    {",
            "        AdvOnLink on;",
            "        AdvAutonomous %s;" % autonomous,
            "    };"]


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
        if subnet.ipv6_ra_mode != SLAAC:
            continue        # stateless and stateful hosts ask DHCPv6 for their DNS servers
        # radvd refuses a whole file for one IPv4 address in RDNSS.
        servers += [server for server in subnet.dns_nameservers
                    if ipaddress.ip_address(server).version == 6 and server not in servers]
    if servers:
        lines.append("    RDNSS %s {};" % " ".join(servers[:MAX_RDNSS]))
    # Autonomous prefixes first, each kind in the interface's order (sorted is stable).
    for subnet in sorted(subnets, key=lambda subnet: subnet.ipv6_ra_mode == STATEFUL):
        if subnet.ipv6_ra_mode:
            lines += _prefix_block(subnet)
    lines.append("};")
    return lines


def render(router, settings):
    """radvd.conf for ``router`` (a router_info.Router), or None when none of its interfaces advertises."""
    if not settings.use_ipv6:
        return None
    blocks = []
    for port in router.interfaces:
        subnets = _ipv6_subnets(port)
        if subnets:
            blocks.append("\n".join(_interface_block(port, subnets, settings)))
    if not blocks:
        return None
    return "\n\n".join(blocks) + "\n"


@dataclasses.dataclass(frozen=True)
class DaemonState:
    """A router's radvd as the host has it: the text of its config file (None: no file) and
    whether the daemon runs."""
    config: object = None
    running: bool = False


ABSENT = DaemonState()


def plan(desired, state):
    """START, RELOAD, STOP or NONE, taking ``state`` (DaemonState) to ``desired`` (render's
    text, or None for no radvd)."""
    if desired is None:
        return STOP if state.running or state.config is not None else NONE
    if not state.running:
        return START            # also a radvd that died: started again with the file as it should be
    if state.config != desired:
        return RELOAD
    return NONE
