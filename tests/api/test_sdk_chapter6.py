"""Chapter 6 of the book (networks, subnets, subnet pools, ports) driven through openstacksdk.

Every call goes through the real openstacksdk network proxy against a running
all-in-one server (noauth). Without an X-Roles header the caller is the admin
of project "admin"; members of other projects are built from headers.
"""
import ipaddress

import pytest
from openstack import exceptions as sdk_exc

from harness.sdk import connect, fault_of, unique


def pool_bounds(subnet):
    return [(p["start"], p["end"]) for p in subnet.allocation_pools]


@pytest.fixture(scope="module")
def admin(aio_server):
    return connect(aio_server.url)


@pytest.fixture
def vxlan_network(admin):
    network = admin.network.create_network(name=unique("net"))
    yield network
    for port in admin.network.ports(network_id=network.id):
        admin.network.delete_port(port)
    admin.network.delete_network(network, ignore_missing=True)


# --- networks -----------------------------------------------------------------


def test_flat_network_shared_and_second_flat_on_same_physnet_conflicts(admin):
    flat = admin.network.create_network(
        name="MyFlatNetwork", provider_network_type="flat",
        provider_physical_network="physnet1", is_shared=True)
    assert flat.is_shared is True
    assert flat.is_router_external is False
    assert flat.provider_network_type == "flat"
    assert flat.provider_physical_network == "physnet1"
    assert flat.provider_segmentation_id is None
    assert flat.mtu == 1500
    assert flat.status == "ACTIVE"
    assert flat.is_admin_state_up is True
    assert flat.subnet_ids == []
    assert flat.availability_zone_hints == []
    assert flat.project_id == "admin"
    assert flat.revision_number >= 0

    with pytest.raises(sdk_exc.ConflictException) as raised:
        admin.network.create_network(name="MyFlatNetwork2", provider_network_type="flat",
                                     provider_physical_network="physnet1")
    assert raised.value.status_code == 409
    assert "Physical network physnet1 is in use" in fault_of(raised.value)["message"]
    assert raised.value.request_id.startswith("req-")
    names = [n.name for n in admin.network.networks(provider_physical_network="physnet1",
                                                    provider_network_type="flat")]
    assert names == ["MyFlatNetwork"]


def test_vlan_networks_outside_the_tenant_range(admin):
    first = admin.network.create_network(
        name="MyVLANNetwork", provider_network_type="vlan", provider_physical_network="physnet1",
        provider_segmentation_id=300)
    second = admin.network.create_network(
        name="MyVLANNetwork2", provider_network_type="vlan", provider_physical_network="physnet1",
        provider_segmentation_id=301)
    for network, vlan in ((first, 300), (second, 301)):
        assert network.provider_network_type == "vlan"
        assert network.provider_physical_network == "physnet1"
        assert network.provider_segmentation_id == vlan
        assert network.is_shared is False
        assert network.mtu == 1500
    shown = admin.network.get_network(first.id)
    assert shown.provider_segmentation_id == 300

    with pytest.raises(sdk_exc.ConflictException) as raised:
        admin.network.create_network(name=unique("dup-vlan"), provider_network_type="vlan",
                                     provider_physical_network="physnet1",
                                     provider_segmentation_id=300)
    assert "The VLAN 300 on physical network physnet1 is in use" in fault_of(raised.value)["message"]


@pytest.mark.parametrize("vlan", [0, 4095, 5000])
def test_vlan_id_outside_802_1q_range_is_rejected(admin, vlan):
    with pytest.raises(sdk_exc.BadRequestException) as raised:
        admin.network.create_network(name=unique("bad-vlan"), provider_network_type="vlan",
                                     provider_physical_network="physnet1",
                                     provider_segmentation_id=vlan)
    assert raised.value.status_code == 400
    assert not [n for n in admin.network.networks(provider_segmentation_id=vlan)]


