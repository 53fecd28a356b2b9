"""Which ports wait for a DHCP agent (the "DHCP" provisioning block), on a real database.

A port gets the block when an alive, serving DHCP agent hosts its network and
one of its addresses is on a subnet with DHCP on; never on a DHCP-disabled
subnet of the same network, nor for the DHCP agent's own port. Checked for
both port create paths (plain inserts without extension drivers, the ORM with
the port_security driver), bulk creates and address updates.
"""
import datetime

import pytest
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.db import api as db_api
from netweave.core.rpc import dhcp_endpoints, topics
from netweave.core.services import dhcp_agents, provisioning

CTX = context_mod.get_admin_context()
START = datetime.datetime(2026, 11, 24, 12, 0, 0)
DOWN_TIME = 10
DHCP = [provisioning.DHCP_ENTITY]


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += datetime.timedelta(seconds=seconds)


@pytest.fixture(params=[
    ("sqlite", ""), ("sqlite", "port_security"),
    pytest.param(("postgresql", "port_security"), marks=pytest.mark.postgres)],
    ids=lambda p: "-".join(filter(None, p)))
def plugin(request, tmp_path):
    backend, extension = request.param
    url = ml2_plugin.database_url(request, tmp_path, backend)
    cfg.CONF.set_override("agent_down_time", DOWN_TIME)
    cfg.CONF.set_override("extension_drivers", [extension] if extension else [], "ml2")
    try:
        with ml2_plugin.plugin_overrides():
            plugin = ml2_plugin.in_process_plugin(url)
            plugin.agents.clock = Clock()
            plugin.reports = dhcp_endpoints.DhcpReportFollowUp(plugin.agents, plugin.dhcp_hooks)
            try:
                yield plugin
            finally:
                db_api.DATABASE.engine.dispose()
    finally:
        for name in ("agent_down_time", "enable_services_on_agents_with_admin_state_down"):
            cfg.CONF.clear_override(name)
        cfg.CONF.clear_override("extension_drivers", "ml2")


def report(plugin, host):
    return plugin.reports.report_state(CTX, {
        "agent_type": topics.AGENT_TYPE_DHCP, "binary": "netweave-dhcp-agent", "host": host,
        "topic": topics.DHCP_AGENT, "configurations": {"networks": 0, "subnets": 0, "ports": 0}})


def served_network(plugin, name, third_octet):
    """A network with a DHCP subnet (which schedules it) and a subnet without DHCP."""
    network = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": name}})
    subnets = []
    for offset, enable_dhcp in ((0, True), (1, False)):
        subnets.append(plugin.create_subnet(CTX, {"subnet": {
            "project_id": "p1", "network_id": network["id"], "ip_version": 4, "enable_dhcp": enable_dhcp,
            "cidr": "10.%d.%d.0/24" % (third_octet, offset)}}))
    return network, subnets[0], subnets[1]


def port(plugin, network, *subnets, **extra):
    body = dict({"project_id": "p1", "network_id": network["id"]}, **extra)
    if subnets:
        body["fixed_ips"] = [{"subnet_id": s["id"]} for s in subnets]
    return plugin.create_port(CTX, {"port": body})


def blocks(plugin, port_id):
    with db_api.reader_scope() as session:
        return plugin.provisioning.entities(session, port_id)


def test_only_addresses_on_dhcp_subnets_of_served_networks_wait(plugin):
    report(plugin, "xb-dhcp")
    network, dhcp_on, dhcp_off = served_network(plugin, "served", 81)
    assert blocks(plugin, port(plugin, network, dhcp_on)["id"]) == DHCP
    assert blocks(plugin, port(plugin, network, dhcp_off)["id"]) == []
    assert blocks(plugin, port(plugin, network, dhcp_off, dhcp_on)["id"]) == DHCP
    # Without fixed_ips the port gets an address on an IPv4 subnet: waits if that one serves DHCP.
    auto = port(plugin, network)
    assert blocks(plugin, auto["id"]) == (DHCP if auto["fixed_ips"][0]["subnet_id"] == dhcp_on["id"] else [])
    own = port(plugin, network, dhcp_on, device_owner=dhcp_agents.DHCP_DEVICE_OWNER,
               device_id=dhcp_agents.dhcp_device_id("xb-dhcp", network["id"]))
    assert blocks(plugin, own["id"]) == []
    # A bulk create decides port by port, in its one transaction.
    bulk = plugin.create_port_bulk(CTX, {"ports": [
        {"port": {"project_id": "p1", "network_id": network["id"], "fixed_ips": [{"subnet_id": s["id"]}]}}
        for s in (dhcp_off, dhcp_on, dhcp_off)]})
    assert [blocks(plugin, p["id"]) for p in bulk] == [[], DHCP, []]
    # A network no agent hosts: nobody to wait for, whatever its subnets.
    lonely, lonely_on, _ = served_network(plugin, "lonely", 82)
    plugin.dhcp_scheduler.remove_network(_agent_id(plugin, "xb-dhcp"), lonely["id"])
    assert blocks(plugin, port(plugin, lonely, lonely_on)["id"]) == []


def _agent_id(plugin, host):
    (agent,) = plugin.get_agents(CTX, filters={"host": [host], "agent_type": [topics.AGENT_TYPE_DHCP]})
    return agent["id"]


def test_dhcp_switched_on_or_off_counts_from_the_next_port(plugin):
    report(plugin, "xb-dhcp")
    network, dhcp_on, dhcp_off = served_network(plugin, "switch", 83)
    plugin.update_subnet(CTX, dhcp_on["id"], {"subnet": {"enable_dhcp": False}})
    assert blocks(plugin, port(plugin, network, dhcp_on)["id"]) == []
    plugin.update_subnet(CTX, dhcp_off["id"], {"subnet": {"enable_dhcp": True}})
    assert blocks(plugin, port(plugin, network, dhcp_off)["id"]) == DHCP


def test_an_address_moved_onto_a_dhcp_subnet_waits_again(plugin):
    report(plugin, "xb-dhcp")
    network, dhcp_on, dhcp_off = served_network(plugin, "moved", 84)
    moved = port(plugin, network, dhcp_off)
    assert blocks(plugin, moved["id"]) == []
    plugin.update_port(CTX, moved["id"], {"port": {"name": "renamed"}})
    assert blocks(plugin, moved["id"]) == []
    plugin.update_port(CTX, moved["id"], {"port": {"fixed_ips": [{"subnet_id": dhcp_off["id"]},
                                                                  {"subnet_id": dhcp_on["id"]}]}})
    assert blocks(plugin, moved["id"]) == DHCP


def test_dead_or_disabled_agents_leave_ports_unblocked(plugin):
    report(plugin, "xb-dhcp")
    network, dhcp_on, _ = served_network(plugin, "agents", 85)
    plugin.update_agent(CTX, _agent_id(plugin, "xb-dhcp"), {"agent": {"admin_state_up": False}})
    assert blocks(plugin, port(plugin, network, dhcp_on)["id"]) == []
    # Unless services run on disabled agents too.
    cfg.CONF.set_override("enable_services_on_agents_with_admin_state_down", True)
    assert blocks(plugin, port(plugin, network, dhcp_on)["id"]) == DHCP
    plugin.agents.clock.advance(DOWN_TIME + 1)
    assert blocks(plugin, port(plugin, network, dhcp_on)["id"]) == []
