"""Core API behaviours clients rely on, where netweave has to answer as Neutron's v2.0 API does.

Plain HTTP (requests) against an all-in-one server on SQLite (noauth: no X-Roles
header means the admin of project "admin"); the subnet pool integer checks also
run against netweave-server on PostgreSQL.
"""
import urllib.parse

import netaddr
import pytest
import requests

from harness.sdk import unique
from harness.server import start_server


class Api:
    """JSON calls to /v2.0 with noauth identity headers."""

    def __init__(self, url, project=None, roles=None):
        self.base = url + "/v2.0"
        self.headers = {"Content-Type": "application/json"}
        if project is not None:
            self.headers["X-Project-Id"] = project
        if roles is not None:
            self.headers["X-Roles"] = roles

    def call(self, method, path, body=None, expect=None):
        response = requests.request(method, self.base + path, json=body, headers=self.headers, timeout=30)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response

    def create(self, collection, member, **body):
        return self.call("POST", "/" + collection, {member: body}, 201).json()[member]

    def show(self, collection, member, item_id, query=""):
        return self.call("GET", "/%s/%s%s" % (collection, item_id, query), expect=200).json()[member]

    def update(self, collection, member, item_id, **body):
        return self.call("PUT", "/%s/%s" % (collection, item_id), {member: body}, 200).json()[member]

    def delete(self, collection, item_id):
        return self.call("DELETE", "/%s/%s" % (collection, item_id), expect=204)


def error_of(response):
    return response.json()["NeutronError"]


@pytest.fixture(scope="module")
def api(aio_server):
    return Api(aio_server.url)


@pytest.fixture
def network(api):
    net = api.create("networks", "network", name=unique("net"))
    yield net
    for port in api.call("GET", "/ports?network_id=%s" % net["id"], expect=200).json()["ports"]:
        api.call("DELETE", "/ports/%s" % port["id"])
    api.call("DELETE", "/networks/%s" % net["id"])


# --- 1. automatic-address IPv6 subnets go even when ports hold addresses on them ---------------


@pytest.mark.parametrize("mode", ["slaac", "dhcpv6-stateless"])
def test_deleting_auto_address_subnet_releases_port_addresses(api, network, mode):
    v6 = api.create("subnets", "subnet", network_id=network["id"], ip_version=6, cidr="2001:db8:1::/64",
                    ipv6_ra_mode=mode, ipv6_address_mode=mode)
    v4 = api.create("subnets", "subnet", network_id=network["id"], ip_version=4, cidr="10.61.0.0/24")
    port = api.create("ports", "port", network_id=network["id"], device_owner="compute:nova")
    assert {ip["subnet_id"] for ip in port["fixed_ips"]} == {v4["id"], v6["id"]}

    api.delete("subnets", v6["id"])

    api.call("GET", "/subnets/%s" % v6["id"], expect=404)
    after = api.show("ports", "port", port["id"])
    assert [ip["subnet_id"] for ip in after["fixed_ips"]] == [v4["id"]]
    assert after["revision_number"] > port["revision_number"]
    assert api.show("networks", "network", network["id"])["subnets"] == [v4["id"]]