def test_local_network_has_no_physnet_or_segment(admin):
    network = admin.network.create_network(name=unique("local"), provider_network_type="local")
    assert network.provider_network_type == "local"
    assert network.provider_physical_network is None
    assert network.provider_segmentation_id is None
    with pytest.raises(sdk_exc.BadRequestException):
        admin.network.create_network(name=unique("local-physnet"), provider_network_type="local",
                                     provider_physical_network="physnet1")
    with pytest.raises(sdk_exc.BadRequestException):
        admin.network.create_network(name=unique("local-segment"), provider_network_type="local",
                                     provider_segmentation_id=5)


def test_default_self_service_network_is_vxlan(admin):
    network = admin.network.create_network(name="MySemiSharedNetwork")
    assert network.provider_network_type == "vxlan"
    assert network.provider_physical_network is None
    assert 1 <= network.provider_segmentation_id <= 1000
    assert network.mtu == 1450
    assert network.is_shared is False
    assert network.is_router_external is False
    assert network.status == "ACTIVE"
    other = admin.network.create_network(name=unique("net"))
    assert other.provider_segmentation_id != network.provider_segmentation_id


def test_provider_attributes_cannot_be_updated(admin):
    network = admin.network.create_network(
        name=unique("vlan"), provider_network_type="vlan", provider_physical_network="physnet1",
        provider_segmentation_id=310)
    with pytest.raises(sdk_exc.BadRequestException) as raised:
        admin.network.update_network(network, provider_segmentation_id=311)
    assert "Plugin does not support updating provider attributes" in fault_of(raised.value)["message"]
    assert admin.network.get_network(network.id).provider_segmentation_id == 310


def test_member_cannot_pass_provider_attributes(aio_server):
    member = connect(aio_server.url, project=unique("proj"), roles="member")
    with pytest.raises(sdk_exc.ForbiddenException):
        member.network.create_network(name=unique("net"), provider_network_type="vxlan")
    own = member.network.create_network(name=unique("net"))
    assert own.provider_network_type is None


def test_rename_keeps_id_and_bumps_revision(admin, vxlan_network):
    # The SDK refreshes the object it is given, so keep the old values aside.
    old_id, old_name, old_revision = vxlan_network.id, vxlan_network.name, vxlan_network.revision_number
    renamed = admin.network.update_network(vxlan_network.id, name="renamed-" + old_name)
    assert renamed.id == old_id
    assert renamed.name == "renamed-" + old_name
    assert renamed.revision_number > old_revision
    assert admin.network.get_network(old_id).name == "renamed-" + old_name


def test_network_delete_refused_while_a_user_port_exists(admin, vxlan_network):
    admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="10.60.0.0/24")
    port = admin.network.create_port(network_id=vxlan_network.id)
    with pytest.raises(sdk_exc.ConflictException) as raised:
        admin.network.delete_network(vxlan_network)
    assert fault_of(raised.value)["type"] == "NetworkInUse"
    admin.network.delete_port(port)
    admin.network.delete_network(vxlan_network)
    assert admin.network.find_network(vxlan_network.id) is None
    assert list(admin.network.subnets(network_id=vxlan_network.id)) == []


# --- subnets ------------------------------------------------------------------


def test_book_subnet_values_and_dns_order(admin, vxlan_network):
    subnet = admin.network.create_subnet(
        name="MyFlatSubnet", network_id=vxlan_network.id, ip_version=4, cidr="192.168.100.0/24",
        gateway_ip="192.168.100.1", dns_nameservers=["8.8.8.8", "8.8.4.4"])
    for seen in (subnet, admin.network.get_subnet(subnet.id)):
        assert seen.cidr == "192.168.100.0/24"
        assert pool_bounds(seen) == [("192.168.100.2", "192.168.100.254")]
        assert seen.is_dhcp_enabled is True
        assert seen.gateway_ip == "192.168.100.1"
        assert seen.host_routes == []
        assert seen.ip_version == 4
        assert seen.ipv6_address_mode is None
        assert seen.ipv6_ra_mode is None
        assert seen.revision_number == 0
        assert seen.segment_id is None
        assert seen.service_types == []
        assert seen.subnet_pool_id is None
        assert seen.dns_nameservers == ["8.8.8.8", "8.8.4.4"]
    assert admin.network.get_network(vxlan_network.id).subnet_ids == [subnet.id]


