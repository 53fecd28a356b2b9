"""Malformed requests to the router plugin's resources and actions, with plain HTTP against a live
server (SQLite and PostgreSQL): each gets a 4xx in Neutron's error shape, never a 5xx, and
leaves nothing behind."""
import uuid

import pytest
import requests

from harness import ml2_plugin
from harness import router_server as serving

MISSING = str(uuid.uuid4())


@pytest.fixture(scope="module", params=ml2_plugin.BACKENDS)
def router_server(request, tmp_path_factory):
    yield from serving.serve(request, tmp_path_factory)


class Api:
    def __init__(self, url):
        self.base = url + "/v2.0"

    def call(self, method, path, body=None):
        return requests.request(method, self.base + path, json=body, timeout=60)

    def make(self, path, body, key):
        response = self.call("POST", path, body)
        assert response.status_code == 201, response.text
        return response.json()[key]


@pytest.fixture(scope="module")
def ids(router_server):
    api = Api(router_server.url)
    ext = api.make("/networks", {"network": {"name": "ext", "router:external": True}}, "network")
    ext_subnet = api.make("/subnets", {"subnet": {"network_id": ext["id"], "cidr": "10.30.0.0/24",
                                                  "ip_version": 4}}, "subnet")
    net = api.make("/networks", {"network": {"name": "net"}}, "network")
    subnet = api.make("/subnets", {"subnet": {"network_id": net["id"], "cidr": "192.168.200.0/24",
                                              "ip_version": 4}}, "subnet")
    port = api.make("/ports", {"port": {"network_id": net["id"]}}, "port")
    router = api.make("/routers", {"router": {"name": "r"}}, "router")
    fip = api.make("/floatingips", {"floatingip": {"floating_network_id": ext["id"]}}, "floatingip")
    return {"ext": ext["id"], "ext_subnet": ext_subnet["id"], "net": net["id"], "subnet": subnet["id"],
            "port": port["id"], "router": router["id"], "fip": fip["id"], "missing": MISSING}


def routes(count):
    return [{"destination": "10.%d.0.0/24" % i, "nexthop": "192.168.200.%d" % (i + 10)} for i in range(count)]


