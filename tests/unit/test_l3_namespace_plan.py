"""Desired namespace state of a router and the pure diff against the kernel's (T4, T7, T8)."""
from harness import l3
from netweave.service_plugins.router.agent import garp, kernel_state, namespace_plan, router_info
from netweave.service_plugins.router.agent.namespace_plan import RouteSpec
from netweave.service_plugins.router.agent.settings import DataplaneSettings

SETTINGS = DataplaneSettings()
QG, QR = "qg-73e65609-f0", "qr-a9327c59-a6"


def spec_of(description, settings=SETTINGS):
    return namespace_plan.desired(router_info.parse_router(description), settings)


def kernel_of(spec, **overrides):
    """The NamespaceState of a namespace that holds exactly ``spec``."""
    links = {name: kernel_state.Link(name=name, index=index, mac_address=device.mac_address, mtu=device.mtu, up=True)
             for index, (name, device) in enumerate(sorted(spec.devices.items()), 2)}
    links["lo"] = kernel_state.Link(name="lo", index=1, mac_address="00:00:00:00:00:00", mtu=65536, up=True)
    routes = tuple(RouteSpec(route.destination, route.gateway, route.device or QG) for route in spec.routes)
    fields = dict(links=links, addresses={name: frozenset(device.addresses) for name, device in spec.devices.items()},
                  routes=routes, sysctls=dict(spec.sysctls))
    fields.update(overrides)
    return kernel_state.NamespaceState(**fields)


def test_book_namespace_shape():
    """T4: qg- with the gateway IP, qr- with the subnet gateway, default via 10.30.0.1, forwarding on."""
    spec = spec_of(l3.book_router(fixed_ip="192.168.200.6"))
    assert spec.namespace == "qrouter-" + l3.ROUTER_ID
    assert set(spec.devices) == {QG, QR}
    qg, qr = spec.devices[QG], spec.devices[QR]
    assert qg.addresses == ("10.30.0.106/24", "10.30.0.101/32")
    assert (qg.mac_address, qg.kind, qg.network_id) == (l3.GATEWAY_MAC, "gateway", l3.GATEWAY_NET)
    assert qr.addresses == ("192.168.200.1/24",) and qr.mac_address == l3.INTERFACE_MAC
    assert spec.routes == (RouteSpec("0.0.0.0/0", "10.30.0.1", QG),)
    assert spec.sysctls["net.ipv4.ip_forward"] == "1"
    assert spec.sysctls["net.ipv6.conf.all.forwarding"] == "1"
    assert spec.sysctls["net.ipv6.conf.%s.accept_ra" % QG] == "2"     # no IPv6 gateway: learn it by RA
    assert spec.sysctls["net.ipv6.conf.%s.accept_ra" % QR] == "0"
    # An instance's address that did not answer is asked again soon (the kernel's default is 1 s).
    assert spec.sysctls["net.ipv4.neigh.%s.retrans_time_ms" % QR] == "100"
    assert "net.ipv4.neigh.%s.retrans_time_ms" % QG not in spec.sysctls


def test_extra_routes_and_a_gateway_outside_its_subnet():
    description = l3.book_router(routes=[{"destination": "198.51.100.0/24", "nexthop": "192.168.200.254"}])
    description["gw_port"]["subnets"][0]["gateway_ip"] = "10.30.0.1"
    description["gw_port"]["fixed_ips"][0]["prefixlen"] = 32
    spec = spec_of(description)
    assert spec.routes == (RouteSpec("10.30.0.1/32", None, QG), RouteSpec("0.0.0.0/0", "10.30.0.1", QG),
                           RouteSpec("198.51.100.0/24", "192.168.200.254", None))


def test_absent_namespace_is_created_and_every_device_plugged_first():
    spec = spec_of(l3.book_router())
    plan = namespace_plan.plan(spec, kernel_state.ABSENT)
    assert plan.create_namespace and [device.name for device in plan.plug] == [QG, QR]
    assert not plan.route_additions and not plan.address_additions


def test_equal_state_plans_nothing():
    spec = spec_of(l3.book_router(fixed_ip="192.168.200.6"))
    plan = namespace_plan.plan(spec, kernel_of(spec))
    assert plan.empty and plan.netlink_writes == 0


