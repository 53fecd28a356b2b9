"""dnsmasq's files and command line, rendered from a network info dict.

Everything here is pure: the same network, DHCP port and settings give the
same text. The formats follow Neutron's dnsmasq driver:

  host   <mac>,<fqdn>,<ip>[,set:port-<port id>]   (one line per fixed IP on a
         DHCP-enabled subnet; IPv6 addresses in brackets)
  addn_hosts  <ip>\t<fqdn> <hostname>

The host name and FQDN of an address are those of the port's dns_assignment
when the server sends one (the dns-integration extension: the port's dns_name,
or host-<address>, with the server's dns_domain), else host-<address> and
host-<address>.<dns_domain> from the agent's own dns_domain.
  opts   tag:subnet-<id>,option:dns-server,...  classless-static-route / 249 / router,
         then tag:port-<id>,... for each port's extra_dhcp_opts

A subnet is *isolated* when no router interface port holds its gateway IP;
isolated metadata puts 169.254.169.254 on the DHCP port and a host route to it.
"""
import ipaddress
import os
import re

METADATA_IP = "169.254.169.254"
METADATA_CIDR = METADATA_IP + "/32"
# The address the DHCP namespace takes for the metadata proxy (as the book shows it).
METADATA_PORT_CIDR = METADATA_IP + "/16"
METADATA_NETWORK = ipaddress.ip_network("169.254.0.0/16")
# Metadata over IPv6 (link-local, so every network can have it): the proxy listens
# there too, on the DHCP port's device.
METADATA_V6_IP = "fe80::a9fe:a9fe"
METADATA_V6_PORT_CIDR = METADATA_V6_IP + "/64"
IPV4_ANY = "0.0.0.0/0"
WIN2K3_STATIC_ROUTE = "249"

ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                           "network:ha_router_replicated_interface")
DHCP_OWNER = "network:dhcp"
DHCPV6_STATEFUL = "dhcpv6-stateful"
DHCPV6_STATELESS = "dhcpv6-stateless"

# What a name from the server may hold before it goes into dnsmasq's files (the server
# allows less); anything else would break their comma and whitespace separated lines.
_SAFE_NAME = re.compile(r"[A-Za-z0-9.-]{1,255}")

SUBNET_TAG = "subnet-%s"
PORT_TAG = "port-%s"


# --- what the network holds --------------------------------------------------------------

def dhcp_subnets(network):
    """The subnets with enable_dhcp, in the order the server gave them."""
    return [s for s in network.get("subnets") or () if s.get("enable_dhcp")]


def needs_dhcp(network):
    """A network is served only when it is up and has a DHCP-enabled subnet."""
    return bool(network.get("admin_state_up", True)) and bool(dhcp_subnets(network))


def isolated_subnets(network):
    """{subnet id: True when no router interface holds the subnet's gateway IP}."""
    router_ips = set()
    for port in network.get("ports") or ():
        if port.get("device_owner") in ROUTER_INTERFACE_OWNERS:
            for fixed in port.get("fixed_ips") or ():
                router_ips.add((fixed["subnet_id"], fixed["ip_address"]))
    return {s["id"]: (s["id"], s.get("gateway_ip")) not in router_ips for s in network.get("subnets") or ()}


def is_metadata_network(network):
    return any(ipaddress.ip_network(s["cidr"], strict=False).subnet_of(METADATA_NETWORK)
               for s in network.get("subnets") or () if s.get("ip_version") == 4)


def should_enable_metadata(network, settings):
    """Whether the namespace serves metadata (proxy plus 169.254.169.254 on the port)."""
    v4 = [s for s in dhcp_subnets(network) if s.get("ip_version") == 4]
    if not v4:
        return False
    if settings.force_metadata:
        return True
    if not settings.enable_isolated_metadata:
        return False
    if settings.enable_metadata_network and is_metadata_network(network):
        return True
    isolated = isolated_subnets(network)
    return any(isolated.get(s["id"]) for s in v4)


def served_ports(network):
    """IDs of the ports with an address on a DHCP-enabled subnet, sorted (the DHCP port excluded)."""
    enabled = {s["id"] for s in dhcp_subnets(network)}
    return sorted(p["id"] for p in network.get("ports") or ()
                  if p.get("device_owner") != DHCP_OWNER
                  and any(f["subnet_id"] in enabled for f in p.get("fixed_ips") or ()))


def allocations(network):
    """{(ip, mac)} of every fixed IP on a DHCP-enabled subnet: what dnsmasq may lease."""
    enabled = {s["id"] for s in dhcp_subnets(network)}
    return {(f["ip_address"], p["mac_address"].lower())
            for p in network.get("ports") or ()
            for f in p.get("fixed_ips") or () if f["subnet_id"] in enabled}


def released(old_network, new_network):
    """IPv4 (ip, mac) allocations present before and gone now, sorted: leases to drop at once."""
    if old_network is None:
        return []
    gone = allocations(old_network) - allocations(new_network or {})
    return sorted(a for a in gone if ipaddress.ip_address(a[0]).version == 4)


