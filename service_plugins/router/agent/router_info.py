"""The router description the server sends the L3 agent, and its parsing.

This is the contract between the router service plugin (server side) and the
L3 agent's data plane. It is Neutron's L3 RPC shape: ``sync_routers(context,
host, router_ids)`` returns a list with one dict per router hosted by the
agent, each shaped like this (values from the book's MyLegacyRouter)::

    {
      "id": "9ef2eede-4a55-4f64-b8be-4b07a43ec373",          # UUID, required
      "name": "MyLegacyRouter",                              # default ""
      "admin_state_up": true,                                # default true
      "status": "ACTIVE",                                    # default "ACTIVE"
      "project_id": "9233b6b4f6a54386af63c0a7b8f043c2",      # default ""
      "distributed": false, "ha": false,                     # optional; only false is served here
      "routes": [{"destination": "198.51.100.0/24",          # the router's extra routes
                  "nexthop": "192.168.200.254"}],
      "external_gateway_info": {                             # null without a gateway
        "network_id": "758070f9-ecaf-4d2a-aa49-e119ce7943f6",
        "enable_snat": true,
        "external_fixed_ips": [{"subnet_id": "0af5a767-fce0-4c4d-9df2-1aedbd259405",
                                "ip_address": "10.30.0.106"}]},
      "enable_snat": true,                                   # optional; else external_gateway_info's,
                                                             # else true
      "gw_port": PORT,                                       # the network:router_gateway port; present
                                                             # exactly when external_gateway_info is
      "_interfaces": [PORT, ...],                            # network:router_interface ports
      "_floatingips": [FLOATINGIP, ...]                      # floating IPs associated through this router
    }

    PORT = {
      "id": "73e65609-f0ea-4f4b-9581-42fe4b7df8d8",          # UUID, required
      "mac_address": "fa:16:3e:8c:a0:3f",                    # required
      "network_id": "758070f9-ecaf-4d2a-aa49-e119ce7943f6",  # required
      "device_owner": "network:router_gateway",              # optional
      "mtu": 1500,                                           # the network's MTU; default 1500
      "fixed_ips": [{"subnet_id": "0af5a767-...", "ip_address": "10.30.0.106",
                     "prefixlen": 24}],                      # prefixlen: the subnet's; may be left out
                                                             # when the subnet is in "subnets"
      "subnets": [{"id": "0af5a767-...", "cidr": "10.30.0.0/24",
                   "gateway_ip": "10.30.0.1",                # null for none
                   "ip_version": 4,
                   "ipv6_ra_mode": null,                     # IPv6: slaac / dhcpv6-stateless /
                   "ipv6_address_mode": null,                #   dhcpv6-stateful / null
                   "dns_nameservers": []}]                   # optional
    }

    FLOATINGIP = {
      "id": "9e08a332-5128-4e3c-a201-ee3e6d8d1b75",
      "floating_ip_address": "10.30.0.101",                  # IPv4
      "fixed_ip_address": "192.168.200.6",                   # IPv4 of the associated port
      "port_id": "7ae20af9-e3d3-41ce-b74a-57cfaf41fe59",
      "router_id": "9ef2eede-4a55-4f64-b8be-4b07a43ec373",
      "status": "DOWN"
    }

Rules the agent relies on (a description breaking one is refused whole with
``InvalidRouter``; nothing of it is applied):
- ids of routers and ports are UUIDs (device and namespace names are built from them);
- every fixed IP's subnet is listed in the port's ``subnets``; addresses, CIDRs,
  MACs and MTUs are well formed; a port has at most one IPv4 fixed IP per subnet;
- ``gw_port`` is present exactly when ``external_gateway_info`` is, on its network;
- ``_floatingips`` entries have distinct addresses and distinct fixed IPs; an entry
  without ``port_id``/``fixed_ip_address``, or with another ``router_id``, is not
  associated and ignored;
- a router with ``admin_state_up`` false is served as if it were not described: its
  namespace goes (the server may equally leave such routers out of sync_routers);
- ``ha`` and ``distributed`` routers are not served by this (legacy) data plane.

The agent reports floating IP statuses back with Neutron's
``update_floatingip_statuses(context, router_id, fip_statuses)``, fip_statuses
being ``{floating ip id: "ACTIVE" | "DOWN" | "ERROR"}``.
"""
import dataclasses
import ipaddress
import re
import uuid

