"""DHCP agent scheduling on a real database (SQLite and PostgreSQL) with the real ML2 plugin.

Agents are registered through the same state-report path the RPC endpoint
uses (DhcpReportFollowUp), with a clock the test moves to make agents die.
"""
import datetime
import threading

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import dhcp as dhcp_models
from netweave.core.rpc import dhcp_endpoints, topics
from netweave.core.services import dhcp_agents

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


@pytest.fixture(params=ml2_plugin.BACKENDS)
def plugin(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    cfg.CONF.set_override("agent_down_time", DOWN_TIME)
    try:
        with ml2_plugin.plugin_overrides():
            plugin = ml2_plugin.in_process_plugin(url)
            clock = Clock()
            plugin.agents.clock = clock
            plugin.clock = clock
            # The server has been up long enough to judge heartbeats.
            plugin.dhcp_scheduler.liveness.started_at = START - datetime.timedelta(hours=1)
            plugin.reports = dhcp_endpoints.DhcpReportFollowUp(plugin.agents, plugin.dhcp_hooks)
            try:
                yield plugin
            finally:
                db_api.DATABASE.engine.dispose()
    finally:
        for name in ("agent_down_time", "dhcp_agents_per_network", "network_auto_schedule",
                     "allow_automatic_dhcp_failover", "dhcp_load_type"):
            cfg.CONF.clear_override(name)


def dhcp_state(host, **configurations):
    return {"agent_type": topics.AGENT_TYPE_DHCP, "binary": "netweave-dhcp-agent", "host": host,
            "topic": topics.DHCP_AGENT,
            "configurations": dict({"dhcp_driver": "dnsmasq", "dhcp_lease_duration": 86400, "networks": 0,
                                    "subnets": 0, "ports": 0, "log_agent_heartbeats": False},
                                   **configurations)}


def report(plugin, host, **configurations):
    return plugin.reports.report_state(CTX, dhcp_state(host, **configurations))


def network_with_subnet(plugin, name, cidr, enable_dhcp=True):
    network = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": name}})
    subnet = plugin.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": network["id"], "cidr": cidr,
                                                   "ip_version": 4, "enable_dhcp": enable_dhcp}})
    return network, subnet


def hosts_of(plugin, network_id):
    with db_api.reader_scope() as session:
        ids = plugin.dhcp_scheduler.agent_ids_hosting(session, network_id)
    return sorted(plugin.get_agent(CTX, i)["host"] for i in ids)


def agent_id(plugin, host):
    (agent,) = plugin.get_agents(CTX, filters={"host": [host], "agent_type": [topics.AGENT_TYPE_DHCP]})
    return agent["id"]


def test_dhcp_subnet_schedules_network_to_least_loaded_agents(plugin):
    cfg.CONF.set_override("dhcp_agents_per_network", 2)
    for host in ("dhcp-a", "dhcp-b", "dhcp-c"):
        report(plugin, host)
    bare = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "bare"}})
    assert hosts_of(plugin, bare["id"]) == []
    networks = [network_with_subnet(plugin, "net%d" % i, "10.%d.0.0/24" % i)[0] for i in range(6)]
    for network in networks:
        assert len(hosts_of(plugin, network["id"])) == 2
    loads = {}
    for network in networks:
        for host in hosts_of(plugin, network["id"]):
            loads[host] = loads.get(host, 0) + 1
    # 12 bindings over 3 agents, each new network taking the two least loaded.
    assert loads == {"dhcp-a": 4, "dhcp-b": 4, "dhcp-c": 4}
    assert hosts_of(plugin, bare["id"]) == []


def test_subnet_without_dhcp_schedules_nothing_until_dhcp_is_turned_on(plugin):
    report(plugin, "dhcp-a")
    network, subnet = network_with_subnet(plugin, "static", "10.1.0.0/24", enable_dhcp=False)
    assert hosts_of(plugin, network["id"]) == []
    plugin.update_subnet(CTX, subnet["id"], {"subnet": {"enable_dhcp": True}})
    assert hosts_of(plugin, network["id"]) == ["dhcp-a"]


def test_dead_and_disabled_agents_are_not_chosen(plugin):
    report(plugin, "dhcp-dead")
    plugin.clock.advance(DOWN_TIME + 1)
    report(plugin, "dhcp-off")
    plugin.update_agent(CTX, agent_id(plugin, "dhcp-off"), {"agent": {"admin_state_up": False}})
    report(plugin, "dhcp-ok")
    network, _subnet = network_with_subnet(plugin, "net", "10.2.0.0/24")
    assert hosts_of(plugin, network["id"]) == ["dhcp-ok"]


