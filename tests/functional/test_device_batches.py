"""An agent's device lists handled as batches, and l2population's messages about them.

The real ML2 plugin on a real database (SQLite, and PostgreSQL when present)
with the l2population driver; its casts go to a recorder instead of a broker
(tests/functional/test_linuxbridge_multihost.py covers them over RabbitMQ).
The agents' calls go straight to the DeviceService, as the RPC endpoint
makes them.
"""
import datetime

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import naming
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.db.models import agent as agent_models
from netweave.mechanism_drivers.l2population import mech_driver as l2pop

CTX = context_mod.get_admin_context()
HOST_A, HOST_B = "batch-a", "batch-b"
IP_A, IP_B = "192.0.2.11", "192.0.2.12"
FLOOD = list(l2pop.FLOODING_ENTRY)


class RecordingL2pop:
    def __init__(self):
        self.sent = []

    def add_fdb_entries(self, context, fdb_entries, host=None):
        self.sent.append(("add", host, fdb_entries))

    def remove_fdb_entries(self, context, fdb_entries, host=None):
        self.sent.append(("remove", host, fdb_entries))

    def update_fdb_entries(self, context, fdb_entries, host=None):
        self.sent.append(("update", host, fdb_entries))

    def take(self):
        sent, self.sent = self.sent, []
        return sent


@pytest.fixture(params=ml2_plugin.BACKENDS)
def plugin(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    with ml2_plugin.plugin_overrides():
        plugin = ml2_plugin.in_process_plugin(url)
        plugin.recorder = RecordingL2pop()
        plugin.l2pop = l2pop.L2populationMechanismDriver(notifier=plugin.recorder)
        plugin.mechanism_manager.drivers.append(("l2population", plugin.l2pop))
        try:
            for host, ip in ((HOST_A, IP_A), (HOST_B, IP_B)):
                report(plugin, host, ip, start_flag=True)
            yield plugin
        finally:
            cfg.CONF.clear_override("agent_boot_time", "l2pop")
            db_api.DATABASE.engine.dispose()


def report(plugin, host, ip, **extra):
    configurations = {"interface_mappings": {}, "tunnel_types": ["vxlan"], "tunneling_ip": ip,
                      "l2_population": True, "devices": 0}
    plugin.agents.report_state(CTX, ml2_plugin.linuxbridge_state(host, configurations=configurations, **extra))


def network(plugin, name="net"):
    net = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": name}})
    plugin.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": net["id"], "ip_version": 4,
                                          "cidr": "10.77.0.0/24", "gateway_ip": None}})
    return net


def ports(plugin, net, host, count):
    return [plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": net["id"],
                                              "binding:host_id": host}}) for _ in range(count)]


def devices(ports_):
    return [naming.tap_device(p["id"]) for p in ports_]


def wire(plugin, host, ports_):
    """An agent's pass over ``ports_``: details of all, then all up, each in one call."""
    plugin.devices.get_devices_details_list_and_failed_devices(CTX, devices(ports_), "agent", host)
    return plugin.devices.update_device_list(CTX, devices(ports_), [], "agent", host)


def entries(port):
    return [[port["mac_address"], ip["ip_address"]] for ip in port["fixed_ips"]]


def statuses(plugin, ports_):
    return {plugin.get_port(CTX, p["id"])["status"] for p in ports_}


class Commits:
    """Counts the transactions committed on the engine while in use."""

    def __init__(self):
        self.count = 0

    def _seen(self, _connection):
        self.count += 1

    def __enter__(self):
        sa.event.listen(db_api.DATABASE.engine, "commit", self._seen)
        return self

    def __exit__(self, *exc):
        sa.event.remove(db_api.DATABASE.engine, "commit", self._seen)


def set_started_at(host, when):
    with db_api.session_scope() as session:
        session.execute(sa.update(agent_models.Agent).where(agent_models.Agent.host == host)
                        .values(started_at=when))