def dhcp_port_addresses(network, dhcp_port):
    """["ip/prefixlen"] for the DHCP port's fixed IPs on the network's DHCP-enabled subnets."""
    by_id = {s["id"]: s for s in dhcp_subnets(network)}
    result = []
    for fixed in (dhcp_port or {}).get("fixed_ips") or ():
        subnet = by_id.get(fixed["subnet_id"])
        if subnet is not None:
            prefix = ipaddress.ip_network(subnet["cidr"], strict=False).prefixlen
            result.append("%s/%d" % (fixed["ip_address"], prefix))
    return result


# --- host names ----------------------------------------------------------------------------

def hostname(ip_address):
    return "host-" + ip_address.replace(".", "-").replace(":", "-")


def fqdn(ip_address, settings):
    name = hostname(ip_address)
    return "%s.%s" % (name, settings.dns_domain) if settings.dns_domain else name


def host_names(port, ip_address, settings):
    """(hostname, fqdn) of one of the port's addresses: from its dns_assignment when it has one."""
    for entry in port.get("dns_assignment") or ():
        if (entry.get("ip_address") == ip_address and _SAFE_NAME.fullmatch(entry.get("hostname") or "")
                and _SAFE_NAME.fullmatch(entry.get("fqdn") or "")):
            return entry["hostname"], entry["fqdn"]
    return hostname(ip_address), fqdn(ip_address, settings)


def _dnsmasq_address(ip_address):
    return "[%s]" % ip_address if ":" in ip_address else ip_address


def _has_extra_opts(port):
    return bool(port.get("extra_dhcp_opts"))


def _host_entries(network):
    """(port, fixed ip) pairs on DHCP-enabled subnets, ports in the server's order."""
    enabled = {s["id"] for s in dhcp_subnets(network)}
    for port in network.get("ports") or ():
        for fixed in port.get("fixed_ips") or ():
            if fixed["subnet_id"] in enabled:
                yield port, fixed


# --- files ----------------------------------------------------------------------------------

def render_hosts(network, settings):
    """The --dhcp-hostsfile: only these MACs get a lease, each the address the server allocated."""
    lines = []
    for port, fixed in _host_entries(network):
        address = fixed["ip_address"]
        _name, full_name = host_names(port, address, settings)
        line = "%s,%s,%s" % (port["mac_address"].lower(), full_name, _dnsmasq_address(address))
        if _has_extra_opts(port):
            line += ",set:" + PORT_TAG % port["id"]
        lines.append(line)
    return "".join(line + "\n" for line in lines)


def render_addn_hosts(network, settings):
    """The --addn-hosts file: dnsmasq answers DNS for the instances' names."""
    lines = []
    for port, fixed in _host_entries(network):
        address = fixed["ip_address"]
        name, full_name = host_names(port, address, settings)
        lines.append("%s\t%s %s" % (address, full_name, name))
    return "".join(line + "\n" for line in lines)


def _format_option(ip_version, tag, option, *values):
    option = str(option)
    if not option.isdigit():
        option = ("option:%s" if ip_version == 4 else "option6:%s") % option
    return ",".join(("tag:" + tag, option) + tuple(str(v) for v in values))


def _dhcp_port_ip(network, dhcp_port, subnet_id):
    for fixed in (dhcp_port or {}).get("fixed_ips") or ():
        if fixed["subnet_id"] == subnet_id:
            return fixed["ip_address"]
    return None


def subnet_routes(network, subnet, dhcp_port, settings, isolated=None):
    """The classless static routes (["dst,nexthop", ...]) and the gateway of one IPv4 subnet."""
    isolated = isolated_subnets(network) if isolated is None else isolated
    gateway = subnet.get("gateway_ip")
    routes = []
    for route in subnet.get("host_routes") or ():
        if route["destination"] == IPV4_ANY:
            gateway = gateway or route["nexthop"]
        else:
            routes.append("%s,%s" % (route["destination"], route["nexthop"]))
    if settings.force_metadata or (settings.enable_isolated_metadata and isolated.get(subnet["id"])):
        own_ip = _dhcp_port_ip(network, dhcp_port, subnet["id"])
        if own_ip:
            routes.append("%s,%s" % (METADATA_CIDR, own_ip))
    elif not isolated.get(subnet["id"]) and gateway:
        routes.append("%s,%s" % (METADATA_CIDR, gateway))
    # The network's other IPv4 subnets are on the same link.
    for other in network.get("subnets") or ():
        if other.get("ip_version") == 4 and other["cidr"] != subnet["cidr"]:
            routes.insert(0, "%s,0.0.0.0" % other["cidr"])
    if routes and gateway:
        routes.append("%s,%s" % (IPV4_ANY, gateway))
    return routes, gateway


