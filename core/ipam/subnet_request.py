"""Validation and normalisation of subnet create and update bodies.

Everything here is pure: the caller looks up what lives in the database
(other subnets, the subnet pool, the default pool) and passes it in.
Texts and HTTP codes are Neutron's.

Create, in Neutron's order:
    source = resolve_subnet_source(body)       # explicit CIDR or a subnet pool
    ... carve the CIDR from the pool when source.cidr is None ...
    values = prepare_subnet_create(body, cidr)  # gateway, pools, DNS, routes, IPv6
    check_overlap(values["cidr"], other_cidrs, network_id)
Update:
    changes = prepare_subnet_update(current, body, subnet_id)
"""
import collections

import netaddr
from oslo_config import cfg

from netweave.core import exceptions as exc
from netweave.core.config import common  # noqa: F401 - registers the limits read below
from netweave.core.ipam import addresses

GATEWAY_AUTO = "auto"
NEW_SUBNET = "new subnet"

# Neutron refuses DHCP where dnsmasq could not hand out a lease.
MAX_DHCP_PREFIXLEN = {4: 30, 6: 126}

SubnetSource = collections.namedtuple(
    "SubnetSource", ["cidr", "subnetpool_id", "use_default_subnetpool", "ip_version", "prefixlen"])


def _bad_request(msg):
    return exc.BadRequest(resource="subnets", msg=msg)


def _invalid(msg):
    return exc.InvalidInput(error_message=msg)


def _is_set(value):
    return value is not None


# --- where the CIDR comes from ---------------------------------------------

def resolve_subnet_source(body):
    """Decide whether the CIDR is given or carved from a (default) subnet pool.

    Returns a SubnetSource whose ``cidr`` is normalised (or None for a pool
    request), ``subnetpool_id`` as given, ``use_default_subnetpool`` when the
    caller must look up the default pool of ``ip_version`` (and raise
    ``no_default_subnetpool(ip_version)`` if there is none).
    """
    cidr = body.get("cidr")
    prefixlen = body.get("prefixlen")
    if _is_set(cidr) and _is_set(prefixlen):
        raise _bad_request("cidr and prefixlen must not be supplied together")
    if _is_set(cidr):
        cidr = addresses.normalise_cidr(cidr)

    subnetpool_id = body.get("subnetpool_id")
    use_default = bool(body.get("use_default_subnetpool"))
    if use_default and subnetpool_id:
        raise _bad_request("subnetpool_id and use_default_subnetpool cannot both be specified")

    ip_version = body.get("ip_version")
    if _is_set(cidr):
        check_ip_version(ip_version, cidr, "cidr")
        ip_version = addresses.ip_version_of(cidr)
    elif use_default and not _is_set(ip_version):
        raise _bad_request("ip_version must be specified in the absence of cidr and subnetpool_id")

    if not subnetpool_id and not use_default and not _is_set(cidr):
        raise _bad_request("a subnetpool must be specified in the absence of a cidr")
    if (subnetpool_id or use_default) and not _is_set(cidr) and _is_set(body.get("allocation_pools")):
        raise _bad_request("allocation_pools allowed only for specific subnet requests.")
    return SubnetSource(cidr, subnetpool_id or None, use_default, ip_version, prefixlen)


def no_default_subnetpool(ip_version):
    """The error for use_default_subnetpool when no pool of that version is default."""
    return _bad_request("No default subnetpool found for IPv%s" % ip_version)


def check_pool_ip_version(ip_version, pool_ip_version):
    if _is_set(ip_version) and ip_version != pool_ip_version:
        raise _bad_request("Cannot allocate IPv%s subnet from IPv%s subnet pool"
                           % (ip_version, pool_ip_version))


def check_network_subnetpool_affinity(network_subnets, subnetpool_id, ip_version):
    """Subnets of one IP version on a network all come from the same pool (or none).

    ``network_subnets``: (ip_version, subnetpool_id) pairs of the existing subnets.
    """
    for version, pool_id in network_subnets:
        if version == ip_version and pool_id != subnetpool_id:
            raise exc.NetworkSubnetPoolAffinityError()