def test_subnet_host_routes_and_cidr_normalisation(admin, vxlan_network):
    routes = [{"destination": "10.0.0.0/8", "nexthop": "192.168.50.254"},
              {"destination": "172.16.0.0/12", "nexthop": "192.168.50.253"}]
    subnet = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4,
                                         cidr="192.168.50.5/24", host_routes=routes)
    assert subnet.cidr == "192.168.50.0/24"
    assert subnet.host_routes == routes
    assert admin.network.get_subnet(subnet.id).host_routes == routes


def test_gateway_defaults_to_first_address(admin, vxlan_network):
    subnet = admin.network.create_subnet(name="MySemiSharedSubnet", network_id=vxlan_network.id,
                                         ip_version=4, cidr="192.168.99.0/24")
    assert subnet.gateway_ip == "192.168.99.1"
    assert pool_bounds(subnet) == [("192.168.99.2", "192.168.99.254")]


def test_gateway_none_gives_the_whole_range_to_the_pool(admin, vxlan_network):
    subnet = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4,
                                         cidr="192.168.98.0/24", gateway_ip=None)
    assert subnet.gateway_ip is None
    assert pool_bounds(subnet) == [("192.168.98.1", "192.168.98.254")]
    assert admin.network.get_subnet(subnet.id).gateway_ip is None


def test_split_allocation_pools(admin, vxlan_network):
    pools = [{"start": "192.168.1.2", "end": "192.168.1.49"},
             {"start": "192.168.1.56", "end": "192.168.1.254"}]
    subnet = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4,
                                         cidr="192.168.1.0/24", allocation_pools=pools)
    assert pool_bounds(subnet) == [("192.168.1.2", "192.168.1.49"), ("192.168.1.56", "192.168.1.254")]
    assert subnet.gateway_ip == "192.168.1.1"


def test_ports_never_get_addresses_between_split_pools(admin, vxlan_network):
    # .2-.4 and .9-.14 of a /28: eight addresses, .5-.8 excluded.
    subnet = admin.network.create_subnet(
        network_id=vxlan_network.id, ip_version=4, cidr="10.61.0.0/28",
        allocation_pools=[{"start": "10.61.0.2", "end": "10.61.0.4"},
                          {"start": "10.61.0.9", "end": "10.61.0.14"}])
    given = []
    for _ in range(9):
        port = admin.network.create_port(network_id=vxlan_network.id)
        given.append(port.fixed_ips[0]["ip_address"])
        assert port.fixed_ips[0]["subnet_id"] == subnet.id
    expected = {"10.61.0.%d" % i for i in (2, 3, 4, 9, 10, 11, 12, 13, 14)}
    assert set(given) == expected
    with pytest.raises(sdk_exc.ConflictException) as raised:
        admin.network.create_port(network_id=vxlan_network.id)
    assert fault_of(raised.value)["type"] == "IpAddressGenerationFailure"


def test_overlapping_subnet_on_the_same_network_is_rejected(admin, vxlan_network):
    admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="10.62.0.0/24")
    with pytest.raises(sdk_exc.BadRequestException) as raised:
        admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="10.62.0.128/25")
    assert "overlaps with another subnet" in fault_of(raised.value)["message"]
    # The same range on another network is fine.
    other = admin.network.create_network(name=unique("net"))
    admin.network.create_subnet(network_id=other.id, ip_version=4, cidr="10.62.0.0/24")


def test_five_dns_servers_allowed_six_rejected(admin, vxlan_network):
    five = ["10.0.0.%d" % i for i in range(1, 6)]
    subnet = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4,
                                         cidr="10.63.0.0/24", dns_nameservers=five)
    assert subnet.dns_nameservers == five
    with pytest.raises(sdk_exc.BadRequestException) as raised:
        admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="10.63.1.0/24",
                                    dns_nameservers=five + ["10.0.0.6"])
    assert "exceeds the limit 5" in fault_of(raised.value)["message"]
    with pytest.raises(sdk_exc.BadRequestException):
        admin.network.update_subnet(subnet, dns_nameservers=five + ["10.0.0.6"])
    assert admin.network.get_subnet(subnet.id).dns_nameservers == five


