"""Availability-zone aware DHCP and L3 scheduling on a real database (SQLite and PostgreSQL), with the
real ML2 plugin and the router and az service plugins.

Agents register through the state-report paths the RPC endpoints use, with a clock the test moves
to make agents die.
"""
import datetime

import pytest
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.db import api as db_api
from netweave.core.rpc import dhcp_endpoints, topics
from netweave.service_plugins.az import plugin as az_plugin
from netweave.service_plugins.router import plugin as router_plugin

CTX = context_mod.get_admin_context()
START = datetime.datetime(2026, 12, 5, 12, 0, 0)
DOWN_TIME = 10
OVERRIDES = ("agent_down_time", "dhcp_agents_per_network", "allow_automatic_dhcp_failover",
             "allow_automatic_l3agent_failover", "default_availability_zones")


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += datetime.timedelta(seconds=seconds)


class Cloud:
    def __init__(self, core, l3, clock):
        self.core, self.l3, self.clock = core, l3, clock
        self.reports = dhcp_endpoints.DhcpReportFollowUp(core.agents, core.dhcp_hooks)

    def dhcp(self, host, zone):
        return self.reports.report_state(CTX, {
            "agent_type": topics.AGENT_TYPE_DHCP, "binary": "netweave-dhcp-agent", "host": host,
            "topic": topics.DHCP_AGENT, "availability_zone": zone, "configurations": {"networks": 0}})

    def l3_agent(self, host, zone):
        return self.core.agents.report_state(CTX, {
            "agent_type": topics.AGENT_TYPE_L3, "binary": "netweave-l3-agent", "host": host,
            "topic": topics.L3_AGENT, "availability_zone": zone, "configurations": {"agent_mode": "legacy"}})

    def network(self, name, cidr, hints=()):
        network = self.core.create_network(CTX, {"network": {"project_id": "p1", "name": name,
                                                             "availability_zone_hints": list(hints)}})
        self.core.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": network["id"], "cidr": cidr,
                                                 "ip_version": 4}})
        return network

    def dhcp_hosts(self, network):
        with db_api.reader_scope() as session:
            ids = self.core.dhcp_scheduler.agent_ids_hosting(session, network["id"])
        return sorted(self.core.get_agent(CTX, i)["host"] for i in ids)

    def router(self, name, cidr, hints=()):
        router = self.l3.create_router(CTX, {"router": {"project_id": "p1", "name": name,
                                                        "availability_zone_hints": list(hints)}})
        net = self.core.create_network(CTX, {"network": {"project_id": "p1", "name": name + "-net"}})
        subnet = self.core.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": net["id"],
                                                          "cidr": cidr, "ip_version": 4, "enable_dhcp": False}})
        self.l3.add_router_interface(CTX, router["id"], {"subnet_id": subnet["id"]})
        return router

    def l3_hosts(self, router):
        with db_api.reader_scope() as session:
            return self.l3.scheduler.hosts_of(session, [router["id"]]).get(router["id"], [])


