"""Network availability zones (book chapter 14) through the real `openstack` CLI and the HTTP API.

The API and RPC servers run in the test process over the real ML2 plugin with
the router and az service plugins (SQLite and PostgreSQL) and oslo.messaging's
in-process transport; DHCP and L3 agents register by sending report_state over
that transport with their zone, as netweave-dhcp-agent and netweave-l3-agent do.
"""
import datetime
import socketserver
import threading
import wsgiref.simple_server

import oslo_messaging
import pytest
import requests
import sqlalchemy as sa
from oslo_config import cfg

from harness import ml2_plugin
from harness.cli import Cli
from netweave.core import context as context_mod
from netweave.core import service as service_mod
from netweave.core.agent import rpc as agent_rpc
from netweave.core.api import builder
from netweave.core.db import api as db_api
from netweave.core.db.models import agent as agent_models
from netweave.core.plugins.ml2 import loading
from netweave.core.rpc import servers as rpc_servers
from netweave.core.rpc import topics

CTX = context_mod.get_admin_context()
OVERRIDES = ("auth_strategy", "agent_down_time", "dhcp_agents_per_network", "default_availability_zones")
# The CLI calls of one test may take minutes on a busy machine: agents stay alive that long.
DOWN_TIME = 900


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    daemon_threads = True


class Cloud:
    def __init__(self, plugin, transport, url):
        self.plugin = plugin
        self.transport = transport
        self.url = url
        self.cli = Cli(url)

    def report(self, agent_type, host, zone):
        if agent_type == topics.AGENT_TYPE_DHCP:
            state = {"binary": "netweave-dhcp-agent", "topic": topics.DHCP_AGENT,
                     "configurations": {"dhcp_driver": "dnsmasq", "networks": 0}}
        else:
            state = {"binary": "netweave-l3-agent", "topic": topics.L3_AGENT,
                     "configurations": {"agent_mode": "legacy", "handle_internal_only_routers": True}}
        state.update(agent_type=agent_type, host=host, availability_zone=zone, start_flag=True)
        return agent_rpc.StateReportApi(self.transport).report_state(CTX, state)

    def kill(self, host, agent_type):
        """The agent's last heartbeat a day ago: dead."""
        agent = agent_models.Agent
        with db_api.session_scope() as session:
            session.execute(sa.update(agent).where(agent.host == host, agent.agent_type == agent_type).values(
                heartbeat_timestamp=datetime.datetime.utcnow().replace(microsecond=0) - datetime.timedelta(days=1)))

    def api(self, method, path, body=None):
        response = requests.request(method, self.url + "/v2.0" + path, json=body, timeout=30)
        return response.status_code, response.json() if response.content else None


