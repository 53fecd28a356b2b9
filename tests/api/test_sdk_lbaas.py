"""LBaaS v2 through openstacksdk's load_balancer proxy (Octavia's /v2/lbaas paths) and plain
requests on /v2.0/lbaas, against netweave-server with the lbaasv2 plugin and its noop driver:
the book's worked example (spec A.7 steps 1-5), defaults, validation, the one-per rules,
the status tree, cascade delete, quotas and policies."""
import uuid

import pytest
import requests
from openstack import exceptions as sdk_exc

from harness import lbaas_server, ml2_plugin


@pytest.fixture(scope="module", params=ml2_plugin.BACKENDS)
def lb_server(request, tmp_path_factory):
    yield from lbaas_server.serve(request, tmp_path_factory, driver="noop")


@pytest.fixture
def project():
    return "lbp-" + uuid.uuid4().hex[:10]


@pytest.fixture
def conn(lb_server, project):
    return lbaas_server.connect(lb_server.url, project=project, roles="member", prefix="/v2")


@pytest.fixture
def subnet(conn):
    net = conn.network.create_network(name="PROJECT_NET")
    return conn.network.create_subnet(network_id=net.id, cidr="192.168.200.0/24", ip_version=4,
                                      name="PROJECT_SUBNET")


def fault(error):
    return error.response.json()["NeutronError"]


def book_example(conn, subnet):
    lb = conn.load_balancer.create_load_balancer(name="LB_WEB", vip_subnet_id=subnet.id)
    pool = conn.load_balancer.create_pool(lb_algorithm="ROUND_ROBIN", protocol="HTTP", loadbalancer_id=lb.id,
                                          name="POOL_WEB")
    web1 = conn.load_balancer.create_member(pool, name="web1", subnet_id=subnet.id, address="192.168.200.9",
                                            protocol_port=80)
    web2 = conn.load_balancer.create_member(pool, name="web2", subnet_id=subnet.id, address="192.168.200.7",
                                            protocol_port=80)
    hm = conn.load_balancer.create_health_monitor(name="MONITOR_WEB", delay=5, max_retries=3, timeout=4,
                                                  type="HTTP", pool_id=pool.id)
    listener = conn.load_balancer.create_listener(name="LISTENER_WEB", loadbalancer_id=lb.id, protocol="HTTP",
                                                  protocol_port=80, default_pool_id=pool.id)
    return lb, pool, (web1, web2), hm, listener


def test_book_worked_example_shapes_and_defaults(conn, subnet, project):
    lb = conn.load_balancer.create_load_balancer(name="LB_WEB", vip_subnet_id=subnet.id)
    assert lb.provisioning_status == "PENDING_CREATE" and lb.operating_status == "OFFLINE"
    assert lb.provider == "haproxy" and lb.project_id == project and lb.is_admin_state_up
    assert lb.vip_subnet_id == subnet.id and lb.vip_network_id == subnet.network_id
    port = conn.network.get_port(lb.vip_port_id)
    assert port.device_owner == "neutron:LOADBALANCERV2" and port.device_id == lb.id
    assert [ip["ip_address"] for ip in port.fixed_ips] == [lb.vip_address]
    assert lb.vip_address.startswith("192.168.200.")
    pool = conn.load_balancer.create_pool(lb_algorithm="ROUND_ROBIN", protocol="HTTP", loadbalancer_id=lb.id,
                                          name="POOL_WEB")
    assert pool.health_monitor_id is None and pool.listeners == [] and pool.members == []
    assert pool.loadbalancers == [{"id": lb.id}] and pool.session_persistence is None
    web1 = conn.load_balancer.create_member(pool, name="web1", subnet_id=subnet.id, address="192.168.200.9",
                                            protocol_port=80)
    assert (web1.weight, web1.is_admin_state_up, web1.subnet_id) == (1, True, subnet.id)
    hm = conn.load_balancer.create_health_monitor(name="MONITOR_WEB", delay=5, max_retries=3, timeout=4,
                                                  type="HTTP", pool_id=pool.id)
    assert (hm.expected_codes, hm.http_method, hm.url_path, hm.max_retries_down) == ("200", "GET", "/", 3)
    assert hm.pools == [{"id": pool.id}]
    listener = conn.load_balancer.create_listener(name="LISTENER_WEB", loadbalancer_id=lb.id, protocol="HTTP",
                                                  protocol_port=80, default_pool_id=pool.id)
    assert listener.connection_limit == -1 and listener.default_pool_id == pool.id
    assert listener.load_balancers == [{"id": lb.id}] and listener.sni_container_refs == []
    lb = conn.load_balancer.get_load_balancer(lb.id)
    assert lb.provisioning_status == "ACTIVE" and lb.operating_status == "ONLINE"
    assert lb.listeners == [{"id": listener.id}] and lb.pools == [{"id": pool.id}]
    pool = conn.load_balancer.get_pool(pool.id)
    assert pool.health_monitor_id == hm.id and pool.listeners == [{"id": listener.id}]
    assert pool.members == [{"id": web1.id}]
    stats = conn.load_balancer.get_load_balancer_statistics(lb.id)
    assert (stats.active_connections, stats.bytes_in, stats.bytes_out, stats.total_connections) == (0, 0, 0, 0)


