"""The dhcp_agent_scheduler and extra_dhcp_opt APIs through the real `openstack` CLI and openstacksdk.

The API and the RPC servers run in the test process over the real ML2 plugin
(SQLite) and oslo.messaging's in-process transport; DHCP agents register by
sending report_state over that transport, as netweave-dhcp-agent does.
"""
import json
import os
import socketserver
import threading
import wsgiref.simple_server

import openstack
import oslo_messaging
import pytest
from oslo_config import cfg

from harness import ml2_plugin, sdk
from harness.cli import run_openstack
from netweave.core import context as context_mod
from netweave.core.agent import rpc as agent_rpc
from netweave.core.api import builder
from netweave.core.db import api as db_api
from netweave.core.rpc import servers as rpc_servers
from netweave.core.rpc import topics

CTX = context_mod.get_admin_context()


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
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        self.env["OS_CLIENT_CONFIG_FILE"] = os.devnull

    def report(self, host):
        state = {"agent_type": topics.AGENT_TYPE_DHCP, "binary": "netweave-dhcp-agent", "host": host,
                 "topic": topics.DHCP_AGENT, "start_flag": True,
                 "configurations": {"dhcp_driver": "dnsmasq", "dhcp_lease_duration": 86400, "networks": 0,
                                    "subnets": 0, "ports": 0, "log_agent_heartbeats": False}}
        return agent_rpc.StateReportApi(self.transport).report_state(CTX, state)

    def agent_id(self, host):
        (agent,) = self.plugin.get_agents(CTX, filters={"host": [host]})
        return agent["id"]

    def cli(self, *args, check=True):
        done = run_openstack(["--os-auth-type", "none", "--os-endpoint", self.url] + list(args), self.env)
        if check:
            assert done.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(args), done.stdout, done.stderr)
        return done

    def cli_json(self, *args):
        return json.loads(self.cli(*(args + ("-f", "json"))).stdout)


@pytest.fixture
def cloud(tmp_path):
    cfg.CONF.set_override("auth_strategy", "noauth")
    try:
        with ml2_plugin.plugin_overrides():
            plugin = ml2_plugin.in_process_plugin("sqlite:///%s" % (tmp_path / "api.db"))
            transport = oslo_messaging.get_rpc_transport(cfg.CONF, url="fake://")
            plugin.connect_agents(transport)
            servers = rpc_servers.RpcServers(transport, plugin.rpc_endpoints(), "controller")
            servers.start()
            app = builder.build_wsgi_app(cfg.CONF, plugin)
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
        cfg.CONF.clear_override("auth_strategy")


def make_network(conn, name, cidr):
    network = conn.network.create_network(name=name)
    subnet = conn.network.create_subnet(network_id=network.id, cidr=cidr, ip_version=4)
    return network, subnet


def test_sdk_lists_adds_and_removes_dhcp_agents(cloud):
    conn = sdk.connect(cloud.url)
    assert "dhcp_agent_scheduler" in {e.alias for e in conn.network.extensions()}
    assert cloud.report("dhcp-one") == "new"
    assert cloud.report("dhcp-two") == "new"
    network, _subnet = make_network(conn, "sched-net", "10.30.0.0/24")
    one, two = cloud.agent_id("dhcp-one"), cloud.agent_id("dhcp-two")

    hosting = list(conn.network.network_hosting_dhcp_agents(network))
    assert [a.host for a in hosting] == ["dhcp-one"]
    assert hosting[0].agent_type == "DHCP agent" and hosting[0].is_alive
    assert [n.id for n in conn.network.dhcp_agent_hosting_networks(one)] == [network.id]
    assert list(conn.network.dhcp_agent_hosting_networks(two)) == []

    assert conn.network.add_dhcp_agent_to_network(two, network) == {}
    assert sorted(a.host for a in conn.network.network_hosting_dhcp_agents(network)) == ["dhcp-one", "dhcp-two"]
    # The SDK hands these calls' error bodies back instead of raising: check the HTTP answers.
    again = conn.network.post("/agents/%s/dhcp-networks" % two, json={"network_id": network.id})
    assert again.status_code == 409
    assert again.json()["NeutronError"] == {
        "type": "NetworkHostedByDHCPAgent", "detail": "",
        "message": "The network %s has been already hosted by the DHCP Agent %s." % (network.id, two)}

    conn.network.remove_dhcp_agent_from_network(one, network)
    assert [a.host for a in conn.network.network_hosting_dhcp_agents(network)] == ["dhcp-two"]
    gone = conn.network.delete("/agents/%s/dhcp-networks/%s" % (one, network.id))
    assert gone.status_code == 409
    assert gone.json()["NeutronError"] == {
        "type": "NetworkNotHostedByDhcpAgent", "detail": "",
        "message": "The network %s is not hosted by the DHCP agent %s." % (network.id, one)}
    missing = conn.network.post("/agents/00000000-0000-0000-0000-000000000000/dhcp-networks",
                                json={"network_id": network.id})
    assert (missing.status_code, missing.json()["NeutronError"]["type"]) == (404, "AgentNotFound")
    no_net = conn.network.post("/agents/%s/dhcp-networks" % one,
                               json={"network_id": "00000000-0000-0000-0000-000000000000"})
    assert (no_net.status_code, no_net.json()["NeutronError"]["type"]) == (404, "NetworkNotFound")
    bad = conn.network.post("/agents/%s/dhcp-networks" % one, json={"network": network.id})
    assert bad.status_code == 400
    with pytest.raises(openstack.exceptions.NotFoundException):
        list(conn.network.network_hosting_dhcp_agents("00000000-0000-0000-0000-000000000000"))

    # Administrators only.
    member = sdk.connect(cloud.url, project="p-member", roles="member")
    with pytest.raises(openstack.exceptions.ForbiddenException):
        list(member.network.dhcp_agent_hosting_networks(two))
    refused = member.network.post("/agents/%s/dhcp-networks" % one, json={"network_id": network.id})
    assert refused.status_code == 403
    assert [a.host for a in conn.network.network_hosting_dhcp_agents(network)] == ["dhcp-two"]


