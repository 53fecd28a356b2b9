"""LBaaS v2 end to end: the book's worked example (spec A.7) created through openstacksdk's
load_balancer proxy, served by a real netweave-lbaas-agent's haproxy, with real HTTP.

netweave-server and netweave-rpc-server (SQLite, ML2 linuxbridge, service plugin
lbaasv2) on the private RabbitMQ; in host namespace h1 a netweave-linuxbridge-agent
and a netweave-lbaas-agent (interface_driver = linuxbridge). Three instance
namespaces on PROJECT_NET run HTTP servers answering with their own name; a
client namespace on the same network requests the VIP.
"""
import time

import pytest

from harness import lbaas_server, system
from harness.lbaas import HOST, LbaasCloud, curl, eventually
from harness.multihost import run

pytestmark = [pytest.mark.system("ip", "bridge", "haproxy", "curl"), pytest.mark.slow]

@pytest.fixture(scope="module")
def cloud(rabbitmq_server, tmp_path_factory):
    system.require_root()
    created = LbaasCloud(str(tmp_path_factory.mktemp("lbe2e")), rabbitmq_server.transport_url)
    try:
        created.start()
        yield created
    finally:
        created.close()




def test_book_example_through_the_sdk_and_haproxy(cloud):
    net = cloud.network("PROJECT_NET", "192.168.200.0/24")
    subnet_id = cloud.api("GET", "/subnets?network_id=" + net["id"])["subnets"][0]["id"]
    webs = {name: cloud.web(name, net) for name in ("web1", "web2", "web3")}
    client_port = cloud.port(net, HOST)
    client = cloud.plug(HOST, net, client_port)
    cloud.wait_active(client_port, *[port for port, _instance in webs.values()], timeout=60)
    conn = lbaas_server.connect(cloud.server.url, prefix="/v2")
    lb_api = conn.load_balancer

    started = time.monotonic()
    lb = lb_api.create_load_balancer(name="LB_WEB", vip_subnet_id=subnet_id)
    assert (lb.provisioning_status, lb.operating_status) == ("PENDING_CREATE", "OFFLINE")
    eventually(lambda: lb_api.get_load_balancer(lb.id).provisioning_status == "ACTIVE", "LB_WEB is ACTIVE")
    pool = lb_api.create_pool(lb_algorithm="ROUND_ROBIN", protocol="HTTP", loadbalancer_id=lb.id, name="POOL_WEB")

    def settle():
        eventually(lambda: lb_api.get_load_balancer(lb.id).provisioning_status == "ACTIVE", "the change applied")

    settle()
    members = {}
    for name, (_port, instance) in webs.items():
        members[name] = lb_api.create_member(pool, name=name, subnet_id=subnet_id, address=instance.ip,
                                             protocol_port=80)
        settle()
    lb_api.create_health_monitor(name="MONITOR_WEB", delay=2, max_retries=2, timeout=1, type="HTTP",
                                 pool_id=pool.id)
    settle()
    lb_api.create_listener(name="LISTENER_WEB", loadbalancer_id=lb.id, protocol="HTTP", protocol_port=80,
                           default_pool_id=pool.id)
    settle()
    url = "http://%s/" % lb.vip_address
    eventually(lambda: curl(client.namespace, url), "the VIP answers", timeout=30)
    print("first request served %.1f s after create" % (time.monotonic() - started))
    agents = [a for a in cloud.api("GET", "/agents")["agents"] if a["agent_type"] == "Loadbalancerv2 agent"]
    assert [a["binary"] for a in agents] == ["netweave-lbaas-agent"] and agents[0]["alive"]
    hosting = cloud.session.get(cloud.server.url + "/v2.0/lbaas/loadbalancers/%s/loadbalancer-hosting-agent"
                                % lb.id).json()["agent"]
    assert hosting["id"] == agents[0]["id"] and hosting["agent_type"] == "Loadbalancerv2 agent"
    on_agent = cloud.session.get(cloud.server.url + "/v2.0/agents/%s/agent-loadbalancers" % agents[0]["id"]).json()
    assert lb.id in [item["id"] for item in on_agent["loadbalancers"]]

    def member_status():
        return {m.name: m.operating_status for m in lb_api.members(pool)}

    eventually(lambda: set(member_status().values()) == {"ONLINE"}, "all members ONLINE")
    answers = [curl(client.namespace, url) for _ in range(6)]
    assert sorted(answers[:3]) == ["This is web1", "This is web2", "This is web3"], answers

    # Stop web2: OFFLINE through the API within delay x max_retries (+ the report period).
    stopped = time.monotonic()
    instance = cloud.stop_server("web2")
    eventually(lambda: member_status()["web2"] == "OFFLINE", "web2 is OFFLINE", timeout=2 * 2 + 10)
    print("web2 OFFLINE %.1f s after it stopped" % (time.monotonic() - stopped))
    assert {curl(client.namespace, url) for _ in range(6)} == {"This is web1", "This is web3"}
    # The status tree (openstacksdk has no call for it): the pool, listener and LB are DEGRADED.
    tree = cloud.session.get(cloud.server.url + "/v2/lbaas/loadbalancers/%s/status" % lb.id).json()
    assert tree["statuses"]["loadbalancer"]["operating_status"] == "DEGRADED"
    cloud.start_server("web2", instance)
    eventually(lambda: member_status()["web2"] == "ONLINE", "web2 is back ONLINE", timeout=20)
    eventually(lambda: {curl(client.namespace, url) for _ in range(6)} == {"This is web1", "This is web2",
                                                                          "This is web3"}, "web2 serves again")
    stats = lb_api.get_load_balancer_statistics(lb.id)
    eventually(lambda: lb_api.get_load_balancer_statistics(lb.id).total_connections > 0, "stats reported")
    assert stats is not None

    # SOURCE_IP persistence keeps the client on one member; HTTP_COOKIE sets and honours SRV.
    lb_api.update_pool(pool, session_persistence={"type": "SOURCE_IP"})
    settle()
    eventually(lambda: len({curl(client.namespace, url) for _ in range(6)}) == 1, "one member per client")
    lb_api.update_pool(pool, session_persistence={"type": "HTTP_COOKIE"})
    settle()
    headers = eventually(lambda: curl(client.namespace, url, extra=("-D", "-", "-o", "/dev/null")),
                         "a response with headers")
    cookie = [line for line in headers.splitlines() if line.lower().startswith("set-cookie: srv=")]
    assert cookie, headers
    member_id = cookie[0].split("=", 1)[1].split(";")[0].strip()
    name = {m.id: m.name for m in lb_api.members(pool)}[member_id]
    assert {curl(client.namespace, url, extra=("-b", "SRV=" + member_id)) for _ in range(6)} == {"This is " + name}

    # Cascade delete removes the namespace and the VIP port.
    namespace = "qlbaas-" + lb.id
    assert namespace in run("ip", "netns", "list").stdout
    lb_api.delete_load_balancer(lb.id, cascade=True)
    eventually(lambda: lb_api.find_load_balancer(lb.id) is None, "LB_WEB is gone")
    eventually(lambda: namespace not in run("ip", "netns", "list").stdout, "the namespace is gone")
    assert cloud.api("GET", "/ports/" + lb.vip_port_id, expect=(404,)) is not None


