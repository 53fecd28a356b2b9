"""The Octavia v2 details octaviaclient and openstacksdk rely on, over plain HTTP on /v2/lbaas and
/v2.0/lbaas (netweave-server, lbaasv2 with the noop driver, SQLite and PostgreSQL): Octavia's
fault keys beside NeutronError, nulls that reset attributes to Octavia's defaults, tags,
relation and tag filters, the attributes Octavia shows, the provider, flavor and
availability zone lists, and listener statistics as the agent reports them."""
import configparser
import sqlite3
import uuid

import pytest
import requests

from harness import lbaas_server, ml2_plugin
from netweave.core import context as context_mod
from netweave.core.db import api as db_api
from netweave.service_plugins.lbaasv2 import lbaas_rpc
from netweave.service_plugins.lbaasv2.service import LoadBalancerService


@pytest.fixture(scope="module", params=ml2_plugin.BACKENDS)
def lb_server(request, tmp_path_factory):
    yield from lbaas_server.serve(request, tmp_path_factory, driver="noop")


class Api:
    """One project's member calling a prefix ("/v2/lbaas" or "/v2.0/lbaas")."""

    def __init__(self, url, prefix):
        self.project = "lbo-" + uuid.uuid4().hex[:10]
        self.base = url
        self.prefix = prefix
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.headers.update({"X-Project-Id": self.project, "X-Roles": "member"})

    def call(self, method, path, body=None, expect=(200, 201, 204), params=None):
        response = self.http.request(method, self.base + self.prefix + path, json=body, params=params, timeout=30)
        assert response.status_code in expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def create(self, collection, member, **attributes):
        return self.call("POST", "/" + collection, {member: attributes})[member]

    def ids(self, path, params):
        """The ids a list gives, in its order (created_at, then id)."""
        collection = path.rsplit("/", 1)[-1]
        return [item["id"] for item in self.call("GET", "/" + path, params=params)[collection]]


@pytest.fixture(params=["/v2/lbaas", "/v2.0/lbaas"])
def api(lb_server, request):
    return Api(lb_server.url, request.param)


@pytest.fixture
def subnet_id(api):
    net = api.http.post(api.base + "/v2.0/networks", json={"network": {"name": "OCTAVIA_NET"}}).json()["network"]
    return api.http.post(api.base + "/v2.0/subnets", json={"subnet": {
        "network_id": net["id"], "cidr": "192.168.230.0/24", "ip_version": 4}}).json()["subnet"]["id"]


def test_errors_carry_octavias_fault_keys_beside_neutron_error(api, subnet_id):
    lb = api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id)
    api.create("listeners", "listener", loadbalancer_id=lb["id"], protocol="HTTP", protocol_port=80)
    body = api.call("POST", "/listeners", {"listener": {"loadbalancer_id": lb["id"], "protocol": "HTTP",
                                                        "protocol_port": 80}}, expect=(409,))
    message = "Load Balancer %s already has a listener with protocol_port of 80" % lb["id"]
    assert body["NeutronError"] == {"type": "DuplicateListenerPort", "message": message, "detail": ""}
    assert (body["faultcode"], body["faultstring"], body["debuginfo"]) == ("Client", message, None)
    missing = str(uuid.uuid4())
    body = api.call("GET", "/pools/" + missing, expect=(404,))
    assert body["faultstring"] == body["NeutronError"]["message"] == "Pool %s not found." % missing
    body = api.call("PUT", "/loadbalancers/" + lb["id"], {"loadbalancer": {"vip_address": "192.168.230.9"}},
                    expect=(400,))
    assert body["faultstring"] == "Attribute 'vip_address' cannot be updated"