@pytest.fixture(params=ml2_plugin.BACKENDS)
def cloud(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    cfg.CONF.set_override("agent_down_time", DOWN_TIME)
    try:
        with ml2_plugin.plugin_overrides():
            core = ml2_plugin.in_process_plugin(url)
            clock = Clock()
            core.agents.clock = clock
            l3 = router_plugin.RouterPlugin(cfg.CONF)
            l3.initialize(core)
            az_plugin.AvailabilityZonePlugin(cfg.CONF).initialize(core)
            # The server has been up long enough to judge heartbeats.
            for scheduler in (core.dhcp_scheduler, l3.scheduler):
                scheduler.liveness.started_at = START - datetime.timedelta(hours=1)
            try:
                yield Cloud(core, l3, clock)
            finally:
                db_api.DATABASE.engine.dispose()
    finally:
        for name in OVERRIDES:
            cfg.CONF.clear_override(name)


def test_networks_get_one_dhcp_agent_per_hinted_zone(cloud):
    cfg.CONF.set_override("dhcp_agents_per_network", 2)
    for host, zone in (("a1", "AZ1"), ("a2", "AZ1"), ("b1", "AZ2"), ("n1", "nova")):
        cloud.dhcp(host, zone)
    spread = [cloud.network("both%d" % i, "10.1.%d.0/24" % i, ["AZ1", "AZ2"]) for i in range(3)]
    for network in spread:
        hosts = cloud.dhcp_hosts(network)
        assert len(hosts) == 2 and hosts[-1] == "b1" and hosts[0] in ("a1", "a2")
        assert cloud.core.get_network(CTX, network["id"])["availability_zones"] == ["AZ1", "AZ2"]
    # The two AZ1 agents shared the AZ1 half.
    assert {cloud.dhcp_hosts(n)[0] for n in spread} == {"a1", "a2"}
    # Hinted at AZ1 alone: both agents from AZ1, none from elsewhere.
    assert cloud.dhcp_hosts(cloud.network("az1", "10.2.0.0/24", ["AZ1"])) == ["a1", "a2"]
    # Hinted at AZ2, which has one agent: one agent only, never one outside the zone.
    only = cloud.network("az2", "10.3.0.0/24", ["AZ2"])
    assert cloud.dhcp_hosts(only) == ["b1"]
    # ... not even when another agent asks for networks lacking agents.
    cloud.dhcp("n1", "nova")
    assert cloud.dhcp_hosts(only) == ["b1"]
    listed = {n["id"]: n["availability_zones"] for n in cloud.core.get_networks(CTX)}
    assert listed[only["id"]] == ["AZ2"]


def test_best_effort_when_the_hinted_zone_has_no_live_agent(cloud):
    cloud.dhcp("a1", "AZ1")
    cloud.l3_agent("l1", "AZ1")
    cloud.clock.advance(DOWN_TIME + 1)
    cloud.dhcp("n1", "nova")
    cloud.l3_agent("ln", "nova")
    network = cloud.network("net", "10.4.0.0/24", ["AZ1"])
    router = cloud.router("r", "10.5.0.0/24", ["AZ1"])
    assert (cloud.dhcp_hosts(network), cloud.l3_hosts(router)) == (["n1"], ["ln"])
    shown = cloud.l3.get_router(CTX, router["id"])
    assert (shown["availability_zone_hints"], shown["availability_zones"]) == (["AZ1"], ["nova"])


def test_an_agent_asking_for_work_takes_only_what_its_zone_may_have(cloud):
    cloud.dhcp("a1", "AZ1")
    cloud.dhcp("n1", "nova")
    cloud.clock.advance(DOWN_TIME + 1)
    # No agent alive: the network waits for one.
    network = cloud.network("net", "10.6.0.0/24", ["AZ1"])
    assert cloud.dhcp_hosts(network) == []
    # Both come back; the nova agent reports first but leaves the network to the AZ1 agent.
    cloud.core.agents.report_state(CTX, {"agent_type": topics.AGENT_TYPE_DHCP, "binary": "netweave-dhcp-agent",
                                         "host": "a1", "topic": topics.DHCP_AGENT, "availability_zone": "AZ1"})
    cloud.dhcp("n1", "nova")
    assert cloud.dhcp_hosts(network) == []
    cloud.dhcp("a1", "AZ1")
    assert cloud.dhcp_hosts(network) == ["a1"]


def test_routers_land_in_hinted_zones_spread_and_follow_default_zones(cloud):
    for host, zone in (("l1a", "AZ1"), ("l1b", "AZ1"), ("l2a", "AZ2"), ("lna", "nova")):
        cloud.l3_agent(host, zone)
    first = cloud.router("r1", "10.10.1.0/24", ["AZ1", "AZ2"])
    second = cloud.router("r2", "10.10.2.0/24", ["AZ1", "AZ2"])
    assert sorted(cloud.l3_hosts(first) + cloud.l3_hosts(second)) == ["l1a", "l2a"]
    third = cloud.router("r3", "10.10.3.0/24", ["AZ2"])
    assert cloud.l3_hosts(third) == ["l2a"]
    cfg.CONF.set_override("default_availability_zones", ["AZ1"])
    plain = cloud.router("r4", "10.10.4.0/24")
    assert cloud.l3_hosts(plain) == ["l1b"]
    shown = cloud.l3.get_router(CTX, plain["id"])
    assert (shown["availability_zone_hints"], shown["availability_zones"]) == ([], ["AZ1"])


def test_failover_stays_in_the_zone(cloud):
    cfg.CONF.set_override("allow_automatic_dhcp_failover", True)
    cfg.CONF.set_override("allow_automatic_l3agent_failover", True)
    cloud.dhcp("a1", "AZ1")
    cloud.dhcp("a2", "AZ1")
    cloud.dhcp("b1", "AZ2")
    cloud.l3_agent("l1a", "AZ1")
    cloud.l3_agent("l1b", "AZ1")
    cloud.l3_agent("l2a", "AZ2")
    network = cloud.network("net", "10.7.0.0/24", ["AZ1", "AZ2"])
    router = cloud.router("r", "10.8.0.0/24", ["AZ1", "AZ2"])
    assert (cloud.dhcp_hosts(network), cloud.l3_hosts(router)) == (["a1"], ["l1a"])
    # a2 and l1b are the busier ones, so a move by load alone would leave AZ1.
    for i in range(2):
        cloud.core.dhcp_scheduler.add_network(cloud.core.get_agents(CTX, filters={"host": ["a2"]})[0]["id"],
                                              cloud.core.create_network(CTX, {"network": {
                                                  "project_id": "p1", "name": "extra%d" % i}})["id"])
    busy = cloud.router("busy", "10.9.0.0/24", ["AZ1"])
    assert cloud.l3_hosts(busy) == ["l1b"]
    # a1 and l1a die; the others keep reporting (heartbeats first, then the DHCP report's failover).
    cloud.clock.advance(2 * DOWN_TIME + 1)
    for host, zone in (("a2", "AZ1"), ("b1", "AZ2")):
        cloud.core.agents.report_state(CTX, {"agent_type": topics.AGENT_TYPE_DHCP, "binary": "netweave-dhcp-agent",
                                             "host": host, "topic": topics.DHCP_AGENT, "availability_zone": zone})
    for host, zone in (("l1b", "AZ1"), ("l2a", "AZ2")):
        cloud.l3_agent(host, zone)
    cloud.dhcp("b1", "AZ2")
    moved = cloud.l3.reschedule_from_dead_agents()
    assert [(router_id, dead) for router_id, dead, _new in moved] == [(router["id"], "l1a")]
    assert (cloud.dhcp_hosts(network), cloud.l3_hosts(router)) == (["a2"], ["l1b"])
    assert cloud.core.get_network(CTX, network["id"])["availability_zones"] == ["AZ1"]