DEVICE_OWNER_ROUTER_INTERFACE = "network:router_interface"
DEVICE_OWNER_ROUTER_GATEWAY = "network:router_gateway"
INTERFACE_OWNERS = (DEVICE_OWNER_ROUTER_INTERFACE, "network:ha_router_replicated_interface",
                    "network:router_interface_distributed")

IPV6_RA_MODES = ("slaac", "dhcpv6-stateless", "dhcpv6-stateful")
DEFAULT_MTU = 1500
MIN_MTU = 68
MAX_MTU = 65535

_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


class InvalidRouter(ValueError):
    """A router description the agent cannot serve; the message says which part and why."""


@dataclasses.dataclass(frozen=True)
class Subnet:
    id: str
    cidr: str
    gateway_ip: object          # str or None
    ip_version: int
    ipv6_ra_mode: object = None
    ipv6_address_mode: object = None
    dns_nameservers: tuple = ()

    @property
    def network(self):
        return ipaddress.ip_network(self.cidr)


@dataclasses.dataclass(frozen=True)
class FixedIp:
    subnet_id: str
    ip_address: str
    prefixlen: int

    @property
    def cidr(self):
        """ip/prefixlen, as the address is given to the device."""
        return "%s/%d" % (self.ip_address, self.prefixlen)

    @property
    def version(self):
        return ipaddress.ip_address(self.ip_address).version


@dataclasses.dataclass(frozen=True)
class Port:
    id: str
    mac_address: str
    network_id: str
    fixed_ips: tuple
    subnets: tuple
    mtu: int = DEFAULT_MTU
    device_owner: str = ""

    def subnet(self, subnet_id):
        for subnet in self.subnets:
            if subnet.id == subnet_id:
                return subnet
        return None


@dataclasses.dataclass(frozen=True)
class Route:
    destination: str
    nexthop: str


@dataclasses.dataclass(frozen=True)
class FloatingIp:
    id: str
    floating_ip_address: str
    fixed_ip_address: object    # str or None
    port_id: object             # str or None
    router_id: object
    status: str = "DOWN"


@dataclasses.dataclass(frozen=True)
class Router:
    id: str
    name: str
    admin_state_up: bool
    status: str
    project_id: str
    routes: tuple
    gateway: object             # Port or None
    external_network_id: object  # str or None
    enable_snat: bool
    interfaces: tuple
    floating_ips: tuple         # every FloatingIp described, associated or not

    def associated_floating_ips(self):
        """The floating IPs to NAT, sorted by address: with a port, a fixed IP and this router."""
        found = [fip for fip in self.floating_ips
                 if fip.port_id and fip.fixed_ip_address and fip.router_id in (None, self.id)]
        return tuple(sorted(found, key=lambda fip: ipaddress.ip_address(fip.floating_ip_address)))

    def gateway_ipv4(self):
        """The first IPv4 fixed IP of the gateway port (the SNAT address), or None."""
        if self.gateway is None:
            return None
        for fixed in self.gateway.fixed_ips:
            if fixed.version == 4:
                return fixed
        return None


# --- parsing ---------------------------------------------------------------------------------------


def _fail(where, message):
    raise InvalidRouter("%s: %s" % (where, message))


def _mapping(value, where):
    if not isinstance(value, dict):
        _fail(where, "expected an object, got %s" % type(value).__name__)
    return value


def _list(value, where):
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        _fail(where, "expected a list, got %s" % type(value).__name__)
    return list(value)


def _uuid(value, where):
    if not isinstance(value, str):
        _fail(where, "expected a UUID string")
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        _fail(where, "%r is not a UUID" % value)
    if str(parsed) != value:
        _fail(where, "%r is not a UUID in canonical (lower case, dashed) form" % value)
    return value


def _string(value, where, default=""):
    if value is None:
        return default
    if not isinstance(value, str):
        _fail(where, "expected a string")
    return value


def _bool(value, where, default):
    if value is None:
        return default
    if not isinstance(value, bool):
        _fail(where, "expected true or false")
    return value


def _ip(value, where, version=None):
    if not isinstance(value, str):
        _fail(where, "expected an IP address string")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        _fail(where, "%r is not an IP address" % value)
    if version and address.version != version:
        _fail(where, "%s is not an IPv%d address" % (value, version))
    return str(address)


