"""The DHCP server side over RPC, as a DHCP agent sees it: the real ML2 plugin (SQLite)
serves its endpoints on oslo.messaging's in-process transport; the test plays the
agent with an RPC client on "q-plugin", the state reporter, and a listener on
``dhcp_agent.<host>`` that records every cast the server sends.
"""
import queue

import oslo_messaging
import pytest
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import naming
from netweave.core.agent import notifications
from netweave.core.agent import rpc as agent_rpc
from netweave.core.db import api as db_api
from netweave.core.rpc import serializer, topics
from netweave.core.rpc import servers as rpc_servers
from netweave.core.services import dhcp_agents, provisioning

CTX = context_mod.get_admin_context()
HOST = "dhcp-host1"
OTHER = "dhcp-host2"
COMPUTE = "compute1"
NETWORK_KEYS = {"id", "name", "project_id", "tenant_id", "admin_state_up", "mtu", "subnets", "ports"}
SUBNET_KEYS = {"id", "network_id", "name", "cidr", "ip_version", "gateway_ip", "enable_dhcp", "dns_nameservers",
               "host_routes", "allocation_pools", "ipv6_ra_mode", "ipv6_address_mode"}
PORT_KEYS = {"id", "network_id", "mac_address", "admin_state_up", "device_owner", "device_id", "fixed_ips",
             "extra_dhcp_opts"}


class Recorder:
    """A DHCP agent's notification endpoint: every cast, in order."""

    def __init__(self):
        self.received = queue.Queue()

    def __getattr__(self, name):
        if not name.endswith("_end"):
            raise AttributeError(name)
        return lambda context, payload=None, **_kw: self.received.put((name, payload))

    def next(self, timeout=15):
        return self.received.get(timeout=timeout)

    def quiet(self, wait=0.5):
        try:
            item = self.received.get(timeout=wait)
        except queue.Empty:
            return True
        raise AssertionError("unexpected notification %r" % (item,))


@pytest.fixture
def rpc(tmp_path):
    """(plugin, transport, {host: Recorder}): the plugin serving and notifying in-process."""
    with ml2_plugin.plugin_overrides():
        plugin = ml2_plugin.in_process_plugin("sqlite:///%s" % (tmp_path / "dhcp_rpc.db"))
        transport = oslo_messaging.get_rpc_transport(cfg.CONF, url="fake://")
        plugin.connect_agents(transport)
        servers = rpc_servers.RpcServers(transport, plugin.rpc_endpoints(), "controller")
        recorders = {HOST: Recorder(), OTHER: Recorder()}
        consumers = [notifications.create_consumers(transport, host, [recorder], subscriptions=(),
                                                    extra_topics=(topics.DHCP_AGENT,))
                     for host, recorder in recorders.items()]
        servers.start()
        for consumer in consumers:
            consumer.start()
        try:
            yield plugin, transport, recorders
        finally:
            for consumer in consumers:
                consumer.stop()
            servers.stop()
            transport.cleanup()
            db_api.DATABASE.engine.dispose()


def dhcp_client(transport):
    return oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic=topics.PLUGIN, version="1.8"),
                                         serializer=serializer.ContextSerializer())


def dhcp_state(host):
    return {"agent_type": topics.AGENT_TYPE_DHCP, "binary": "netweave-dhcp-agent", "host": host,
            "topic": topics.DHCP_AGENT, "start_flag": True,
            "configurations": {"dhcp_driver": "dnsmasq", "dhcp_lease_duration": 86400, "networks": 0,
                               "subnets": 0, "ports": 0, "log_agent_heartbeats": False}}


def report(transport, host):
    return agent_rpc.StateReportApi(transport).report_state(CTX, dhcp_state(host))


def make_network(plugin, name="net", cidr="10.0.0.0/24", **subnet):
    network = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": name}})
    body = dict({"project_id": "p1", "network_id": network["id"], "cidr": cidr, "ip_version": 4,
                 "dns_nameservers": ["8.8.8.8", "8.8.4.4"],
                 "host_routes": [{"destination": "172.16.0.0/16", "nexthop": cidr.rsplit(".", 1)[0] + ".254"}]},
                **subnet)
    return network, plugin.create_subnet(CTX, {"subnet": body})