def test_auto_address_subnet_with_a_router_interface_stays_in_use(api, network):
    v6 = api.create("subnets", "subnet", network_id=network["id"], ip_version=6, cidr="2001:db8:2::/64",
                    ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    api.create("ports", "port", network_id=network["id"], device_owner="network:router_interface",
               fixed_ips=[{"subnet_id": v6["id"], "ip_address": "2001:db8:2::1"}])
    response = api.call("DELETE", "/subnets/%s" % v6["id"], expect=409)
    assert error_of(response)["type"] == "SubnetInUse"


def test_stateful_subnet_with_ports_stays_in_use(api, network):
    v6 = api.create("subnets", "subnet", network_id=network["id"], ip_version=6, cidr="2001:db8:3::/64",
                    ipv6_ra_mode="dhcpv6-stateful", ipv6_address_mode="dhcpv6-stateful")
    api.create("ports", "port", network_id=network["id"], device_owner="compute:nova")
    response = api.call("DELETE", "/subnets/%s" % v6["id"], expect=409)
    assert error_of(response)["type"] == "SubnetInUse"


# --- 2. service-type: GET /v2.0/service-providers ------------------------------------------------


def test_service_providers_listed_and_empty_without_providers(api, aio_server):
    member = Api(aio_server.url, project=unique("p"), roles="member")
    aliases = {e["alias"] for e in api.call("GET", "/extensions", expect=200).json()["extensions"]}
    assert "service-type" in aliases
    # The in-tree plugins (port security, router) declare no providers.
    for caller in (api, member):
        assert caller.call("GET", "/service-providers", expect=200).json() == {"service_providers": []}
    assert api.call("GET", "/service-providers?service_type=L3_ROUTER_NAT&fields=name",
                    expect=200).json() == {"service_providers": []}
    assert api.call("POST", "/service-providers", {"service_provider": {"name": "x"}}).status_code == 405


# --- 3. subnet pool prefix lengths are integers in every answer ----------------------------------

PREFIXLEN_KEYS = ("default_prefixlen", "min_prefixlen", "max_prefixlen")


@pytest.fixture(scope="module")
def pg_server(postgres_server, tmp_path_factory):
    """netweave-server on a fresh PostgreSQL database, shared by the module."""
    name = postgres_server.create_database()
    server = start_server(str(tmp_path_factory.mktemp("pg")), database_url=postgres_server.url_for(name))
    yield server
    server.stop()
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_api(request, aio_server):
    if request.param == "sqlite":
        return Api(aio_server.url)
    return Api(request.getfixturevalue("pg_server").url)


def assert_int_prefixlens(pool):
    for key in PREFIXLEN_KEYS:
        if key in pool:
            assert type(pool[key]) is int, (key, pool)


def test_subnetpool_prefixlens_are_integers(any_db_api):
    api = any_db_api
    created = api.create("subnetpools", "subnetpool", name=unique("pool"), prefixes=["10.80.0.0/16"],
                         default_prefixlen="26", min_prefixlen="24", max_prefixlen="28")
    answers = [created]
    answers.append(api.show("subnetpools", "subnetpool", created["id"]))
    answers.append(api.show("subnetpools", "subnetpool", created["id"], "?fields=default_prefixlen"))
    answers.append(api.update("subnetpools", "subnetpool", created["id"], min_prefixlen="25",
                              default_prefixlen="27", max_prefixlen="29"))
    answers.append(api.update("subnetpools", "subnetpool", created["id"], name="renamed"))
    for query in ("", "?fields=min_prefixlen&fields=max_prefixlen", "?sort_key=default_prefixlen",
                  "?min_prefixlen=25", "?default_prefixlen=27&fields=id&fields=default_prefixlen"):
        listed = api.call("GET", "/subnetpools" + query, expect=200).json()["subnetpools"]
        assert listed, query
        answers.extend(listed)
    network = api.create("networks", "network", name=unique("net"))
    subnet = api.create("subnets", "subnet", network_id=network["id"], ip_version=4,
                        subnetpool_id=created["id"], prefixlen="28")
    assert subnet["cidr"].endswith("/28")
    answers.append(api.show("subnetpools", "subnetpool", created["id"]))
    for pool in answers:
        assert_int_prefixlens(pool)
    assert answers[3]["min_prefixlen"] == 25 and answers[3]["default_prefixlen"] == 27
    api.delete("subnets", subnet["id"])
    api.delete("networks", network["id"])
    api.delete("subnetpools", created["id"])


@pytest.mark.parametrize("key", PREFIXLEN_KEYS + ("default_quota",))
def test_subnetpool_integer_filter_with_a_word_is_a_400(any_db_api, key):
    response = any_db_api.call("GET", "/subnetpools?%s=abc" % key, expect=400)
    assert error_of(response)["type"] == "HTTPBadRequest"
    assert "'abc' is not an integer" in error_of(response)["message"]


# --- 4. MTU floors: 68 for IPv4 subnets, 1280 for IPv6 ones ---------------------------------------


def test_ipv6_subnet_refused_on_a_network_below_1280(api):
    net = api.create("networks", "network", name=unique("small"), mtu=1279)
    try:
        response = api.call("POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 6,
                                                            "cidr": "2001:db8:40::/64"}}, expect=400)
        assert error_of(response)["type"] == "InvalidInput"
        assert "1280" in error_of(response)["message"]
        # IPv4 is fine down to 68.
        api.create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr="10.62.0.0/24")
        assert api.update("networks", "network", net["id"], mtu=68)["mtu"] == 68
        response = api.call("PUT", "/networks/%s" % net["id"], {"network": {"mtu": 67}}, expect=400)
        assert api.show("networks", "network", net["id"])["mtu"] == 68
    finally:
        for subnet_id in api.show("networks", "network", net["id"])["subnets"]:
            api.delete("subnets", subnet_id)
        api.delete("networks", net["id"])


