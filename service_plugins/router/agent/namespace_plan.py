"""Devices, addresses, routes and sysctls of a qrouter- namespace: desired state and the diff.

``desired(router, settings)`` is what the namespace must hold for a Router;
``plan(desired, state)`` compares it with a ``NamespaceState`` (kernel_state)
and returns a ``NamespacePlan``: what to plug, repair and unplug through the
interface driver, and the netlink changes (addresses, routes) for the devices
that exist. Both are pure.

What the namespace holds (spec section 4, T4):
- ``qg-<gw port[:11]>`` with the gateway port's fixed IPs (ip/prefixlen) and every
  associated floating IP as a /32, so the router answers ARP for it outside;
- ``qr-<port[:11]>`` per interface with its fixed IPs (the subnet's gateway_ip for
  interfaces added by subnet);
- a default route per IP version via the external subnet's gateway_ip on qg-
  (with a link route to it first when the gateway lies outside the subnet), and
  the router's extra routes (``ip route replace <destination> via <nexthop>``);
- net.ipv4.ip_forward=1, arp_ignore=1 / arp_announce=2 (answer ARP only for
  addresses of the receiving device, source from the best address), IPv6
  forwarding, accept_ra=2 on qg- when no IPv6 gateway is known (learn the default
  route from router advertisements) and 0 otherwise, 0 on qr- (the router is
  the one advertising there); on qr-, ARP asked again after 100 ms (see
  INTERNAL_ARP_RETRANS_MS).
Routes the agent adds carry ``proto static``; others (kernel, RA) are left alone.
"""
import dataclasses
import ipaddress

from netweave.core import naming

INTERNAL, GATEWAY = "internal", "gateway"
ROUTER_DEVICE_PREFIXES = (naming.ROUTER_INTERFACE_PREFIX, naming.ROUTER_GATEWAY_PREFIX)

IPV4_FORWARD = "net.ipv4.ip_forward"
NAMESPACE_SYSCTLS = {IPV4_FORWARD: "1", "net.ipv4.conf.all.arp_ignore": "1",
                     "net.ipv4.conf.all.arp_announce": "2"}
IPV6_FORWARDING = "net.ipv6.conf.all.forwarding"
ACCEPT_RA_WITH_FORWARDING, ACCEPT_RA_DISABLED = "2", "0"


# How soon a router asks again for an address on qr- that did not answer (the kernel's default
# is 1 s). The first ARP for a new instance is lost when the network node's L2 agent has not
# yet programmed the instance's l2population ARP responder entry (the VXLAN device drops the
# request): a floating IP associated right after its instance came up then answered a second
# late instead of some ten milliseconds.
INTERNAL_ARP_RETRANS_MS = "100"


def arp_retrans_key(device):
    return "net.ipv4.neigh.%s.retrans_time_ms" % device


def accept_ra_key(device):
    return "net.ipv6.conf.%s.accept_ra" % device


def forwarding_key(device):
    return "net.ipv6.conf.%s.forwarding" % device


@dataclasses.dataclass(frozen=True)
class DeviceSpec:
    name: str
    kind: str               # INTERNAL (qr-) or GATEWAY (qg-)
    port_id: str
    network_id: str
    mac_address: str
    mtu: int
    addresses: tuple        # ("ip/prefixlen", ...) in order


@dataclasses.dataclass(frozen=True)
class RouteSpec:
    """A route in the main table: ``destination`` CIDR via ``gateway`` (None: a link route)
    on ``device`` (None: the kernel picks it from the gateway)."""
    destination: str
    gateway: object = None
    device: object = None

    @property
    def key(self):
        """What identifies the route when compared with the kernel's (the device may be the
        kernel's choice)."""
        return (self.destination, self.gateway) if self.gateway else (self.destination, self.device)


@dataclasses.dataclass(frozen=True)
class NamespaceSpec:
    namespace: str
    devices: dict           # {name: DeviceSpec}
    routes: tuple           # (RouteSpec, ...)
    sysctls: dict           # {key: value}, namespace-wide and per device


def _addresses_of(port):
    return tuple(fixed.cidr for fixed in port.fixed_ips)