CASES = [
    # routers
    ("router-gateway-not-a-dict", "POST", "/routers", {"router": {"external_gateway_info": "x"}}, 400),
    ("router-gateway-bad-network-id", "POST", "/routers", {"router": {"external_gateway_info": {"network_id": "x"}}},
     400),
    ("router-gateway-unknown-key", "POST", "/routers",
     {"router": {"external_gateway_info": {"network_id": "{ext}", "color": "red"}}}, 400),
    ("router-gateway-missing-network", "POST", "/routers",
     {"router": {"external_gateway_info": {"network_id": "{missing}"}}}, 404),
    ("router-gateway-internal-network", "POST", "/routers",
     {"router": {"external_gateway_info": {"network_id": "{net}"}}}, 400),
    ("router-gateway-fixed-ips-not-list", "POST", "/routers",
     {"router": {"external_gateway_info": {"network_id": "{ext}", "external_fixed_ips": "x"}}}, 400),
    ("router-gateway-subnet-of-other-network", "POST", "/routers",
     {"router": {"external_gateway_info": {"network_id": "{ext}", "external_fixed_ips": [{"subnet_id": "{subnet}"}]}}},
     400),
    ("router-gateway-ip-outside", "POST", "/routers",
     {"router": {"external_gateway_info": {"network_id": "{ext}",
                                           "external_fixed_ips": [{"ip_address": "10.99.0.5"}]}}}, 400),
    ("router-gateway-bad-snat", "POST", "/routers",
     {"router": {"external_gateway_info": {"network_id": "{ext}", "enable_snat": "sometimes"}}}, 400),
    ("router-admin-state-not-bool", "POST", "/routers", {"router": {"admin_state_up": "maybe"}}, 400),
    ("router-routes-on-create", "POST", "/routers", {"router": {"routes": []}}, 400),
    ("router-status-read-only", "POST", "/routers", {"router": {"status": "DOWN"}}, 400),
    ("router-name-not-string", "POST", "/routers", {"router": {"name": 5}}, 400),
    ("router-distributed-not-bool", "POST", "/routers", {"router": {"distributed": "yes please"}}, 400),
    ("router-no-member", "POST", "/routers", {"network": {}}, 400),
    ("router-routes-not-list", "PUT", "/routers/{router}", {"router": {"routes": "x"}}, 400),
    ("router-route-bad-cidr", "PUT", "/routers/{router}",
     {"router": {"routes": [{"destination": "bad", "nexthop": "1.2.3.4"}]}}, 400),
    ("router-route-missing-nexthop", "PUT", "/routers/{router}",
     {"router": {"routes": [{"destination": "10.0.0.0/8"}]}}, 400),
    ("router-too-many-routes", "PUT", "/routers/{router}", {"router": {"routes": routes(31)}}, 400),
    ("router-route-unreachable", "PUT", "/routers/{router}", {"router": {"routes": routes(1)}}, 400),
    ("router-update-missing", "PUT", "/routers/{missing}", {"router": {"name": "x"}}, 404),
    ("router-filter-not-bool", "GET", "/routers?admin_state_up=maybe", None, 400),
    ("router-show-missing", "GET", "/routers/{missing}", None, 404),
    ("router-tags-not-list", "PUT", "/routers/{router}/tags", {"tags": "x"}, 400),
    # member actions
    ("interface-body-list", "PUT", "/routers/{router}/add_router_interface", [], 400),
    ("interface-subnet-not-uuid", "PUT", "/routers/{router}/add_router_interface", {"subnet_id": 5}, 400),
    ("interface-missing-subnet", "PUT", "/routers/{router}/add_router_interface", {"subnet_id": "{missing}"}, 404),
    ("interface-missing-port", "PUT", "/routers/{router}/add_router_interface", {"port_id": "{missing}"}, 404),
    ("interface-missing-router", "PUT", "/routers/{missing}/add_router_interface", {"subnet_id": "{subnet}"}, 404),
    ("interface-remove-missing-port", "PUT", "/routers/{router}/remove_router_interface", {"port_id": "{missing}"},
     404),
    # A missing router is not found by the action itself: an admin's action skips the read.
    ("interface-remove-missing-router", "PUT", "/routers/{missing}/remove_router_interface", {"port_id": "{port}"},
     404),
    ("extraroutes-missing-router", "PUT", "/routers/{missing}/add_extraroutes", {"router": {"routes": routes(1)}},
     404),
    ("extraroutes-remove-missing-router", "PUT", "/routers/{missing}/remove_extraroutes",
     {"router": {"routes": routes(1)}}, 404),
    ("interface-remove-port-not-attached", "PUT", "/routers/{router}/remove_router_interface", {"port_id": "{port}"},
     404),
    ("interface-wrong-verb", "POST", "/routers/{router}/add_router_interface", {"subnet_id": "{subnet}"}, 405),
    ("extraroutes-no-router", "PUT", "/routers/{router}/add_extraroutes", {"routes": []}, 400),
    ("extraroutes-no-routes", "PUT", "/routers/{router}/add_extraroutes", {"router": {}}, 400),
    ("extraroutes-not-list", "PUT", "/routers/{router}/remove_extraroutes", {"router": {"routes": "x"}}, 400),
    # floating IPs
    ("fip-empty", "POST", "/floatingips", {"floatingip": {}}, 400),
    ("fip-network-not-uuid", "POST", "/floatingips", {"floatingip": {"floating_network_id": "x"}}, 400),
    ("fip-missing-network", "POST", "/floatingips", {"floatingip": {"floating_network_id": "{missing}"}}, 404),
    ("fip-address-outside", "POST", "/floatingips",
     {"floatingip": {"floating_network_id": "{ext}", "floating_ip_address": "10.99.0.1"}}, 400),
    ("fip-address-v6", "POST", "/floatingips",
     {"floatingip": {"floating_network_id": "{ext}", "floating_ip_address": "fe80::1"}}, 400),
    ("fip-address-garbage", "POST", "/floatingips",
     {"floatingip": {"floating_network_id": "{ext}", "floating_ip_address": "10.1"}}, 400),
    ("fip-subnet-of-other-network", "POST", "/floatingips",
     {"floatingip": {"floating_network_id": "{ext}", "subnet_id": "{subnet}"}}, 400),
    ("fip-port-not-uuid", "POST", "/floatingips", {"floatingip": {"floating_network_id": "{ext}", "port_id": "x"}},
     400),
    ("fip-missing-port", "POST", "/floatingips",
     {"floatingip": {"floating_network_id": "{ext}", "port_id": "{missing}"}}, 404),
    ("fip-unreachable-port", "POST", "/floatingips",
     {"floatingip": {"floating_network_id": "{ext}", "port_id": "{port}"}}, 404),
    ("fip-router-read-only", "POST", "/floatingips",
     {"floatingip": {"floating_network_id": "{ext}", "router_id": "{router}"}}, 400),
    ("fip-bad-fixed-ip", "POST", "/floatingips",
     {"floatingip": {"floating_network_id": "{ext}", "port_id": "{port}", "fixed_ip_address": "x"}}, 400),
    ("fip-address-read-only-on-update", "PUT", "/floatingips/{fip}",
     {"floatingip": {"floating_ip_address": "10.30.0.5"}}, 400),
    ("fip-port-not-uuid-on-update", "PUT", "/floatingips/{fip}", {"floatingip": {"port_id": 5}}, 400),
    ("fip-update-missing", "PUT", "/floatingips/{missing}", {"floatingip": {"port_id": None}}, 404),
    ("fip-delete-missing", "DELETE", "/floatingips/{missing}", None, 404),
]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case_id, method, path, body, status", CASES, ids=[c[0] for c in CASES])
def test_malformed_router_request(router_server, ids, case_id, method, path, body, status):
    api = Api(router_server.url)
    before = {kind: len(api.call("GET", "/" + kind).json()[kind]) for kind in ("routers", "floatingips", "ports")}
    response = api.call(method, _fill(path, ids), _fill(body, ids))
    assert response.status_code == status, response.text
    error = response.json()["NeutronError"]
    assert set(error) == {"type", "message", "detail"} and error["message"]
    if status == 404 and "/routers/{missing}/" in path:
        assert (error["type"], error["message"]) == ("RouterNotFound", "Router %s could not be found" % MISSING)
    after = {kind: len(api.call("GET", "/" + kind).json()[kind]) for kind in ("routers", "floatingips", "ports")}
    assert after == before