def test_nulls_reset_attributes_to_octavias_defaults(api, subnet_id):
    lb = api.create("loadbalancers", "loadbalancer", name="LB", description="kept", vip_subnet_id=subnet_id)
    shown = api.call("PUT", "/loadbalancers/" + lb["id"], {"loadbalancer": {
        "name": None, "description": None, "vip_qos_policy_id": None}})["loadbalancer"]
    assert (shown["name"], shown["description"], shown["vip_qos_policy_id"]) == ("", "", None)
    listener = api.create("listeners", "listener", loadbalancer_id=lb["id"], protocol="HTTP", protocol_port=80,
                          connection_limit=100)
    shown = api.call("PUT", "/listeners/" + listener["id"], {"listener": {"connection_limit": None}})["listener"]
    assert shown["connection_limit"] == -1
    pool = api.create("pools", "pool", loadbalancer_id=lb["id"], protocol="HTTP", lb_algorithm="ROUND_ROBIN",
                      tls_enabled=False)
    assert pool["tls_enabled"] is False
    body = api.call("PUT", "/pools/" + pool["id"], {"pool": {"lb_algorithm": None}}, expect=(400,))
    assert body["faultstring"] == body["NeutronError"]["message"] == "None is not a valid option for lb_algorithm"
    member = api.call("POST", "/pools/%s/members" % pool["id"], {"member": {
        "address": "192.168.230.9", "protocol_port": 80, "weight": 5}})["member"]
    shown = api.call("PUT", "/pools/%s/members/%s" % (pool["id"], member["id"]), {"member": {
        "weight": None, "backup": None, "monitor_address": None, "monitor_port": None}})["member"]
    assert (shown["weight"], shown["backup"], shown["monitor_address"]) == (1, False, None)
    monitor = api.create("healthmonitors", "healthmonitor", pool_id=pool["id"], type="HTTP", delay=5, timeout=4,
                         max_retries=3, max_retries_down=5, http_method="HEAD", url_path="/health",
                         expected_codes="202")
    shown = api.call("PUT", "/healthmonitors/" + monitor["id"], {"healthmonitor": {
        "max_retries_down": None, "http_method": None, "url_path": None, "expected_codes": None}})["healthmonitor"]
    assert (shown["max_retries_down"], shown["http_method"], shown["url_path"], shown["expected_codes"]) == (
        3, "GET", "/", "200")
    api.call("DELETE", "/loadbalancers/%s?cascade=true" % lb["id"])


def test_features_not_served_take_only_their_off_values(api, subnet_id):
    for attributes in ({"availability_zone": "az1"}, {"vip_qos_policy_id": str(uuid.uuid4())}):
        body = api.call("POST", "/loadbalancers", {"loadbalancer": dict(attributes, vip_subnet_id=subnet_id)},
                        expect=(400,))
        assert body["faultstring"].startswith("Invalid input for %s." % next(iter(attributes)))
    lb = api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id, availability_zone=None,
                    vip_qos_policy_id=None, flavor_id=None)
    body = api.call("POST", "/pools", {"pool": {"loadbalancer_id": lb["id"], "protocol": "HTTP",
                                                "lb_algorithm": "ROUND_ROBIN", "tls_enabled": True}}, expect=(400,))
    assert body["faultstring"] == "Invalid input for tls_enabled. Reason: 'True' is not in [False]."
    assert api.call("GET", "/providers")["providers"][0]["name"] == "haproxy"
    assert api.call("GET", "/flavors") == {"flavors": [], "flavors_links": []}
    assert api.call("GET", "/availabilityzones") == {"availability_zones": [], "availability_zones_links": []}
    api.call("DELETE", "/loadbalancers/" + lb["id"])


