"""Port status driven by the agents, on a real database with the real ML2 plugin.

A small agent-based mechanism driver (fixtures/ml2_plugin.py) stands in for
Linux bridge and Open vSwitch: it binds a port only on a host whose Linux
bridge agent is alive, which is what PortContext.host_agents is for. The
agents' calls go straight to the DeviceService here;
tests/functional/test_agent_rpc_rabbitmq.py sends them over a real broker.
"""
import pytest

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import exceptions as exc
from netweave.core import naming
from netweave.core.db import api as db_api
from netweave.core.plugins.ml2 import driver_api
from netweave.core.rpc import outbox, topics
from netweave.core.services import provisioning

CTX = context_mod.get_admin_context()
HOST = "compute1"
AGENT_ID = "lb0000000001"


class RecordingNotifier:
    def __init__(self):
        self.sent = []

    def __getattr__(self, name):
        return lambda context, *args, **kwargs: self.sent.append((name, args))


@pytest.fixture(params=ml2_plugin.BACKENDS)
def plugin(request, tmp_path):
    with ml2_plugin.running_plugin(ml2_plugin.database_url(request, tmp_path)) as plugin:
        yield plugin


def report(plugin, host=HOST):
    plugin.agents.report_state(CTX, ml2_plugin.linuxbridge_state(host))


def make_port(plugin, host=HOST, **extra):
    network = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "net"}})
    body = {"project_id": "p1", "network_id": network["id"], "binding:host_id": host}
    body.update(extra)
    return network, plugin.create_port(CTX, {"port": body})


def status(plugin, port):
    return plugin.get_port(CTX, port["id"])["status"]


def blocks(plugin, port):
    with db_api.reader_scope() as session:
        return plugin.provisioning.entities(session, port["id"])


def test_bound_port_goes_down_build_active_down(plugin):
    report(plugin)
    network, port = make_port(plugin)
    assert port["binding:vif_type"] == "bridge" and port["status"] == "DOWN"
    assert [a["host"] for a in plugin.driver.seen_agents[-1]] == [HOST]
    assert blocks(plugin, port) == [provisioning.L2_AGENT_ENTITY]
    device = naming.tap_device(port["id"])

    (details,) = plugin.devices.get_devices_details_list(CTX, [device], AGENT_ID, HOST)
    assert details == {
        "device": device, "port_id": port["id"], "network_id": network["id"], "network_type": "vxlan",
        "physical_network": None, "segmentation_id": network["provider:segmentation_id"], "mtu": 1450,
        "mac_address": port["mac_address"], "admin_state_up": True, "fixed_ips": [], "device_owner": "",
        "qos_policy_id": None, "network_qos_policy_id": None, "profile": {}}  # no extension driver adds keys
    assert status(plugin, port) == "BUILD"

    plugin.devices.update_device_up(CTX, device, AGENT_ID, HOST)
    assert status(plugin, port) == "ACTIVE" and blocks(plugin, port) == []
    assert plugin.devices.update_device_down(CTX, device, AGENT_ID, HOST) == {"device": device, "exists": True}
    assert status(plugin, port) == "DOWN"
    # Drivers hear of every status change, as l2population needs.
    assert plugin.driver.status_updates == [("DOWN", "BUILD"), ("BUILD", "ACTIVE"), ("ACTIVE", "DOWN")]


def test_full_port_id_names_a_device_too(plugin):
    report(plugin)
    _network, port = make_port(plugin)
    assert plugin.devices.get_device_details(CTX, port["id"], AGENT_ID, HOST)["port_id"] == port["id"]
    result = plugin.devices.update_device_list(CTX, [port["id"]], [], AGENT_ID, HOST)
    assert result == {"devices_up": [port["id"]], "failed_devices_up": [], "devices_down": [],
                      "failed_devices_down": []}
    assert status(plugin, port) == "ACTIVE"