def test_load_reported_by_agents_orders_them_for_ports_load_type(plugin):
    cfg.CONF.set_override("dhcp_load_type", "ports")
    report(plugin, "dhcp-busy", ports=500)
    report(plugin, "dhcp-idle", ports=3)
    network, _subnet = network_with_subnet(plugin, "net", "10.3.0.0/24")
    assert hosts_of(plugin, network["id"]) == ["dhcp-idle"]


def test_reporting_agent_takes_networks_left_without_agents(plugin):
    cfg.CONF.set_override("dhcp_agents_per_network", 2)
    first, _ = network_with_subnet(plugin, "early1", "10.4.0.0/24")
    second, _ = network_with_subnet(plugin, "early2", "10.5.0.0/24")
    static, _ = network_with_subnet(plugin, "static", "10.6.0.0/24", enable_dhcp=False)
    assert hosts_of(plugin, first["id"]) == []
    report(plugin, "dhcp-a")
    assert hosts_of(plugin, first["id"]) == hosts_of(plugin, second["id"]) == ["dhcp-a"]
    report(plugin, "dhcp-b")
    assert hosts_of(plugin, first["id"]) == ["dhcp-a", "dhcp-b"]
    report(plugin, "dhcp-c")
    # Two agents per network already: the third takes nothing; no DHCP, no agent.
    assert hosts_of(plugin, first["id"]) == ["dhcp-a", "dhcp-b"]
    assert hosts_of(plugin, static["id"]) == []


def test_auto_schedule_can_be_turned_off(plugin):
    cfg.CONF.set_override("network_auto_schedule", False)
    network, _ = network_with_subnet(plugin, "early", "10.7.0.0/24")
    report(plugin, "dhcp-a")
    assert hosts_of(plugin, network["id"]) == []


def test_failover_moves_networks_off_dead_agents_and_releases_their_ports(plugin):
    report(plugin, "dhcp-a")
    network, subnet = network_with_subnet(plugin, "net", "10.8.0.0/24")
    report(plugin, "dhcp-b")
    assert hosts_of(plugin, network["id"]) == ["dhcp-a"]
    endpoint = dhcp_endpoints.DhcpRpcEndpoint(plugin.dhcp_scheduler, plugin.ports, plugin.devices, plugin.dhcp_hooks)
    old_port = endpoint.create_dhcp_port(CTX, port={"port": {
        "network_id": network["id"], "device_id": dhcp_agents.dhcp_device_id("dhcp-a", network["id"]),
        "fixed_ips": [{"subnet_id": subnet["id"]}]}}, host="dhcp-a")
    # dhcp-a misses heartbeats: late (one agent_down_time) is not enough to move its networks.
    plugin.clock.advance(DOWN_TIME + 1)
    report(plugin, "dhcp-b")
    assert hosts_of(plugin, network["id"]) == ["dhcp-a"]
    plugin.clock.advance(DOWN_TIME)
    report(plugin, "dhcp-b")
    assert hosts_of(plugin, network["id"]) == ["dhcp-b"]
    with pytest.raises(exc.PortNotFound):
        plugin.get_port(CTX, old_port["id"])
    # Back from the dead, dhcp-a is a candidate again but the network has its agent.
    report(plugin, "dhcp-a")
    assert hosts_of(plugin, network["id"]) == ["dhcp-b"]


def test_no_failover_when_turned_off_or_server_just_started(plugin):
    report(plugin, "dhcp-a")
    network, _ = network_with_subnet(plugin, "net", "10.9.0.0/24")
    plugin.clock.advance(3 * DOWN_TIME)
    plugin.dhcp_scheduler.liveness.started_at = plugin.clock.now - datetime.timedelta(seconds=DOWN_TIME)
    report(plugin, "dhcp-b")
    assert hosts_of(plugin, network["id"]) == ["dhcp-a"]
    plugin.dhcp_scheduler.liveness.started_at = START - datetime.timedelta(hours=1)
    cfg.CONF.set_override("allow_automatic_dhcp_failover", False)
    report(plugin, "dhcp-b")
    assert hosts_of(plugin, network["id"]) == ["dhcp-a"]
    cfg.CONF.set_override("allow_automatic_dhcp_failover", True)
    report(plugin, "dhcp-b")
    assert hosts_of(plugin, network["id"]) == ["dhcp-b"]