def test_agent_report_takes_waiting_network_and_resync_returns_its_info(rpc):
    plugin, transport, recorders = rpc
    network, subnet = make_network(plugin)
    port = plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": network["id"], "extra_dhcp_opts": [
        {"opt_name": "tftp-server", "opt_value": "10.0.0.9"}]}})
    assert report(transport, HOST) == "new"
    assert recorders[HOST].next() == ("network_create_end", {"network": {"id": network["id"]}})
    assert report(transport, OTHER) == "new"

    client = dhcp_client(transport)
    (info,) = client.call(CTX, "get_active_networks_info", host=HOST)
    assert client.call(CTX, "get_active_networks_info", host=OTHER) == []
    assert set(info) == NETWORK_KEYS
    assert (info["id"], info["tenant_id"], info["admin_state_up"], info["mtu"]) == (network["id"], "p1", True, 1450)
    (got_subnet,) = info["subnets"]
    assert set(got_subnet) == SUBNET_KEYS
    assert got_subnet["dns_nameservers"] == ["8.8.8.8", "8.8.4.4"]
    assert got_subnet["host_routes"] == [{"destination": "172.16.0.0/16", "nexthop": "10.0.0.254"}]
    assert got_subnet["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert (got_subnet["gateway_ip"], got_subnet["enable_dhcp"]) == ("10.0.0.1", True)
    (got_port,) = info["ports"]
    assert got_port == {"id": port["id"], "network_id": network["id"], "mac_address": port["mac_address"],
                        "admin_state_up": True, "device_owner": "", "device_id": "",
                        "fixed_ips": port["fixed_ips"],
                        "extra_dhcp_opts": [{"opt_name": "tftp-server", "opt_value": "10.0.0.9", "ip_version": 4}]}
    assert client.call(CTX, "get_network_info", network_id=network["id"], host=HOST) == info

    # An admin-down network is left out of the resync, as Neutron does.
    plugin.update_network(CTX, network["id"], {"network": {"admin_state_up": False}})
    assert client.call(CTX, "get_active_networks_info", host=HOST) == []
    assert client.call(CTX, "get_network_info", network_id="00000000-0000-0000-0000-00000000dead",
                       host=HOST) is None


def test_hosting_agent_hears_every_change_and_no_one_else_does(rpc):
    plugin, transport, recorders = rpc
    report(transport, HOST)
    network, subnet = make_network(plugin)
    agent = recorders[HOST]
    assert agent.next() == ("network_create_end", {"network": {"id": network["id"]}})
    report(transport, OTHER)

    port = plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": network["id"]}})
    event, payload = agent.next()
    assert event == "port_create_end" and set(payload["port"]) == PORT_KEYS
    assert payload["port"]["fixed_ips"] == port["fixed_ips"] and payload["port"]["extra_dhcp_opts"] == []
    # A name is nothing DHCP serves: no cast. Options are.
    plugin.update_port(CTX, port["id"], {"port": {"name": "renamed"}})
    plugin.update_port(CTX, port["id"], {"port": {"extra_dhcp_opts": [
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0"}]}})
    event, payload = agent.next()
    assert event == "port_update_end"
    assert payload["port"]["extra_dhcp_opts"] == [
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4}]
    plugin.delete_port(CTX, port["id"])
    assert agent.next() == ("port_delete_end", {"port_id": port["id"], "network_id": network["id"]})

    second = plugin.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": network["id"],
                                                   "cidr": "10.1.0.0/24", "ip_version": 4}})
    event, payload = agent.next()
    assert event == "subnet_create_end" and set(payload["subnet"]) == SUBNET_KEYS
    assert payload["subnet"]["id"] == second["id"]
    plugin.update_subnet(CTX, second["id"], {"subnet": {"dns_nameservers": ["1.1.1.1"]}})
    event, payload = agent.next()
    assert event == "subnet_update_end" and payload["subnet"]["dns_nameservers"] == ["1.1.1.1"]
    plugin.delete_subnet(CTX, second["id"])
    assert agent.next() == ("subnet_delete_end", {"subnet_id": second["id"], "network_id": network["id"]})

    plugin.update_network(CTX, network["id"], {"network": {"admin_state_up": False}})
    event, payload = agent.next()
    assert event == "network_update_end"
    assert (payload["network"]["id"], payload["network"]["admin_state_up"]) == (network["id"], False)
    plugin.delete_network(CTX, network["id"])
    assert agent.next() == ("network_delete_end", {"network_id": network["id"]})
    agent.quiet()
    recorders[OTHER].quiet()


def test_dhcp_port_create_is_idempotent_and_released(rpc):
    plugin, transport, _recorders = rpc
    report(transport, HOST)
    network, subnet = make_network(plugin)
    client = dhcp_client(transport)
    device_id = dhcp_agents.dhcp_device_id(HOST, network["id"])
    request = {"port": {"network_id": network["id"], "device_id": device_id, "device_owner": "network:dhcp",
                        "fixed_ips": [{"subnet_id": subnet["id"]}]}}
    port = client.call(CTX, "create_dhcp_port", port=request, host=HOST)
    assert (port["device_owner"], port["device_id"], port["binding:host_id"], port["project_id"]) == (
        "network:dhcp", device_id, HOST, "p1")
    assert [ip["subnet_id"] for ip in port["fixed_ips"]] == [subnet["id"]]
    again = client.call(CTX, "create_dhcp_port", port=request, host=HOST)
    assert again["id"] == port["id"] and again["fixed_ips"] == port["fixed_ips"]
    assert len(plugin.get_ports(CTX, filters={"network_id": [network["id"]]})) == 1

    moved = client.call(CTX, "update_dhcp_port", port_id=port["id"], host=HOST, port={"port": {
        "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.0.0.2"}]}})
    assert moved["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.0.0.2"}]
    assert client.call(CTX, "create_dhcp_port", host=HOST, port={"port": {
        "network_id": "00000000-0000-0000-0000-00000000dead", "device_id": "x",
        "fixed_ips": []}}) is None

    client.call(CTX, "release_dhcp_port", network_id=network["id"], device_id=device_id, host=HOST)
    assert plugin.get_ports(CTX, filters={"network_id": [network["id"]]}) == []


