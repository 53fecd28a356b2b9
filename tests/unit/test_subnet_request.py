"""Subnet body validation: defaults, pools, gateway, limits and IPv6 modes."""
import pytest
from oslo_config import cfg

from netweave.core import exceptions as exc
from netweave.core.ipam import addresses
from netweave.core.ipam import subnet_request as sr


def body(**kwargs):
    values = {"ip_version": 4, "gateway_ip": "auto", "allocation_pools": None, "dns_nameservers": [],
              "host_routes": [], "enable_dhcp": True, "ipv6_ra_mode": None, "ipv6_address_mode": None}
    values.update(kwargs)
    return values


def current(**kwargs):
    values = {"cidr": "192.168.100.0/24", "ip_version": 4, "gateway_ip": "192.168.100.1",
              "allocation_pools": [{"start": "192.168.100.2", "end": "192.168.100.254"}],
              "enable_dhcp": True, "ipv6_ra_mode": None, "ipv6_address_mode": None}
    values.update(kwargs)
    return values


@pytest.fixture
def limits():
    yield cfg.CONF
    cfg.CONF.clear_override("max_dns_nameservers")
    cfg.CONF.clear_override("max_subnet_host_routes")


# --- CIDR and source ---------------------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    ("192.168.1.5/24", "192.168.1.0/24"),
    ("192.168.100.50/24", "192.168.100.0/24"),
    ("172.16.1.200/23", "172.16.0.0/23"),
    ("10.0.10.4/22", "10.0.8.0/22"),
    ("2001:DB8:0:0::5/64", "2001:db8::/64"),
])
def test_normalise_cidr(given, expected):
    assert addresses.normalise_cidr(given) == expected


def test_source_explicit_cidr_is_normalised():
    source = sr.resolve_subnet_source(body(cidr="192.168.1.5/24"))
    assert source.cidr == "192.168.1.0/24"
    assert source.subnetpool_id is None
    assert source.ip_version == 4


def test_source_cidr_and_prefixlen_together():
    with pytest.raises(exc.BadRequest) as err:
        sr.resolve_subnet_source(body(cidr="10.0.0.0/24", prefixlen=28))
    assert err.value.msg == "Bad subnets request: cidr and prefixlen must not be supplied together."
    assert err.value.status == 400


def test_source_without_cidr_or_pool():
    with pytest.raises(exc.BadRequest, match="a subnetpool must be specified in the absence of a cidr"):
        sr.resolve_subnet_source(body(cidr=None))


def test_source_pool_and_default_pool_together():
    with pytest.raises(exc.BadRequest,
                       match="subnetpool_id and use_default_subnetpool cannot both be specified"):
        sr.resolve_subnet_source(body(subnetpool_id="p", use_default_subnetpool=True))


def test_source_pool_request():
    source = sr.resolve_subnet_source(body(subnetpool_id="pool-1", prefixlen=28))
    assert source.cidr is None and source.subnetpool_id == "pool-1" and source.prefixlen == 28


def test_source_default_pool_request():
    source = sr.resolve_subnet_source(body(use_default_subnetpool=True))
    assert source.use_default_subnetpool and source.ip_version == 4


def test_source_pool_with_allocation_pools_but_no_cidr():
    with pytest.raises(exc.BadRequest, match="allocation_pools allowed only for specific subnet requests"):
        sr.resolve_subnet_source(body(subnetpool_id="p",
                                      allocation_pools=[{"start": "10.0.0.2", "end": "10.0.0.9"}]))


def test_source_cidr_version_mismatch():
    with pytest.raises(exc.InvalidInput) as err:
        sr.resolve_subnet_source(body(cidr="2001:db8::/64", ip_version=4))
    assert err.value.msg == ("Invalid input for operation: cidr '2001:db8::/64' does not match "
                             "the ip_version '4'.")


def test_no_default_subnetpool_text():
    assert sr.no_default_subnetpool(4).msg == "Bad subnets request: No default subnetpool found for IPv4."


def test_pool_ip_version_mismatch():
    with pytest.raises(exc.BadRequest, match="Cannot allocate IPv6 subnet from IPv4 subnet pool"):
        sr.check_pool_ip_version(6, 4)
    sr.check_pool_ip_version(4, 4)


def test_network_subnetpool_affinity():
    sr.check_network_subnetpool_affinity([(4, "p1"), (6, None)], "p1", 4)
    with pytest.raises(exc.NetworkSubnetPoolAffinityError):
        sr.check_network_subnetpool_affinity([(4, None)], "p1", 4)


# --- defaults (book examples) ----------------------------------------------------------

