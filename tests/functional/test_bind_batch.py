"""Binding many ports to one host at once (PortService.bind_to_host): what an L3
agent's routers ask for their ports.

The real ML2 plugin (tests/harness/ml2_plugin.py) on SQLite and PostgreSQL. The
batch gives each port what a port update of its binding:host_id followed by
its binding gives it, in one write transaction of a fixed number of
statements whatever the number of ports; the drivers still decide each port,
and a port no driver binds fails alone. Every statement and transaction is
counted with SQLAlchemy's engine events.
"""
import contextlib

import pytest
import sqlalchemy as sa

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.db import api as db_api
from netweave.core.plugins.ml2 import driver_api
from netweave.core.services import provisioning
from netweave.service_plugins.router import l3_rpc

CTX = context_mod.get_admin_context()
HOST = "network-node"
WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture(params=ml2_plugin.BACKENDS)
def plugin(request, tmp_path):
    with ml2_plugin.running_plugin(ml2_plugin.database_url(request, tmp_path)) as plugin:
        plugin.agents.report_state(CTX, ml2_plugin.linuxbridge_state(HOST, start_flag=True))
        yield plugin


class Transactions:
    """The statements of every transaction run while counting, in order of commit."""

    def __init__(self):
        self.open = {}
        self.done = []

    def statement(self, conn, _cursor, statement, *_args):
        self.open.setdefault(id(conn), []).append(statement)

    def end(self, conn):
        self.done.append(self.open.pop(id(conn), []))

    @property
    def writing(self):
        return [t for t in self.done if any(s.lstrip().upper().startswith(WRITES) for s in t)]

    @property
    def statements(self):
        return [s for t in self.done for s in t]


@contextlib.contextmanager
def counted():
    transactions = Transactions()
    engine = db_api.DATABASE.engine
    listeners = [("before_cursor_execute", transactions.statement), ("commit", transactions.end),
                 ("rollback", transactions.end)]
    for name, listener in listeners:
        sa.event.listen(engine, name, listener)
    try:
        yield transactions
    finally:
        for name, listener in listeners:
            sa.event.remove(engine, name, listener)


def router_ports(plugin, count, networks=2, name="qr"):
    """``count`` unbound router interface ports spread over ``networks`` new networks."""
    nets = []
    for index in range(networks):
        net = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "n%d" % index}})
        plugin.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": net["id"], "ip_version": 4,
                                              "cidr": "10.79.%d.0/24" % index}})
        nets.append(net)
    return [plugin.create_port(CTX, {"port": {
        "project_id": "p1", "network_id": nets[i % networks]["id"], "name": "%s-%d" % (name, i),
        "device_owner": "network:router_interface", "device_id": "router-%d" % i}}) for i in range(count)]


def blocks_of(plugin, port_ids):
    with db_api.reader_scope() as session:
        return {port_id: plugin.provisioning.entities(session, port_id) for port_id in port_ids}


def test_ports_bound_together_as_one_by_one(plugin):
    """The batch leaves each port as updating its host alone does: bound by the driver,
    DOWN and blocked until its L2 agent reports it wired."""
    alone, together = router_ports(plugin, 3, name="alone"), router_ports(plugin, 3, name="together")
    for port in alone:
        plugin.ports.update(CTX, port["id"], {"binding:host_id": HOST})
    bound = plugin.ports.bind_to_host(CTX, [p["id"] for p in together], HOST)

    assert [p["id"] for p in bound] == [p["id"] for p in together]
    for before, answered in zip(together, bound):
        shown = plugin.ports.get(CTX, before["id"])
        assert answered == shown
        assert shown["binding:host_id"] == HOST
        assert shown["binding:vif_type"] == ml2_plugin.VIF_TYPE
        assert shown["binding:vif_details"] == {"port_filter": True}
        assert shown["status"] == "DOWN"
        assert shown["revision_number"] > before["revision_number"]
    one_by_one = [plugin.ports.get(CTX, p["id"]) for p in alone]
    differing = {"id", "name", "device_id", "mac_address", "fixed_ips", "created_at", "updated_at",
                 "revision_number", "network_id"}
    for single, batched in zip(one_by_one, bound):
        assert {k: v for k, v in single.items() if k not in differing} == \
            {k: v for k, v in batched.items() if k not in differing}
    assert set(map(tuple, blocks_of(plugin, [p["id"] for p in together]).values())) == \
        {(provisioning.L2_AGENT_ENTITY,)}
    with db_api.reader_scope() as session:
        segments = dict(session.execute(sa.text(
            "SELECT port_id, segment_id FROM ml2_port_bindings")).all())
    assert all(segments[p["id"]] for p in together)
    # Asked again (an agent's next sync): nothing left to do.
    assert plugin.ports.bind_to_host(CTX, [p["id"] for p in together], HOST) == []