@pytest.fixture(params=ml2_plugin.BACKENDS)
def cloud(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    cfg.CONF.set_override("auth_strategy", "noauth")
    cfg.CONF.set_override("agent_down_time", DOWN_TIME)
    try:
        with ml2_plugin.plugin_overrides():
            plugin = ml2_plugin.in_process_plugin(url)
            services = []
            for _name, service in loading.load_named(service_mod.SERVICE_PLUGIN_NAMESPACE, ["router", "az"],
                                                    "service plugin"):
                service.initialize(plugin)
                services.append(service)
            transport = oslo_messaging.get_rpc_transport(cfg.CONF, url="fake://")
            endpoints = plugin.rpc_endpoints()
            for service in services:
                service.connect_agents(transport)
                for topic, found in service.rpc_endpoints().items():
                    endpoints.setdefault(topic, []).extend(found)
            plugin.connect_agents(transport)
            servers = rpc_servers.RpcServers(transport, endpoints, "controller")
            servers.start()
            app = builder.build_wsgi_app(cfg.CONF, plugin, services)
            httpd = wsgiref.simple_server.make_server("127.0.0.1", 0, app, server_class=_ThreadingServer,
                                                      handler_class=_QuietHandler)
            thread = threading.Thread(target=httpd.serve_forever, name="api", daemon=True)
            thread.start()
            try:
                yield Cloud(plugin, transport, "http://127.0.0.1:%d" % httpd.server_port)
            finally:
                httpd.shutdown()
                httpd.server_close()
                thread.join(timeout=10)
                servers.stop()
                transport.cleanup()
                db_api.DATABASE.engine.dispose()
    finally:
        for name in OVERRIDES:
            cfg.CONF.clear_override(name)


def book_agents(cloud):
    """The book's L3 agents (compute01 moved to AZ1) and DHCP agents in AZ1, AZ2 and nova."""
    for host in ("compute01", "compute02", "compute03", "controller01", "snat01"):
        cloud.report(topics.AGENT_TYPE_L3, host, "AZ1" if host == "compute01" else "nova")
    for host, zone in (("dhcp-a1", "AZ1"), ("dhcp-a2", "AZ1"), ("dhcp-b1", "AZ2"), ("dhcp-n1", "nova")):
        cloud.report(topics.AGENT_TYPE_DHCP, host, zone)


def test_chapter14_with_the_cli(cloud):
    cfg.CONF.set_override("dhcp_agents_per_network", 2)
    book_agents(cloud)
    cli = cloud.cli
    l3_agents = cli.json("network", "agent", "list", "--agent-type", "l3")
    assert sorted((a["Host"], a["Availability Zone"]) for a in l3_agents) == [
        ("compute01", "AZ1"), ("compute02", "nova"), ("compute03", "nova"), ("controller01", "nova"),
        ("snat01", "nova")]
    shown = cli.json("network", "agent", "show", [a["ID"] for a in l3_agents if a["Host"] == "compute01"][0])
    assert shown["availability_zone"] == "AZ1"

    zones = cli.json("availability", "zone", "list", "--network")
    assert sorted((z["Zone Name"], z["Zone Status"]) for z in zones) == [
        ("AZ1", "available"), ("AZ1", "available"), ("AZ2", "available"), ("nova", "available"),
        ("nova", "available")]
    long_zones = cli.json("availability", "zone", "list", "--network", "--long")
    assert sorted((z["Zone Name"], z["Zone Resource"]) for z in long_zones) == [
        ("AZ1", "network"), ("AZ1", "router"), ("AZ2", "network"), ("nova", "network"), ("nova", "router")]

    # Routers (D.3): hinted at AZ1, it lands on compute01 once it has a gateway.
    cli.run("network", "create", "--external", "GATEWAY_NET")
    cli.run("subnet", "create", "--network", "GATEWAY_NET", "--subnet-range", "10.30.0.0/24", "--no-dhcp",
            "GATEWAY_SUBNET")
    router = cli.json("router", "create", "--availability-zone-hint", "AZ1", "Router01")
    assert (router["availability_zone_hints"], router["availability_zones"]) == (["AZ1"], [])
    assert (router["distributed"], router["ha"], router["status"]) == (False, False, "ACTIVE")
    cli.run("router", "set", "--external-gateway", "GATEWAY_NET", "Router01")
    hosting = cli.json("network", "agent", "list", "--router", "Router01")
    assert [(a["Host"], a["Availability Zone"]) for a in hosting] == [("compute01", "AZ1")]
    assert cli.json("router", "show", "Router01")["availability_zones"] == ["AZ1"]

    # Networks (D.4): two DHCP agents per network, one in each hinted zone.
    network = cli.json("network", "create", "network01", "--availability-zone-hint", "AZ1",
                       "--availability-zone-hint", "AZ2")
    assert (network["availability_zone_hints"], network["availability_zones"]) == (["AZ1", "AZ2"], [])
    cli.run("subnet", "create", "--network", "network01", "--subnet-range", "192.168.50.0/24", "subnet01")
    shown = cli.json("network", "show", "network01")
    assert (shown["availability_zone_hints"], shown["availability_zones"]) == (["AZ1", "AZ2"], ["AZ1", "AZ2"])
    dhcp = cli.json("network", "agent", "list", "--network", "network01")
    assert sorted(a["Availability Zone"] for a in dhcp) == ["AZ1", "AZ2"]
    # Without hints, shown empty; a zone nobody reports is refused.
    plain = cli.json("network", "create", "network02")
    assert (plain["availability_zone_hints"], plain["availability_zones"]) == ([], [])
    error = cli.fails("network", "create", "--availability-zone-hint", "AZ9", "network03")
    assert "AvailabilityZone AZ9 could not be found." in error
    error = cli.fails("router", "create", "--availability-zone-hint", "AZ2", "Router02")
    assert "AvailabilityZone AZ2 could not be found." in error  # AZ2 has DHCP agents only
    assert "network03" not in {n["Name"] for n in cli.json("network", "list")}
    assert "Router02" not in {r["Name"] for r in cli.json("router", "list")}


def test_availability_zones_resource_shape_filters_and_states(cloud):
    book_agents(cloud)
    status, body = cloud.api("GET", "/availability_zones")
    assert status == 200
    assert body == {"availability_zones": [
        {"name": "AZ1", "resource": "network", "state": "available"},
        {"name": "AZ2", "resource": "network", "state": "available"},
        {"name": "nova", "resource": "network", "state": "available"},
        {"name": "AZ1", "resource": "router", "state": "available"},
        {"name": "nova", "resource": "router", "state": "available"}]}
    status, body = cloud.api("GET", "/availability_zones?resource=router&fields=name")
    assert body == {"availability_zones": [{"name": "AZ1"}, {"name": "nova"}]}
    # A zone whose agents are all dead is unavailable; one whose agents are all disabled is gone.
    cloud.kill("compute01", topics.AGENT_TYPE_L3)
    cloud.kill("dhcp-a1", topics.AGENT_TYPE_DHCP)
    status, body = cloud.api("GET", "/availability_zones?state=unavailable")
    assert body == {"availability_zones": [{"name": "AZ1", "resource": "router", "state": "unavailable"}]}
    agent_id = [a for a in cloud.api("GET", "/agents?host=dhcp-b1")[1]["agents"]][0]["id"]
    assert cloud.api("PUT", "/agents/" + agent_id, {"agent": {"admin_state_up": False}})[0] == 200
    status, body = cloud.api("GET", "/availability_zones?name=AZ2")
    assert body == {"availability_zones": []}
    # Read only, and Neutron's aliases and names.
    assert cloud.api("POST", "/availability_zones", {"availability_zone": {"name": "x"}})[0] == 405
    aliases = {e["alias"]: e["name"] for e in cloud.api("GET", "/extensions")[1]["extensions"]}
    assert {alias: aliases.get(alias) for alias in ("availability_zone", "network_availability_zone",
                                                    "router_availability_zone")} == {
        "availability_zone": "Availability Zone", "network_availability_zone": "Network Availability Zone",
        "router_availability_zone": "Router Availability Zone"}
    # Regular users list zones too.
    member = requests.get(cloud.url + "/v2.0/availability_zones?resource=network",
                          headers={"X-Project-Id": "p-member", "X-Roles": "member"}, timeout=30)
    assert member.status_code == 200 and {z["name"] for z in member.json()["availability_zones"]} == {"AZ1", "nova"}


def test_hints_are_checked_and_post_only(cloud):
    book_agents(cloud)
    status, body = cloud.api("POST", "/networks", {"network": {"name": "n", "availability_zone_hints": ["AZ1", "AZ7"]}})
    assert (status, body["NeutronError"]["type"], body["NeutronError"]["message"]) == (
        404, "AvailabilityZoneNotFound", "AvailabilityZone AZ7 could not be found.")
    status, body = cloud.api("POST", "/networks", {"network": {"availability_zone_hints": ["AZ1", "AZ1"]}})
    assert (status, body["NeutronError"]["message"]) == (
        400, "Invalid input for availability_zone_hints. Reason: Duplicate items in the list: 'AZ1'.")
    status, body = cloud.api("POST", "/networks", {"network": {"availability_zone_hints": "AZ1"}})
    assert (status, body["NeutronError"]["message"]) == (
        400, "Invalid input for availability_zone_hints. Reason: 'AZ1' is not a list.")
    status, body = cloud.api("POST", "/routers", {"router": {"availability_zone_hints": ["z%03d" % i
                                                                                        for i in range(60)]}})
    assert (status, body["NeutronError"]["message"]) == (
        400, "Invalid input for operation: Too many availability_zone_hints specified.")
    status, body = cloud.api("POST", "/routers", {"router": {"name": "r", "availability_zone_hints": ["nova"]}})
    assert status == 201 and body["router"]["availability_zone_hints"] == ["nova"]
    router_id = body["router"]["id"]
    status, body = cloud.api("PUT", "/routers/" + router_id, {"router": {"availability_zone_hints": ["AZ1"]}})
    assert (status, body["NeutronError"]["message"]) == (
        400, "Cannot update read-only attribute availability_zone_hints")
    status, body = cloud.api("PUT", "/routers/" + router_id, {"router": {"availability_zones": ["AZ1"]}})
    assert status == 400
    status, body = cloud.api("GET", "/routers?fields=availability_zone_hints&fields=id")
    assert body["routers"] == [{"id": router_id, "availability_zone_hints": ["nova"]}]
    assert cloud.api("DELETE", "/routers/" + router_id)[0] == 204
    # A hinted zone with dead agents still exists: hints name zones, not live agents.
    cloud.kill("compute01", topics.AGENT_TYPE_L3)
    status, body = cloud.api("POST", "/routers", {"router": {"name": "r2", "availability_zone_hints": ["AZ1"]}})
    assert status == 201


def test_best_effort_and_default_zones(cloud):
    book_agents(cloud)
    cloud.api("POST", "/networks", {"network": {"name": "ext", "router:external": True}})
    # D.6: the only AZ1 L3 agent is dead; the router still gets an agent, outside AZ1.
    cloud.kill("compute01", topics.AGENT_TYPE_L3)
    _status, body = cloud.api("POST", "/routers", {"router": {"name": "r", "availability_zone_hints": ["AZ1"]}})
    router = body["router"]
    _status, body = cloud.api("POST", "/networks", {"network": {"name": "inner"}})
    _status, subnet = cloud.api("POST", "/subnets", {"subnet": {"network_id": body["network"]["id"], "ip_version": 4,
                                                                "cidr": "10.9.0.0/24", "enable_dhcp": False}})
    status, _body = cloud.api("PUT", "/routers/%s/add_router_interface" % router["id"],
                              {"subnet_id": subnet["subnet"]["id"]})
    assert status == 200
    shown = cloud.api("GET", "/routers/" + router["id"])[1]["router"]
    assert (shown["availability_zone_hints"], shown["availability_zones"]) == (["AZ1"], ["nova"])
    # default_availability_zones stands for missing hints: a plain network goes to AZ2.
    cfg.CONF.set_override("default_availability_zones", ["AZ2"])
    _status, body = cloud.api("POST", "/networks", {"network": {"name": "plain"}})
    network = body["network"]
    assert network["availability_zone_hints"] == []
    cloud.api("POST", "/subnets", {"subnet": {"network_id": network["id"], "ip_version": 4, "cidr": "10.8.0.0/24"}})
    shown = cloud.api("GET", "/networks/" + network["id"])[1]["network"]
    assert shown["availability_zones"] == ["AZ2"]
    listed = cloud.api("GET", "/networks?fields=id&fields=availability_zones")[1]["networks"]
    assert {n["id"]: n["availability_zones"] for n in listed}[network["id"]] == ["AZ2"]