def test_twenty_host_routes_allowed_twenty_one_rejected(admin, vxlan_network):
    routes = [{"destination": "172.20.%d.0/24" % i, "nexthop": "10.64.0.254"} for i in range(21)]
    subnet = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4,
                                         cidr="10.64.0.0/24", host_routes=routes[:20])
    assert len(subnet.host_routes) == 20
    with pytest.raises(sdk_exc.BadRequestException) as raised:
        admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="10.64.1.0/24",
                                    host_routes=routes)
    assert "exceeds the limit 20" in fault_of(raised.value)["message"]


def test_subnet_cidr_is_not_updatable(admin, vxlan_network):
    subnet = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="10.65.0.0/24")
    with pytest.raises(sdk_exc.BadRequestException):
        admin.network.update_subnet(subnet, cidr="10.65.1.0/24")
    assert admin.network.get_subnet(subnet.id).cidr == "10.65.0.0/24"


def test_subnet_delete_refused_while_a_port_holds_an_address(admin, vxlan_network):
    subnet = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="10.66.0.0/24")
    port = admin.network.create_port(network_id=vxlan_network.id)
    with pytest.raises(sdk_exc.ConflictException):
        admin.network.delete_subnet(subnet)
    admin.network.delete_port(port)
    admin.network.delete_subnet(subnet)
    assert admin.network.find_subnet(subnet.id) is None


# --- subnet pools -------------------------------------------------------------


def _check_carved(subnet, pool_prefix, length):
    net = ipaddress.ip_network(subnet.cidr)
    assert net.prefixlen == length
    assert net.subnet_of(ipaddress.ip_network(pool_prefix))
    assert subnet.gateway_ip == str(net.network_address + 1)
    assert pool_bounds(subnet) == [(str(net.network_address + 2), str(net.broadcast_address - 1))]
    return net


def test_subnet_pool_book_flow(admin, vxlan_network):
    # No default pool yet: use_default_subnetpool has nothing to carve from.
    with pytest.raises(sdk_exc.BadRequestException) as raised:
        admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4,
                                    use_default_subnet_pool=True)
    assert "No default subnetpool found for IPv4" in fault_of(raised.value)["message"]

    pool = admin.network.create_subnet_pool(name="MySubnetPool", prefixes=["172.31.0.0/16"])
    assert pool.prefixes == ["172.31.0.0/16"]
    assert pool.default_prefix_length == 8
    assert pool.minimum_prefix_length == 8
    assert pool.maximum_prefix_length == 32
    assert pool.ip_version == 4
    assert pool.is_default is False
    assert pool.is_shared is False
    assert pool.address_scope_id is None
    assert pool.default_quota is None
    assert pool.revision_number == 0

    first = admin.network.create_subnet(name="MySubnetFromPool", network_id=vxlan_network.id,
                                        ip_version=4, subnet_pool_id=pool.id, prefix_length=28)
    assert first.cidr == "172.31.0.0/28"
    assert first.subnet_pool_id == pool.id
    assert first.is_dhcp_enabled is True
    assert first.dns_nameservers == []
    assert first.revision_number == 0
    _check_carved(first, "172.31.0.0/16", 28)
    second = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4,
                                         subnet_pool_id=pool.id, prefix_length=28)
    assert second.cidr == "172.31.0.16/28"
    assert second.gateway_ip == "172.31.0.17"
    assert pool_bounds(second) == [("172.31.0.18", "172.31.0.30")]

    # A prefix length outside min/max is refused.
    for bad_length in (33, 4):
        with pytest.raises(sdk_exc.BadRequestException):
            admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4,
                                        subnet_pool_id=pool.id, prefix_length=bad_length)

    pool = admin.network.update_subnet_pool(pool, is_default=True, default_prefix_length=28)
    assert pool.is_default is True
    assert pool.default_prefix_length == 28
    from_default = admin.network.create_subnet(name="MySubnetFromDefaultPool",
                                               network_id=vxlan_network.id, ip_version=4,
                                               use_default_subnet_pool=True)
    assert from_default.subnet_pool_id == pool.id
    carved = _check_carved(from_default, "172.31.0.0/16", 28)
    taken = [ipaddress.ip_network(s.cidr) for s in (first, second)]
    assert not any(carved.overlaps(t) for t in taken)

    with pytest.raises(sdk_exc.ConflictException):
        admin.network.delete_subnet_pool(pool)
    for subnet in (first, second, from_default):
        admin.network.delete_subnet(subnet)
    admin.network.delete_subnet_pool(pool)
    assert admin.network.find_subnet_pool(pool.id) is None


