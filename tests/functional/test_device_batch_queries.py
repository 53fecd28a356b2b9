"""What an agent's resync costs the database: statements per batch, not per port.

The real ML2 plugin on SQLite (tests/harness/ml2_plugin.py). A resync asks for
the details of every wired port (BUILD) and reports them all up (ACTIVE); each
status change builds the port's context before and after it. Every statement
is counted with SQLAlchemy's cursor events: the ports' extra DHCP options are
read once per batch, and the whole batch costs far fewer statements than it
has ports, whether 20 or 60 of them.
"""
import contextlib

import pytest
import sqlalchemy as sa

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.db import api as db_api

CTX = context_mod.get_admin_context()
HOST = "queries-a"


@pytest.fixture
def plugin(tmp_path):
    with ml2_plugin.plugin_overrides():
        plugin = ml2_plugin.in_process_plugin("sqlite:///%s" % (tmp_path / "queries.db"))
        try:
            plugin.agents.report_state(CTX, ml2_plugin.linuxbridge_state(HOST, start_flag=True))
            yield plugin
        finally:
            db_api.DATABASE.engine.dispose()


@contextlib.contextmanager
def counted():
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db_api.DATABASE.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def wired_ports(plugin, count, with_options=0):
    net = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "q"}})
    plugin.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": net["id"], "ip_version": 4,
                                          "cidr": "10.78.0.0/24", "gateway_ip": None}})
    ports = []
    for i in range(count):
        body = {"project_id": "p1", "network_id": net["id"], "binding:host_id": HOST}
        if i < with_options:
            body["extra_dhcp_opts"] = [{"opt_name": "tftp-server", "opt_value": "192.0.2.%d" % (i + 1)}]
        ports.append(plugin.create_port(CTX, {"port": body}))
    return ports


def resync(plugin, ports):
    """(statements of the details call, statements of the up report, the details)."""
    devices = [p["id"] for p in ports]
    with counted() as details_statements:
        details = plugin.devices.get_devices_details_list(CTX, devices, "agent", HOST)
    with counted() as up_statements:
        result = plugin.devices.update_device_list(CTX, devices, [], "agent", HOST)
    assert not result["failed_devices_up"]
    return details_statements, up_statements, details


def option_reads(statements):
    return [s for s in statements if "extradhcpopts" in s.lower() and s.lstrip().upper().startswith("SELECT")]


@pytest.mark.parametrize("count", [20, 60])
def test_a_resync_reads_extra_dhcp_options_once_per_batch(plugin, count):
    ports = wired_ports(plugin, count, with_options=3)
    details_statements, up_statements, details = resync(plugin, ports)
    assert all(d.get("network_id") for d in details)
    assert len(option_reads(details_statements)) == 1, option_reads(details_statements)
    assert len(option_reads(up_statements)) == 1, option_reads(up_statements)
    for port in ports:
        assert plugin.get_port(CTX, port["id"])["status"] == "ACTIVE"


def test_statements_grow_slower_than_the_ports(plugin):
    small = wired_ports(plugin, 10)
    big = wired_ports(plugin, 50)
    small_cost = sum(len(s) for s in resync(plugin, small)[:2])
    big_cost = sum(len(s) for s in resync(plugin, big)[:2])
    print("statements for a resync: 10 ports %d, 50 ports %d" % (small_cost, big_cost))
    assert big_cost < small_cost + 40 * 3, (small_cost, big_cost)


def test_options_changed_in_the_same_transaction_are_read_fresh(plugin):
    from netweave.core.services import extra_dhcp_opts
    (port,) = wired_ports(plugin, 1, with_options=1)
    with db_api.session_scope() as session:
        extra_dhcp_opts.preload(session, [port["id"]])
        assert extra_dhcp_opts.load(session, [port["id"]])[port["id"]][0]["opt_value"] == "192.0.2.1"
        extra_dhcp_opts.update(session, port["id"], [{"opt_name": "tftp-server", "opt_value": "192.0.2.99"}])
        assert extra_dhcp_opts.load(session, [port["id"]])[port["id"]][0]["opt_value"] == "192.0.2.99"
        # What the cache hands out is a copy: changing it changes nothing stored.
        extra_dhcp_opts.load(session, [port["id"]])[port["id"]][0]["opt_value"] = "x"
        extra_dhcp_opts.preload(session, [port["id"]])
        extra_dhcp_opts.load(session, [port["id"]])[port["id"]][0]["opt_value"] = "x"
        assert extra_dhcp_opts.load(session, [port["id"]])[port["id"]][0]["opt_value"] == "192.0.2.99"


def test_a_small_batch_costs_few_statements(plugin):
    """The fixed cost of an agent's call: the L2 agent reports a few devices at a time
    while it wires a burst of ports, so each call's own statements add up."""
    ports = wired_ports(plugin, 3)
    details_statements, up_statements, _details = resync(plugin, ports)
    # SQLite, BEGINs counted: the match of the devices (one plain query before the write
    # transaction), the ports and their networks as the port service loads them, the
    # options, the segments and one UPDATE per port.
    assert len(details_statements) <= 20, details_statements
    assert len(up_statements) <= 19, up_statements
    unread = ("FROM dnsnameservers", "FROM subnetroutes", "FROM subnet_service_types")
    assert not [s for s in details_statements + up_statements if any(table in s for table in unread)]
    before_write = details_statements[:details_statements.index("BEGIN IMMEDIATE")]
    assert len([s for s in before_write if s.lstrip().upper().startswith("SELECT")]) == 1, before_write