def test_default_subnet_book_example():
    values = sr.prepare_subnet_create(body(cidr="192.168.100.0/24", gateway_ip="192.168.100.1",
                                           dns_nameservers=["8.8.8.8", "8.8.4.4"]))
    assert values["cidr"] == "192.168.100.0/24"
    assert values["gateway_ip"] == "192.168.100.1"
    assert values["allocation_pools"] == [{"start": "192.168.100.2", "end": "192.168.100.254"}]
    assert values["dns_nameservers"] == ["8.8.8.8", "8.8.4.4"]
    assert values["host_routes"] == []
    assert values["enable_dhcp"] is True
    assert values["ipv6_ra_mode"] is None and values["ipv6_address_mode"] is None


def test_auto_gateway_is_first_host():
    values = sr.prepare_subnet_create(body(cidr="192.168.99.0/24"))
    assert values["gateway_ip"] == "192.168.99.1"
    assert values["allocation_pools"] == [{"start": "192.168.99.2", "end": "192.168.99.254"}]


def test_no_gateway_gives_the_whole_usable_range():
    values = sr.prepare_subnet_create(body(cidr="192.168.99.0/24", gateway_ip=None))
    assert values["gateway_ip"] is None
    assert values["allocation_pools"] == [{"start": "192.168.99.1", "end": "192.168.99.254"}]


def test_gateway_in_the_middle_splits_the_default_pool():
    values = sr.prepare_subnet_create(body(cidr="10.0.0.0/24", gateway_ip="10.0.0.100"))
    assert values["allocation_pools"] == [{"start": "10.0.0.1", "end": "10.0.0.99"},
                                          {"start": "10.0.0.101", "end": "10.0.0.254"}]


def test_split_pools_book_example():
    pools = [{"start": "192.168.1.2", "end": "192.168.1.49"}, {"start": "192.168.1.56", "end": "192.168.1.254"}]
    values = sr.prepare_subnet_create(body(cidr="192.168.1.0/24", allocation_pools=pools))
    assert values["gateway_ip"] == "192.168.1.1"
    assert values["allocation_pools"] == pools


def test_carved_subnet_from_pool_book_example():
    values = sr.prepare_subnet_create(body(subnetpool_id="p", prefixlen=28), cidr="172.31.0.48/28")
    assert values["cidr"] == "172.31.0.48/28"
    assert values["gateway_ip"] == "172.31.0.49"
    assert values["allocation_pools"] == [{"start": "172.31.0.50", "end": "172.31.0.62"}]


def test_ipv6_slash64_defaults():
    values = sr.prepare_subnet_create(body(cidr="2001:db8:1::/64", ip_version=6))
    assert values["gateway_ip"] == "2001:db8:1::1"
    assert values["allocation_pools"] == [{"start": "2001:db8:1::2", "end": "2001:db8:1:0:ffff:ffff:ffff:ffff"}]


def test_ipv6_without_gateway_keeps_out_only_the_anycast_address():
    values = sr.prepare_subnet_create(body(cidr="2001:db8::/120", ip_version=6, gateway_ip=None))
    assert values["allocation_pools"] == [{"start": "2001:db8::1", "end": "2001:db8::ff"}]


@pytest.mark.parametrize("cidr, expected", [
    ("10.0.0.0/31", [("10.0.0.0", "10.0.0.1")]),
    ("10.0.0.4/32", [("10.0.0.4", "10.0.0.4")]),
    ("10.0.0.0/30", [("10.0.0.1", "10.0.0.2")]),
])
def test_generate_pools_small_ipv4(cidr, expected):
    pools = [addresses.range_to_pool(r) for r in addresses.generate_pools(cidr, None)]
    assert pools == [{"start": s, "end": e} for s, e in expected]


def test_default_gateway_absent_on_single_address():
    assert addresses.default_gateway("10.0.0.4/32") is None
    assert addresses.default_gateway("10.0.0.0/31") == "10.0.0.1"


# --- pools ---------------------------------------------------------------------

def test_pool_start_after_end_is_not_valid():
    pool = {"start": "10.0.0.9", "end": "10.0.0.2"}
    with pytest.raises(exc.InvalidAllocationPool) as err:
        sr.prepare_subnet_create(body(cidr="10.0.0.0/24", allocation_pools=[pool]))
    assert err.value.msg == "The allocation pool %s is not valid." % pool
    assert err.value.status == 400


def test_pool_unparsable_is_not_valid():
    with pytest.raises(exc.InvalidAllocationPool):
        sr.validate_allocation_pools([{"start": "nope", "end": "10.0.0.2"}], "10.0.0.0/24")