def test_cidr_and_prefix_length_are_exclusive(admin, vxlan_network):
    pool = admin.network.create_subnet_pool(name=unique("pool"), prefixes=["172.30.0.0/16"],
                                            default_prefix_length=24)
    with pytest.raises(sdk_exc.BadRequestException):
        admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="172.30.5.0/24",
                                    prefix_length=24)
    carved = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4,
                                         subnet_pool_id=pool.id)
    _check_carved(carved, "172.30.0.0/16", 24)


def test_no_default_ipv6_pool(admin, vxlan_network):
    with pytest.raises(sdk_exc.BadRequestException) as raised:
        admin.network.create_subnet(network_id=vxlan_network.id, ip_version=6,
                                    use_default_subnet_pool=True)
    assert "No default subnetpool found for IPv6" in fault_of(raised.value)["message"]


# --- ports --------------------------------------------------------------------


def test_port_with_requested_fixed_ip(admin, vxlan_network):
    subnet = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="10.70.0.0/24")
    port = admin.network.create_port(name="TestPort", network_id=vxlan_network.id,
                                     fixed_ips=[{"subnet_id": subnet.id, "ip_address": "10.70.0.20"}])
    assert port.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.70.0.20"}]
    assert port.status == "DOWN"
    assert port.binding_vif_type == "unbound"
    assert port.binding_vnic_type == "normal"
    assert port.device_owner == ""
    assert port.device_id == ""
    assert port.is_admin_state_up is True
    assert port.mac_address.startswith("fa:16:3e:")
    shown = admin.network.get_port(port.id)
    assert shown.mac_address == port.mac_address
    assert shown.fixed_ips == port.fixed_ips

    with pytest.raises(sdk_exc.ConflictException) as raised:
        admin.network.create_port(network_id=vxlan_network.id,
                                  fixed_ips=[{"subnet_id": subnet.id, "ip_address": "10.70.0.20"}])
    assert fault_of(raised.value)["type"] == "IpAddressAlreadyAllocated"

    by_subnet = admin.network.create_port(network_id=vxlan_network.id,
                                          fixed_ips=[{"subnet_id": subnet.id}])
    address = ipaddress.ip_address(by_subnet.fixed_ips[0]["ip_address"])
    assert address in ipaddress.ip_network("10.70.0.0/24")
    assert str(address) not in ("10.70.0.0", "10.70.0.1", "10.70.0.20", "10.70.0.255")

    by_ip = admin.network.create_port(network_id=vxlan_network.id,
                                      fixed_ips=[{"ip_address": "10.70.0.30"}])
    assert by_ip.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.70.0.30"}]

    with pytest.raises(sdk_exc.BadRequestException):
        admin.network.create_port(network_id=vxlan_network.id,
                                  fixed_ips=[{"subnet_id": subnet.id, "ip_address": "10.71.0.5"}])


def test_port_on_network_without_subnet(admin, vxlan_network):
    port = admin.network.create_port(name="TestPort", network_id=vxlan_network.id)
    assert port.fixed_ips == []
    assert port.status == "DOWN"
    assert port.binding_vif_type == "unbound"
    assert port.binding_vnic_type == "normal"
    assert port.mac_address.startswith("fa:16:3e:")


def test_port_mac_address_can_be_chosen_and_is_unique(admin, vxlan_network):
    port = admin.network.create_port(network_id=vxlan_network.id, mac_address="fa:16:3e:00:11:22")
    assert port.mac_address == "fa:16:3e:00:11:22"
    with pytest.raises(sdk_exc.ConflictException):
        admin.network.create_port(network_id=vxlan_network.id, mac_address="fa:16:3e:00:11:22")


