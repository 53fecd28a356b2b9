"""Core API behaviours clients rely on, where netweave has to answer as Neutron's v2.0 API does.

Plain HTTP (requests) against an all-in-one server on SQLite (noauth: no X-Roles
header means the admin of project "admin"); the subnet pool integer checks also
run against netweave-server on PostgreSQL.
"""
import pytest
import requests

from harness.sdk import unique


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