def test_other_parties_blocks_keep_the_port_from_active(plugin):
    report(plugin)
    plugin.provisioning.add_source(lambda session, port, binding: [provisioning.DHCP_ENTITY])
    _network, port = make_port(plugin)
    assert blocks(plugin, port) == [provisioning.DHCP_ENTITY, provisioning.L2_AGENT_ENTITY]
    device = naming.tap_device(port["id"])
    plugin.devices.get_device_details(CTX, device, AGENT_ID, HOST)
    plugin.devices.update_device_up(CTX, device, AGENT_ID, HOST)
    assert status(plugin, port) == "BUILD" and blocks(plugin, port) == [provisioning.DHCP_ENTITY]
    plugin.devices.provisioning_complete(CTX, port["id"], provisioning.DHCP_ENTITY)
    assert status(plugin, port) == "ACTIVE" and blocks(plugin, port) == []


def test_unbound_and_foreign_ports_stay_down(plugin):
    report(plugin)
    report(plugin, host="compute2")
    _network, unbound = make_port(plugin, host="")
    _network, elsewhere = make_port(plugin, host="compute2")
    for port in (unbound, elsewhere):
        device = naming.tap_device(port["id"])
        assert plugin.devices.get_device_details(CTX, device, AGENT_ID, HOST) == {"device": device}
        plugin.devices.update_device_up(CTX, device, AGENT_ID, HOST)
        assert status(plugin, port) == "DOWN"
    assert blocks(plugin, unbound) == []
    assert plugin.devices.update_device_down(CTX, "tap00000000-00", AGENT_ID, HOST) == {
        "device": "tap00000000-00", "exists": False}


def test_unbinding_a_port_clears_its_blocks_and_status(plugin):
    report(plugin)
    _network, port = make_port(plugin)
    device = naming.tap_device(port["id"])
    plugin.devices.get_device_details(CTX, device, AGENT_ID, HOST)
    plugin.devices.update_device_up(CTX, device, AGENT_ID, HOST)
    updated = plugin.update_port(CTX, port["id"], {"port": {"binding:host_id": ""}})
    assert updated["status"] == "DOWN" and updated["binding:vif_type"] == "unbound"
    assert blocks(plugin, port) == []


def test_port_bound_before_its_agent_reported_binds_when_the_agent_asks(plugin):
    _network, port = make_port(plugin)
    assert port["binding:vif_type"] == "binding_failed" and plugin.driver.seen_agents == [[]]
    device = naming.tap_device(port["id"])
    report(plugin)
    details = plugin.devices.get_device_details(CTX, device, AGENT_ID, HOST)
    assert details["port_id"] == port["id"]
    assert plugin.get_port(CTX, port["id"])["binding:vif_type"] == "bridge"
    plugin.devices.update_device_up(CTX, device, AGENT_ID, HOST)
    assert status(plugin, port) == "ACTIVE"


def test_admin_down_port_is_down_in_details(plugin):
    report(plugin)
    _network, port = make_port(plugin, admin_state_up=False)
    details = plugin.devices.get_device_details(CTX, naming.tap_device(port["id"]), AGENT_ID, HOST)
    assert details["admin_state_up"] is False
    assert status(plugin, port) == "DOWN"


def test_disabled_agent_gets_no_ports(plugin):
    report(plugin)
    agent_id = plugin.get_agents(CTX)[0]["id"]
    plugin.update_agent(CTX, agent_id, {"agent": {"admin_state_up": False}})
    _network, port = make_port(plugin)
    assert port["binding:vif_type"] == "binding_failed" and blocks(plugin, port) == []


def test_changes_are_notified_after_commit(plugin):
    notifier = RecordingNotifier()
    plugin.ports.notifier = notifier
    plugin.networks.notifier = notifier
    report(plugin)
    network, port = make_port(plugin)
    assert notifier.sent == []  # a new port is found by its agent, as in Neutron
    plugin.update_port(CTX, port["id"], {"port": {"name": "renamed"}})
    assert outbox.OUTBOX.flush(10) and notifier.sent == []  # nothing an agent wires
    plugin.update_port(CTX, port["id"], {"port": {"admin_state_up": False}})
    # Sent by the outbox's thread (the bound segment read there too).
    assert outbox.OUTBOX.flush(10)
    (name, args), = notifier.sent
    assert name == "port_update" and args[0]["id"] == port["id"] and args[0]["admin_state_up"] is False
    assert args[1:] == ("vxlan", network["provider:segmentation_id"], None)
    plugin.update_network(CTX, network["id"], {"network": {"name": "other"}})
    plugin.update_network(CTX, network["id"], {"network": {"admin_state_up": False}})
    assert notifier.sent[-1][0] == "network_update" and len(notifier.sent) == 2
    plugin.delete_port(CTX, port["id"])
    plugin.delete_network(CTX, network["id"])
    assert notifier.sent[-2:] == [("port_delete", (port["id"],)), ("network_delete", (network["id"],))]