@pytest.mark.parametrize("count", [20, 60])
def test_one_write_transaction_of_fixed_statements_for_a_batch(plugin, count):
    ports = router_ports(plugin, count)
    with counted() as batch:
        bound = plugin.ports.bind_to_host(CTX, [p["id"] for p in ports], HOST)
    assert len(bound) == count
    writing = batch.writing
    assert len(writing) == 1
    # The ports' and bindings' writes, the blocks cleared and added, the agents read:
    # the same few statements for 20 ports as for 60.
    assert len(writing[0]) <= 8, writing[0]
    # Reads before it: the ports (two statements) and the two networks (five each).
    assert len(batch.statements) <= 22, batch.statements


def test_fewer_statements_than_one_by_one(plugin):
    ports = router_ports(plugin, 20)
    with counted() as single:
        for port in ports[:10]:
            plugin.ports.update(CTX, port["id"], {"binding:host_id": HOST})
    with counted() as batch:
        plugin.ports.bind_to_host(CTX, [p["id"] for p in ports[10:]], HOST)
    assert len(single.writing) == 20
    assert len(batch.writing) == 1
    assert len(batch.statements) * 5 < len(single.statements)


class PickyDriver(driver_api.MechanismDriver):
    """Binds every port but those named "unbindable"."""

    def __init__(self, inner):
        self.inner = inner

    def bind_port(self, context):
        if context.current["name"] != "unbindable":
            self.inner.bind_port(context)


class RefusingDriver(driver_api.MechanismDriver):
    """Refuses, in its precommit, any change of a port named "refused"."""

    def update_port_precommit(self, context):
        if context.current["name"] == "refused":
            raise RuntimeError("refused")


def test_a_port_no_driver_binds_fails_alone(plugin):
    ports = router_ports(plugin, 3)
    plugin.ports.update(CTX, ports[1]["id"], {"name": "unbindable"})
    plugin.mechanism_manager.drivers[:] = [("picky", PickyDriver(plugin.driver))]
    bound = plugin.ports.bind_to_host(CTX, [p["id"] for p in ports], HOST)
    assert [p["binding:vif_type"] for p in bound] == [ml2_plugin.VIF_TYPE, "binding_failed", ml2_plugin.VIF_TYPE]
    assert [p["status"] for p in bound] == ["DOWN", "DOWN", "DOWN"]
    assert blocks_of(plugin, [p["id"] for p in ports]) == {
        ports[0]["id"]: [provisioning.L2_AGENT_ENTITY], ports[1]["id"]: [],
        ports[2]["id"]: [provisioning.L2_AGENT_ENTITY]}
    for answered in bound:
        assert plugin.ports.get(CTX, answered["id"]) == answered


def test_gone_ports_are_left_out(plugin):
    ports = router_ports(plugin, 3)
    plugin.ports.delete(CTX, ports[0]["id"])
    bound = plugin.ports.bind_to_host(CTX, [p["id"] for p in ports] + ["no-such-port"], HOST)
    assert [p["id"] for p in bound] == [p["id"] for p in ports[1:]]


def test_the_l3_binding_thread_binds_the_others_when_the_batch_fails(plugin):
    ports = router_ports(plugin, 3)
    plugin.ports.update(CTX, ports[1]["id"], {"name": "refused"})
    plugin.mechanism_manager.drivers.append(("refusing", RefusingDriver()))
    endpoint = l3_rpc.L3RpcEndpoint(scheduler=None, ports=plugin.ports, auto_schedule=False)
    endpoint._bind_each([(p["id"], HOST) for p in ports])
    hosts = [plugin.ports.get(CTX, p["id"])["binding:host_id"] for p in ports]
    assert hosts == [HOST, "", HOST]