def test_pool_of_other_version_is_not_valid():
    with pytest.raises(exc.InvalidAllocationPool):
        sr.validate_allocation_pools([{"start": "2001:db8::2", "end": "2001:db8::9"}], "10.0.0.0/24")


@pytest.mark.parametrize("start, end", [
    ("10.0.0.0", "10.0.0.10"),     # network address
    ("10.0.0.2", "10.0.0.255"),    # broadcast address
    ("10.0.1.2", "10.0.1.10"),     # elsewhere
])
def test_pool_outside_the_usable_span(start, end):
    with pytest.raises(exc.OutOfBoundsAllocationPool) as err:
        sr.validate_allocation_pools([{"start": start, "end": end}], "10.0.0.0/24")
    assert err.value.msg == ("The allocation pool %s-%s spans beyond the subnet cidr 10.0.0.0/24."
                             % (start, end))


def test_ipv6_pool_may_end_on_the_last_address():
    ranges = sr.validate_allocation_pools([{"start": "2001:db8::2", "end": "2001:db8::ff"}], "2001:db8::/120")
    assert len(ranges) == 1


def test_overlapping_pools():
    pools = [{"start": "10.0.0.2", "end": "10.0.0.50"}, {"start": "10.0.0.50", "end": "10.0.0.60"}]
    with pytest.raises(exc.OverlappingAllocationPools) as err:
        sr.validate_allocation_pools(pools, "10.0.0.0/24")
    assert err.value.status == 409
    assert err.value.msg == ("Found overlapping allocation pools: 10.0.0.2-10.0.0.50 "
                             "10.0.0.50-10.0.0.60 for subnet 10.0.0.0/24.")


def test_gateway_inside_a_pool_conflicts():
    with pytest.raises(exc.GatewayConflictWithAllocationPools) as err:
        sr.prepare_subnet_create(body(cidr="10.0.0.0/24", gateway_ip="10.0.0.5",
                                      allocation_pools=[{"start": "10.0.0.2", "end": "10.0.0.254"}]))
    assert err.value.status == 409
    assert err.value.msg == "Gateway ip 10.0.0.5 conflicts with allocation pool 10.0.0.2-10.0.0.254."


def test_auto_gateway_inside_given_pool_conflicts():
    with pytest.raises(exc.GatewayConflictWithAllocationPools):
        sr.prepare_subnet_create(body(cidr="10.0.0.0/24",
                                      allocation_pools=[{"start": "10.0.0.1", "end": "10.0.0.254"}]))


def test_no_gateway_allows_a_pool_from_the_first_host():
    values = sr.prepare_subnet_create(body(cidr="10.0.0.0/24", gateway_ip=None,
                                           allocation_pools=[{"start": "10.0.0.1", "end": "10.0.0.254"}]))
    assert values["allocation_pools"] == [{"start": "10.0.0.1", "end": "10.0.0.254"}]


# --- gateway ------------------------------------------------------------------------

@pytest.mark.parametrize("gateway", ["10.0.0.0", "10.0.0.255"])
def test_gateway_on_network_or_broadcast_is_invalid(gateway):
    with pytest.raises(exc.InvalidInput) as err:
        sr.prepare_subnet_create(body(cidr="10.0.0.0/24", gateway_ip=gateway))
    assert err.value.msg == "Invalid input for operation: Gateway is not valid on subnet."


def test_gateway_outside_the_subnet_is_allowed():
    values = sr.prepare_subnet_create(body(cidr="10.0.0.0/24", gateway_ip="10.1.0.1"))
    assert values["gateway_ip"] == "10.1.0.1"
    assert values["allocation_pools"] == [{"start": "10.0.0.1", "end": "10.0.0.254"}]


def test_gateway_of_the_wrong_version():
    with pytest.raises(exc.InvalidInput, match="gateway_ip '2001:db8::1' does not match the ip_version '4'"):
        sr.prepare_subnet_create(body(cidr="10.0.0.0/24", gateway_ip="2001:db8::1"))


def test_ipv6_gateway_on_the_anycast_address_is_allowed():
    values = sr.prepare_subnet_create(body(cidr="2001:db8::/64", ip_version=6, gateway_ip="2001:db8::"))
    assert values["gateway_ip"] == "2001:db8::"


# --- DNS and host routes -----------------------------------------------------------------