def _cidr(value, where):
    if not isinstance(value, str):
        _fail(where, "expected a CIDR string")
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        _fail(where, "%r is not a network CIDR" % value)


def _int(value, where, low, high, default=None):
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(where, "expected an integer")
    if not low <= value <= high:
        _fail(where, "%d is not within %d..%d" % (value, low, high))
    return value


def parse_subnet(data, where):
    data = _mapping(data, where)
    subnet_id = _string(data.get("id"), where + ".id")
    if not subnet_id:
        _fail(where + ".id", "missing")
    cidr = _cidr(data.get("cidr"), where + ".cidr")
    network = ipaddress.ip_network(cidr)
    version = _int(data.get("ip_version"), where + ".ip_version", 4, 6, default=network.version)
    if version != network.version:
        _fail(where + ".ip_version", "%d does not match %s" % (version, cidr))
    gateway = data.get("gateway_ip")
    if gateway is not None:
        gateway = _ip(gateway, where + ".gateway_ip", version)
    ra_mode = data.get("ipv6_ra_mode")
    address_mode = data.get("ipv6_address_mode")
    for key, mode in (("ipv6_ra_mode", ra_mode), ("ipv6_address_mode", address_mode)):
        if mode is not None and (version != 6 or mode not in IPV6_RA_MODES):
            _fail("%s.%s" % (where, key), "%r is not one of %s on an IPv6 subnet" % (mode, ", ".join(IPV6_RA_MODES)))
    dns = tuple(_ip(server, "%s.dns_nameservers[%d]" % (where, index))
                for index, server in enumerate(_list(data.get("dns_nameservers"), where + ".dns_nameservers")))
    return Subnet(id=subnet_id, cidr=cidr, gateway_ip=gateway, ip_version=version, ipv6_ra_mode=ra_mode,
                  ipv6_address_mode=address_mode, dns_nameservers=dns)


def parse_port(data, where):
    data = _mapping(data, where)
    port_id = _uuid(data.get("id"), where + ".id")
    mac = data.get("mac_address")
    if not isinstance(mac, str) or not _MAC.match(mac):
        _fail(where + ".mac_address", "%r is not a MAC address" % (mac,))
    network_id = _string(data.get("network_id"), where + ".network_id")
    if not network_id:
        _fail(where + ".network_id", "missing")
    mtu = _int(data.get("mtu"), where + ".mtu", MIN_MTU, MAX_MTU, default=DEFAULT_MTU)
    subnets = tuple(parse_subnet(item, "%s.subnets[%d]" % (where, index))
                    for index, item in enumerate(_list(data.get("subnets"), where + ".subnets")))
    by_id = {subnet.id: subnet for subnet in subnets}
    fixed_ips, seen = [], set()
    for index, item in enumerate(_list(data.get("fixed_ips"), where + ".fixed_ips")):
        here = "%s.fixed_ips[%d]" % (where, index)
        item = _mapping(item, here)
        subnet = by_id.get(item.get("subnet_id"))
        if subnet is None:
            _fail(here + ".subnet_id", "%r is not among the port's subnets" % (item.get("subnet_id"),))
        address = _ip(item.get("ip_address"), here + ".ip_address", subnet.ip_version)
        if ipaddress.ip_address(address) not in subnet.network:
            _fail(here + ".ip_address", "%s is not in %s" % (address, subnet.cidr))
        prefixlen = item.get("prefixlen")
        prefixlen = subnet.network.prefixlen if prefixlen is None else _int(
            prefixlen, here + ".prefixlen", 0, subnet.network.max_prefixlen)
        if (subnet.id, address) in seen:
            _fail(here, "%s is listed twice" % address)
        seen.add((subnet.id, address))
        fixed_ips.append(FixedIp(subnet_id=subnet.id, ip_address=address, prefixlen=prefixlen))
    return Port(id=port_id, mac_address=mac.lower(), network_id=network_id, fixed_ips=tuple(fixed_ips),
                subnets=subnets, mtu=mtu, device_owner=_string(data.get("device_owner"), where + ".device_owner"))