def test_small_subnet_runs_out_of_addresses(admin, vxlan_network):
    admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="10.72.0.0/29")
    addresses = set()
    for _ in range(5):
        port = admin.network.create_port(network_id=vxlan_network.id)
        addresses.add(port.fixed_ips[0]["ip_address"])
    assert addresses == {"10.72.0.%d" % i for i in range(2, 7)}
    with pytest.raises(sdk_exc.ConflictException) as raised:
        admin.network.create_port(network_id=vxlan_network.id)
    fault = fault_of(raised.value)
    assert fault["type"] == "IpAddressGenerationFailure"
    assert "No more IP addresses available on network %s" % vxlan_network.id in fault["message"]


# --- tags, pagination, sorting, fields, If-Match ------------------------------


def test_tags_set_add_remove_and_filters(admin):
    marker = unique("t")
    alpha = admin.network.create_network(name=unique("tag-alpha"))
    beta = admin.network.create_network(name=unique("tag-beta"))
    admin.network.set_tags(alpha, [marker, "red", "blue"])
    admin.network.set_tags(beta, [marker, "red"])
    alpha = admin.network.get_network(alpha.id)
    assert sorted(alpha.tags) == sorted([marker, "red", "blue"])
    revision = alpha.revision_number
    alpha.add_tag(admin.network, "green")
    assert admin.network.get_network(alpha.id).revision_number > revision
    alpha.remove_tag(admin.network, "blue")
    assert sorted(admin.network.get_network(alpha.id).tags) == sorted([marker, "red", "green"])
    with pytest.raises(sdk_exc.NotFoundException):
        alpha.remove_tag(admin.network, "blue")

    def names(**query):
        return sorted(n.id for n in admin.network.networks(**query))

    assert names(tags=marker) == sorted([alpha.id, beta.id])
    assert names(tags="%s,green" % marker) == [alpha.id]
    assert names(any_tags="green,nonexistent-%s" % marker) == [alpha.id]
    assert beta.id not in names(not_tags="red,%s" % marker)
    assert alpha.id not in names(not_tags="red,%s" % marker)
    assert alpha.id not in names(not_any_tags="green")
    assert beta.id in names(not_any_tags="green")

    admin.network.set_tags(alpha, [])
    assert admin.network.get_network(alpha.id).tags == []
    assert names(tags=marker) == [beta.id]


def test_tags_on_subnets_ports_and_pools(admin, vxlan_network):
    subnet = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="10.73.0.0/24")
    port = admin.network.create_port(network_id=vxlan_network.id)
    pool = admin.network.create_subnet_pool(name=unique("pool"), prefixes=["10.200.0.0/16"])
    marker = unique("t")
    admin.network.set_tags(subnet, [marker])
    admin.network.set_tags(port, [marker])
    admin.network.set_tags(pool, [marker])
    assert [s.id for s in admin.network.subnets(tags=marker)] == [subnet.id]
    assert [p.id for p in admin.network.ports(tags=marker)] == [port.id]
    assert [p.id for p in admin.network.subnet_pools(tags=marker)] == [pool.id]


@pytest.fixture(scope="module")
def ten_networks(admin):
    marker = unique("page")
    created = [admin.network.create_network(name="%s-%02d" % (marker, i)) for i in range(10)]
    for network in created:
        admin.network.set_tags(network, [marker])
    return marker, created


def test_pagination_follows_links_over_ten_networks(admin, ten_networks):
    marker, created = ten_networks
    listed = list(admin.network.networks(tags=marker, limit=3))
    assert sorted(n.id for n in listed) == sorted(n.id for n in created)
    assert len(listed) == 10


def test_pagination_with_limit_and_marker(admin, ten_networks):
    marker_tag, created = ten_networks
    seen = []
    marker = None
    pages = 0
    while True:
        url = "/networks?tags=%s&limit=4&sort_key=name&sort_dir=asc" % marker_tag
        if marker:
            url += "&marker=" + marker
        body = admin.network.get(url).json()
        page = body["networks"]
        pages += 1
        seen.extend(n["name"] for n in page)
        nexts = [link for link in body.get("networks_links", []) if link["rel"] == "next"]
        if len(page) < 4:
            assert not nexts
            break
        assert nexts, "a full page must carry a next link"
        marker = page[-1]["id"]
        assert pages < 10
    assert seen == sorted(n.name for n in created)
    assert pages == 3