# --- batches --------------------------------------------------------------------------------


def test_a_device_list_is_read_and_written_in_a_few_transactions(plugin):
    net = network(plugin)
    mine = ports(plugin, net, HOST_A, 40)
    foreign = ports(plugin, net, HOST_B, 1)
    asked = devices(mine) + devices(foreign) + ["tap00000000-00"]
    with Commits() as details_commits:
        reply = plugin.devices.get_devices_details_list_and_failed_devices(CTX, asked, "agent", HOST_A)
    assert reply["failed_devices"] == []
    assert [d["device"] for d in reply["devices"]] == asked
    assert [d.get("port_id") for d in reply["devices"][:40]] == [p["id"] for p in mine]
    assert all(d["network_type"] == "vxlan" and d["mtu"] == 1450 for d in reply["devices"][:40])
    # Another host's port and an unknown device are answered with the bare device.
    assert reply["devices"][40:] == [{"device": asked[40]}, {"device": asked[41]}]
    assert statuses(plugin, mine) == {"BUILD"}
    assert statuses(plugin, foreign) == {"DOWN"}
    with Commits() as up_commits:
        result = plugin.devices.update_device_list(CTX, devices(mine), [], "agent", HOST_A)
    assert result["devices_up"] == devices(mine) and result["failed_devices_up"] == []
    assert statuses(plugin, mine) == {"ACTIVE"}
    # One write transaction per list (the 40 ports), not one per device.
    assert details_commits.count <= 2, details_commits.count
    assert up_commits.count <= 2, up_commits.count
    with Commits() as down_commits:
        result = plugin.devices.update_device_list(CTX, [], devices(mine[:10]) + ["tap00000000-00"], "agent",
                                                   HOST_A)
    assert result["devices_down"] == [{"device": d, "exists": True} for d in devices(mine[:10])] + [
        {"device": "tap00000000-00", "exists": False}]
    assert down_commits.count <= 2, down_commits.count
    assert statuses(plugin, mine[:10]) == {"DOWN"} and statuses(plugin, mine[10:]) == {"ACTIVE"}


def test_full_ids_and_repeated_devices_in_one_list(plugin):
    net = network(plugin)
    (port,) = ports(plugin, net, HOST_A, 1)
    reply = plugin.devices.get_devices_details_list(CTX, [port["id"], naming.tap_device(port["id"])], "agent",
                                                    HOST_A)
    assert [d["port_id"] for d in reply] == [port["id"], port["id"]]
    result = plugin.devices.update_device_list(CTX, [port["id"], naming.tap_device(port["id"])], [], "agent",
                                               HOST_A)
    assert result["failed_devices_up"] == [] and statuses(plugin, [port]) == {"ACTIVE"}
    with db_api.reader_scope() as session:
        assert plugin.provisioning.entities(session, port["id"]) == []


def test_a_port_of_another_host_is_not_marked_up_or_down(plugin):
    net = network(plugin)
    (port,) = ports(plugin, net, HOST_B, 1)
    wire(plugin, HOST_B, [port])
    result = plugin.devices.update_device_list(CTX, devices([port]), devices([port]), "agent", HOST_A)
    assert result["failed_devices_up"] == [] and result["failed_devices_down"] == []
    assert statuses(plugin, [port]) == {"ACTIVE"}


# --- l2population on batches ---------------------------------------------------------------


def test_ports_turning_active_together_are_announced_once(plugin):
    net = network(plugin)
    (remote,) = ports(plugin, net, HOST_B, 1)
    wire(plugin, HOST_B, [remote])
    plugin.recorder.take()
    local = ports(plugin, net, HOST_A, 5)
    wire(plugin, HOST_A, local)
    sent = plugin.recorder.take()
    segment = {"network_type": "vxlan", "segment_id": net["provider:segmentation_id"]}
    # Host A learns host B's flooding entry and port, in one message to A alone ...
    assert ("add", HOST_A, {net["id"]: dict(segment, ports={IP_B: [FLOOD] + entries(remote)})}) in sent
    # ... and everyone learns A's flooding entry and five ports, in one fanout.
    expected = [FLOOD] + [e for p in sorted(local, key=lambda p: p["id"]) for e in entries(p)]
    fanouts = [payload for kind, host, payload in sent if kind == "add" and host is None]
    assert len(fanouts) == 1 and len(sent) == 2, sent
    got = fanouts[0][net["id"]]["ports"][IP_A]
    assert got[0] == FLOOD and sorted(got) == sorted(expected)