def test_attributes_without_a_choice_take_null_and_the_served_value(api, subnet_id):
    lb = api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id)
    served = {"timeout_client_data": 50000, "timeout_member_connect": 5000, "timeout_member_data": 50000,
              "timeout_tcp_inspect": 0, "insert_headers": {}, "client_authentication": "NONE",
              "default_tls_container_ref": None, "sni_container_refs": [], "tls_versions": None}
    listener = api.create("listeners", "listener", loadbalancer_id=lb["id"], protocol="HTTP", protocol_port=80,
                          **served)
    nulls = dict.fromkeys(served)
    shown = api.call("PUT", "/listeners/" + listener["id"], {"listener": dict(nulls, name="kept")})["listener"]
    assert {name: shown[name] for name in served} == served
    assert (shown["allowed_cidrs"], shown["name"]) == (None, "kept")
    body = api.call("PUT", "/listeners/" + listener["id"], {"listener": {"timeout_client_data": 1000}},
                    expect=(400,))
    assert body["faultstring"] == "Invalid input for timeout_client_data. Reason: '1000' is not in [50000]."
    headers = {"X-Forwarded-For": "true"}
    body = api.call("PUT", "/listeners/" + listener["id"], {"listener": {"insert_headers": headers}}, expect=(400,))
    assert body["faultstring"].startswith("Invalid input for insert_headers.")
    pool = api.create("pools", "pool", loadbalancer_id=lb["id"], protocol="HTTP", lb_algorithm="ROUND_ROBIN",
                      tls_container_ref=None, tls_versions=None)
    api.call("PUT", "/pools/" + pool["id"], {"pool": {"ca_tls_container_ref": None, "crl_container_ref": None,
                                                      "alpn_protocols": None, "tls_ciphers": None}})
    monitor = api.create("healthmonitors", "healthmonitor", pool_id=pool["id"], type="HTTP", delay=5, timeout=4,
                         max_retries=3, http_version=None, domain_name=None)
    shown = api.call("PUT", "/healthmonitors/" + monitor["id"], {"healthmonitor": {
        "http_version": None, "domain_name": None, "delay": 6}})["healthmonitor"]
    assert (shown["http_version"], shown["domain_name"], shown["delay"]) == (None, None, 6)
    body = api.call("PUT", "/healthmonitors/" + monitor["id"], {"healthmonitor": {"http_version": 1.1}},
                    expect=(400,))
    assert body["faultstring"].startswith("Invalid input for http_version.")
    api.call("DELETE", "/loadbalancers/%s?cascade=true" % lb["id"])


def test_octavias_attributes_are_shown(api, subnet_id):
    lb = api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id)
    assert (lb["vip_vnic_type"], lb["additional_vips"], lb["flavor_id"], lb["availability_zone"]) == (
        "normal", [], None, None)
    listener = api.create("listeners", "listener", loadbalancer_id=lb["id"], protocol="HTTP", protocol_port=80)
    assert (listener["client_authentication"], listener["client_ca_tls_container_ref"], listener["tls_versions"],
            listener["alpn_protocols"]) == ("NONE", None, None, None)
    pool = api.create("pools", "pool", listener_id=listener["id"], protocol="HTTP", lb_algorithm="ROUND_ROBIN")
    assert (pool["tls_enabled"], pool["tls_container_ref"], pool["ca_tls_container_ref"],
            pool["crl_container_ref"]) == (False, None, None, None)
    member = api.call("POST", "/pools/%s/members" % pool["id"], {"member": {
        "address": "192.168.230.9", "protocol_port": 80}})["member"]
    assert (member["vnic_type"], member["backup"], member["tags"]) == ("normal", False, [])
    api.call("DELETE", "/loadbalancers/%s?cascade=true" % lb["id"])