def test_sdk_extra_dhcp_opts_create_update_and_bad_input(cloud):
    conn = sdk.connect(cloud.url)
    network, _subnet = make_network(conn, "opts-net", "10.31.0.0/24")
    port = conn.network.create_port(network_id=network.id, extra_dhcp_opts=[
        {"opt_name": "tftp-server", "opt_value": "10.31.0.9"},
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4},
        {"opt_name": "dns-server", "opt_value": "[2001:db8::1]", "ip_version": 6}])
    assert sorted(port.extra_dhcp_opts, key=lambda o: (o["ip_version"], o["opt_name"])) == [
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4},
        {"opt_name": "tftp-server", "opt_value": "10.31.0.9", "ip_version": 4},
        {"opt_name": "dns-server", "opt_value": "[2001:db8::1]", "ip_version": 6}]
    # Update merges: a value replaces, a null value removes, the rest stays.
    port = conn.network.update_port(port, extra_dhcp_opts=[
        {"opt_name": "tftp-server", "opt_value": "10.31.0.10"}, {"opt_name": "bootfile-name", "opt_value": None}])
    assert sorted((o["opt_name"], o["opt_value"]) for o in port.extra_dhcp_opts) == [
        ("dns-server", "[2001:db8::1]"), ("tftp-server", "10.31.0.10")]
    listed = {p.id: p for p in conn.network.ports(network_id=network.id)}
    assert sorted(o["opt_name"] for o in listed[port.id].extra_dhcp_opts) == ["dns-server", "tftp-server"]
    plain = conn.network.create_port(network_id=network.id)
    assert plain.extra_dhcp_opts == []

    for bad in ([{"opt_value": "x"}], [{"opt_name": "a", "opt_value": "b", "ip_version": 5}],
                [{"opt_name": "", "opt_value": "b"}], "not-a-list",
                [{"opt_name": "a", "opt_value": "b", "colour": "red"}],
                [{"opt_name": "a", "opt_value": "b"}, {"opt_name": "a", "opt_value": "c"}]):
        with pytest.raises(openstack.exceptions.BadRequestException):
            conn.network.create_port(network_id=network.id, extra_dhcp_opts=bad)
    assert len(list(conn.network.ports(network_id=network.id))) == 2


@pytest.mark.slow
def test_cli_agent_and_network_commands(cloud):
    cloud.report("dhcp-cli1")
    cloud.report("dhcp-cli2")
    cloud.cli("network", "create", "cli-net")
    cloud.cli("subnet", "create", "--network", "cli-net", "--subnet-range", "10.32.0.0/24", "cli-subnet")
    agents = cloud.cli_json("network", "agent", "list", "--agent-type", "dhcp")
    assert sorted(a["Host"] for a in agents) == ["dhcp-cli1", "dhcp-cli2"]
    hosting = cloud.cli_json("network", "agent", "list", "--network", "cli-net")
    assert [a["Host"] for a in hosting] == ["dhcp-cli1"]
    second = cloud.agent_id("dhcp-cli2")
    cloud.cli("network", "agent", "add", "network", "--dhcp", second, "cli-net")
    assert sorted(a["Host"] for a in cloud.cli_json("network", "agent", "list", "--network", "cli-net")) == [
        "dhcp-cli1", "dhcp-cli2"]
    assert [n["Name"] for n in cloud.cli_json("network", "list", "--agent", second)] == ["cli-net"]
    cloud.cli("network", "agent", "remove", "network", "--dhcp", second, "cli-net")
    assert cloud.cli_json("network", "list", "--agent", second) == []

    port = cloud.cli_json("port", "create", "--network", "cli-net", "--extra-dhcp-option",
                          "name=tftp-server,value=10.32.0.9,ip-version=4", "cli-port")
    assert port["extra_dhcp_opts"] == [{"opt_name": "tftp-server", "opt_value": "10.32.0.9", "ip_version": 4}]
    cloud.cli("port", "set", "--extra-dhcp-option", "name=tftp-server", "cli-port")
    assert cloud.cli_json("port", "show", "cli-port")["extra_dhcp_opts"] == []