def test_mtu_update_below_1280_refused_while_an_ipv6_subnet_is_there(api, network):
    v6 = api.create("subnets", "subnet", network_id=network["id"], ip_version=6, cidr="2001:db8:41::/64")
    response = api.call("PUT", "/networks/%s" % network["id"], {"network": {"mtu": 1279}}, expect=400)
    assert error_of(response)["type"] == "InvalidInput"
    assert "1280" in error_of(response)["message"]
    assert api.show("networks", "network", network["id"])["mtu"] == 1450
    assert api.update("networks", "network", network["id"], mtu=1280)["mtu"] == 1280
    api.delete("subnets", v6["id"])
    assert api.update("networks", "network", network["id"], mtu=1000)["mtu"] == 1000


# --- 5. subnet service types steer automatic addresses by device owner ----------------------------


def subnet_ids_of(port):
    return [ip["subnet_id"] for ip in port["fixed_ips"]]


def test_service_types_steer_addresses_by_device_owner(api, network):
    plain = api.create("subnets", "subnet", network_id=network["id"], ip_version=4, cidr="10.63.0.0/24")
    fips = api.create("subnets", "subnet", network_id=network["id"], ip_version=4, cidr="10.63.1.0/24",
                      service_types=["network:floatingip", "network:router_gateway"])
    compute = api.create("subnets", "subnet", network_id=network["id"], ip_version=4, cidr="10.63.2.0/24",
                         service_types=["compute:nova"])
    # A matching device owner gets its address on the subnet serving it.
    assert subnet_ids_of(api.create("ports", "port", network_id=network["id"],
                                    device_owner="network:floatingip")) == [fips["id"]]
    assert subnet_ids_of(api.create("ports", "port", network_id=network["id"],
                                    device_owner="compute:nova")) == [compute["id"]]
    # No matching type: only subnets without service types.
    for owner in ("", "compute:az1"):
        for _ in range(3):
            assert subnet_ids_of(api.create("ports", "port", network_id=network["id"],
                                            device_owner=owner)) == [plain["id"]]
    # Asking for a subnet that does not serve the owner is refused, as in Neutron.
    response = api.call("POST", "/ports", {"port": {"network_id": network["id"], "device_owner": "compute:az1",
                                                    "fixed_ips": [{"subnet_id": fips["id"]}]}}, expect=400)
    assert fips["id"] in error_of(response)["message"]
    # DHCP ports may use any subnet with DHCP enabled.
    dhcp = api.create("ports", "port", network_id=network["id"], device_owner="network:dhcp",
                      fixed_ips=[{"subnet_id": fips["id"]}])
    assert subnet_ids_of(dhcp) == [fips["id"]]


def test_no_subnet_serving_the_owner_is_a_409(api, network):
    api.create("subnets", "subnet", network_id=network["id"], ip_version=4, cidr="10.64.0.0/24",
               service_types=["network:floatingip"])
    response = api.call("POST", "/ports", {"port": {"network_id": network["id"],
                                                    "device_owner": "compute:nova"}}, expect=409)
    assert error_of(response)["type"] == "IpAddressGenerationFailureNoMatchingSubnet"
    assert "No valid service subnet for the given device owner" in error_of(response)["message"]
    # No addresses wanted: no subnet needed.
    assert api.create("ports", "port", network_id=network["id"], device_owner="compute:nova",
                      fixed_ips=[])["fixed_ips"] == []
    # An update moving to a subnet that does not serve the port is refused too.
    port = api.create("ports", "port", network_id=network["id"], device_owner="network:floatingip")
    api.update("ports", "port", port["id"], device_owner="compute:nova", fixed_ips=[])
    response = api.call("PUT", "/ports/%s" % port["id"],
                        {"port": {"fixed_ips": [{"subnet_id": port["fixed_ips"][0]["subnet_id"]}]}})
    assert response.status_code == 409, response.text


# --- 6. ports and tags ----------------------------------------------------------------------------