def _parse_floating_ip(data, where):
    data = _mapping(data, where)
    fip_id = _string(data.get("id"), where + ".id")
    if not fip_id:
        _fail(where + ".id", "missing")
    fixed = data.get("fixed_ip_address")
    port_id = data.get("port_id")
    return FloatingIp(id=fip_id, floating_ip_address=_ip(data.get("floating_ip_address"),
                                                         where + ".floating_ip_address", 4),
                      fixed_ip_address=None if fixed is None else _ip(fixed, where + ".fixed_ip_address", 4),
                      port_id=None if port_id is None else _string(port_id, where + ".port_id"),
                      router_id=data.get("router_id"), status=_string(data.get("status"), where + ".status", "DOWN"))


def parse_router(data):
    """A Router from one sync_routers entry, or InvalidRouter saying what is wrong."""
    data = _mapping(data, "router")
    router_id = _uuid(data.get("id"), "router.id")
    where = "router %s" % router_id
    for flag in ("ha", "distributed"):
        if data.get(flag):
            _fail(where, "%s routers are not served by the legacy L3 data plane" % flag)
    routes = []
    for index, item in enumerate(_list(data.get("routes"), where + ".routes")):
        item = _mapping(item, "%s.routes[%d]" % (where, index))
        destination = _cidr(item.get("destination"), "%s.routes[%d].destination" % (where, index))
        nexthop = _ip(item.get("nexthop"), "%s.routes[%d].nexthop" % (where, index),
                      ipaddress.ip_network(destination).version)
        routes.append(Route(destination=destination, nexthop=nexthop))

    info = data.get("external_gateway_info")
    gw_data = data.get("gw_port")
    if (info is None) != (gw_data is None):
        _fail(where, "gw_port and external_gateway_info must be given together")
    gateway, external_network_id, enable_snat = None, None, True
    if info is not None:
        info = _mapping(info, where + ".external_gateway_info")
        gateway = parse_port(gw_data, where + ".gw_port")
        external_network_id = _string(info.get("network_id"), where + ".external_gateway_info.network_id")
        if external_network_id != gateway.network_id:
            _fail(where + ".gw_port.network_id", "%s is not the external network %s"
                  % (gateway.network_id, external_network_id))
        if not gateway.fixed_ips:
            _fail(where + ".gw_port.fixed_ips", "the gateway port has no fixed IP")
        enable_snat = _bool(info.get("enable_snat"), where + ".external_gateway_info.enable_snat", True)
    enable_snat = _bool(data.get("enable_snat"), where + ".enable_snat", enable_snat)

    interfaces, port_ids = [], {gateway.id} if gateway else set()
    for index, item in enumerate(_list(data.get("_interfaces"), where + "._interfaces")):
        port = parse_port(item, "%s._interfaces[%d]" % (where, index))
        if port.device_owner and port.device_owner not in INTERFACE_OWNERS:
            _fail("%s._interfaces[%d].device_owner" % (where, index), "%r is not a router interface owner"
                  % port.device_owner)
        if port.id in port_ids:
            _fail("%s._interfaces[%d].id" % (where, index), "port %s is listed twice" % port.id)
        port_ids.add(port.id)
        interfaces.append(port)
    interfaces.sort(key=lambda port: port.id)

    floating_ips = tuple(_parse_floating_ip(item, "%s._floatingips[%d]" % (where, index))
                         for index, item in enumerate(_list(data.get("_floatingips"), where + "._floatingips")))
    router = Router(id=router_id, name=_string(data.get("name"), where + ".name"),
                    admin_state_up=_bool(data.get("admin_state_up"), where + ".admin_state_up", True),
                    status=_string(data.get("status"), where + ".status", "ACTIVE"),
                    project_id=_string(data.get("project_id", data.get("tenant_id")), where + ".project_id"),
                    routes=tuple(routes), gateway=gateway, external_network_id=external_network_id,
                    enable_snat=enable_snat, interfaces=tuple(interfaces), floating_ips=floating_ips)
    _check_floating_ips(router, where)
    return router


def _check_floating_ips(router, where):
    addresses, fixed = set(), set()
    for fip in router.associated_floating_ips():
        if fip.floating_ip_address in addresses:
            _fail(where + "._floatingips", "%s is associated twice" % fip.floating_ip_address)
        if fip.fixed_ip_address in fixed:
            _fail(where + "._floatingips", "fixed IP %s has two floating IPs" % fip.fixed_ip_address)
        addresses.add(fip.floating_ip_address)
        fixed.add(fip.fixed_ip_address)