def test_a_later_port_is_only_announced_while_the_agent_is_not_restarting(plugin):
    cfg.CONF.set_override("agent_boot_time", 0, "l2pop")
    net = network(plugin)
    (remote,) = ports(plugin, net, HOST_B, 1)
    wire(plugin, HOST_B, [remote])
    first = ports(plugin, net, HOST_A, 1)
    wire(plugin, HOST_A, first)
    plugin.recorder.take()
    later = ports(plugin, net, HOST_A, 1)
    wire(plugin, HOST_A, later)
    # Not A's first port: no flooding entry, nothing sent to A alone.
    assert plugin.recorder.take() == [("add", None, {net["id"]: {
        "network_type": "vxlan", "segment_id": net["provider:segmentation_id"], "ports": {IP_A: entries(later[0])}}})]


def test_a_restarted_agent_is_sent_every_entry_again(plugin):
    net = network(plugin)
    (remote,) = ports(plugin, net, HOST_B, 1)
    wire(plugin, HOST_B, [remote])
    local = ports(plugin, net, HOST_A, 3)
    wire(plugin, HOST_A, local)
    long_ago = model_base.utcnow() - datetime.timedelta(hours=1)
    set_started_at(HOST_A, long_ago)
    plugin.recorder.take()
    # A restarts: its first report carries start_flag, then it resyncs every port it has.
    report(plugin, HOST_A, IP_A, start_flag=True)
    wire(plugin, HOST_A, local)
    sent = plugin.recorder.take()
    to_a = [payload for kind, host, payload in sent if host == HOST_A]
    assert to_a == [{net["id"]: {"network_type": "vxlan", "segment_id": net["provider:segmentation_id"],
                                 "ports": {IP_B: [FLOOD] + entries(remote)}}}]
    # The others hear only of A's own entries, which they already have: nothing about B.
    for kind, host, payload in sent:
        assert kind == "add"
        assert set(payload[net["id"]]["ports"]) == ({IP_B} if host == HOST_A else {IP_A})
    # Even a single new port of a long-running network gets A the full list while A is booting.
    more = ports(plugin, net, HOST_A, 1)
    wire(plugin, HOST_A, more)
    assert [host for _kind, host, _payload in plugin.recorder.take()] == [HOST_A, None]
    # Once agent_boot_time has passed, it does not.
    set_started_at(HOST_A, long_ago)
    wire(plugin, HOST_A, ports(plugin, net, HOST_A, 1))
    assert [host for _kind, host, _payload in plugin.recorder.take()] == [None]


def test_a_resync_that_changes_nothing_sends_nothing(plugin):
    net = network(plugin)
    local = ports(plugin, net, HOST_A, 3)
    wire(plugin, HOST_A, local)
    set_started_at(HOST_A, model_base.utcnow() - datetime.timedelta(hours=1))
    plugin.recorder.take()
    # Details alone (ACTIVE -> BUILD) withdraw nothing: the ports keep their host's flooding entry.
    plugin.devices.get_devices_details_list_and_failed_devices(CTX, devices(local), "agent", HOST_A)
    assert plugin.recorder.take() == []
    plugin.devices.update_device_list(CTX, [], devices(local), "agent", HOST_A)
    (kind, host, payload), = plugin.recorder.take()
    assert kind == "remove" and host is None
    assert payload[net["id"]]["ports"][IP_A][0] == FLOOD