def test_agent_restart_keeps_serving_and_resyncs(cloud):
    net = cloud.network("RESTART_NET", "192.168.210.0/24")
    subnet_id = cloud.api("GET", "/subnets?network_id=" + net["id"])["subnets"][0]["id"]
    web_port, web = cloud.web("webr", net)
    client_port = cloud.port(net, HOST)
    client = cloud.plug(HOST, net, client_port)
    cloud.wait_active(client_port, web_port, timeout=60)
    lb_api = lbaas_server.connect(cloud.server.url, prefix="/v2").load_balancer

    def active(lb_id):
        eventually(lambda: lb_api.get_load_balancer(lb_id).provisioning_status == "ACTIVE", "the change applied")

    def serving_lb(name):
        lb = lb_api.create_load_balancer(name=name, vip_subnet_id=subnet_id)
        active(lb.id)
        listener = lb_api.create_listener(loadbalancer_id=lb.id, protocol="HTTP", protocol_port=80)
        active(lb.id)
        pool = lb_api.create_pool(lb_algorithm="ROUND_ROBIN", protocol="HTTP", listener_id=listener.id)
        active(lb.id)
        lb_api.create_member(pool, address=web.ip, protocol_port=80, subnet_id=subnet_id)
        active(lb.id)
        eventually(lambda: curl(client.namespace, "http://%s/" % lb.vip_address), "the VIP of %s answers" % name)
        return lb

    kept, dropped = serving_lb("KEPT"), serving_lb("DROPPED")
    cloud.lbaas_agent.stop()
    # haproxy outlives its agent.
    assert curl(client.namespace, "http://%s/" % kept.vip_address) == "This is webr"
    lb_api.delete_load_balancer(dropped.id, cascade=True)
    assert lb_api.get_load_balancer(dropped.id).provisioning_status == "PENDING_DELETE"
    cloud.start_lbaas_agent()
    # The restarted agent's full resync removes what was deleted meanwhile and keeps the rest.
    eventually(lambda: lb_api.find_load_balancer(dropped.id) is None, "DROPPED is gone", timeout=60)
    eventually(lambda: "qlbaas-" + dropped.id not in run("ip", "netns", "list").stdout, "its namespace is gone")
    assert curl(client.namespace, "http://%s/" % kept.vip_address) == "This is webr"
    lb_api.delete_load_balancer(kept.id, cascade=True)
    eventually(lambda: lb_api.find_load_balancer(kept.id) is None, "KEPT is gone")
