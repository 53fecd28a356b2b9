"""The L3 agent process as cmd.build() makes it, talking RPC in-process (fake://) to a stand-in
for the router service plugin, and building real qrouter- namespaces.

The stand-in serves sync_routers from a dict the test edits, records
update_floatingip_statuses, and the test casts the server's notifications
(routers_updated, router_deleted) to the agent's l3_agent topic.
"""
import queue
import threading
import uuid

import oslo_messaging
import pytest
from oslo_config import cfg

from harness import dhcp as dh
from harness import l3, system
from harness.multihost import run
from netweave.core import context, naming
from netweave.core.rpc import serializer, topics
from netweave.core.rpc import servers as rpc_servers
from netweave.core.rpc import transport as rpc_transport
from netweave.service_plugins.router.agent import applier as applier_mod
from netweave.service_plugins.router.agent import cmd, config
from netweave.service_plugins.router.agent import rpc as l3_rpc

pytestmark = pytest.mark.system("ip", "iptables-save", "iptables-restore", "conntrack")

HOST = "network01"
CTX = context.get_admin_context()


class FakeL3Plugin:
    """What the router service plugin answers on q-l3-plugin."""
    target = oslo_messaging.Target(version="1.9")

    def __init__(self):
        self.routers = {}
        self.statuses = queue.Queue()
        self.calls = []

    def sync_routers(self, context, host=None, router_ids=None):
        self.calls.append((host, router_ids))
        return [router for router_id, router in sorted(self.routers.items())
                if router_ids is None or router_id in router_ids]

    def get_router_ids(self, context, host=None):
        return sorted(self.routers)

    def update_floatingip_statuses(self, context, router_id=None, fip_statuses=None):
        """Queued, and held as the server does: the router's next description carries them."""
        for fip in self.routers[router_id]["_floatingips"] if router_id in self.routers else ():
            fip["status"] = fip_statuses.get(fip["id"], fip["status"])
        self.statuses.put((router_id, fip_statuses))


@pytest.fixture
def lab():
    system.require_root()
    lab = dh.Lab("nwl3a")
    lab.host()
    yield lab
    lab.close()


def test_agent_serves_synced_routers_and_follows_notifications(lab, tmp_path):
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url="fake://")
    plugin = FakeL3Plugin()
    server = rpc_servers.RpcServers(transport, {l3_rpc.L3_PLUGIN_TOPIC: [plugin]}, "controller")
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    rpc_transport.register_opts(conf)
    conf.register_cli_opts(cmd.cli_opts)
    conf(args=[], default_config_files=[])
    for name, value in (("interface_driver", "linuxbridge"), ("netns", lab.host_ns), ("host", HOST),
                        ("state_path", str(tmp_path)), ("enable_metadata_proxy", False)):
        conf.set_override(name, value)
    conf.set_override("report_interval", 0, "agent")
    # Other tests on this host may have qrouter- namespaces of their own: leave them alone.
    agent, starters, stoppers = cmd.build(conf, transport=transport, remove_stale_namespaces=False,
                                          netns=lab.host_ns)
    router_id = str(uuid.uuid4())
    namespace = naming.router_namespace(router_id)
    external, internal = str(uuid.uuid4()), str(uuid.uuid4())
    gateway = l3.port(str(uuid.uuid4()), "fa:16:3e:ee:00:01", external, [("ext", "203.0.113.106")],
                      [l3.subnet("ext", "203.0.113.0/24", "203.0.113.1")], device_owner="network:router_gateway")
    interface = l3.port(str(uuid.uuid4()), "fa:16:3e:ee:00:02", internal, [("int", "10.0.0.1")],
                        [l3.subnet("int", "10.0.0.0/24", "10.0.0.1")])
    fip = l3.floating_ip("203.0.113.101", "10.0.0.6", "p1", router_id=router_id)
    plugin.routers[router_id] = l3.router(router_id, gateway=gateway, interfaces=[interface], floating_ips=[fip])
    notifier = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic=topics.L3_AGENT, server=HOST),
                                             serializer=serializer.ContextSerializer())
    thread = threading.Thread(target=agent.run, daemon=True)
    server.start()
    try:
        for start in starters:
            start()
        thread.start()
        assert plugin.statuses.get(timeout=30) == (router_id, {l3.FIP_ID: "ACTIVE"})
        assert applier_mod.namespace_exists(namespace)
        assert agent.agent_state()["configurations"] == {
            "agent_mode": "legacy", "interface_driver": "linuxbridge", "external_network_bridge": "",
            "gateway_external_network_id": "", "routers": 1, "ex_gw_ports": 1, "interfaces": 1,
            "floating_ips": 1, "handle_internal_only_routers": True, "log_agent_heartbeats": False}
        assert agent.agent_state()["binary"] == "netweave-l3-agent"

        # The floating IP moves: the agent fetches that router alone and rewrites its NAT.
        plugin.routers[router_id]["_floatingips"][0].update(fixed_ip_address="10.0.0.10", port_id="p2")
        notifier.cast(CTX, "routers_updated", routers=[router_id])
        dh.wait_for(lambda: "to:10.0.0.10" in " ".join(l3.nat_listing(namespace)), "the moved floating IP's NAT")
        assert plugin.calls[-1] == (HOST, [router_id]), (plugin.calls, agent.last_error)
        assert plugin.statuses.empty()          # statuses unchanged: not reported again

        # Disassociated: DOWN is reported.
        plugin.routers[router_id]["_floatingips"][0].update(fixed_ip_address=None, port_id=None)
        notifier.cast(CTX, "routers_updated", routers=[router_id])
        assert plugin.statuses.get(timeout=30) == (router_id, {l3.FIP_ID: "DOWN"})

        notifier.cast(CTX, "router_deleted", router_id=router_id)
        # The agent forgets the router just after it removed the namespace: wait for both.
        dh.wait_for(lambda: not applier_mod.namespace_exists(namespace)
                    and agent.agent_state()["configurations"]["routers"] == 0,
                    "the deleted router's namespace and the agent's count of it go")
    finally:
        agent.stop()
        thread.join(30)
        for stop in stoppers[:-1]:          # the last one cleans the process's cached transports up
            stop()
        server.stop()
        transport.cleanup()
        run("ip", "netns", "del", namespace, check=False)
    assert not thread.is_alive()

