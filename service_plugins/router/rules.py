"""Pure checks and choices of the router plugin (no database): what Neutron refuses, and why.

Each takes plain dicts and returns a value or raises the Neutron error, so the
services stay sequences of reads, these decisions, and writes.
"""
import netaddr

from netweave.service_plugins.router import exceptions as rexc


def check_interface_request(body, for_removal):
    """The {"subnet_id"} or {"port_id"} of an add/remove_router_interface body."""
    if not isinstance(body, dict):
        raise rexc.bad_router_request("Either subnet_id or port_id must be specified")
    port_id, subnet_id = body.get("port_id"), body.get("subnet_id")
    if "port_id" not in body and "subnet_id" not in body:
        raise rexc.bad_router_request("Either subnet_id or port_id must be specified")
    for key in ("port_id", "subnet_id"):
        if key in body and not _is_uuid(body[key]):
            raise rexc.bad_router_request("'%s' is not a valid UUID" % (body[key],))
    if not for_removal and "port_id" in body and "subnet_id" in body:
        raise rexc.bad_router_request("Cannot specify both subnet-id and port-id")
    return port_id, subnet_id


def _is_uuid(value):
    from netweave.core.api import validators

    try:
        validators.uuid_value(value)
    except validators.AttributeInvalid:
        return False
    return True


def check_no_overlap(new_subnets, router_subnets):
    """New subnets [(id, cidr)] may not be, or share addresses with, the router's subnets
    [(id, cidr)], which are checked in order as Neutron does."""
    new_ids = {new_id for new_id, _cidr in new_subnets}
    for sub_id, cidr in router_subnets:
        if sub_id in new_ids:
            raise rexc.bad_router_request("Router already has a port on subnet %s" % sub_id)
        other = netaddr.IPNetwork(cidr)
        for new_id, new_cidr in new_subnets:
            new_net = netaddr.IPNetwork(new_cidr)
            if other.version == new_net.version and (new_net in other or other in new_net):
                raise rexc.bad_router_request(
                    "Cidr %s of subnet %s overlaps with cidr %s of subnet %s" % (new_cidr, new_id, cidr, sub_id))


def check_interface_port(port):
    """A port added as a router interface: attached to no device, with fixed IPs."""
    if port["device_id"]:
        raise rexc.PortInUse(port_id=port["id"], net_id=port["network_id"], device_id=port["device_id"])
    if not port["fixed_ips"]:
        raise rexc.bad_router_request("Router port must have at least one fixed IP")


def check_single_ipv4_subnet(subnets):
    """A router port may have addresses on at most one IPv4 subnet."""
    if len([s for s in subnets if s["ip_version"] == 4]) > 1:
        raise rexc.bad_router_request("Cannot have multiple IPv4 subnets on router port")


def check_external_fixed_ips(fixed_ips, subnets_by_id):
    """external_fixed_ips may not ask for the external subnet's own gateway address."""
    for fixed in fixed_ips or ():
        subnet = subnets_by_id.get(fixed.get("subnet_id")) if fixed.get("subnet_id") else None
        address = fixed.get("ip_address")
        if address is None:
            continue
        gateways = [subnet["gateway_ip"]] if subnet else [s["gateway_ip"] for s in subnets_by_id.values()]
        if address in gateways:
            raise rexc.bad_router_request("External IP %s is the same as the gateway IP" % address)


def choose_fixed_ip(port, fixed_ip_address):
    """(subnet_id, ip_address) of the port a floating IP should point at."""
    if fixed_ip_address:
        for fixed in port["fixed_ips"]:
            if fixed["ip_address"] == fixed_ip_address:
                return fixed["subnet_id"], fixed_ip_address
        raise rexc.bad_floatingip_request("Port %s does not have fixed ip %s" % (port["id"], fixed_ip_address))
    ipv4 = [f for f in port["fixed_ips"] if netaddr.IPAddress(f["ip_address"]).version == 4]
    if not ipv4:
        raise rexc.bad_floatingip_request(
            "Cannot add floating IP to port %s that has no fixed IPv4 addresses" % port["id"])
    if len(ipv4) > 1:
        raise rexc.bad_floatingip_request(
            "Port %s has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when "
            "assigning a floating IP" % port["id"])
    return ipv4[0]["subnet_id"], ipv4[0]["ip_address"]


def choose_router(candidates, subnet_gateway_ip):
    """The router for a floating IP among [(router_id, interface IP on the subnet)]: the one
    holding the subnet's gateway address when there is one, else the first (by id)."""
    if not candidates:
        return None
    for router_id, address in sorted(candidates):
        if subnet_gateway_ip and address == subnet_gateway_ip:
            return router_id
    return sorted(candidates)[0][0]


def check_routes(router_id, routes, connected, max_routes):
    """Extra routes: at most max_routes, each nexthop on a connected subnet and not the router's own IP.

    ``connected`` is [(cidr, router IP on it)] of every port of the router.
    """
    if len(routes) > max_routes:
        raise rexc.RoutesExhausted(router_id=router_id, quota=max_routes)
    cidrs = [cidr for cidr, _ip in connected]
    own = {ip for _cidr, ip in connected}
    for route in routes:
        nexthop = route["nexthop"]
        if not netaddr.all_matching_cidrs(nexthop, cidrs):
            raise rexc.InvalidRoutes(routes=routes, reason="the nexthop is not connected with router")
        if nexthop in own:
            raise rexc.InvalidRoutes(routes=routes, reason="the nexthop is used by router")


def routes_through(routes, cidr):
    """The routes whose nexthop lies in ``cidr`` (they need the interface on it)."""
    net = netaddr.IPNetwork(cidr)
    return [r for r in routes if netaddr.IPAddress(r["nexthop"]) in net]


def merge_routes(current, added):
    """current + added, without duplicates, in a stable order (extraroute-atomic add)."""
    result = list(current)
    for route in added:
        if route not in result:
            result.append(route)
    return result


def remove_routes(current, removed):
    return [r for r in current if r not in removed]