def test_status_tree(lb_server, conn, subnet, project):
    lb, pool, members, hm, listener = book_example(conn, subnet)
    headers = {"X-Project-Id": project, "X-Roles": "member"}
    for path in ("/v2/lbaas/loadbalancers/%s/status", "/v2.0/lbaas/loadbalancers/%s/statuses"):
        tree = requests.get(lb_server.url + path % lb.id, headers=headers).json()["statuses"]["loadbalancer"]
        assert tree["id"] == lb.id and tree["operating_status"] == "ONLINE"
        [entry] = tree["listeners"]
        [pool_entry] = entry["pools"]
        assert pool_entry["healthmonitor"] == {"id": hm.id, "name": "MONITOR_WEB", "type": "HTTP",
                                               "provisioning_status": "ACTIVE"}
        assert sorted(m["name"] for m in pool_entry["members"]) == ["web1", "web2"]
    conn.load_balancer.update_member(members[0], pool, admin_state_up=False)
    tree = requests.get(lb_server.url + "/v2/lbaas/loadbalancers/%s/status" % lb.id,
                        headers=headers).json()["statuses"]["loadbalancer"]
    statuses = {m["name"]: m["operating_status"] for m in tree["listeners"][0]["pools"][0]["members"]}
    assert statuses == {"web1": "DISABLED", "web2": "NO_MONITOR"}


def test_v2_0_paths_serve_the_same_resources(lb_server, conn, subnet, project):
    lb = conn.load_balancer.create_load_balancer(name="LB_BOTH", vip_subnet_id=subnet.id)
    headers = {"X-Project-Id": project, "X-Roles": "member"}
    shown = requests.get(lb_server.url + "/v2.0/lbaas/loadbalancers/%s" % lb.id, headers=headers)
    assert shown.status_code == 200 and shown.json()["loadbalancer"]["name"] == "LB_BOTH"
    listed = requests.get(lb_server.url + "/v2.0/lbaas/loadbalancers?name=LB_BOTH", headers=headers).json()
    assert [i["id"] for i in listed["loadbalancers"]] == [lb.id] and listed["loadbalancers_links"] == []
    made = requests.post(lb_server.url + "/v2.0/lbaas/listeners", headers=headers, json={
        "listener": {"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": 22}})
    assert made.status_code == 201 and made.json()["listener"]["protocol"] == "TCP"
    extensions = requests.get(lb_server.url + "/v2.0/extensions", headers=headers).json()["extensions"]
    assert "lbaasv2" in [e["alias"] for e in extensions]