def test_tunnel_sync_registers_endpoints_and_moves_them(plugin):
    sent = RecordingNotifier()
    endpoint = plugin.rpc_endpoints()[topics.PLUGIN][1]
    endpoint.notifier = sent
    assert endpoint.tunnel_sync(CTX, tunnel_ip="192.0.2.1", tunnel_type="vxlan", host="compute1") == {
        "tunnels": [{"ip_address": "192.0.2.1", "host": "compute1"}]}
    endpoint.tunnel_sync(CTX, tunnel_ip="192.0.2.2", tunnel_type="vxlan", host="compute2")
    # compute1's address changes: the old endpoint goes and the others are told.
    result = endpoint.tunnel_sync(CTX, tunnel_ip="192.0.2.3", tunnel_type="vxlan", host="compute1")
    assert result == {"tunnels": [{"ip_address": "192.0.2.2", "host": "compute2"},
                                  {"ip_address": "192.0.2.3", "host": "compute1"}]}
    assert sent.sent[-2:] == [("tunnel_delete", ("192.0.2.1", "vxlan")), ("tunnel_update", ("192.0.2.3", "vxlan"))]
    # An address taken over by another host leaves the host that had it.
    result = endpoint.tunnel_sync(CTX, tunnel_ip="192.0.2.2", tunnel_type="vxlan", host="compute3")
    assert {"ip_address": "192.0.2.2", "host": "compute3"} in result["tunnels"]
    assert all(t["host"] != "compute2" for t in result["tunnels"])
    with pytest.raises(exc.InvalidInput):
        endpoint.tunnel_sync(CTX, tunnel_ip="192.0.2.9", tunnel_type="vlan", host="compute1")
    with pytest.raises(exc.InvalidInput):
        endpoint.tunnel_sync(CTX, tunnel_ip=None, tunnel_type="vxlan", host="compute1")


class NetworkReader(driver_api.MechanismDriver):
    """Records what the port's network context shows a driver in each update/delete hook."""

    def __init__(self):
        self.seen = []

    def _record(self, hook, context):
        network = context.network
        self.seen.append((hook, network.current["id"], network.current["provider:segmentation_id"],
                          [s["segmentation_id"] for s in network.network_segments],
                          sorted(network.dhcp_enabled_subnet_ids)))

    def update_port_precommit(self, context):
        self._record("update_port_precommit", context)

    def update_port_postcommit(self, context):
        self._record("update_port_postcommit", context)

    def delete_port_precommit(self, context):
        self._record("delete_port_precommit", context)

    def delete_port_postcommit(self, context):
        self._record("delete_port_postcommit", context)


def test_drivers_read_the_network_of_a_changed_port_when_they_look(plugin):
    reader = NetworkReader()
    plugin.mechanism_manager.drivers.append(("network_reader", reader))
    network = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "net"}})
    subnet = plugin.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": network["id"],
                                                   "ip_version": 4, "cidr": "10.91.0.0/24"}})
    port = plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": network["id"]}})
    subnet_ids = [subnet["id"]]
    plugin.update_port(CTX, port["id"], {"port": {"name": "renamed"}})
    plugin.delete_port(CTX, port["id"])
    vni = network["provider:segmentation_id"]
    assert reader.seen == [(hook, network["id"], vni, [vni], subnet_ids) for hook in (
        "update_port_precommit", "update_port_postcommit", "delete_port_precommit", "delete_port_postcommit")]
