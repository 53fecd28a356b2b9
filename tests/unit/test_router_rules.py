"""The router plugin's pure decisions: what is refused, with Neutron's texts, and which is chosen."""
import pytest

from netweave.core import exceptions as exc
from netweave.service_plugins.router import api_definitions, rules
from netweave.service_plugins.router import exceptions as rexc

S1, S2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
P1 = "33333333-3333-4333-8333-333333333333"


def message(call, *args):
    with pytest.raises(exc.NeutronException) as raised:
        call(*args)
    return type(raised.value).__name__, raised.value.status, raised.value.msg


@pytest.mark.parametrize("body, for_removal, expected", [
    ({"subnet_id": S1}, False, (None, S1)),
    ({"port_id": P1}, False, (P1, None)),
    ({"port_id": P1, "subnet_id": S1}, True, (P1, S1)),
])
def test_interface_request_accepted(body, for_removal, expected):
    assert rules.check_interface_request(body, for_removal) == expected


@pytest.mark.parametrize("body, text", [
    ({}, "Either subnet_id or port_id must be specified"),
    (None, "Either subnet_id or port_id must be specified"),
    ({"port_id": P1, "subnet_id": S1}, "Cannot specify both subnet-id and port-id"),
    ({"port_id": "x"}, "'x' is not a valid UUID"),
    ({"subnet_id": None}, "'None' is not a valid UUID"),
])
def test_interface_request_refused(body, text):
    assert message(rules.check_interface_request, body, False) == (
        "BadRequest", 400, "Bad router request: %s." % text)


def test_overlap_and_duplicate_subnets():
    rules.check_no_overlap([(S2, "10.0.1.0/24")], [(S1, "10.0.0.0/24"), ("v6", "2001:db8::/64")])
    assert message(rules.check_no_overlap, [(S1, "10.0.0.0/24")], [(S1, "10.0.0.0/24")])[2] == (
        "Bad router request: Router already has a port on subnet %s." % S1)
    assert message(rules.check_no_overlap, [(S2, "10.0.0.128/25")], [(S1, "10.0.0.0/24")])[2] == (
        "Bad router request: Cidr 10.0.0.128/25 of subnet %s overlaps with cidr 10.0.0.0/24 of subnet %s." % (S2, S1))
    # The bigger new subnet covering an attached one overlaps too.
    assert "overlaps" in message(rules.check_no_overlap, [(S2, "10.0.0.0/16")], [(S1, "10.0.3.0/24")])[2]


def test_interface_port_checks():
    port = {"id": P1, "network_id": "n", "device_id": "", "device_owner": "", "fixed_ips": [{"subnet_id": S1}]}
    rules.check_interface_port(port)
    assert message(rules.check_interface_port, dict(port, device_id="vm")) == (
        "PortInUse", 409, "Unable to complete operation on port %s for network n. Port already has an attached "
                          "device vm." % P1)
    assert message(rules.check_interface_port, dict(port, fixed_ips=[]))[2] == (
        "Bad router request: Router port must have at least one fixed IP.")
    rules.check_single_ipv4_subnet([{"ip_version": 4}, {"ip_version": 6}])
    assert message(rules.check_single_ipv4_subnet, [{"ip_version": 4}, {"ip_version": 4}])[2] == (
        "Bad router request: Cannot have multiple IPv4 subnets on router port.")


def test_external_fixed_ips_may_not_take_the_gateway():
    subnets = {S1: {"gateway_ip": "10.30.0.1"}}
    rules.check_external_fixed_ips([{"subnet_id": S1, "ip_address": "10.30.0.9"}, {"subnet_id": S1}], subnets)
    rules.check_external_fixed_ips(None, subnets)
    assert message(rules.check_external_fixed_ips, [{"ip_address": "10.30.0.1"}], subnets)[2] == (
        "Bad router request: External IP 10.30.0.1 is the same as the gateway IP.")


