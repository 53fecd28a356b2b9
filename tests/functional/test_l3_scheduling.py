"""L3 agent scheduling on a real database (SQLite and PostgreSQL) with the real ML2 and router plugins.

Agents are registered through the state-report path (AgentService.report_state),
with a clock the test moves to make agents die; casts are recorded.
"""
import datetime
import threading

import pytest
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.rpc import topics
from netweave.service_plugins.router import l3_notifier, l3_rpc, l3_scheduler
from netweave.service_plugins.router import plugin as plugin_mod

CTX = context_mod.get_admin_context()
START = datetime.datetime(2026, 11, 24, 12, 0, 0)
DOWN_TIME = 10


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += datetime.timedelta(seconds=seconds)


class RecordingCasts:
    connected = True

    def __init__(self):
        self.sent = []

    def cast(self, context, method, topic=None, server=None, fanout=False, **kwargs):
        self.sent.append((method, server, kwargs))


class Cloud:
    def __init__(self, core, l3, clock, casts):
        self.core, self.l3, self.clock, self.casts = core, l3, clock, casts
        self.ext = core.create_network(CTX, {"network": {"project_id": "admin", "name": "ext",
                                                         "router:external": True}})
        self.ext_subnet = self.subnet(self.ext, "10.30.0.0/24")
        self.rpc = l3_rpc.L3RpcEndpoint(l3.scheduler, core.ports, auto_schedule=cfg.CONF.router_auto_schedule)

    def subnet(self, network, cidr):
        return self.core.create_subnet(CTX, {"subnet": {"project_id": network["project_id"],
                                                        "network_id": network["id"], "cidr": cidr,
                                                        "ip_version": 4, "enable_dhcp": False}})

    def report(self, host, **configurations):
        return self.core.agents.report_state(CTX, {
            "agent_type": topics.AGENT_TYPE_L3, "binary": "netweave-l3-agent", "host": host,
            "topic": topics.L3_AGENT, "configurations": dict({"agent_mode": "legacy"}, **configurations)})

    def agent_id(self, host):
        (agent,) = [a for a in self.core.agents.list(CTX)
                    if a["host"] == host and a["agent_type"] == topics.AGENT_TYPE_L3]
        return agent["id"]

    def router(self, name="r", interface_cidr=None, gateway=False):
        router = self.l3.create_router(CTX, {"router": {"project_id": "p1", "name": name}})
        if interface_cidr:
            net = self.core.create_network(CTX, {"network": {"project_id": "p1", "name": name + "-net"}})
            subnet = self.subnet(net, interface_cidr)
            self.l3.add_router_interface(CTX, router["id"], {"subnet_id": subnet["id"]})
        if gateway:
            self.l3.update_router(CTX, router["id"], {"router": {"external_gateway_info": {
                "network_id": self.ext["id"]}}})
        return router

    def hosts(self, router_id):
        with db_api.reader_scope() as session:
            return self.l3.scheduler.hosts_of(session, [router_id]).get(router_id, [])