def test_sorting(admin, ten_networks):
    marker, created = ten_networks
    descending = [n.name for n in admin.network.networks(tags=marker, sort_key="name", sort_dir="desc")]
    assert descending == sorted((n.name for n in created), reverse=True)
    ascending = [n.name for n in admin.network.networks(tags=marker, sort_key="name", sort_dir="asc")]
    assert ascending == sorted(n.name for n in created)


def test_fields_limit_the_attributes_returned(admin, ten_networks):
    marker, _ = ten_networks
    body = admin.network.get("/networks?tags=%s&fields=id&fields=name" % marker).json()
    assert len(body["networks"]) == 10
    for network in body["networks"]:
        assert set(network) == {"id", "name"}
    one = body["networks"][0]["id"]
    shown = admin.network.get("/networks/%s?fields=mtu" % one).json()["network"]
    assert set(shown) == {"mtu"}


def test_if_match_on_revision_number(admin, vxlan_network):
    revision = admin.network.get_network(vxlan_network.id).revision_number
    updated = admin.network.update_network(vxlan_network.id, description="first", if_revision=revision)
    assert updated.description == "first"
    assert updated.revision_number > revision
    with pytest.raises(sdk_exc.PreconditionFailedException):
        admin.network.update_network(vxlan_network.id, description="stale", if_revision=revision)
    assert admin.network.get_network(vxlan_network.id).description == "first"


# --- quotas -------------------------------------------------------------------


def test_network_quota_of_two(aio_server, admin):
    project = unique("quota-proj")
    defaults = admin.network.get_quota_default(project)
    assert defaults.networks > 2
    admin.network.update_quota(project, networks=2)
    assert admin.network.get_quota(project).networks == 2
    member = connect(aio_server.url, project=project, roles="member")
    member.network.create_network(name=unique("q1"))
    member.network.create_network(name=unique("q2"))
    with pytest.raises(sdk_exc.ConflictException) as raised:
        member.network.create_network(name=unique("q3"))
    assert fault_of(raised.value)["type"] == "OverQuota"
    details = admin.network.get_quota(project, details=True)
    assert details.networks["limit"] == 2
    assert details.networks["used"] == 2
    assert len(list(admin.network.networks(project_id=project))) == 2
    admin.network.delete_quota(project)
    assert admin.network.get_quota(project).networks == defaults.networks
    member.network.create_network(name=unique("q3"))


def test_member_pages_through_its_own_networks(aio_server):
    project = unique("pager")
    member = connect(aio_server.url, project=project, roles="member")
    created = {member.network.create_network(name=unique("mine")).id for _ in range(5)}
    assert {n.id for n in member.network.networks(limit=2, project_id=project)} == created
    query = "/networks?limit=2&sort_key=name&project_id=" + project
    first_page = member.network.get(query).json()
    marker = first_page["networks"][-1]["id"]
    second_page = member.network.get(query + "&marker=" + marker).json()
    assert len(second_page["networks"]) == 2
    assert not {n["id"] for n in first_page["networks"]} & {n["id"] for n in second_page["networks"]}


def test_ip_availability_counts_ports(admin, vxlan_network):
    subnet = admin.network.create_subnet(network_id=vxlan_network.id, ip_version=4, cidr="10.74.0.0/24")
    before = admin.network.get_network_ip_availability(vxlan_network.id)
    assert before.total_ips == 253
    assert before.used_ips == 0
    admin.network.create_port(network_id=vxlan_network.id)
    after = admin.network.get_network_ip_availability(vxlan_network.id)
    assert after.used_ips == 1
    [per_subnet] = after.subnet_ip_availability
    assert per_subnet["subnet_id"] == subnet.id
    assert per_subnet["total_ips"] == 253
    assert per_subnet["used_ips"] == 1