def test_tags_are_stored_replaced_and_filtered(api, subnet_id):
    first = api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id, tags=["web", "book", "web"])
    second = api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id, tags=["web"])
    assert first["tags"] == ["book", "web"]
    shown = api.call("PUT", "/loadbalancers/" + first["id"], {"loadbalancer": {"tags": ["front", "book"]}})
    assert shown["loadbalancer"]["tags"] == ["book", "front"]
    assert api.call("GET", "/loadbalancers/" + first["id"])["loadbalancer"]["tags"] == ["book", "front"]
    both = sorted([first["id"], second["id"]])
    assert api.ids("loadbalancers", {"tags": "book,front"}) == [first["id"]]
    assert api.ids("loadbalancers", [("tags", "book"), ("tags", "web")]) == []
    assert sorted(api.ids("loadbalancers", {"tags-any": "front,web"})) == both
    assert api.ids("loadbalancers", {"not-tags": "book,front"}) == [second["id"]]
    assert api.ids("loadbalancers", {"not-tags-any": "web,front"}) == []
    body = api.call("POST", "/loadbalancers", {"loadbalancer": {"vip_subnet_id": subnet_id, "tags": ["a/b"]}},
                    expect=(400,))
    assert "is not a valid tag" in body["faultstring"]
    listener = api.create("listeners", "listener", loadbalancer_id=first["id"], protocol="TCP", protocol_port=22,
                          tags=["ssh"])
    pool = api.create("pools", "pool", listener_id=listener["id"], protocol="TCP", lb_algorithm="SOURCE_IP",
                      tags=["ssh"])
    member = api.call("POST", "/pools/%s/members" % pool["id"], {"member": {
        "address": "192.168.230.22", "protocol_port": 22, "tags": ["ssh"]}})["member"]
    monitor = api.create("healthmonitors", "healthmonitor", pool_id=pool["id"], type="TCP", delay=5, timeout=4,
                         max_retries=3, tags=["ssh"])
    for collection, item in (("listeners", listener), ("pools", pool), ("healthmonitors", monitor)):
        assert api.ids(collection, {"tags": "ssh"}) == [item["id"]]
    assert api.ids("pools/%s/members" % pool["id"], {"tags": "ssh"}) == [member["id"]]
    api.call("PUT", "/pools/%s/members/%s" % (pool["id"], member["id"]), {"member": {"tags": []}})
    assert api.ids("pools/%s/members" % pool["id"], {"tags-any": "ssh"}) == []
    for lb in (first, second):
        api.call("DELETE", "/loadbalancers/%s?cascade=true" % lb["id"])


@pytest.mark.parametrize("lb_server", ["sqlite"], indirect=True)  # reads the SQLite file
def test_deleted_entities_leave_no_tags(lb_server, api, subnet_id):
    lb = api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id, tags=["gone"])
    pool = api.create("pools", "pool", loadbalancer_id=lb["id"], protocol="HTTP", lb_algorithm="ROUND_ROBIN",
                      tags=["gone"])
    member = api.call("POST", "/pools/%s/members" % pool["id"], {"member": {
        "address": "192.168.230.9", "protocol_port": 80, "tags": ["gone"]}})["member"]
    ids = [lb["id"], pool["id"], member["id"]]
    database = sqlite3.connect("%s/netweave.sqlite" % lb_server.state_path)
    try:
        def tagged():
            marks = ",".join("?" * len(ids))
            return sorted(row[0] for row in database.execute(
                "SELECT resource_id FROM tags WHERE resource_id IN (%s)" % marks, ids))

        assert tagged() == sorted(ids)
        api.call("DELETE", "/pools/%s/members/%s" % (pool["id"], member["id"]))
        assert tagged() == sorted([lb["id"], pool["id"]])
        api.call("DELETE", "/loadbalancers/%s?cascade=true" % lb["id"])
        assert tagged() == []
    finally:
        database.close()


def test_children_filter_by_their_relations(api, subnet_id):
    lbs, listeners, pools, monitors = [], [], [], []
    for port in (80, 81):
        lb = api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id)
        listener = api.create("listeners", "listener", loadbalancer_id=lb["id"], protocol="HTTP", protocol_port=port)
        pool = api.create("pools", "pool", listener_id=listener["id"], protocol="HTTP", lb_algorithm="ROUND_ROBIN")
        monitor = api.create("healthmonitors", "healthmonitor", pool_id=pool["id"], type="TCP", delay=5, timeout=4,
                             max_retries=3)
        lbs.append(lb)
        listeners.append(listener)
        pools.append(pool)
        monitors.append(monitor)
    for index in (0, 1):
        assert api.ids("listeners", {"loadbalancer_id": lbs[index]["id"]}) == [listeners[index]["id"]]
        assert api.ids("pools", {"loadbalancer_id": lbs[index]["id"]}) == [pools[index]["id"]]
        assert api.ids("pools", {"listener_id": listeners[index]["id"]}) == [pools[index]["id"]]
        assert api.ids("healthmonitors", {"pool_id": pools[index]["id"]}) == [monitors[index]["id"]]
    assert api.ids("pools", {"loadbalancer_id": str(uuid.uuid4())}) == []
    for lb in lbs:
        api.call("DELETE", "/loadbalancers/%s?cascade=true" % lb["id"])


