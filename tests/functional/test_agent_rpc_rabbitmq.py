"""Agents and server talking over a real, private RabbitMQ broker.

In-process: the real ML2 plugin (SQLite) serves its RPC endpoints on the
broker while the test plays the agent with core/agent/rpc.py, the state
reporter and the notification consumers, each over its own connection.

Processes: netweave-server (API) and netweave-rpc-server share a database
and the broker; a small agent script reports its state every second; the
real ``openstack`` CLI lists the agent, disables it, sees it die once the
script stops and deletes it.
"""
import json
import os
import queue
import sys
import textwrap
import time

import oslo_messaging
import pytest
from oslo_config import cfg

from harness import ml2_plugin, processes
from harness import server as server_fixtures
from harness.cli import run_openstack
from netweave.core import context as context_mod
from netweave.core import naming
from netweave.core.agent import notifications, state_reporter
from netweave.core.agent import rpc as agent_rpc
from netweave.core.db import api as db_api
from netweave.core.rpc import servers as rpc_servers
from netweave.core.rpc import topics

pytestmark = pytest.mark.slow

CTX = context_mod.get_admin_context()
HOST = "compute1"
AGENT_ID = "lb0000000001"


def wait_for(predicate, timeout=20.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("%s did not happen within %ss" % (what, timeout))
        time.sleep(0.1)


# --- in-process server on the broker ---------------------------------------------------

class Recorder:
    """Agent-side notification endpoints: every cast received, in order."""

    def __init__(self):
        self.received = queue.Queue()

    def _record(name):
        def method(self, context, **payload):
            self.received.put((name, payload))
        return method

    port_update = _record("port_update")
    port_delete = _record("port_delete")
    network_update = _record("network_update")
    network_delete = _record("network_delete")
    tunnel_update = _record("tunnel_update")
    tunnel_delete = _record("tunnel_delete")

    def next(self, timeout=15):
        return self.received.get(timeout=timeout)


@pytest.fixture
def rpc_setup(rabbitmq_url, tmp_path):
    """(plugin, agent transport): the plugin serving and notifying over the broker."""
    with ml2_plugin.plugin_overrides():
        plugin = ml2_plugin.in_process_plugin("sqlite:///%s" % (tmp_path / "rpc.db"))
        server_transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=rabbitmq_url)
        agent_transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=rabbitmq_url)
        plugin.connect_agents(server_transport)
        servers = rpc_servers.RpcServers(server_transport, plugin.rpc_endpoints(), "controller")
        servers.start()
        try:
            yield plugin, agent_transport
        finally:
            servers.stop()
            server_transport.cleanup()
            agent_transport.cleanup()
            db_api.DATABASE.engine.dispose()


def test_agent_reports_then_wires_a_port_over_rabbitmq(rpc_setup):
    plugin, transport = rpc_setup
    recorder = Recorder()
    consumers = notifications.create_consumers(
        transport, HOST, [recorder],
        subscriptions=notifications.L2_AGENT_SUBSCRIPTIONS + ((topics.TUNNEL, topics.UPDATE),))
    consumers.start()
    try:
        resyncs = []
        reporter = state_reporter.StateReporter(agent_rpc.StateReportApi(transport), CTX,
                                                lambda: ml2_plugin.linuxbridge_state(HOST), 30,
                                                on_resync=resyncs.append)
        assert reporter.report_once() == "new"
        assert reporter.report_once() == "alive"
        assert agent_rpc.StateReportApi(transport).has_alive_neutron_server(CTX) is True
        (agent,) = plugin.get_agents(CTX)
        assert (agent["host"], agent["alive"], agent["configurations"]["interface_mappings"]) == (
            HOST, True, {"physnet1": "eth1"})

        network = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "net"}})
        port = plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": network["id"],
                                                 "binding:host_id": HOST}})
        assert port["status"] == "DOWN" and port["binding:vif_type"] == ml2_plugin.VIF_TYPE
        device = naming.tap_device(port["id"])
        api = agent_rpc.PluginApi(transport)

        (details,) = api.get_devices_details_list(CTX, [device], AGENT_ID, HOST)
        assert (details["port_id"], details["network_type"], details["segmentation_id"], details["mtu"]) == (
            port["id"], "vxlan", network["provider:segmentation_id"], 1450)
        assert plugin.get_port(CTX, port["id"])["status"] == "BUILD"
        unknown = api.get_device_details(CTX, "tapffffffff-ff", AGENT_ID, HOST)
        assert unknown == {"device": "tapffffffff-ff"}

        assert api.update_device_up(CTX, device, AGENT_ID, HOST) is None
        assert plugin.get_port(CTX, port["id"])["status"] == "ACTIVE"
        assert api.update_device_down(CTX, device, AGENT_ID, HOST) == {"device": device, "exists": True}
        assert plugin.get_port(CTX, port["id"])["status"] == "DOWN"
        result = api.update_device_list(CTX, [device], ["tap00000000-00"], AGENT_ID, HOST)
        assert result == {"devices_up": [device], "failed_devices_up": [],
                          "devices_down": [{"device": "tap00000000-00", "exists": False}],
                          "failed_devices_down": []}
        assert plugin.get_port(CTX, port["id"])["status"] == "ACTIVE"
        failed = api.get_devices_details_list_and_failed_devices(CTX, [device], AGENT_ID, HOST)
        assert failed["failed_devices"] == [] and failed["devices"][0]["port_id"] == port["id"]

        # Fanout notifications reach the agent's consumers.
        plugin.update_port(CTX, port["id"], {"port": {"admin_state_up": False}})
        name, payload = recorder.next()
        assert name == "port_update" and payload["port"]["id"] == port["id"]
        assert (payload["network_type"], payload["segmentation_id"], payload["physical_network"]) == (
            "vxlan", network["provider:segmentation_id"], None)
        tunnels = api.tunnel_sync(CTX, "192.0.2.11", "vxlan", HOST)
        assert tunnels == {"tunnels": [{"ip_address": "192.0.2.11", "host": HOST}]}
        assert recorder.next() == ("tunnel_update", {"tunnel_ip": "192.0.2.11", "tunnel_type": "vxlan"})
        plugin.delete_port(CTX, port["id"])
        plugin.delete_network(CTX, network["id"])
        # Each topic has its own consumer: the two may arrive in either order.
        assert sorted([recorder.next(), recorder.next()]) == [("network_delete", {"network_id": network["id"]}),
                                                               ("port_delete", {"port_id": port["id"]})]
        assert resyncs == []
    finally:
        consumers.stop()