def test_dns_limit_on_create(limits):
    servers = ["10.0.0.%d" % i for i in range(1, 7)]
    with pytest.raises(exc.DNSNameServersExhausted) as err:
        sr.prepare_subnet_create(body(cidr="10.0.0.0/24", dns_nameservers=servers))
    assert err.value.status == 400
    assert err.value.msg == ("Unable to complete operation for new subnet. "
                             "The number of DNS nameservers exceeds the limit 5.")


def test_dns_limit_on_update_names_the_subnet(limits):
    limits.set_override("max_dns_nameservers", 1)
    with pytest.raises(exc.DNSNameServersExhausted, match="operation for sub-1. .* limit 1"):
        sr.prepare_subnet_update(current(), {"dns_nameservers": ["8.8.8.8", "8.8.4.4"]}, "sub-1")


def test_five_dns_servers_are_fine():
    servers = ["10.0.0.%d" % i for i in range(1, 6)]
    assert sr.validate_dns_nameservers(servers, 4) == servers


def test_duplicate_dns_server():
    with pytest.raises(exc.InvalidAttribute) as err:
        sr.validate_dns_nameservers(["8.8.8.8", "8.8.8.8"], 4)
    assert err.value.msg == "Invalid input for dns_nameservers. Reason: Duplicate nameserver '8.8.8.8'."
    assert err.value.type == "HTTPBadRequest"


def test_dns_of_the_wrong_version():
    with pytest.raises(exc.InvalidInput, match="dns_nameserver '2001:db8::1' does not match the ip_version '4'"):
        sr.validate_dns_nameservers(["2001:db8::1"], 4)


def test_dns_unparsable():
    with pytest.raises(exc.InvalidInput, match="Error parsing dns address bogus"):
        sr.validate_dns_nameservers(["bogus"], 4)


def test_host_route_limit():
    routes = [{"destination": "10.%d.0.0/16" % i, "nexthop": "192.168.1.1"} for i in range(21)]
    with pytest.raises(exc.HostRoutesExhausted) as err:
        sr.validate_host_routes(routes, 4)
    assert err.value.msg == ("Unable to complete operation for new subnet. "
                             "The number of host routes exceeds the limit 20.")
    assert len(sr.validate_host_routes(routes[:20], 4)) == 20


def test_host_route_invalid():
    route = {"destination": "nowhere", "nexthop": "192.168.1.1"}
    with pytest.raises(exc.InvalidInput) as err:
        sr.validate_host_routes([route], 4)
    assert err.value.msg == "Invalid input for operation: Invalid route: %s." % route


def test_host_route_destination_needs_a_prefix_length():
    with pytest.raises(exc.InvalidAttribute, match="'10.0.0.1' isn't a recognized IP subnet cidr, "
                                                   "'10.0.0.1/32' is recommended"):
        sr.validate_host_routes([{"destination": "10.0.0.1", "nexthop": "192.168.1.1"}], 4)


def test_host_route_version_mismatch():
    with pytest.raises(exc.InvalidInput, match="nexthop '2001:db8::1' does not match the ip_version '4'"):
        sr.validate_host_routes([{"destination": "10.0.0.0/8", "nexthop": "2001:db8::1"}], 4)


def test_duplicate_host_route():
    route = {"destination": "10.0.0.0/8", "nexthop": "192.168.1.1"}
    with pytest.raises(exc.InvalidAttribute, match="Duplicate hostroute"):
        sr.validate_host_routes([route, dict(route)], 4)


# --- DHCP and IPv6 modes ------------------------------------------------------------------

@pytest.mark.parametrize("cidr, version", [("10.0.0.0/31", 4), ("10.0.0.0/32", 4), ("2001:db8::/127", 6)])
def test_dhcp_needs_room(cidr, version):
    with pytest.raises(exc.InvalidInput, match="prefix length that is incompatible with DHCP"):
        sr.prepare_subnet_create(body(cidr=cidr, ip_version=version))


def test_small_subnet_without_dhcp_is_fine():
    values = sr.prepare_subnet_create(body(cidr="10.0.0.0/31", enable_dhcp=False))
    assert values["allocation_pools"] == [{"start": "10.0.0.0", "end": "10.0.0.0"}]


def test_dhcp_on_multicast_and_loopback():
    with pytest.raises(exc.InvalidInput, match="Multicast IP subnet is not supported"):
        sr.check_dhcp_allowed("224.0.0.0/24")
    with pytest.raises(exc.InvalidInput, match="Loopback IP subnet is not supported"):
        sr.check_dhcp_allowed("127.0.0.0/24")