def desired(router, settings):
    """The NamespaceSpec of ``router``."""
    devices, routes = {}, []
    sysctls = dict(NAMESPACE_SYSCTLS)
    if settings.use_ipv6:
        sysctls[IPV6_FORWARDING] = "1"
    for port in router.interfaces:
        name = naming.router_interface_device(port.id)
        devices[name] = DeviceSpec(name=name, kind=INTERNAL, port_id=port.id, network_id=port.network_id,
                                   mac_address=port.mac_address, mtu=port.mtu, addresses=_addresses_of(port))
        sysctls[arp_retrans_key(name)] = INTERNAL_ARP_RETRANS_MS
        if settings.use_ipv6:
            sysctls[accept_ra_key(name)] = ACCEPT_RA_DISABLED
    gateway = router.gateway
    if gateway is not None:
        name = naming.router_gateway_device(gateway.id)
        floating = tuple("%s/32" % fip.floating_ip_address for fip in router.associated_floating_ips())
        devices[name] = DeviceSpec(name=name, kind=GATEWAY, port_id=gateway.id, network_id=gateway.network_id,
                                   mac_address=gateway.mac_address, mtu=gateway.mtu,
                                   addresses=_addresses_of(gateway) + floating)
        routes += _default_routes(gateway, name)
        if settings.use_ipv6:
            has_v6_gateway = any(route.gateway and ipaddress.ip_address(route.gateway).version == 6
                                 for route in routes)
            sysctls[accept_ra_key(name)] = ACCEPT_RA_DISABLED if has_v6_gateway else ACCEPT_RA_WITH_FORWARDING
            sysctls[forwarding_key(name)] = "1"
    for route in router.routes:
        routes.append(RouteSpec(destination=route.destination, gateway=route.nexthop))
    return NamespaceSpec(namespace=naming.router_namespace(router.id), devices=devices, routes=tuple(routes),
                         sysctls=sysctls)


def _default_routes(gateway, device):
    routes, done = [], set()
    on_link = [ipaddress.ip_interface(fixed.cidr).network for fixed in gateway.fixed_ips]
    for fixed in gateway.fixed_ips:
        subnet = gateway.subnet(fixed.subnet_id)
        if subnet is None or not subnet.gateway_ip or subnet.ip_version in done:
            continue
        done.add(subnet.ip_version)
        address = ipaddress.ip_address(subnet.gateway_ip)
        if not any(address in network for network in on_link):
            routes.append(RouteSpec(destination="%s/%d" % (address, address.max_prefixlen), device=device))
        default = "0.0.0.0/0" if subnet.ip_version == 4 else "::/0"
        routes.append(RouteSpec(destination=default, gateway=subnet.gateway_ip, device=device))
    return routes


# --- the diff ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class NamespacePlan:
    create_namespace: bool = False
    unplug: list = dataclasses.field(default_factory=list)          # [device name]
    plug: list = dataclasses.field(default_factory=list)            # [DeviceSpec] missing
    repair: list = dataclasses.field(default_factory=list)          # [DeviceSpec] with another MAC or
                                                                    # MTU, or down: plugged again
    address_removals: list = dataclasses.field(default_factory=list)  # [(device, cidr)]
    address_additions: list = dataclasses.field(default_factory=list)
    route_removals: list = dataclasses.field(default_factory=list)    # [RouteSpec as the kernel has it]
    route_additions: list = dataclasses.field(default_factory=list)   # [RouteSpec]
    sysctls: dict = dataclasses.field(default_factory=dict)           # {key: value} to write

    @property
    def devices_change(self):
        return bool(self.create_namespace or self.unplug or self.plug or self.repair)

    @property
    def netlink_writes(self):
        return (len(self.address_removals) + len(self.address_additions) + len(self.route_removals)
                + len(self.route_additions))

    @property
    def empty(self):
        return not (self.devices_change or self.netlink_writes or self.sysctls)


def _canonical(cidr):
    interface = ipaddress.ip_interface(cidr)
    return "%s/%d" % (interface.ip, interface.network.prefixlen)


def plan(spec, state):
    """The NamespacePlan taking ``state`` (kernel_state.NamespaceState) to ``spec``."""
    result = NamespacePlan(create_namespace=not state.exists)
    present = {name for name in state.links if name.startswith(ROUTER_DEVICE_PREFIXES)}
    result.unplug = sorted(present - set(spec.devices))
    for name in sorted(spec.devices):
        device = spec.devices[name]
        link = state.links.get(name)
        if link is None:
            result.plug.append(device)
            continue
        if link.mac_address != device.mac_address or link.mtu != device.mtu or not link.up:
            # The interface driver repairs both ends (a veth's host side has the MTU too).
            result.repair.append(device)
        have = {_canonical(cidr) for cidr in state.addresses.get(name, ())}
        want = [_canonical(cidr) for cidr in device.addresses]
        result.address_removals += [(name, cidr) for cidr in sorted(have - set(want))]
        result.address_additions += [(name, cidr) for cidr in want if cidr not in have]
    if result.plug:
        # Routes and device sysctls need the devices: planned again once they exist.
        result.sysctls = {key: value for key, value in spec.sysctls.items()
                          if state.sysctls.get(key) != value and key in NAMESPACE_SYSCTLS}
        return result
    wanted_routes = {route.key: route for route in spec.routes}
    kernel_routes = {route.key: route for route in state.routes}
    result.route_removals = [kernel_routes[key] for key in sorted(set(kernel_routes) - set(wanted_routes), key=str)]
    # Link routes first: a gateway outside its subnet is reached through one.
    missing = [route for key, route in wanted_routes.items() if key not in kernel_routes]
    result.route_additions = sorted(missing, key=lambda route: route.gateway is not None)
    result.sysctls = {key: value for key, value in spec.sysctls.items() if state.sysctls.get(key) != value}
    return result