def test_tags_in_create_bodies(api):
    aliases = {e["alias"] for e in api.call("GET", "/extensions", expect=200).json()["extensions"]}
    assert {"tag-creation", "tag-ports-during-bulk-creation"} <= aliases
    net = api.create("networks", "network", name=unique("tagged"), tags=["blue", "red", "blue"])
    try:
        assert net["tags"] == ["blue", "red"]
        assert api.call("GET", "/networks/%s/tags" % net["id"], expect=200).json() == {"tags": ["blue", "red"]}
        subnet = api.create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr="10.65.0.0/24",
                            tags=["s1"])
        assert api.show("subnets", "subnet", subnet["id"])["tags"] == ["s1"]
        pool = api.create("subnetpools", "subnetpool", name=unique("pool"), prefixes=["10.66.0.0/16"],
                          tags=["p"])
        assert api.show("subnetpools", "subnetpool", pool["id"])["tags"] == ["p"]
        api.delete("subnetpools", pool["id"])
        bulk = api.call("POST", "/ports", {"ports": [{"network_id": net["id"], "tags": ["a", "b"]},
                                                     {"network_id": net["id"]}]}, expect=201).json()["ports"]
        assert [p["tags"] for p in bulk] == [["a", "b"], []]
        assert api.show("ports", "port", bulk[0]["id"])["tags"] == ["a", "b"]
        listed = api.call("GET", "/ports?tags=a", expect=200).json()["ports"]
        assert [p["id"] for p in listed] == [bulk[0]["id"]]
        # A bad tag fails the whole bulk: nothing half-written.
        before = len(api.call("GET", "/ports?network_id=%s" % net["id"], expect=200).json()["ports"])
        response = api.call("POST", "/ports", {"ports": [{"network_id": net["id"], "tags": ["ok"]},
                                                         {"network_id": net["id"], "tags": ["no/slash"]}]},
                            expect=400)
        assert "is not a valid tag" in error_of(response)["message"]
        assert len(api.call("GET", "/ports?network_id=%s" % net["id"], expect=200).json()["ports"]) == before
        api.call("POST", "/networks", {"network": {"tags": "notalist"}}, expect=400)
    finally:
        for port in api.call("GET", "/ports?network_id=%s" % net["id"], expect=200).json()["ports"]:
            api.delete("ports", port["id"])
        api.delete("networks", net["id"])


def test_mac_address_null_is_refused_as_neutron_does(api, network):
    port = api.create("ports", "port", network_id=network["id"])
    response = api.call("PUT", "/ports/%s" % port["id"], {"port": {"mac_address": None}}, expect=400)
    assert error_of(response)["message"] == ("Invalid input for mac_address. Reason: 'None' is not a valid "
                                             "MAC address.")
    assert api.show("ports", "port", port["id"])["mac_address"] == port["mac_address"]


def test_admin_tags_another_projects_subnet(api, aio_server):
    project = unique("proj")
    member = Api(aio_server.url, project=project, roles="member")
    net = member.create("networks", "network", name=unique("theirs"))
    subnet = member.create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr="10.67.0.0/24")
    api.call("PUT", "/subnets/%s/tags/by-admin" % subnet["id"], expect=201)
    assert api.call("PUT", "/subnets/%s/tags" % subnet["id"], {"tags": ["x", "y"]}, expect=200).json() == {
        "tags": ["x", "y"]}
    assert member.show("subnets", "subnet", subnet["id"])["tags"] == ["x", "y"]
    member.delete("subnets", subnet["id"])
    member.delete("networks", net["id"])