# --- single checks -------------------------------------------------------

def check_ip_version(ip_version, address, name):
    """``address`` (an IP or CIDR) must be of ``ip_version``."""
    if _is_set(ip_version) and addresses.ip_version_of(address) != ip_version:
        raise _invalid("%s '%s' does not match the ip_version '%s'" % (name, address, ip_version))


def check_overlap(new_cidr, existing_cidrs, network_id):
    """The new subnet may not share an address with another subnet of the network."""
    new_set = netaddr.IPSet([new_cidr])
    if netaddr.IPNetwork(new_cidr).prefixlen == 0:
        raise _invalid("0 is not allowed as CIDR prefix length")
    for cidr in existing_cidrs:
        if new_set & netaddr.IPSet([cidr]):
            # Neutron does not reveal which subnet is in the way.
            raise _invalid("Requested subnet with cidr: %s for network: %s overlaps with another subnet"
                           % (new_cidr, network_id))


def check_dhcp_allowed(cidr):
    """A subnet with DHCP needs room for leases and cannot be multicast or loopback."""
    net = netaddr.IPNetwork(cidr)
    if net.prefixlen > MAX_DHCP_PREFIXLEN[net.version]:
        raise _invalid("Subnet has a prefix length that is incompatible with DHCP service enabled.")
    if net.is_multicast():
        raise _invalid("Multicast IP subnet is not supported if enable_dhcp is True.")
    if net.is_loopback():
        raise _invalid("Loopback IP subnet is not supported if enable_dhcp is True.")


def resolve_gateway(cidr, gateway_ip):
    """'auto' (or absent) -> first host; None -> no gateway; an IP -> itself."""
    if gateway_ip == GATEWAY_AUTO:
        return addresses.default_gateway(cidr)
    if gateway_ip is None:
        return None
    return str(netaddr.IPAddress(gateway_ip))


def check_gateway(cidr, gateway_ip, ip_version):
    """An explicit gateway: right version, not the IPv4 network or broadcast address.

    A gateway outside the CIDR is allowed, as in Neutron since the removal of
    force_gateway_on_subnet.
    """
    check_ip_version(ip_version, gateway_ip, "gateway_ip")
    if addresses.is_gateway_invalid_on_subnet(cidr, gateway_ip):
        raise _invalid("Gateway is not valid on subnet")


def _pool_to_range(pool):
    try:
        return netaddr.IPRange(pool["start"], pool["end"])
    except (netaddr.AddrFormatError, ValueError, TypeError, KeyError):
        # Covers unparsable addresses and start > end.
        raise exc.InvalidAllocationPool(pool=pool)


def validate_allocation_pools(pools, cidr):
    """Check user pools: well formed, same version, inside the CIDR, no overlaps.

    The usable span is the CIDR minus its first address and, for IPv4, its
    last one. Returns the pools as a list of ``netaddr.IPRange``.
    """
    net = netaddr.IPNetwork(cidr)
    lowest = net.first + 1
    highest = net.last - (1 if net.version == 4 else 0)
    ranges = [_pool_to_range(pool) for pool in pools]
    for ip_range in ranges:
        if ip_range.version != net.version:
            raise exc.InvalidAllocationPool(pool=ip_range)
        if ip_range.first < lowest or ip_range.last > highest:
            raise exc.OutOfBoundsAllocationPool(pool=ip_range, subnet_cidr=cidr)
    for i, left in enumerate(ranges):
        for right in ranges[i + 1:]:
            if left.first <= right.last and right.first <= left.last:
                raise exc.OverlappingAllocationPools(pool_1=left, pool_2=right, subnet_cidr=cidr)
    return ranges


def check_gateway_outside_pools(gateway_ip, pool_ranges):
    if not gateway_ip:
        return
    gateway = netaddr.IPAddress(gateway_ip)
    for ip_range in pool_ranges:
        if gateway in ip_range:
            raise exc.GatewayConflictWithAllocationPools(ip_address=gateway_ip, pool=ip_range)