def render_opts(network, dhcp_port, settings):
    """The --dhcp-optsfile: per-subnet options, then each port's extra_dhcp_opts."""
    isolated = isolated_subnets(network)
    lines = []
    for subnet in dhcp_subnets(network):
        version = subnet.get("ip_version", 4)
        tag = SUBNET_TAG % subnet["id"]
        servers = list(subnet.get("dns_nameservers") or ())
        if servers:
            lines.append(_format_option(version, tag, "dns-server", *[_dnsmasq_address(s) for s in servers]))
        elif version == 4:
            # No servers on the subnet: the DHCP port itself answers (and forwards).
            own_ip = _dhcp_port_ip(network, dhcp_port, subnet["id"])
            if own_ip:
                lines.append(_format_option(version, tag, "dns-server", own_ip))
        if version == 6:
            if settings.dns_domain:
                lines.append(_format_option(version, tag, "domain-search", settings.dns_domain))
            continue
        routes, gateway = subnet_routes(network, subnet, dhcp_port, settings, isolated)
        if routes:
            lines.append(_format_option(version, tag, "classless-static-route", ",".join(routes)))
            lines.append(_format_option(version, tag, WIN2K3_STATIC_ROUTE, ",".join(routes)))
        if gateway:
            lines.append(_format_option(version, tag, "router", gateway))
        else:
            lines.append(_format_option(version, tag, "router"))
    for port in network.get("ports") or ():
        for opt in port.get("extra_dhcp_opts") or ():
            version = int(opt.get("ip_version") or 4)
            value = opt.get("opt_value")
            values = () if value in (None, "") else (value,)
            lines.append(_format_option(version, PORT_TAG % port["id"], opt["opt_name"], *values))
    return "".join(line + "\n" for line in lines)


# --- command line -----------------------------------------------------------------------------

def lease_text(settings):
    return "infinite" if settings.dhcp_lease_duration == -1 else "%ds" % settings.dhcp_lease_duration


def dhcp_ranges(network, settings):
    """(--dhcp-range values, number of leasable addresses), one range per DHCP-enabled subnet."""
    ranges = []
    possible = 0
    lease = lease_text(settings)
    for subnet in dhcp_subnets(network):
        cidr = ipaddress.ip_network(subnet["cidr"], strict=False)
        tag = "set:" + SUBNET_TAG % subnet["id"]
        if subnet.get("ip_version", 4) == 4:
            ranges.append("%s,%s,static,%s,%s" % (tag, cidr.network_address, cidr.netmask, lease))
        else:
            address_mode = subnet.get("ipv6_address_mode")
            ra_mode = subnet.get("ipv6_ra_mode")
            # SLAAC subnets get their addresses from router advertisements, not from dnsmasq.
            if not (address_mode in (DHCPV6_STATEFUL, DHCPV6_STATELESS) or (not address_mode and not ra_mode)):
                continue
            if cidr.prefixlen < 64:
                continue
            ranges.append("%s,%s,static,%d,%s" % (tag, cidr.network_address, cidr.prefixlen, lease))
        possible += cidr.num_addresses
    return ranges, possible


class Paths:
    """Where one network's files live: <state_path>/dhcp/<network id>/."""

    def __init__(self, state_path, network_id):
        self.directory = os.path.join(state_path, "dhcp", network_id)
        self.hosts = os.path.join(self.directory, "host")
        self.addn_hosts = os.path.join(self.directory, "addn_hosts")
        self.opts = os.path.join(self.directory, "opts")
        self.leases = os.path.join(self.directory, "leases")
        self.interface = os.path.join(self.directory, "interface")


def build_argv(network, device, pid_file, paths, settings):
    """dnsmasq's argv for one network served on ``device`` inside its namespace."""
    argv = [
        "dnsmasq",
        "--no-hosts",
        "--no-resolv",
        "--strict-order",
        "--except-interface=lo",
        "--pid-file=%s" % pid_file,
        "--dhcp-hostsfile=%s" % paths.hosts,
        "--addn-hosts=%s" % paths.addn_hosts,
        "--dhcp-optsfile=%s" % paths.opts,
        "--dhcp-leasefile=%s" % paths.leases,
        "--dhcp-match=set:ipxe,175",
        "--dhcp-userclass=set:ipxe6,iPXE",
        "--local-service",
        "--bind-interfaces",
        "--interface=%s" % device,
    ]
    ranges, possible = dhcp_ranges(network, settings)
    argv += ["--dhcp-range=%s" % r for r in ranges]
    mtu = network.get("mtu") or 0
    if mtu > 0:
        argv.append("--dhcp-option-force=option:mtu,%d" % mtu)
    argv.append("--dhcp-lease-max=%d" % min(possible, settings.dnsmasq_lease_max))
    argv.append("--conf-file=%s" % (settings.dnsmasq_config_file or "/dev/null"))
    argv += ["--server=%s" % server for server in settings.dnsmasq_dns_servers]
    if settings.dns_domain:
        argv.append("--domain=%s" % settings.dns_domain)
    if settings.dhcp_broadcast_reply:
        argv.append("--dhcp-broadcast")
    if settings.dnsmasq_base_log_dir:
        argv += ["--log-queries", "--log-dhcp",
                 "--log-facility=%s" % os.path.join(settings.dnsmasq_base_log_dir, network["id"], "dhcp_dns_log")]
    return argv