def test_trusted_vif_is_admin_only_and_kept_in_the_binding_profile(api, aio_server):
    aliases = {e["alias"] for e in api.call("GET", "/extensions", expect=200).json()["extensions"]}
    assert "port-trusted-vif" in aliases
    project = unique("proj")
    member = Api(aio_server.url, project=project, roles="member")
    net = member.create("networks", "network", name=unique("own"))
    try:
        plain = member.create("ports", "port", network_id=net["id"])
        assert plain["trusted"] is None
        member.call("POST", "/ports", {"port": {"network_id": net["id"], "trusted": True}}, expect=403)
        member.call("PUT", "/ports/%s" % plain["id"], {"port": {"trusted": True}}, expect=403)

        port = api.create("ports", "port", network_id=net["id"], project_id=project, trusted=True,
                          **{"binding:profile": {"pci_slot": "0000:05:00.1"}})
        assert port["trusted"] is True
        assert port["binding:profile"] == {"pci_slot": "0000:05:00.1", "trusted": True}
        updated = api.update("ports", "port", port["id"], trusted=False)
        assert updated["trusted"] is False and updated["binding:profile"]["trusted"] is False
        assert updated["binding:profile"]["pci_slot"] == "0000:05:00.1"
        cleared = api.update("ports", "port", port["id"], trusted=None)
        assert cleared["trusted"] is None and cleared["binding:profile"] == {"pci_slot": "0000:05:00.1"}
        # Both in one request: the trusted attribute wins over the profile's key.
        both = api.update("ports", "port", port["id"], trusted=True, **{"binding:profile": {"trusted": False}})
        assert both["binding:profile"] == {"trusted": True} and both["trusted"] is True
        assert member.show("ports", "port", port["id"])["trusted"] is True
        api.call("PUT", "/ports/%s" % port["id"], {"port": {"trusted": "maybe"}}, expect=400)
    finally:
        for port in api.call("GET", "/ports?network_id=%s" % net["id"], expect=200).json()["ports"]:
            api.delete("ports", port["id"])
        api.delete("networks", net["id"])


# --- 7. address scopes ------------------------------------------------------------------------------


def test_address_scopes_and_their_subnet_pools(any_db_api, aio_server):
    api = any_db_api
    aliases = {e["alias"] for e in api.call("GET", "/extensions", expect=200).json()["extensions"]}
    assert "address-scope" in aliases
    scope = api.create("address-scopes", "address_scope",
                       name=unique("scope"), ip_version=4)
    assert scope["shared"] is False and scope["ip_version"] == 4 and scope["project_id"] == "admin"
    assert api.show("address-scopes", "address_scope", scope["id"]) == scope
    listed = api.call("GET", "/address-scopes?ip_version=4&fields=id", expect=200).json()["address_scopes"]
    assert {"id": scope["id"]} in listed
    api.call("POST", "/address-scopes", {"address_scope": {"name": "x", "ip_version": 5}}, expect=400)
    api.call("POST", "/address-scopes", {"address_scope": {"ip_version": 4}}, expect=400)

    first = api.create("subnetpools", "subnetpool", name=unique("p1"), prefixes=["10.90.0.0/16"],
                       address_scope_id=scope["id"])
    assert first["address_scope_id"] == scope["id"]
    # Overlapping pools may not share a scope.
    response = api.call("POST", "/subnetpools", {"subnetpool": {"name": "p2", "prefixes": ["10.90.128.0/17"],
                                                                "address_scope_id": scope["id"]}}, expect=409)
    assert error_of(response)["type"] == "AddressScopePrefixConflict"
    second = api.create("subnetpools", "subnetpool", name=unique("p2"), prefixes=["10.90.128.0/17"])
    response = api.call("PUT", "/subnetpools/%s" % second["id"],
                        {"subnetpool": {"address_scope_id": scope["id"]}}, expect=409)
    assert error_of(response)["type"] == "AddressScopePrefixConflict"
    # The IP version must match.
    v6 = api.create("subnetpools", "subnetpool", name=unique("p6"), prefixes=["2001:db8:90::/48"])
    response = api.call("PUT", "/subnetpools/%s" % v6["id"], {"subnetpool": {"address_scope_id": scope["id"]}},
                        expect=400)
    assert error_of(response)["type"] == "IllegalSubnetPoolIpVersionAssociationToAddressScope"
    # Growing a pool into another one of its scope is refused too.
    third = api.create("subnetpools", "subnetpool", name=unique("p3"), prefixes=["10.91.0.0/16"],
                       address_scope_id=scope["id"])
    response = api.call("PUT", "/subnetpools/%s" % third["id"],
                        {"subnetpool": {"prefixes": ["10.91.0.0/16", "10.90.5.0/24"]}}, expect=409)
    # Another project cannot put its pool into a scope it does not own.
    other = Api(api.base[:-len("/v2.0")], project=unique("proj"), roles="member")
    response = other.call("POST", "/subnetpools", {"subnetpool": {"name": "o", "prefixes": ["10.92.0.0/16"],
                                                                  "address_scope_id": scope["id"]}}, expect=400)
    assert error_of(response)["type"] == "IllegalSubnetPoolAssociationToAddressScope"
    other.call("GET", "/address-scopes/%s" % scope["id"], expect=404)
    other.call("POST", "/address-scopes", {"address_scope": {"name": "s", "ip_version": 4, "shared": True}},
               expect=403)
    # A scope in use stays; a shared scope cannot be unshared.
    response = api.call("DELETE", "/address-scopes/%s" % scope["id"], expect=409)
    assert error_of(response)["type"] == "AddressScopeInUse"
    assert api.update("address-scopes", "address_scope", scope["id"], shared=True)["shared"] is True
    assert other.show("address-scopes", "address_scope", scope["id"])["shared"] is True
    response = api.call("PUT", "/address-scopes/%s" % scope["id"], {"address_scope": {"shared": False}},
                        expect=400)
    assert error_of(response)["type"] == "AddressScopeUpdateError"
    for pool in (first, second, v6, third):
        api.delete("subnetpools", pool["id"])
    api.delete("address-scopes", scope["id"])
    api.call("GET", "/address-scopes/%s" % scope["id"], expect=404)