def validate_dns_nameservers(nameservers, ip_version, subnet_id=None):
    """Distinct addresses of the subnet's version, at most max_dns_nameservers."""
    seen = set()
    for server in nameservers:
        if server in seen:
            raise exc.InvalidAttribute(attr="dns_nameservers", reason="Duplicate nameserver '%s'" % server)
        seen.add(server)
    if len(nameservers) > cfg.CONF.max_dns_nameservers:
        raise exc.DNSNameServersExhausted(subnet_id=subnet_id or NEW_SUBNET,
                                          quota=cfg.CONF.max_dns_nameservers)
    for server in nameservers:
        try:
            netaddr.IPAddress(server)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise _invalid("Error parsing dns address %s" % server)
        check_ip_version(ip_version, server, "dns_nameserver")
    return list(nameservers)


def _check_route_destination(route):
    destination = route.get("destination")
    try:
        net = netaddr.IPNetwork(destination)
        netaddr.IPAddress(route.get("nexthop"))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise _invalid("Invalid route: %s" % route)
    # Neutron's subnet validator: a prefix length is required and IPv4 must be canonical.
    if "/" not in destination or (net.version == 4 and str(net) != destination):
        raise exc.InvalidAttribute(
            attr="host_routes",
            reason="'%s' isn't a recognized IP subnet cidr, '%s' is recommended" % (destination, net.cidr))


def validate_host_routes(routes, ip_version, subnet_id=None):
    """Distinct, well-formed routes of the subnet's version, at most max_subnet_host_routes."""
    seen = []
    for route in routes:
        if route in seen:
            raise exc.InvalidAttribute(attr="host_routes", reason="Duplicate hostroute '%s'" % route)
        seen.append(route)
    if len(routes) > cfg.CONF.max_subnet_host_routes:
        raise exc.HostRoutesExhausted(subnet_id=subnet_id or NEW_SUBNET,
                                      quota=cfg.CONF.max_subnet_host_routes)
    result = []
    for route in routes:
        _check_route_destination(route)
        check_ip_version(ip_version, route["nexthop"], "nexthop")
        check_ip_version(ip_version, route["destination"], "destination")
        result.append({"destination": str(netaddr.IPNetwork(route["destination"])),
                       "nexthop": str(netaddr.IPAddress(route["nexthop"]))})
    return result


def validate_ipv6_modes(ip_version, ra_mode, address_mode, enable_dhcp, cidr):
    """IPv6 RA and address modes: IPv6 only, need DHCP, equal if both set, /64 for auto modes."""
    if ip_version == 4:
        if _is_set(ra_mode):
            raise _invalid("ipv6_ra_mode is not valid when ip_version is 4")
        if _is_set(address_mode):
            raise _invalid("ipv6_address_mode is not valid when ip_version is 4")
        return
    if (_is_set(ra_mode) or _is_set(address_mode)) and not enable_dhcp:
        raise _invalid("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.")
    if _is_set(ra_mode) and _is_set(address_mode) and ra_mode != address_mode:
        raise _invalid("ipv6_ra_mode set to '%s' with ipv6_address_mode set to '%s' is not valid. "
                       "If both attributes are set, they must be the same value" % (ra_mode, address_mode))
    # EUI-64 interface ids are 64 bits, so auto addressing only works on a /64.
    if addresses.is_auto_address_subnet(ra_mode, address_mode) and netaddr.IPNetwork(cidr).prefixlen != 64:
        raise _invalid("Invalid CIDR %s for IPv6 address mode. OpenStack uses the EUI-64 address format, "
                       "which requires the prefix to be /64." % cidr)


# --- whole bodies ---------------------------------------------------------