def test_floating_ip_association_and_removal_are_one_address_each():
    spec_before = spec_of(l3.book_router())
    spec_after = spec_of(l3.book_router(fixed_ip="192.168.200.6"))
    plan = namespace_plan.plan(spec_after, kernel_of(spec_before))
    assert plan.address_additions == [(QG, "10.30.0.101/32")] and plan.netlink_writes == 1
    assert garp.announcements(plan.address_additions, QG) == [(QG, "10.30.0.101")]
    back = namespace_plan.plan(spec_before, kernel_of(spec_after))
    assert back.address_removals == [(QG, "10.30.0.101/32")] and back.netlink_writes == 1
    # Moving the floating IP to another instance changes no address at all (only NAT).
    moved = spec_of(l3.book_router(fixed_ip="192.168.200.10"))
    assert namespace_plan.plan(moved, kernel_of(spec_after)).empty


def test_stale_devices_are_unplugged_and_drifted_links_fixed():
    spec = spec_of(l3.book_router())
    state = kernel_of(spec)
    links = dict(state.links)
    links["qr-00000000-00"] = kernel_state.Link("qr-00000000-00", 9, "fa:16:3e:00:00:00", 1500, True)
    links[QG] = kernel_state.Link(QG, 2, "fa:16:3e:00:00:01", 1400, False)
    plan = namespace_plan.plan(spec, kernel_of(spec, links=links))
    assert plan.unplug == ["qr-00000000-00"]
    assert [device.name for device in plan.repair] == [QG] and plan.devices_change


def test_removed_gateway_drops_its_default_route_and_sysctls_are_rewritten_only_when_different():
    with_gateway = spec_of(l3.book_router())
    no_gateway = spec_of(l3.router(interfaces=[l3.book_interface()]))
    state = kernel_of(with_gateway)
    plan = namespace_plan.plan(no_gateway, state)
    assert plan.unplug == [QG]
    assert plan.route_removals == [RouteSpec("0.0.0.0/0", "10.30.0.1", QG)]
    drifted = dict(state.sysctls, **{"net.ipv4.ip_forward": "0"})
    assert namespace_plan.plan(with_gateway, kernel_of(with_gateway, sysctls=drifted)).sysctls == {
        "net.ipv4.ip_forward": "1"}


def test_ipv6_gateway_disables_router_advertisements_on_qg():
    description = l3.book_router()
    description["gw_port"]["subnets"].append(l3.subnet("v6", "2001:db8:30::/64", "2001:db8:30::1", 6))
    description["gw_port"]["fixed_ips"].append({"subnet_id": "v6", "ip_address": "2001:db8:30::6", "prefixlen": 64})
    spec = spec_of(description)
    assert RouteSpec("::/0", "2001:db8:30::1", QG) in spec.routes
    assert spec.sysctls["net.ipv6.conf.%s.accept_ra" % QG] == "0"
    without_ipv6 = spec_of(description, DataplaneSettings(use_ipv6=False))
    assert not [key for key in without_ipv6.sysctls if key.startswith("net.ipv6")]


def test_garp_frame_is_an_unsolicited_arp_request():
    frame = garp.frame("fa:16:3e:8c:a0:3f", "10.30.0.101")
    assert frame[:6] == b"\xff" * 6 and frame[6:12] == bytes.fromhex("fa163e8ca03f")
    assert frame[12:14] == b"\x08\x06" and frame[20:22] == b"\x00\x01"            # ARP, request
    assert frame[28:32] == frame[38:42] == bytes([10, 30, 0, 101])                 # sender IP == target IP
    assert garp.announcements([(QG, "2001:db8::1/128"), (QR, "192.168.200.1/24")], QG) == []


def test_floating_ip_status_is_error_unless_qg_holds_it_and_nat_maps_it():
    from netweave.service_plugins.router.agent import applier

    router = router_info.parse_router(l3.book_router(fixed_ip="192.168.200.6"))
    spec = namespace_plan.desired(router, SETTINGS)
    mapped = {"10.30.0.101": "192.168.200.6"}

    def status(plan, applied, errors=()):
        report = applier.ApplyReport(router_id=router.id, errors=list(errors))
        applier.RouterApplier._floating_ip_statuses(router, plan, applied, report)
        return report.floating_ip_statuses[l3.FIP_ID]

    assert status(namespace_plan.plan(spec, kernel_of(spec)), mapped) == "ACTIVE"
    assert status(namespace_plan.plan(spec, kernel_state.ABSENT), mapped) == "ERROR"       # qg- not plugged
    assert status(namespace_plan.plan(spec, kernel_of(spec)), None) == "ERROR"             # nat not written
    assert status(namespace_plan.plan(spec, kernel_of(spec)), mapped,
                  ["addr add 10.30.0.101/32 dev %s: EEXIST" % QG]) == "ERROR"