def test_validation_errors(lb_server, conn, subnet, project):
    lb, pool, members, hm, listener = book_example(conn, subnet)
    headers = {"X-Project-Id": project, "X-Roles": "member"}
    url = lb_server.url + "/v2/lbaas"

    def post(path, body):
        return requests.post(url + path, headers=headers, json=body)

    cases = [
        ("/loadbalancers", {"loadbalancer": {"name": "x"}}, 400, "VIP must contain one of"),
        ("/listeners", {"listener": {"loadbalancer_id": lb.id, "protocol": "TERMINATED_HTTPS",
                                     "protocol_port": 443}}, 400, "TERMINATED_HTTPS is not supported"),
        ("/listeners", {"listener": {"loadbalancer_id": lb.id, "protocol": "HTTP", "protocol_port": 80}},
         409, "already has a listener with protocol_port of 80"),
        ("/listeners", {"listener": {"loadbalancer_id": lb.id, "protocol": "HTTP", "protocol_port": 70000}},
         400, "Invalid input for protocol_port"),
        ("/listeners", {"listener": {"loadbalancer_id": lb.id, "protocol": "HTTP", "protocol_port": 81,
                                     "connection_limit": -2}}, 400, "Invalid input for connection_limit"),
        ("/pools", {"pool": {"loadbalancer_id": lb.id, "protocol": "HTTP", "lb_algorithm": "RANDOM"}},
         400, "RANDOM is not a valid option for lb_algorithm"),
        ("/pools", {"pool": {"loadbalancer_id": lb.id, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                             "session_persistence": {"type": "APP_COOKIE"}}}, 400, "Session Persistence Invalid"),
        ("/pools", {"pool": {"listener_id": listener.id, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}},
         409, "Only one pool per listener allowed"),
        ("/pools", {"pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}, 400,
         "loadbalancer_id or listener_id"),
        ("/healthmonitors", {"healthmonitor": {"pool_id": pool.id, "type": "HTTP", "delay": 3, "timeout": 4,
                                               "max_retries": 3}}, 400, "Delay must be greater than or equal"),
        ("/healthmonitors", {"healthmonitor": {"pool_id": pool.id, "type": "TCP", "delay": 5, "timeout": 4,
                                               "max_retries": 3}}, 409, "Only one health monitor per pool"),
        ("/healthmonitors", {"healthmonitor": {"pool_id": pool.id, "type": "HTTP", "delay": 5, "timeout": 4,
                                               "max_retries": 11}}, 400, "Invalid input for max_retries"),
        ("/healthmonitors", {"healthmonitor": {"pool_id": pool.id, "type": "HTTP", "delay": 5, "timeout": 4,
                                               "max_retries": 3, "expected_codes": "20x"}}, 400,
         "not a valid set of HTTP codes"),
        ("/pools/%s/members" % pool.id, {"member": {"address": "192.168.200.9", "protocol_port": 80}}, 409,
         "already present in pool"),
        ("/pools/%s/members" % pool.id, {"member": {"address": "10.9.9.9", "protocol_port": 80,
                                                    "subnet_id": subnet.id}}, 400, "is not in the CIDR"),
        ("/pools/%s/members" % pool.id, {"member": {"address": "192.168.200.20", "protocol_port": 80,
                                                    "weight": 257}}, 400, "Invalid input for weight"),
        ("/loadbalancers", {"loadbalancer": {"vip_subnet_id": subnet.id, "bogus": 1}}, 400,
         "Unrecognized attribute(s) 'bogus'"),
    ]
    for path, body, status, text in cases:
        response = post(path, body)
        assert response.status_code == status, (path, body, response.text)
        assert text in response.json()["NeutronError"]["message"], (path, response.text)
    # Listener/pool protocol pairs: a TCP pool behind an HTTP listener is refused.
    tcp_pool = post("/pools", {"pool": {"loadbalancer_id": lb.id, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}})
    assert tcp_pool.status_code == 201
    response = requests.put(url + "/listeners/" + listener.id, headers=headers,
                            json={"listener": {"default_pool_id": tcp_pool.json()["pool"]["id"]}})
    assert response.status_code == 400 and "are not compatible" in response.json()["NeutronError"]["message"]
    # Immutable attributes.
    response = requests.put(url + "/listeners/" + listener.id, headers=headers,
                            json={"listener": {"protocol_port": 8080}})
    assert response.status_code == 400
    # A TCP monitor has no HTTP fields.
    other = post("/pools", {"pool": {"loadbalancer_id": lb.id, "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}})
    tcp_hm = post("/healthmonitors", {"healthmonitor": {"pool_id": other.json()["pool"]["id"], "type": "TCP",
                                                        "delay": 5, "timeout": 4, "max_retries": 3}})
    shown = tcp_hm.json()["healthmonitor"]
    assert (shown["http_method"], shown["url_path"], shown["expected_codes"]) == (None, None, None)


def test_cascade_delete_and_children_rule(conn, subnet):
    lb, pool, members, hm, listener = book_example(conn, subnet)
    port_id = lb.vip_port_id
    with pytest.raises(sdk_exc.ConflictException) as error:
        conn.load_balancer.delete_load_balancer(lb.id)
    assert "it has children" in str(error.value.response.json())
    # The VIP port cannot be deleted behind the load balancer's back.
    with pytest.raises(sdk_exc.ConflictException):
        conn.network.delete_port(port_id)
    conn.load_balancer.delete_load_balancer(lb.id, cascade=True)
    with pytest.raises(sdk_exc.NotFoundException):
        conn.load_balancer.get_load_balancer(lb.id)
    for finder in (conn.load_balancer.get_pool, conn.load_balancer.get_listener,
                   conn.load_balancer.get_health_monitor):
        with pytest.raises(sdk_exc.NotFoundException):
            finder(pool.id if finder == conn.load_balancer.get_pool else
                   listener.id if finder == conn.load_balancer.get_listener else hm.id)
    assert conn.network.find_port(port_id) is None


def test_child_deletes_and_updates(conn, subnet):
    lb, pool, (web1, web2), hm, listener = book_example(conn, subnet)
    conn.load_balancer.delete_member(web1, pool)
    assert [m.id for m in conn.load_balancer.members(pool)] == [web2.id]
    updated = conn.load_balancer.update_health_monitor(hm, delay=10, expected_codes="200-204")
    assert (updated.delay, updated.expected_codes) == (10, "200-204")
    updated = conn.load_balancer.update_pool(pool, lb_algorithm="LEAST_CONNECTIONS",
                                             session_persistence={"type": "HTTP_COOKIE"})
    assert updated.lb_algorithm == "LEAST_CONNECTIONS"
    assert updated.session_persistence == {"type": "HTTP_COOKIE", "cookie_name": None}
    conn.load_balancer.delete_pool(pool)
    assert conn.load_balancer.get_listener(listener.id).default_pool_id is None
    with pytest.raises(sdk_exc.NotFoundException):
        conn.load_balancer.get_health_monitor(hm.id)


def test_projects_and_quotas(lb_server, conn, subnet, project):
    lb = conn.load_balancer.create_load_balancer(name="MINE", vip_subnet_id=subnet.id)
    other = lbaas_server.connect(lb_server.url, project=project + "-x", roles="member", prefix="/v2")
    assert [x.id for x in other.load_balancer.load_balancers()] == []
    with pytest.raises(sdk_exc.NotFoundException):
        other.load_balancer.get_load_balancer(lb.id)
    admin = lbaas_server.connect(lb_server.url, prefix="/v2")
    assert lb.id in [x.id for x in admin.load_balancer.load_balancers()]
    # An admin's child of a project's load balancer belongs to that project.
    listener = admin.load_balancer.create_listener(loadbalancer_id=lb.id, protocol="TCP", protocol_port=22)
    assert listener.project_id == project
    assert [x.id for x in conn.load_balancer.listeners()] == [listener.id]
    conn.load_balancer.delete_listener(listener)
    # quota_loadbalancer defaults to 10: nine more fit, the eleventh does not.
    for index in range(9):
        conn.load_balancer.create_load_balancer(name="q%d" % index, vip_subnet_id=subnet.id)
    with pytest.raises(sdk_exc.ConflictException) as error:
        conn.load_balancer.create_load_balancer(name="over", vip_subnet_id=subnet.id)
    assert "loadbalancer" in str(error.value.response.json())
    # The VIP port of the refused load balancer was not left behind.
    owners = [p.device_owner for p in conn.network.ports(network_id=subnet.network_id)]
    assert owners.count("neutron:LOADBALANCERV2") == 10


@pytest.fixture(scope="module")
def agent_server(tmp_path_factory):
    """The haproxy_agent driver with no agent alive: every change stays pending."""
    class _Param:
        param = "sqlite"
    yield from lbaas_server.serve(_Param(), tmp_path_factory, driver="haproxy_agent")


def test_a_pending_load_balancer_is_immutable(agent_server):
    project = "lbi-" + uuid.uuid4().hex[:8]
    conn = lbaas_server.connect(agent_server.url, project=project, roles="member", prefix="/v2")
    net = conn.network.create_network(name="N")
    subnet = conn.network.create_subnet(network_id=net.id, cidr="10.0.0.0/24", ip_version=4)
    lb = conn.load_balancer.create_load_balancer(name="WAITING", vip_subnet_id=subnet.id)
    assert conn.load_balancer.get_load_balancer(lb.id).provisioning_status == "PENDING_CREATE"
    headers = {"X-Project-Id": project, "X-Roles": "member"}
    for method, path, body in (
            ("PUT", "/loadbalancers/" + lb.id, {"loadbalancer": {"name": "x"}}),
            ("POST", "/listeners", {"listener": {"loadbalancer_id": lb.id, "protocol": "HTTP", "protocol_port": 80}}),
            ("POST", "/pools", {"pool": {"loadbalancer_id": lb.id, "protocol": "HTTP",
                                         "lb_algorithm": "ROUND_ROBIN"}}),
            ("DELETE", "/loadbalancers/" + lb.id, None)):
        response = requests.request(method, agent_server.url + "/v2/lbaas" + path, headers=headers, json=body)
        assert response.status_code == 409, (method, path, response.text)
        error = response.json()["NeutronError"]
        assert error["type"] == "ImmutableObject"
        assert error["message"] == "Load Balancer %s is immutable and cannot be updated." % lb.id
    # No Loadbalancerv2 agent: nothing is scheduled, nothing is half-made.
    assert conn.load_balancer.get_load_balancer(lb.id).provisioning_status == "PENDING_CREATE"