def test_racing_schedulers_never_exceed_dhcp_agents_per_network(plugin):
    cfg.CONF.set_override("dhcp_agents_per_network", 2)
    cfg.CONF.set_override("network_auto_schedule", False)
    networks = [network_with_subnet(plugin, "race%d" % i, "10.20.%d.0/24" % i)[0] for i in range(6)]
    for host in ("dhcp-a", "dhcp-b", "dhcp-c", "dhcp-d"):
        report(plugin, host)
    errors = []
    barrier = threading.Barrier(4)

    def schedule_all():
        try:
            barrier.wait(timeout=30)
            for network in networks:
                plugin.dhcp_scheduler.schedule_network(network["id"])
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=schedule_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with db_api.reader_scope() as session:
        counts = dict(session.execute(
            sa.select(dhcp_models.NetworkDhcpAgentBinding.network_id, sa.func.count())
            .group_by(dhcp_models.NetworkDhcpAgentBinding.network_id)).all())
    assert counts == {n["id"]: 2 for n in networks}


def test_deleting_agent_or_network_removes_bindings_and_dhcp_ports(plugin):
    report(plugin, "dhcp-a")
    report(plugin, "dhcp-b")
    cfg.CONF.set_override("dhcp_agents_per_network", 2)
    network, subnet = network_with_subnet(plugin, "net", "10.10.0.0/24")
    assert hosts_of(plugin, network["id"]) == ["dhcp-a", "dhcp-b"]
    plugin.delete_agent(CTX, agent_id(plugin, "dhcp-b"))
    assert hosts_of(plugin, network["id"]) == ["dhcp-a"]
    endpoint = dhcp_endpoints.DhcpRpcEndpoint(plugin.dhcp_scheduler, plugin.ports, plugin.devices, plugin.dhcp_hooks)
    port = endpoint.create_dhcp_port(CTX, port={"port": {
        "network_id": network["id"], "device_id": dhcp_agents.dhcp_device_id("dhcp-a", network["id"]),
        "fixed_ips": [{"subnet_id": subnet["id"]}]}}, host="dhcp-a")
    assert port["device_owner"] == "network:dhcp"
    plugin.delete_network(CTX, network["id"])
    with pytest.raises(exc.PortNotFound):
        plugin.get_port(CTX, port["id"])
    with db_api.reader_scope() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(dhcp_models.NetworkDhcpAgentBinding)) == 0


def test_manual_add_and_remove_with_neutron_errors(plugin):
    report(plugin, "dhcp-a")
    report(plugin, "dhcp-b")
    plugin.agents.report_state(CTX, ml2_plugin.linuxbridge_state("compute1"))
    network, _ = network_with_subnet(plugin, "net", "10.11.0.0/24")
    scheduler = plugin.dhcp_scheduler
    a, b = agent_id(plugin, "dhcp-a"), agent_id(plugin, "dhcp-b")
    assert hosts_of(plugin, network["id"]) == ["dhcp-a"]
    with pytest.raises(dhcp_agents.NetworkHostedByDHCPAgent) as raised:
        scheduler.add_network(a, network["id"])
    assert raised.value.status == 409
    assert str(raised.value) == "The network %s has been already hosted by the DHCP Agent %s." % (network["id"], a)
    # By hand, beyond dhcp_agents_per_network.
    assert scheduler.add_network(b, network["id"]) == "dhcp-b"
    assert hosts_of(plugin, network["id"]) == ["dhcp-a", "dhcp-b"]
    lb = plugin.get_agents(CTX, filters={"host": ["compute1"]})[0]["id"]
    with pytest.raises(dhcp_agents.InvalidDHCPAgent) as raised:
        scheduler.add_network(lb, network["id"])
    assert raised.value.status == 404
    with pytest.raises(exc.NetworkNotFound):
        scheduler.add_network(b, "00000000-0000-0000-0000-000000000000")
    assert scheduler.remove_network(a, network["id"]) == "dhcp-a"
    with pytest.raises(dhcp_agents.NetworkNotHostedByDhcpAgent) as raised:
        scheduler.remove_network(a, network["id"])
    assert raised.value.status == 409
    plugin.update_agent(CTX, a, {"agent": {"admin_state_up": False}})
    with pytest.raises(dhcp_agents.InvalidDHCPAgent):
        scheduler.add_network(a, network["id"])
