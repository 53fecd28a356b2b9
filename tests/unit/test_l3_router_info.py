"""The router description contract: what parses, and what is refused with a clear reason."""
import copy

import pytest

from harness import l3
from netweave.core import naming
from netweave.service_plugins.router.agent import router_info


def test_book_router_parses_into_the_contracts_values():
    router = router_info.parse_router(l3.book_router(fixed_ip="192.168.200.6"))
    assert router.id == l3.ROUTER_ID and router.name == "MyLegacyRouter" and router.enable_snat
    assert router.external_network_id == l3.GATEWAY_NET
    assert router.gateway.fixed_ips == (router_info.FixedIp(l3.GATEWAY_SUBNET, "10.30.0.106", 24),)
    assert router.gateway.subnet(l3.GATEWAY_SUBNET).gateway_ip == "10.30.0.1"
    assert router.gateway_ipv4().cidr == "10.30.0.106/24"
    assert [port.id for port in router.interfaces] == [l3.INTERFACE_PORT]
    (fip,) = router.associated_floating_ips()
    assert (fip.floating_ip_address, fip.fixed_ip_address) == ("10.30.0.101", "192.168.200.6")


def test_names_are_the_books():
    assert naming.router_namespace(l3.ROUTER_ID) == "qrouter-9ef2eede-4a55-4f64-b8be-4b07a43ec373"
    assert naming.router_gateway_device(l3.GATEWAY_PORT) == "qg-73e65609-f0"
    assert naming.router_interface_device(l3.INTERFACE_PORT) == "qr-a9327c59-a6"
    assert naming.ha_device("80d242d7-b3d7-4a6f-9d2b-000000000000") == "ha-80d242d7-b3"
    assert naming.router_id_of_namespace("qrouter-" + l3.ROUTER_ID) == l3.ROUTER_ID
    assert naming.router_id_of_namespace("qdhcp-x") is None
    assert naming.metadata_proxy_config(l3.ROUTER_ID) == "ns-metadata-proxy/%s.conf" % l3.ROUTER_ID


def test_enable_snat_comes_from_the_top_level_then_the_gateway_info():
    data = l3.book_router()
    del data["enable_snat"]
    data["external_gateway_info"]["enable_snat"] = False
    assert router_info.parse_router(data).enable_snat is False
    data["enable_snat"] = True
    assert router_info.parse_router(data).enable_snat is True
    del data["enable_snat"]
    del data["external_gateway_info"]["enable_snat"]
    assert router_info.parse_router(data).enable_snat is True


def test_prefixlen_defaults_to_the_subnets_and_unassociated_fips_are_ignored():
    data = l3.book_router()
    del data["gw_port"]["fixed_ips"][0]["prefixlen"]
    data["_floatingips"] = [l3.floating_ip("10.30.0.102", None, None)]
    router = router_info.parse_router(data)
    assert router.gateway.fixed_ips[0].prefixlen == 24
    assert router.associated_floating_ips() == () and len(router.floating_ips) == 1


def _broken(mutate):
    data = l3.book_router(fixed_ip="192.168.200.6")
    mutate(data)
    with pytest.raises(router_info.InvalidRouter) as caught:
        router_info.parse_router(data)
    return str(caught.value)


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d.update(id="not-a-uuid"), "router.id"),
    (lambda d: d.update(id="9EF2EEDE-4A55-4F64-B8BE-4B07A43EC373"), "canonical"),
    (lambda d: d.update(gw_port=None), "gw_port and external_gateway_info"),
    (lambda d: d["gw_port"].update(mac_address="fa:16:3e"), "gw_port.mac_address"),
    (lambda d: d["gw_port"].update(mtu=10), "gw_port.mtu"),
    (lambda d: d["gw_port"].update(network_id="other"), "is not the external network"),
    (lambda d: d["gw_port"].update(fixed_ips=[]), "no fixed IP"),
    (lambda d: d["gw_port"]["fixed_ips"][0].update(subnet_id="nope"), "not among the port's subnets"),
    (lambda d: d["gw_port"]["fixed_ips"][0].update(ip_address="10.31.0.1"), "is not in 10.30.0.0/24"),
    (lambda d: d["gw_port"]["subnets"][0].update(cidr="10.30.0.1/24"), "not a network CIDR"),
    (lambda d: d["_interfaces"][0].update(device_owner="compute:nova"), "not a router interface owner"),
    (lambda d: d["_interfaces"].append(copy.deepcopy(d["_interfaces"][0])), "listed twice"),
    (lambda d: d["_floatingips"].append(l3.floating_ip("10.30.0.101", "192.168.200.10", l3.INSTANCE2_PORT,
                                                       fip_id="f2")), "associated twice"),
    (lambda d: d["_floatingips"].append(l3.floating_ip("10.30.0.102", "192.168.200.6", l3.INSTANCE1_PORT,
                                                       fip_id="f2")), "two floating IPs"),
    (lambda d: d["_floatingips"][0].update(floating_ip_address="2001:db8::1"), "not an IPv4 address"),
    (lambda d: d.update(routes=[{"destination": "198.51.100.0/24", "nexthop": "2001:db8::1"}]), "IPv4"),
    (lambda d: d.update(routes="198.51.100.0/24"), "expected a list"),
    (lambda d: d.update(admin_state_up="yes"), "true or false"),
    (lambda d: d.update(ha=True), "not served"),
    (lambda d: d["_interfaces"][0]["subnets"][0].update(ipv6_ra_mode="slaac"), "ipv6_ra_mode"),
])
def test_invalid_descriptions_are_refused_naming_the_field(mutate, words):
    assert words in _broken(mutate)


def test_a_non_object_is_refused():
    with pytest.raises(router_info.InvalidRouter):
        router_info.parse_router(["router"])