def test_subnet_pools_and_address_scopes_shared_through_rbac_policies(api, aio_server):
    project, stranger = unique("proj"), unique("other")
    member = Api(aio_server.url, project=project, roles="member")
    outsider = Api(aio_server.url, project=stranger, roles="member")
    scope = api.create("address-scopes", "address_scope", name=unique("scope"), ip_version=4)
    pool = api.create("subnetpools", "subnetpool", name=unique("pool"), prefixes=["10.95.0.0/16"],
                      default_prefixlen=24, address_scope_id=scope["id"])
    member.call("GET", "/subnetpools/%s" % pool["id"], expect=404)
    policies = []
    for object_type, object_id in (("subnetpool", pool["id"]), ("address_scope", scope["id"])):
        policies.append(api.create("rbac-policies", "rbac_policy", object_type=object_type, object_id=object_id,
                                   action="access_as_shared", target_tenant=project))
    response = api.call("POST", "/rbac-policies", {"rbac_policy": {
        "object_type": "subnetpool", "object_id": pool["id"], "action": "access_as_external",
        "target_tenant": project}}, expect=400)
    assert member.show("subnetpools", "subnetpool", pool["id"])["id"] == pool["id"]
    assert member.show("address-scopes", "address_scope", scope["id"])["id"] == scope["id"]
    outsider.call("GET", "/subnetpools/%s" % pool["id"], expect=404)
    outsider.call("GET", "/address-scopes/%s" % scope["id"], expect=404)
    listed = api.call("GET", "/rbac-policies?object_type=subnetpool&object_id=%s" % pool["id"],
                      expect=200).json()["rbac_policies"]
    assert [p["id"] for p in listed] == [policies[0]["id"]]

    net = member.create("networks", "network", name=unique("net"))
    subnet = member.create("subnets", "subnet", network_id=net["id"], ip_version=4, subnetpool_id=pool["id"])
    own_pool = member.create("subnetpools", "subnetpool", name=unique("mine"), prefixes=["10.96.0.0/16"],
                             address_scope_id=scope["id"])
    for policy in policies:
        response = api.call("DELETE", "/rbac-policies/%s" % policy["id"], expect=409)
        assert error_of(response)["type"] == "RbacPolicyInUse"
    member.delete("subnets", subnet["id"])
    member.delete("networks", net["id"])
    member.delete("subnetpools", own_pool["id"])
    for policy in policies:
        api.delete("rbac-policies", policy["id"])
    member.call("GET", "/subnetpools/%s" % pool["id"], expect=404)
    api.delete("subnetpools", pool["id"])
    api.delete("address-scopes", scope["id"])