def test_server_errors_reach_the_agent(rpc_setup):
    _plugin, transport = rpc_setup
    api = agent_rpc.PluginApi(transport)
    with pytest.raises(oslo_messaging.RemoteError) as raised:
        api.tunnel_sync(CTX, "192.0.2.12", "vlan", HOST)
    assert "not supported" in str(raised.value)


# --- separate processes and the openstack CLI ----------------------------------------------

AGENT_SCRIPT = textwrap.dedent("""\
    import signal, sys, threading
    from oslo_config import cfg
    from netweave.core import context
    from netweave.core.agent import rpc, state_reporter
    from netweave.core.rpc import transport

    url, host = sys.argv[1], sys.argv[2]
    cfg.CONF([], project="netweave-test-agent")
    state = {"agent_type": "Linux bridge agent", "binary": "netweave-linuxbridge-agent", "host": host,
             "topic": "q-agent-notifier",
             "configurations": {"interface_mappings": {"physnet1": "eth1"}, "devices": 0}}
    reporter = state_reporter.StateReporter(
        rpc.StateReportApi(transport.get_transport(cfg.CONF, url)), context.get_admin_context(),
        lambda: state, interval=1)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    reporter.start()
    print("agent reporting", flush=True)
    stop.wait()
    reporter.stop()
    transport.cleanup()
    """)


class Cli:
    def __init__(self, url):
        self.url = url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        self.env.update(OS_CLIENT_CONFIG_FILE=os.devnull, OS_AUTH_TYPE="none", OS_ENDPOINT=url)

    def run(self, *args):
        done = run_openstack(args, self.env)
        assert done.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(args), done.stdout, done.stderr)
        return done.stdout

    def rows(self, *args):
        """Rows of a list command's table, as a person reads them (Alive ":-)", State "UP")."""
        lines = [line for line in self.run(*args).splitlines() if line.startswith("|")]
        return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]


@pytest.fixture
def deployment(rabbitmq_url, tmp_path):
    """netweave-server and netweave-rpc-server on one SQLite file and the broker."""
    extra = textwrap.dedent("""
        [DEFAULT]
        transport_url = %s
        agent_down_time = 4
        host = controller01
        """) % rabbitmq_url
    api = server_fixtures.start_server(str(tmp_path / "server"), extra=extra)
    rpc = processes.start_process(
        [os.path.join(server_fixtures.BIN_DIR, "netweave-rpc-server")]
        + sum((["--config-file", path] for path in api.config_files), []),
        str(tmp_path / "rpc-server.log"))
    try:
        rpc.wait_until(lambda: "netweave-rpc-server serving" in rpc.log_tail(), 60, "it served")
        yield api, rpc
    finally:
        rpc.stop()
        api.stop()


def test_openstack_cli_shows_agents_reporting_over_rabbitmq(deployment, rabbitmq_url, tmp_path):
    api, _rpc = deployment
    cli = Cli(api.url + "/")
    script = tmp_path / "agent.py"
    script.write_text(AGENT_SCRIPT)
    agent = processes.start_process([sys.executable, str(script), rabbitmq_url, HOST],
                                    str(tmp_path / "agent.log"))
    try:
        rows = wait_for(lambda: cli.rows("network", "agent", "list"), 30, "the agent showing up")
        (row,) = rows
        assert row[1:] == ["Linux bridge agent", HOST, "None", ":-)", "UP", "netweave-linuxbridge-agent"]
        agent_id = row[0]
        shown = json.loads(cli.run("network", "agent", "show", agent_id, "-f", "json"))
        assert shown["configuration"]["interface_mappings"] == {"physnet1": "eth1"}
        assert len(shown["last_heartbeat_at"]) == len("2018-01-08 19:04:53")
        assert cli.rows("network", "agent", "list", "--agent-type", "linux-bridge", "--host", HOST) == rows
        assert cli.rows("network", "agent", "list", "--agent-type", "dhcp") == []

        cli.run("network", "agent", "set", "--disable", "--description", "maintenance", agent_id)
        shown = json.loads(cli.run("network", "agent", "show", agent_id, "-f", "json"))
        assert (shown["admin_state_up"], shown["description"]) == (False, "maintenance")
        cli.run("network", "agent", "set", "--enable", agent_id)
        assert cli.rows("network", "agent", "list")[0][5] == "UP"

        # Heartbeats stop: after agent_down_time (4 s) the agent shows as dead.
        agent.stop()
        started = time.monotonic()
        wait_for(lambda: cli.rows("network", "agent", "list")[0][4] == "XXX", 20, "the agent dying")
        assert time.monotonic() - started >= 2
        cli.run("network", "agent", "delete", agent_id)
        assert cli.rows("network", "agent", "list") == []
    finally:
        agent.stop()