def test_octavias_quota_api_over_the_core_limits(lb_server, api, subnet_id):
    admin = requests.Session()
    admin.trust_env = False
    base = lb_server.url + api.prefix + "/quotas"
    defaults = admin.get(base + "/defaults", timeout=30).json()["quota"]
    assert defaults == {"load_balancer": 10, "loadbalancer": 10, "listener": -1, "pool": 10, "member": -1,
                        "health_monitor": -1, "healthmonitor": -1, "l7policy": None, "l7rule": None}
    assert api.call("GET", "/quotas/%s" % api.project)["quota"] == defaults
    response = admin.put(base + "/" + api.project, json={"quota": {"load_balancer": 1, "member": 5}}, timeout=30)
    assert response.status_code == 202, response.text
    assert (response.json()["quota"]["loadbalancer"], response.json()["quota"]["member"]) == (1, 5)
    # The core's quotas see the same limit, and it is enforced.
    neutron = admin.get(lb_server.url + "/v2.0/quotas/" + api.project, timeout=30).json()["quota"]
    assert (neutron["loadbalancer"], neutron["member"], neutron["network"]) == (1, 5, 100)
    api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id)
    body = api.call("POST", "/loadbalancers", {"loadbalancer": {"vip_subnet_id": subnet_id}}, expect=(409,))
    assert body["faultstring"] == "Quota exceeded for resources: loadbalancer."
    listed = admin.get(base, params={"project_id": api.project}, timeout=30).json()
    assert [(q["project_id"], q["load_balancer"]) for q in listed["quotas"]] == [(api.project, 1)]
    assert [q["project_id"] for q in api.call("GET", "/quotas")["quotas"]] == [api.project]
    # A member may read its project's quota but not set it; L7 limits take only null.
    body = api.call("PUT", "/quotas/" + api.project, {"quota": {"pool": 1}}, expect=(403,))
    assert body["faultcode"] == "Client"
    response = admin.put(base + "/" + api.project, json={"quota": {"l7policy": 5}}, timeout=30)
    assert response.status_code == 400 and "no L7 policies" in response.json()["faultstring"]
    response = admin.put(base + "/" + api.project, json={"quota": {"member": None, "l7rule": None}}, timeout=30)
    assert response.json()["quota"]["member"] == -1 and response.json()["quota"]["load_balancer"] == 1
    response = admin.delete(base + "/" + api.project, timeout=30)
    assert response.status_code == 202 and not response.content
    assert api.call("GET", "/quotas/%s" % api.project)["quota"] == defaults
    for lb in api.call("GET", "/loadbalancers")["loadbalancers"]:
        api.call("DELETE", "/loadbalancers/" + lb["id"])


# --- listener statistics ----------------------------------------------------------------------

COUNTER_NAMES = {"active_connections", "bytes_in", "bytes_out", "request_errors", "total_connections"}
ZEROS = dict.fromkeys(COUNTER_NAMES, 0)


def _counters(active, total, bytes_in, bytes_out, errors):
    return {"active_connections": active, "total_connections": total, "bytes_in": bytes_in,
            "bytes_out": bytes_out, "request_errors": errors}


@pytest.fixture
def agent_reports(lb_server):
    """The server's endpoint for the agents' RPC (lbaas_rpc.py), here in the test's process on the
    server's database: its ``update_status`` is how an agent's report lands."""
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(lb_server.config_files[0])
    db_api.DATABASE.configure(conf["database"]["connection"])
    try:
        yield lbaas_rpc.LbaasRpcEndpoint(LoadBalancerService(None, None, None, None), None, None, None)
    finally:
        db_api.DATABASE.engine.dispose()