@pytest.fixture(params=ml2_plugin.BACKENDS)
def cloud(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    cfg.CONF.set_override("agent_down_time", DOWN_TIME)
    try:
        with ml2_plugin.plugin_overrides():
            core = ml2_plugin.in_process_plugin(url)
            clock = Clock()
            core.agents.clock = clock
            l3 = plugin_mod.RouterPlugin(cfg.CONF)
            casts = RecordingCasts()
            l3.notifier = l3_notifier.L3AgentNotifier(casts)
            l3.initialize(core)
            # The server has been up long enough to judge heartbeats.
            l3.scheduler.liveness.started_at = START - datetime.timedelta(hours=1)
            try:
                yield Cloud(core, l3, clock, casts)
            finally:
                db_api.DATABASE.engine.dispose()
    finally:
        for name in ("agent_down_time", "router_auto_schedule", "allow_automatic_l3agent_failover",
                     "enable_services_on_agents_with_admin_state_down"):
            cfg.CONF.clear_override(name)


def test_routers_go_to_the_agent_with_fewest_routers_once_they_route(cloud):
    for host in ("net1", "net2"):
        cloud.report(host)
    bare = cloud.router("bare")
    routed = [cloud.router("r%d" % i, interface_cidr="10.%d.0.0/24" % i) for i in range(4)]
    assert cloud.hosts(bare["id"]) == []
    hosts = [cloud.hosts(r["id"]) for r in routed]
    assert sorted(h for (h,) in hosts) == ["net1", "net1", "net2", "net2"]
    # A gateway alone is enough to be scheduled.
    gw_only = cloud.router("gw", gateway=True)
    assert len(cloud.hosts(gw_only["id"])) == 1
    # Each agent is told of its own routers only, by a cast to its host.
    for router, (host,) in zip(routed, hosts):
        assert ("routers_updated", host, {"routers": [router["id"]]}) in cloud.casts.sent
    assert not [c for c in cloud.casts.sent if c[1] is None]
    # sync_routers answers each host its routers, get_router_ids their ids.
    for host in ("net1", "net2"):
        mine = sorted(r["id"] for r, (h,) in zip(routed + [gw_only], hosts + [cloud.hosts(gw_only["id"])])
                      if h == host)
        assert sorted(r["id"] for r in cloud.rpc.sync_routers(CTX, host=host)) == mine
        assert cloud.rpc.get_router_ids(CTX, host=host) == mine


def test_dead_disabled_and_dvr_agents_are_not_chosen(cloud):
    cloud.report("dead")
    cloud.clock.advance(DOWN_TIME + 1)
    cloud.report("disabled")
    cloud.core.agents.update(CTX, cloud.agent_id("disabled"), {"admin_state_up": False})
    cloud.report("dvr", agent_mode="dvr")
    router = cloud.router(interface_cidr="10.1.0.0/24")
    assert cloud.hosts(router["id"]) == []
    cloud.report("alive")
    cloud.l3.update_router(CTX, router["id"], {"router": {"name": "renamed"}})
    assert cloud.hosts(router["id"]) == ["alive"]


def test_internal_only_routers_skip_agents_that_do_not_handle_them(cloud):
    cloud.report("gw-only", handle_internal_only_routers=False)
    internal = cloud.router("internal", interface_cidr="10.1.0.0/24")
    assert cloud.hosts(internal["id"]) == []
    external = cloud.router("external", gateway=True)
    assert cloud.hosts(external["id"]) == ["gw-only"]
    # Nor does that agent take it when it asks for its routers.
    assert [r["id"] for r in cloud.rpc.sync_routers(CTX, host="gw-only")] == [external["id"]]


def test_an_agent_asking_for_its_routers_takes_those_without_agent(cloud):
    early = cloud.router("early", interface_cidr="10.1.0.0/24")
    assert cloud.hosts(early["id"]) == []
    cloud.report("late")
    assert [r["id"] for r in cloud.rpc.sync_routers(CTX, host="late")] == [early["id"]]
    assert cloud.hosts(early["id"]) == ["late"]
    # sync_routers bound the router's interface port to that host.
    (port,) = cloud.core.get_ports(CTX, filters={"device_id": [early["id"]]})
    assert port["binding:host_id"] == "late"


def test_auto_schedule_can_be_turned_off(cloud):
    cfg.CONF.set_override("router_auto_schedule", False)
    cloud.l3.notifier.auto_schedule = False
    rpc = l3_rpc.L3RpcEndpoint(cloud.l3.scheduler, cloud.core.ports, auto_schedule=False)
    cloud.report("net1")
    router = cloud.router(interface_cidr="10.1.0.0/24")
    assert cloud.hosts(router["id"]) == [] and rpc.sync_routers(CTX, host="net1") == []
    cloud.l3.scheduler.add_router(cloud.agent_id("net1"), router["id"])
    assert [r["id"] for r in rpc.sync_routers(CTX, host="net1")] == [router["id"]]


def test_router_deleted_is_told_to_its_host_only(cloud):
    cloud.report("net1")
    cloud.report("net2")
    first = cloud.router("a", interface_cidr="10.1.0.0/24")
    (host,) = cloud.hosts(first["id"])
    cloud.l3.remove_router_interface(CTX, first["id"], {"subnet_id": cloud.core.get_subnets(
        CTX, filters={"cidr": ["10.1.0.0/24"]})[0]["id"]})
    del cloud.casts.sent[:]
    cloud.l3.delete_router(CTX, first["id"])
    assert cloud.casts.sent == [("router_deleted", host, {"router_id": first["id"]})]


def test_failover_moves_routers_off_dead_agents(cloud):
    cfg.CONF.set_override("allow_automatic_l3agent_failover", True)
    cloud.report("net1")
    router = cloud.router(interface_cidr="10.1.0.0/24")
    assert cloud.hosts(router["id"]) == ["net1"]
    cloud.clock.advance(DOWN_TIME + 1)
    cloud.report("net2")
    # Late, not yet dead for twice agent_down_time: nothing moves.
    assert cloud.l3.reschedule_from_dead_agents() == []
    cloud.clock.advance(DOWN_TIME)
    cloud.report("net2")
    del cloud.casts.sent[:]
    [(router_id, old_host, new_agent)] = cloud.l3.reschedule_from_dead_agents()
    assert (router_id, old_host, new_agent.host) == (router["id"], "net1", "net2")
    assert cloud.hosts(router["id"]) == ["net2"]
    assert cloud.casts.sent == [("router_removed_from_agent", "net1", {"payload": {"router_id": router["id"]}}),
                                ("router_added_to_agent", "net2", {"payload": [router["id"]]})]


def test_no_failover_when_turned_off_or_server_just_started(cloud):
    cloud.report("net1")
    router = cloud.router(interface_cidr="10.1.0.0/24")
    cloud.clock.advance(3 * DOWN_TIME)
    cloud.report("net2")
    assert cloud.l3.reschedule_from_dead_agents() == []
    cfg.CONF.set_override("allow_automatic_l3agent_failover", True)
    cloud.l3.scheduler.liveness.started_at = cloud.clock()
    assert cloud.l3.reschedule_from_dead_agents() == []
    assert cloud.hosts(router["id"]) == ["net1"]


def test_manual_add_and_remove_with_neutrons_errors(cloud):
    cloud.report("net1")
    cloud.report("net2")
    cloud.core.agents.report_state(CTX, {"agent_type": topics.AGENT_TYPE_DHCP, "binary": "netweave-dhcp-agent",
                                         "host": "net1", "topic": topics.DHCP_AGENT})
    dhcp_id = [a["id"] for a in cloud.core.agents.list(CTX) if a["agent_type"] == topics.AGENT_TYPE_DHCP][0]
    router = cloud.router(interface_cidr="10.1.0.0/24")
    (host,) = cloud.hosts(router["id"])
    other = "net2" if host == "net1" else "net1"
    with pytest.raises(l3_scheduler.RouterHostedByL3Agent) as raised:
        cloud.l3.scheduler.add_router(cloud.agent_id(other), router["id"])
    assert raised.value.status == 409
    with pytest.raises(l3_scheduler.InvalidL3Agent) as raised:
        cloud.l3.scheduler.add_router(dhcp_id, router["id"])
    assert raised.value.status == 404
    with pytest.raises(exc.AgentNotFound):
        cloud.l3.scheduler.add_router("0b3f5c1e-1d7e-4e5a-8f36-1c1e6f0a9b2d", router["id"])
    with pytest.raises(exc.NotFound):
        cloud.l3.scheduler.add_router(cloud.agent_id(other), "0b3f5c1e-1d7e-4e5a-8f36-1c1e6f0a9b2d")
    with pytest.raises(l3_scheduler.RouterNotHostedByL3Agent) as raised:
        cloud.l3.scheduler.remove_router(cloud.agent_id(other), router["id"])
    assert raised.value.status == 409
    assert cloud.l3.scheduler.remove_router(cloud.agent_id(host), router["id"]) == host
    assert cloud.l3.scheduler.add_router(cloud.agent_id(other), router["id"]) == other
    assert cloud.hosts(router["id"]) == [other]
    # Deleting the agent takes its bindings with it.
    cloud.core.agents.delete(CTX, cloud.agent_id(other))
    assert cloud.hosts(router["id"]) == []


def test_racing_schedulers_bind_a_router_once(cloud):
    for host in ("net1", "net2", "net3"):
        cloud.report(host)
    router = cloud.l3.create_router(CTX, {"router": {"project_id": "p1", "name": "race"}})
    net = cloud.core.create_network(CTX, {"network": {"project_id": "p1", "name": "n"}})
    subnet = cloud.subnet(net, "10.9.0.0/24")
    scheduler = cloud.l3.scheduler
    # Interface without the notifier's scheduling: the routers are scheduled by the racers only.
    cloud.l3.notifier.auto_schedule = False
    cloud.l3.add_router_interface(CTX, router["id"], {"subnet_id": subnet["id"]})
    barrier = threading.Barrier(3)
    errors = []

    def race(call):
        barrier.wait()
        try:
            call()
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=race, args=(lambda: scheduler.schedule_routers([router["id"]]),)),
               threading.Thread(target=race, args=(lambda: scheduler.auto_schedule("net2"),)),
               threading.Thread(target=race, args=(lambda: scheduler.auto_schedule("net3"),))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cloud.hosts(router["id"])) == 1


def test_floating_ip_active_when_the_agent_says_so_and_down_once_disassociated(cloud):
    cloud.report("net1")
    net = cloud.core.create_network(CTX, {"network": {"project_id": "p1", "name": "fipnet"}})
    subnet = cloud.subnet(net, "10.7.0.0/24")
    router = cloud.router("fip", gateway=True)
    cloud.l3.add_router_interface(CTX, router["id"], {"subnet_id": subnet["id"]})
    port = cloud.core.create_port(CTX, {"port": {"project_id": "p1", "network_id": net["id"]}})
    fip = cloud.l3.create_floatingip(CTX, {"floatingip": {"project_id": "p1", "floating_network_id": cloud.ext["id"],
                                                          "port_id": port["id"]}})
    assert fip["status"] == "DOWN"
    cloud.rpc.update_floatingip_statuses(CTX, router_id=router["id"], fip_statuses={fip["id"]: "ACTIVE"})
    assert cloud.l3.get_floatingip(CTX, fip["id"])["status"] == "ACTIVE"
    updated = cloud.l3.update_floatingip(CTX, fip["id"], {"floatingip": {"port_id": None}})
    assert (updated["status"], updated["router_id"]) == ("DOWN", None)