def blocks(plugin, port_id):
    with db_api.reader_scope() as session:
        return plugin.provisioning.entities(session, port_id)


def test_port_turns_active_only_when_dhcp_agent_is_ready_too(rpc):
    plugin, transport, recorders = rpc
    report(transport, HOST)
    plugin.agents.report_state(CTX, ml2_plugin.linuxbridge_state(COMPUTE))
    network, subnet = make_network(plugin)
    client = dhcp_client(transport)
    port = plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": network["id"],
                                             "binding:host_id": COMPUTE}})
    assert blocks(plugin, port["id"]) == [provisioning.DHCP_ENTITY, provisioning.L2_AGENT_ENTITY]
    device = naming.tap_device(port["id"])
    l2 = agent_rpc.PluginApi(transport)
    l2.get_devices_details_list(CTX, [device], "lb1", COMPUTE)
    l2.update_device_up(CTX, device, "lb1", COMPUTE)
    assert plugin.get_port(CTX, port["id"])["status"] == "BUILD"
    assert client.call(CTX, "dhcp_ready_on_ports", port_ids=[port["id"], "not-a-port"]) is None
    assert plugin.get_port(CTX, port["id"])["status"] == "ACTIVE"
    assert blocks(plugin, port["id"]) == []

    # The other order: DHCP first, then the L2 agent.
    other = plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": network["id"],
                                              "binding:host_id": COMPUTE}})
    client.call(CTX, "dhcp_ready_on_ports", port_ids=[other["id"]])
    assert blocks(plugin, other["id"]) == [provisioning.L2_AGENT_ENTITY]
    l2.update_device_up(CTX, naming.tap_device(other["id"]), "lb1", COMPUTE)
    assert plugin.get_port(CTX, other["id"])["status"] == "ACTIVE"

    # The DHCP agent's own port waits for no DHCP agent; nor do ports on networks no DHCP agent serves.
    dhcp_port = client.call(CTX, "create_dhcp_port", host=COMPUTE, port={"port": {
        "network_id": network["id"], "device_id": dhcp_agents.dhcp_device_id(COMPUTE, network["id"]),
        "fixed_ips": [{"subnet_id": subnet["id"]}]}})
    assert blocks(plugin, dhcp_port["id"]) == [provisioning.L2_AGENT_ENTITY]
    static, _ = make_network(plugin, "static", "10.5.0.0/24", enable_dhcp=False)
    plain = plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": static["id"],
                                              "binding:host_id": COMPUTE}})
    assert blocks(plugin, plain["id"]) == [provisioning.L2_AGENT_ENTITY]


@pytest.mark.slow
def test_dhcp_agent_queue_on_rabbitmq(rabbitmq_url, tmp_path):
    """The same contract over a real broker: casts land on the queue dhcp_agent.<host>."""
    with ml2_plugin.plugin_overrides():
        plugin = ml2_plugin.in_process_plugin("sqlite:///%s" % (tmp_path / "dhcp_rabbit.db"))
        server_transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=rabbitmq_url)
        agent_transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=rabbitmq_url)
        plugin.connect_agents(server_transport)
        servers = rpc_servers.RpcServers(server_transport, plugin.rpc_endpoints(), "controller")
        recorder = Recorder()
        consumers = notifications.create_consumers(agent_transport, HOST, [recorder], subscriptions=(),
                                                   extra_topics=(topics.DHCP_AGENT,))
        servers.start()
        consumers.start()
        try:
            network, subnet = make_network(plugin)
            assert report(agent_transport, HOST) == "new"
            assert recorder.next(timeout=60) == ("network_create_end", {"network": {"id": network["id"]}})
            client = dhcp_client(agent_transport)
            (info,) = client.call(CTX, "get_active_networks_info", host=HOST)
            assert [s["id"] for s in info["subnets"]] == [subnet["id"]]
            dhcp_port = client.call(CTX, "create_dhcp_port", host=HOST, port={"port": {
                "network_id": network["id"], "device_id": dhcp_agents.dhcp_device_id(HOST, network["id"]),
                "fixed_ips": [{"subnet_id": subnet["id"]}]}})
            event, payload = recorder.next(timeout=60)
            assert (event, payload["port"]["id"]) == ("port_create_end", dhcp_port["id"])
            plugin.delete_network(CTX, network["id"])
            assert recorder.next(timeout=60) == ("network_delete_end", {"network_id": network["id"]})
        finally:
            consumers.stop()
            servers.stop()
            server_transport.cleanup()
            agent_transport.cleanup()
            db_api.DATABASE.engine.dispose()