def test_choose_fixed_ip_for_a_floating_ip():
    port = {"id": P1, "fixed_ips": [{"subnet_id": S1, "ip_address": "10.0.0.5"},
                                    {"subnet_id": "v6", "ip_address": "2001:db8::5"}]}
    assert rules.choose_fixed_ip(port, None) == (S1, "10.0.0.5")
    assert rules.choose_fixed_ip(port, "2001:db8::5") == ("v6", "2001:db8::5")
    assert message(rules.choose_fixed_ip, port, "10.0.0.6")[2] == (
        "Bad floatingip request: Port %s does not have fixed ip 10.0.0.6." % P1)
    assert message(rules.choose_fixed_ip, dict(port, fixed_ips=port["fixed_ips"][1:]), None)[2] == (
        "Bad floatingip request: Cannot add floating IP to port %s that has no fixed IPv4 addresses." % P1)
    two = dict(port, fixed_ips=[{"subnet_id": S1, "ip_address": "10.0.0.5"},
                                {"subnet_id": S2, "ip_address": "10.1.0.5"}])
    assert message(rules.choose_fixed_ip, two, None)[2] == (
        "Bad floatingip request: Port %s has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address "
        "when assigning a floating IP." % P1)


def test_choose_router_prefers_the_gateway_holder():
    assert rules.choose_router([], "10.0.0.1") is None
    assert rules.choose_router([("b", "10.0.0.1"), ("a", "10.0.0.2")], "10.0.0.1") == "b"
    assert rules.choose_router([("b", "10.0.0.3"), ("a", "10.0.0.2")], "10.0.0.1") == "a"


def test_routes_checks_and_atomic_edits():
    connected = [("192.168.200.0/24", "192.168.200.1"), ("10.30.0.0/24", "10.30.0.106")]
    ok = [{"destination": "10.50.0.0/24", "nexthop": "192.168.200.20"}]
    rules.check_routes("r", ok, connected, 30)
    assert message(rules.check_routes, "r", ok * 2, connected, 1) == (
        "RoutesExhausted", 400, "Unable to complete operation for r. The number of routes exceeds the maximum 1.")
    bad = [{"destination": "10.50.0.0/24", "nexthop": "172.16.0.1"}]
    assert message(rules.check_routes, "r", bad, connected, 30) == (
        "InvalidRoutes", 400, "Invalid format for routes: %s, the nexthop is not connected with router" % (bad,))
    own = [{"destination": "10.50.0.0/24", "nexthop": "10.30.0.106"}]
    assert message(rules.check_routes, "r", own, connected, 30)[2].endswith("the nexthop is used by router")
    assert rules.routes_through(ok, "192.168.200.0/24") == ok and rules.routes_through(ok, "10.30.0.0/24") == []
    extra = {"destination": "10.60.0.0/24", "nexthop": "192.168.200.30"}
    assert rules.merge_routes(ok, [extra, ok[0]]) == ok + [extra]
    assert rules.remove_routes(ok + [extra], ok) == [extra]


def test_gateway_and_routes_converters():
    assert api_definitions.gateway_info(None) == {} and api_definitions.gateway_info({}) == {}
    assert api_definitions.gateway_info({"network_id": S1, "enable_snat": "false"}) == {
        "network_id": S1, "enable_snat": False}
    for bad in ({"enable_snat": True}, {"network_id": S1, "color": "red"}, "net"):
        with pytest.raises(ValueError):
            api_definitions.gateway_info(bad)
    assert api_definitions.routes(None) == []
    with pytest.raises(ValueError):
        api_definitions.routes([{"destination": "10.0.0.0/24"}])


def test_exceptions_keep_neutrons_names_and_codes():
    assert (rexc.RouterInUse(router_id="r").msg, rexc.RouterInUse.status) == ("Router r still has ports", 409)
    assert rexc.RouterNotFound(router_id="r").status == 404
    assert rexc.ServicePortInUse(port_id="p", reason="has device owner network:router_gateway").msg == (
        "Port p cannot be deleted directly via the port API: has device owner network:router_gateway.")