def test_networks_show_the_address_scopes_of_their_subnets(any_db_api):
    api = any_db_api
    scope = api.create("address-scopes", "address_scope", name=unique("scope"), ip_version=4)
    pool = api.create("subnetpools", "subnetpool", name=unique("pool"), prefixes=["10.97.0.0/16"],
                      default_prefixlen=24, address_scope_id=scope["id"])
    net = api.create("networks", "network", name=unique("net"))
    assert net["ipv4_address_scope"] is None and net["ipv6_address_scope"] is None
    subnet = api.create("subnets", "subnet", network_id=net["id"], ip_version=4, subnetpool_id=pool["id"])
    shown = api.show("networks", "network", net["id"])
    assert shown["ipv4_address_scope"] == scope["id"] and shown["ipv6_address_scope"] is None
    listed = api.call("GET", "/networks?id=%s&fields=ipv4_address_scope" % net["id"], expect=200).json()
    assert listed == {"networks": [{"ipv4_address_scope": scope["id"]}]}
    assert api.update("networks", "network", net["id"], name="renamed")["ipv4_address_scope"] == scope["id"]
    api.call("PUT", "/networks/%s" % net["id"], {"network": {"ipv4_address_scope": None}}, expect=400)
    api.delete("subnets", subnet["id"])
    assert api.show("networks", "network", net["id"])["ipv4_address_scope"] is None
    api.delete("networks", net["id"])
    api.delete("subnetpools", pool["id"])
    api.delete("address-scopes", scope["id"])


# --- network-ip-availabilities counts past 64 bits ----------------------------------------


def test_ip_availability_of_a_large_ipv6_subnet_is_an_exact_number(api, network):
    """A /48 holds 2**80 addresses: more than a 64-bit integer, still a JSON number."""
    subnet = api.create("subnets", "subnet", network_id=network["id"], ip_version=6, cidr="fd12:3456:789a::/48")
    try:
        shown = api.show("network-ip-availabilities", "network_ip_availability", network["id"])
        listed = api.call("GET", "/network-ip-availabilities?network_id=%s" % network["id"], expect=200).json()
        pools = subnet["allocation_pools"]
        expected = sum(int(netaddr.IPAddress(p["end"])) - int(netaddr.IPAddress(p["start"])) + 1 for p in pools)
        assert expected > 2 ** 64
        assert shown["total_ips"] == expected
        assert listed["network_ip_availabilities"][0]["total_ips"] == expected
    finally:
        api.delete("subnets", subnet["id"])


# --- attributes only some callers see ----------------------------------------------------


def test_segment_id_is_shown_to_admins_only(api, aio_server):
    """get_subnet:segment_id is an admin rule, as in Neutron: a project member's own subnet
    comes without it; availability_zone_hints shows to everyone."""
    member = Api(aio_server.url, project=unique("segment-project"), roles="member")
    net = member.create("networks", "network", name=unique("net"))
    assert net["availability_zone_hints"] == []
    subnet = member.create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr="10.77.0.0/24")
    try:
        assert "segment_id" not in subnet
        assert "segment_id" not in member.show("subnets", "subnet", subnet["id"])
        assert api.show("subnets", "subnet", subnet["id"])["segment_id"] is None
        listed = api.call("GET", "/subnets?segment_id=&id=%s" % subnet["id"], expect=200).json()["subnets"]
        assert [s["id"] for s in listed] == [subnet["id"]]
    finally:
        member.delete("subnets", subnet["id"])
        member.delete("networks", net["id"])


def test_ports_filtered_by_an_ip_address_substring(any_db_api):
    api = any_db_api
    aliases = {e["alias"] for e in api.call("GET", "/extensions", expect=200).json()["extensions"]}
    assert "ip-substring-filtering" in aliases
    net = api.create("networks", "network", name=unique("substr"))
    try:
        subnet = api.create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr="10.68.0.0/24")
        ports = {ip: api.create("ports", "port", network_id=net["id"],
                                fixed_ips=[{"subnet_id": subnet["id"], "ip_address": ip}])["id"]
                 for ip in ("10.68.0.15", "10.68.0.25", "10.68.0.150")}

        def listed(*substrings):
            query = "&".join("fixed_ips=" + urllib.parse.quote("ip_address_substr=" + s, safe="")
                             for s in substrings)
            found = api.call("GET", "/ports?network_id=%s&%s" % (net["id"], query), expect=200).json()["ports"]
            return {p["fixed_ips"][0]["ip_address"] for p in found}

        assert listed("10.68.0.1") == {"10.68.0.15", "10.68.0.150"}
        assert listed("0.2") == {"10.68.0.25"}
        assert listed("10.68", "15") == {"10.68.0.15", "10.68.0.150"}
        # SQL wildcards are plain characters here.
        assert listed("10.68.0._5") == set() and listed("%") == set()
        for port_id in ports.values():
            api.delete("ports", port_id)
    finally:
        api.call("DELETE", "/networks/%s" % net["id"])