def test_ipv6_modes_on_ipv4():
    with pytest.raises(exc.InvalidInput, match="ipv6_ra_mode is not valid when ip_version is 4"):
        sr.prepare_subnet_create(body(cidr="10.0.0.0/24", ipv6_ra_mode="slaac"))
    with pytest.raises(exc.InvalidInput, match="ipv6_address_mode is not valid when ip_version is 4"):
        sr.prepare_subnet_create(body(cidr="10.0.0.0/24", ipv6_address_mode="slaac"))


def test_ipv6_modes_must_match():
    with pytest.raises(exc.InvalidInput) as err:
        sr.validate_ipv6_modes(6, "slaac", "dhcpv6-stateful", True, "2001:db8::/64")
    assert err.value.msg == ("Invalid input for operation: ipv6_ra_mode set to 'slaac' with ipv6_address_mode "
                             "set to 'dhcpv6-stateful' is not valid. If both attributes are set, they must be "
                             "the same value.")


def test_ipv6_modes_need_dhcp():
    with pytest.raises(exc.InvalidInput, match="cannot be set when enable_dhcp is set to False"):
        sr.validate_ipv6_modes(6, None, "slaac", False, "2001:db8::/64")


def test_ipv6_auto_modes_need_slash64():
    with pytest.raises(exc.InvalidInput, match="Invalid CIDR 2001:db8::/80 for IPv6 address mode"):
        sr.validate_ipv6_modes(6, "slaac", "slaac", True, "2001:db8::/80")
    sr.validate_ipv6_modes(6, "dhcpv6-stateful", "dhcpv6-stateful", True, "2001:db8::/80")
    sr.validate_ipv6_modes(6, "slaac", None, True, "2001:db8::/64")


# --- overlap -----------------------------------------------------------------------

def test_overlap_book_text():
    with pytest.raises(exc.InvalidInput) as err:
        sr.check_overlap("192.168.100.128/25", ["10.0.0.0/24", "192.168.100.0/24"], "net-1")
    assert err.value.status == 400
    assert err.value.msg == ("Invalid input for operation: Requested subnet with cidr: 192.168.100.128/25 "
                             "for network: net-1 overlaps with another subnet.")


def test_no_overlap():
    sr.check_overlap("192.168.101.0/24", ["192.168.100.0/24"], "net-1")


def test_zero_prefix_length():
    with pytest.raises(exc.InvalidInput, match="0 is not allowed as CIDR prefix length"):
        sr.check_overlap("0.0.0.0/0", [], "net-1")


# --- update ---------------------------------------------------------------------------

def test_update_gateway_into_a_pool_conflicts():
    with pytest.raises(exc.GatewayConflictWithAllocationPools) as err:
        sr.prepare_subnet_update(current(), {"gateway_ip": "192.168.100.20"}, "sub-1")
    assert err.value.msg == ("Gateway ip 192.168.100.20 conflicts with allocation pool "
                             "192.168.100.2-192.168.100.254.")


def test_update_gateway_with_new_pools():
    changes = sr.prepare_subnet_update(
        current(), {"gateway_ip": "192.168.100.254",
                    "allocation_pools": [{"start": "192.168.100.1", "end": "192.168.100.253"}]}, "sub-1")
    assert changes == {"gateway_ip": "192.168.100.254",
                       "allocation_pools": [{"start": "192.168.100.1", "end": "192.168.100.253"}]}


def test_update_removing_the_gateway_keeps_pools():
    assert sr.prepare_subnet_update(current(), {"gateway_ip": None}, "sub-1") == {"gateway_ip": None}


def test_update_pools_that_swallow_the_gateway():
    with pytest.raises(exc.GatewayConflictWithAllocationPools):
        sr.prepare_subnet_update(current(), {"allocation_pools": [{"start": "192.168.100.1",
                                                                   "end": "192.168.100.254"}]}, "sub-1")


def test_update_enabling_dhcp_checks_the_prefix():
    with pytest.raises(exc.InvalidInput, match="incompatible with DHCP"):
        sr.prepare_subnet_update(current(cidr="10.0.0.0/31", enable_dhcp=False, allocation_pools=[]),
                                 {"enable_dhcp": True}, "sub-1")


def test_update_disabling_dhcp_with_ipv6_modes():
    ipv6 = current(cidr="2001:db8::/64", ip_version=6, gateway_ip="2001:db8::1", ipv6_ra_mode="slaac",
                   ipv6_address_mode="slaac", allocation_pools=[{"start": "2001:db8::2", "end": "2001:db8::ff"}])
    with pytest.raises(exc.InvalidInput, match="Cannot disable enable_dhcp with ipv6 attributes set"):
        sr.prepare_subnet_update(ipv6, {"enable_dhcp": False}, "sub-1")
