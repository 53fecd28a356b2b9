"""Ports' extra DHCP options on a real database: stored, merged on update, removed with the port,
and read for a long port list in a single extra query."""
import pytest
import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import event

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.db import api as db_api
from netweave.core.db.models import dhcp as dhcp_models

CTX = context_mod.get_admin_context()


@pytest.fixture(params=ml2_plugin.BACKENDS)
def plugin(request, tmp_path):
    with ml2_plugin.running_plugin(ml2_plugin.database_url(request, tmp_path)) as plugin:
        yield plugin


def network(plugin):
    net = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "net"}})
    plugin.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": net["id"], "cidr": "10.40.0.0/20",
                                          "ip_version": 4}})
    return net


def opt(name, value, version=4):
    return {"opt_name": name, "opt_value": value, "ip_version": version}


def stored_rows():
    with db_api.reader_scope() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(dhcp_models.ExtraDhcpOpt))


def test_options_are_stored_merged_and_removed_with_the_port(plugin):
    net = network(plugin)
    port = plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": net["id"], "extra_dhcp_opts": [
        opt("tftp-server", "10.40.0.9"), opt("bootfile-name", "pxelinux.0"), opt("ntp-server", None),
        opt("tftp-server", "fd00::9", 6)]}})
    # A null value on create is nothing to store.
    assert port["extra_dhcp_opts"] == [opt("bootfile-name", "pxelinux.0"), opt("tftp-server", "10.40.0.9"),
                                       opt("tftp-server", "fd00::9", 6)]
    assert plugin.get_port(CTX, port["id"])["extra_dhcp_opts"] == port["extra_dhcp_opts"]

    updated = plugin.update_port(CTX, port["id"], {"port": {"extra_dhcp_opts": [
        opt("tftp-server", "10.40.0.10"), opt("bootfile-name", None), opt("mtu", "1400"),
        opt("unknown", None)]}})
    assert updated["extra_dhcp_opts"] == [opt("mtu", "1400"), opt("tftp-server", "10.40.0.10"),
                                          opt("tftp-server", "fd00::9", 6)]
    assert updated["revision_number"] > port["revision_number"]
    # Other updates leave the options alone.
    assert plugin.update_port(CTX, port["id"], {"port": {"name": "x"}})["extra_dhcp_opts"] == \
        updated["extra_dhcp_opts"]
    plugin.delete_port(CTX, port["id"])
    assert stored_rows() == 0


def test_bulk_create_stores_each_ports_options(plugin):
    net = network(plugin)
    ports = plugin.create_port_bulk(CTX, {"ports": [
        {"port": {"project_id": "p1", "network_id": net["id"], "extra_dhcp_opts": [opt("a", "1")]}},
        {"port": {"project_id": "p1", "network_id": net["id"], "extra_dhcp_opts": [opt("b", "2")]}},
        {"port": {"project_id": "p1", "network_id": net["id"]}}]})
    assert [p["extra_dhcp_opts"] for p in ports] == [[opt("a", "1")], [opt("b", "2")], []]
    listed = {p["id"]: p["extra_dhcp_opts"] for p in plugin.get_ports(CTX)}
    assert listed == {p["id"]: p["extra_dhcp_opts"] for p in ports}
    # A page holds the options of its own ports only.
    for page in (plugin.get_ports(CTX, limit=1), plugin.get_ports(CTX, limit=2, page_reverse=True)):
        assert page and all(p["extra_dhcp_opts"] == listed[p["id"]] for p in page)


@pytest.fixture
def unlimited_ports():
    cfg.CONF.set_override("quota_port", -1, "quotas")
    yield
    cfg.CONF.clear_override("quota_port", "quotas")


def test_listing_a_thousand_ports_reads_their_options_in_one_query(plugin, unlimited_ports):
    net = network(plugin)
    items = [{"port": {"project_id": "p1", "network_id": net["id"],
                       "extra_dhcp_opts": [opt("tftp-server", "10.40.%d.%d" % (i // 250, i % 250 + 1))]
                       if i % 3 == 0 else []}} for i in range(1000)]
    for start in range(0, 1000, 250):
        plugin.create_port_bulk(CTX, {"ports": items[start:start + 250]})
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db_api.DATABASE.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        ports = plugin.get_ports(CTX)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(ports) == 1000
    assert sum(1 for p in ports if p["extra_dhcp_opts"]) == 334
    assert len([s for s in statements if "extradhcpopts" in s]) == 1