def test_listener_stats_are_zeros_until_the_agent_reports_them(api, subnet_id, agent_reports):
    admin = context_mod.get_admin_context()
    lb = api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id)
    web = api.create("listeners", "listener", loadbalancer_id=lb["id"], protocol="HTTP", protocol_port=80)
    ssh = api.create("listeners", "listener", loadbalancer_id=lb["id"], protocol="TCP", protocol_port=22)
    other_lb = api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id)
    other = api.create("listeners", "listener", loadbalancer_id=other_lb["id"], protocol="HTTP", protocol_port=80)

    def stats(listener):
        return api.call("GET", "/listeners/%s/stats" % listener["id"])

    assert stats(web) == {"stats": ZEROS}
    web_counters, ssh_counters = _counters(2, 40, 1000, 9000, 1), _counters(0, 7, 300, 350, 0)
    agent_reports.update_status(admin, loadbalancer_id=lb["id"], statuses={},
                                stats=_counters(2, 47, 1300, 9350, 1),
                                listener_stats={web["id"]: web_counters, ssh["id"]: ssh_counters,
                                                # Not this load balancer's, or no listener at all: ignored.
                                                other["id"]: web_counters, str(uuid.uuid4()): web_counters})
    assert stats(web) == {"stats": web_counters} and stats(ssh) == {"stats": ssh_counters}
    assert stats(other) == {"stats": ZEROS}
    assert api.call("GET", "/loadbalancers/%s/stats" % lb["id"])["stats"] == _counters(2, 47, 1300, 9350, 1)
    # The next report replaces them; an agent that does not send listeners' counters leaves them.
    agent_reports.update_status(admin, loadbalancer_id=lb["id"], statuses={}, stats=_counters(0, 50, 1400, 9500, 1),
                                listener_stats={web["id"]: _counters(0, 43, 1100, 9150, 1)})
    assert stats(web)["stats"] == _counters(0, 43, 1100, 9150, 1) and stats(ssh) == {"stats": ssh_counters}
    agent_reports.update_status(admin, loadbalancer_id=lb["id"], statuses={}, stats=_counters(1, 60, 1, 2, 3))
    assert api.call("GET", "/loadbalancers/%s/stats" % lb["id"])["stats"] == _counters(1, 60, 1, 2, 3)
    assert stats(web)["stats"] == _counters(0, 43, 1100, 9150, 1)
    # A listener's counters go with it.
    api.call("DELETE", "/listeners/" + web["id"])
    body = api.call("GET", "/listeners/%s/stats" % web["id"], expect=(404,))
    assert body["faultstring"] == "Listener %s not found." % web["id"]
    for item in (lb, other_lb):
        api.call("DELETE", "/loadbalancers/%s?cascade=true" % item["id"])


def test_listener_stats_of_a_listener_not_found_or_not_the_projects(lb_server, api, subnet_id):
    missing = str(uuid.uuid4())
    body = api.call("GET", "/listeners/%s/stats" % missing, expect=(404,))
    assert body["NeutronError"]["type"] == "EntityNotFound"
    assert (body["faultcode"], body["faultstring"], body["debuginfo"]) == (
        "Client", "Listener %s not found." % missing, None)
    lb = api.create("loadbalancers", "loadbalancer", vip_subnet_id=subnet_id)
    listener = api.create("listeners", "listener", loadbalancer_id=lb["id"], protocol="HTTP", protocol_port=80)
    path = "/listeners/%s/stats" % listener["id"]
    # Another project's member does not see it; a reader of its own project and an admin do.
    stranger = Api(lb_server.url, api.prefix)
    body = stranger.call("GET", path, expect=(404,))
    assert body["faultstring"] == "Listener %s not found." % listener["id"]
    reader = Api(lb_server.url, api.prefix)
    reader.http.headers.update({"X-Project-Id": api.project, "X-Roles": "reader"})
    assert reader.call("GET", path) == {"stats": ZEROS}
    admin = Api(lb_server.url, api.prefix)
    admin.http.headers.update({"X-Project-Id": "lbo-admin", "X-Roles": "admin"})
    assert admin.call("GET", path) == {"stats": ZEROS}
    # The project without a reader's role may not read them (get_listener_stats), like the load balancer's.
    roleless = Api(lb_server.url, api.prefix)
    roleless.http.headers.update({"X-Project-Id": api.project, "X-Roles": ""})
    body = roleless.call("GET", path, expect=(403,))
    assert body["faultcode"] == "Client"
    assert roleless.call("GET", "/loadbalancers/%s/stats" % lb["id"], expect=(403,))["faultcode"] == "Client"
    api.call("DELETE", "/loadbalancers/%s?cascade=true" % lb["id"])
