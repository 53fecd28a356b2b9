"""The router plugin and an L3 agent over a real oslo.messaging transport (fake://, in process):
the agent's calls on q-l3-plugin at the versions it asks, and the server's casts on l3_agent."""
import queue

import oslo_messaging
import pytest
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.db import api as db_api
from netweave.core.rpc import serializer, topics
from netweave.core.rpc import servers as rpc_servers
from netweave.service_plugins.router import plugin as plugin_mod

ADMIN = context_mod.get_admin_context()
HOST = "controller01"


class AgentStandIn:
    """The casts an L3 agent on HOST receives."""

    def __init__(self):
        self.received = queue.Queue()

    def routers_updated(self, context, routers=None, **_kwargs):
        self.received.put(("routers_updated", routers))

    def router_deleted(self, context, router_id=None, **_kwargs):
        self.received.put(("router_deleted", router_id))

    def next(self, timeout=15):
        return self.received.get(timeout=timeout)


@pytest.fixture
def bus(tmp_path):
    with ml2_plugin.plugin_overrides():
        core = ml2_plugin.in_process_plugin("sqlite:///%s" % (tmp_path / "l3_rpc.db"))
        l3 = plugin_mod.RouterPlugin(cfg.CONF)
        l3.initialize(core)
        transport = oslo_messaging.get_rpc_transport(cfg.CONF, url="fake://")
        l3.connect_agents(transport)
        server = rpc_servers.RpcServers(transport, rpc_servers.collect_endpoints([core, l3]), "server")
        agent = AgentStandIn()
        consumer = rpc_servers.RpcServers(transport, {topics.L3_AGENT: [agent]}, HOST)
        server.start()
        consumer.start()
        try:
            yield core, l3, transport, agent
        finally:
            consumer.stop()
            server.stop()
            transport.cleanup()
            db_api.DATABASE.engine.dispose()


def test_agent_calls_and_server_casts(bus):
    core, l3, transport, agent = bus
    client = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic="q-l3-plugin", version="1.0"),
                                           serializer=serializer.ContextSerializer())
    # The L3 agent of HOST reports: routers are scheduled to it and its host is told of them.
    core.agents.report_state(ADMIN, {"agent_type": topics.AGENT_TYPE_L3, "binary": "netweave-l3-agent",
                                     "host": HOST, "topic": topics.L3_AGENT,
                                     "configurations": {"agent_mode": "legacy"}})
    ext = core.create_network(ADMIN, {"network": {"project_id": "admin", "name": "GATEWAY_NET",
                                                  "router:external": True}})
    core.create_subnet(ADMIN, {"subnet": {"project_id": "admin", "network_id": ext["id"], "cidr": "10.30.0.0/24",
                                          "ip_version": 4, "enable_dhcp": False}})
    router = l3.create_router(ADMIN, {"router": {"project_id": "p1", "tenant_id": "p1", "name": "R",
                                                 "admin_state_up": True,
                                                 "external_gateway_info": {"network_id": ext["id"]}}})
    assert agent.next() == ("routers_updated", [router["id"]])
    [described] = client.call(ADMIN, "sync_routers", host=HOST, router_ids=None)
    assert described["id"] == router["id"] and described["gw_port"]["network_id"] == ext["id"]
    assert client.prepare(version="1.9").call(ADMIN, "get_router_ids", host=HOST) == [router["id"]]
    fip = l3.create_floatingip(ADMIN, {"floatingip": {"project_id": "p1", "tenant_id": "p1",
                                                      "floating_network_id": ext["id"]}})
    # Not associated: no router to tell; statuses of another router's floating IP are ignored.
    client.prepare(version="1.1").call(ADMIN, "update_floatingip_statuses", router_id=router["id"],
                                       fip_statuses={fip["id"]: "ACTIVE"})
    assert l3.get_floatingip(ADMIN, fip["id"])["status"] == "DOWN"
    l3.delete_floatingip(ADMIN, fip["id"])
    l3.update_router(ADMIN, router["id"], {"router": {"external_gateway_info": None}})
    assert agent.next() == ("routers_updated", [router["id"]])
    l3.delete_router(ADMIN, router["id"])
    assert agent.next() == ("router_deleted", router["id"])
    assert client.call(ADMIN, "sync_routers", host=HOST, router_ids=[router["id"]]) == []
    # Another host's agent hosts nothing.
    assert client.call(ADMIN, "sync_routers", host="elsewhere", router_ids=None) == []