def prepare_subnet_create(body, cidr=None):
    """Validate a create body and return the values to store.

    ``cidr`` is the carved CIDR for pool requests; otherwise ``body["cidr"]``
    is used. Returns a dict with cidr, ip_version, gateway_ip, allocation_pools
    ([{"start", "end"}]), dns_nameservers, host_routes, enable_dhcp,
    ipv6_ra_mode and ipv6_address_mode. Does not check overlaps (see check_overlap).
    """
    cidr = addresses.normalise_cidr(cidr if cidr is not None else body["cidr"])
    ip_version = body.get("ip_version")
    check_ip_version(ip_version, cidr, "cidr")
    ip_version = addresses.ip_version_of(cidr)
    enable_dhcp = body.get("enable_dhcp", True)
    ra_mode = body.get("ipv6_ra_mode")
    address_mode = body.get("ipv6_address_mode")

    if enable_dhcp:
        check_dhcp_allowed(cidr)
    requested_gateway = body.get("gateway_ip", GATEWAY_AUTO)
    if requested_gateway not in (GATEWAY_AUTO, None):
        check_gateway(cidr, requested_gateway, ip_version)
    dns = validate_dns_nameservers(body.get("dns_nameservers") or [], ip_version)
    routes = validate_host_routes(body.get("host_routes") or [], ip_version)
    validate_ipv6_modes(ip_version, ra_mode, address_mode, enable_dhcp, cidr)

    gateway_ip = resolve_gateway(cidr, requested_gateway)
    if body.get("allocation_pools") is None:
        pool_ranges = addresses.generate_pools(cidr, gateway_ip)
    else:
        pool_ranges = validate_allocation_pools(body["allocation_pools"], cidr)
        check_gateway_outside_pools(gateway_ip, pool_ranges)

    return {"cidr": cidr, "ip_version": ip_version, "gateway_ip": gateway_ip,
            "allocation_pools": [addresses.range_to_pool(r) for r in pool_ranges],
            "dns_nameservers": dns, "host_routes": routes, "enable_dhcp": bool(enable_dhcp),
            "ipv6_ra_mode": ra_mode, "ipv6_address_mode": address_mode}


def prepare_subnet_update(current, body, subnet_id):
    """Validate an update body against the stored subnet; return the changes to store.

    ``current``: dict with cidr, ip_version, gateway_ip, allocation_pools,
    enable_dhcp, ipv6_ra_mode, ipv6_address_mode. Only keys present in
    ``body`` are returned, normalised.

    On a gateway change the allocation pools are NOT recomputed (Neutron's
    behaviour): the new gateway must lie outside the pools in force after the
    update, else 409 GatewayConflictWithAllocationPools. Removing the gateway
    does not give its address back to the pools; send allocation_pools too
    for that.
    """
    cidr = current["cidr"]
    ip_version = current["ip_version"]
    changes = {}

    if "enable_dhcp" in body:
        enable_dhcp = bool(body["enable_dhcp"])
        if enable_dhcp and not current["enable_dhcp"]:
            check_dhcp_allowed(cidr)
        has_modes = _is_set(current.get("ipv6_ra_mode")) or _is_set(current.get("ipv6_address_mode"))
        if not enable_dhcp and has_modes:
            raise _invalid("Cannot disable enable_dhcp with ipv6 attributes set")
        changes["enable_dhcp"] = enable_dhcp

    if "gateway_ip" in body:
        requested = body["gateway_ip"]
        if requested not in (GATEWAY_AUTO, None):
            check_gateway(cidr, requested, ip_version)
        changes["gateway_ip"] = resolve_gateway(cidr, requested)

    if "dns_nameservers" in body:
        changes["dns_nameservers"] = validate_dns_nameservers(body["dns_nameservers"] or [],
                                                              ip_version, subnet_id)
    if "host_routes" in body:
        changes["host_routes"] = validate_host_routes(body["host_routes"] or [], ip_version, subnet_id)

    pools_given = body.get("allocation_pools") is not None
    if pools_given:
        pool_ranges = validate_allocation_pools(body["allocation_pools"], cidr)
        changes["allocation_pools"] = [addresses.range_to_pool(r) for r in pool_ranges]
    else:
        pool_ranges = [netaddr.IPRange(p["start"], p["end"]) for p in current["allocation_pools"]]

    gateway_ip = changes.get("gateway_ip", current.get("gateway_ip"))
    if pools_given or gateway_ip != current.get("gateway_ip"):
        check_gateway_outside_pools(gateway_ip, pool_ranges)
    return changes
