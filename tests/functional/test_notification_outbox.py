"""Agent notifications leave through the process's outbox (core/rpc/outbox.py): the
real ML2 plugin (SQLite) on oslo.messaging's in-process transport, an agent's
notification consumers receiving what it casts; and a broker that accepts
connections but never answers, which the API calls must not wait for.
"""
import contextlib
import queue
import socket
import time

import oslo_messaging
import pytest
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.agent import notifications
from netweave.core.rpc import outbox

CTX = context_mod.get_admin_context()
HOST = "compute1"


class Recorder:
    """An L2 agent's notification endpoints: every cast, in the order received."""

    def __init__(self):
        self.received = queue.Queue()

    def port_update(self, context, port, **_segment):
        self.received.put(("port_update", port["id"], port["admin_state_up"]))

    def port_delete(self, context, port_id):
        self.received.put(("port_delete", port_id, None))

    def network_update(self, context, network):
        self.received.put(("network_update", network["id"], None))

    def network_delete(self, context, network_id):
        self.received.put(("network_delete", network_id, None))

    def take(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        return [self.received.get(timeout=max(0.01, deadline - time.monotonic())) for _ in range(count)]


@pytest.fixture
def plugin(tmp_path):
    with ml2_plugin.running_plugin("sqlite:///%s" % (tmp_path / "outbox.db")) as plugin:
        plugin.agents.report_state(CTX, ml2_plugin.linuxbridge_state(HOST))
        yield plugin
        assert outbox.OUTBOX.flush(60)


def _bound_ports(plugin, count):
    network = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "net"}})
    plugin.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": network["id"], "ip_version": 4,
                                          "cidr": "10.90.0.0/24"}})
    ports = [plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": network["id"],
                                               "binding:host_id": HOST}}) for _ in range(count)]
    assert all(p["binding:vif_type"] == ml2_plugin.VIF_TYPE for p in ports)
    return network, ports


def test_agent_receives_every_notification_in_order(plugin):
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url="fake://")
    plugin.connect_agents(transport)
    recorder = Recorder()
    consumers = notifications.create_consumers(transport, HOST, [recorder],
                                               subscriptions=notifications.L2_AGENT_SUBSCRIPTIONS)
    consumers.start()
    try:
        network, ports = _bound_ports(plugin, 4)
        # Interleaved changes of several ports: each port's must arrive in its order.
        expected = []
        for round_ in range(6):
            for port in ports:
                state = round_ % 2 == 1
                plugin.update_port(CTX, port["id"], {"port": {"admin_state_up": state}})
                expected.append(("port_update", port["id"], state))
        updates = recorder.take(len(expected))
        assert updates == expected
        for port in ports:
            plugin.delete_port(CTX, port["id"])
        plugin.delete_network(CTX, network["id"])
        gone = recorder.take(len(ports) + 1)
        # port_delete and network_delete have consumers of their own: each topic in order.
        assert [g for g in gone if g[0] == "port_delete"] == [("port_delete", p["id"], None) for p in ports]
        assert [g for g in gone if g[0] == "network_delete"] == [("network_delete", network["id"], None)]
        assert outbox.OUTBOX.flush(10) and outbox.OUTBOX.dropped == 0
        with pytest.raises(queue.Empty):
            recorder.received.get(timeout=0.5)
    finally:
        consumers.stop()
        transport.cleanup()


@contextlib.contextmanager
def silent_broker():
    """A broker URL whose TCP port accepts connections (the kernel's backlog) and never
    answers; once the block ends, connecting to it is refused."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield "rabbit://guest:guest@127.0.0.1:%d/" % listener.getsockname()[1]
    finally:
        listener.close()


def test_the_response_does_not_wait_for_a_broker_that_does_not_answer(plugin):
    _network, (port,) = _bound_ports(plugin, 1)
    with silent_broker() as url:
        transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=url)
        plugin.connect_agents(transport)
        started = time.monotonic()
        for state in (False, True, False):
            updated = plugin.update_port(CTX, port["id"], {"port": {"admin_state_up": state}})
            assert updated["admin_state_up"] is state
        elapsed = time.monotonic() - started
        # The casts wait in the outbox while its thread is stuck on the broker.
        waiting = outbox.OUTBOX.pending()
    # The broker is gone now: the casts fail (logged) and the outbox empties.
    assert outbox.OUTBOX.flush(120)
    transport.cleanup()
    assert waiting >= 2 and elapsed < 2.0, (waiting, elapsed)
