"""Extension drivers on a real database (SQLite and PostgreSQL): a port list with the
port_security driver loaded costs the same number of statements whatever the
page's length, lists what a single read shows, and drivers without a batch hook
still see every port; process_* hooks write in the resource's own transaction."""
import re
import uuid

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.db import api as db_api
from netweave.core.plugins.ml2 import driver_api
from netweave.service_plugins.port_security import exceptions as sg_exc
from netweave.service_plugins.port_security import models
from netweave.service_plugins.port_security import plugin as plugin_mod

ADMIN = context_mod.get_admin_context()
PROJECT = "xd-%s" % uuid.uuid4().hex[:8]


class StatementLog:
    """Every statement the engine sends while ``record`` runs a call."""

    def __init__(self, engine):
        self.engine = engine
        self.statements = []
        self.recording = False
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, _parameters, _context, _executemany):
        if self.recording:
            self.statements.append(" ".join(statement.split()))

    def record(self, call, *args, **kwargs):
        self.statements = []
        self.recording = True
        try:
            return call(*args, **kwargs)
        finally:
            self.recording = False

    def close(self):
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


class PerPortDriver(driver_api.ExtensionDriver):
    """An extension driver with the per-object hooks only, as older drivers have."""

    extension_alias = "xd-per-port"

    def __init__(self):
        self.sessions = []

    def process_create_port(self, plugin_context, data, result):
        self.sessions.append(plugin_context.session)
        result["xd_seen"] = plugin_context.session.get(models.PortSecurityBinding, result["id"]) is not None

    def extend_port_dict(self, session, db_obj, result):
        result["xd_mac"] = db_obj.mac_address


@pytest.fixture(params=ml2_plugin.BACKENDS)
def cloud(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    cfg.CONF.set_override("extension_drivers", ["port_security"], "ml2")
    try:
        with ml2_plugin.plugin_overrides():
            core = ml2_plugin.in_process_plugin(url)
            security = plugin_mod.PortSecurityPlugin()
            security.initialize(core)
            log = StatementLog(db_api.DATABASE.engine)
            try:
                yield core, security, log
            finally:
                log.close()
                db_api.DATABASE.engine.dispose()
    finally:
        cfg.CONF.clear_override("extension_drivers", "ml2")


def _network(core, cidr):
    net = core.create_network(ADMIN, {"network": {"project_id": PROJECT, "name": "xd"}})
    core.create_subnet(ADMIN, {"subnet": {
        "project_id": PROJECT, "network_id": net["id"], "cidr": cidr, "ip_version": 4, "name": "",
        "enable_dhcp": False, "gateway_ip": "auto", "allocation_pools": None, "dns_nameservers": [],
        "host_routes": []}})
    return net


def _ports(core, net, count, **extra):
    body = {"ports": [{"port": dict({"project_id": PROJECT, "network_id": net["id"]}, **extra)}
                      for _ in range(count)]}
    return core.create_port_bulk(ADMIN, body)


def _group(security, name):
    return security.create_security_group(ADMIN, {"security_group": {
        "project_id": PROJECT, "name": name, "description": ""}})


def _extension_reads(statements):
    tables = ("portsecuritybindings", "securitygroupportbindings", "allowedaddresspairs")
    return [s for s in statements if any(t in s for t in tables)]


def test_port_list_statements_stay_constant_with_port_security(cloud):
    core, security, log = cloud
    net = _network(core, "10.70.0.0/22")
    web = _group(security, "web")
    _ports(core, net, 4, security_groups=[web["id"]],
           allowed_address_pairs=[{"ip_address": "10.70.9.9"}])
    small = log.record(core.get_ports, ADMIN, filters={"network_id": [net["id"]]})
    few = list(log.statements)
    _ports(core, net, 150)
    _ports(core, net, 3, port_security_enabled=False, security_groups=[])
    large = log.record(core.get_ports, ADMIN, filters={"network_id": [net["id"]]})
    assert len(small) == 4 and len(large) == 157
    assert len(log.statements) == len(few), log.statements
    # The side tables read together in one statement, joined to the page: no Port
    # objects, no ids sent back.
    side_reads = _extension_reads(log.statements)
    assert len(side_reads) == 1, log.statements
    assert all("FROM %s" % table in side_reads[0]
               for table in ("portsecuritybindings", "securitygroupportbindings", "allowedaddresspairs"))
    assert not [s for s in log.statements if "ports.id IN (" in s or "port_id IN (" in s], log.statements
    # Pages of any size cost the same too.
    log.record(core.get_ports, ADMIN, limit=2, sorts=[("id", True)])
    paged = len(log.statements)
    log.record(core.get_ports, ADMIN, limit=120, sorts=[("id", True)])
    assert len(log.statements) == paged, log.statements


def test_listed_values_are_those_of_each_port(cloud):
    core, security, _log = cloud
    net = _network(core, "10.71.0.0/24")
    web, db = _group(security, "web"), _group(security, "db")
    both = _ports(core, net, 2, security_groups=[db["id"], web["id"]],
                  allowed_address_pairs=[{"ip_address": "10.71.0.200", "mac_address": "fa:16:3e:00:00:02"},
                                         {"ip_address": "10.71.0.100"}])
    plain = _ports(core, net, 2)
    closed = _ports(core, net, 1, port_security_enabled=False, security_groups=[])
    dhcp = _ports(core, net, 1, device_owner="network:dhcp")
    created = both + plain + closed + dhcp
    listed = {p["id"]: p for p in core.get_ports(ADMIN, filters={"network_id": [net["id"]]})}
    assert set(listed) == {p["id"] for p in created}
    for port in created:
        single = core.get_port(ADMIN, port["id"])
        for key in ("port_security_enabled", "security_groups", "allowed_address_pairs"):
            assert listed[port["id"]][key] == single[key] == port[key], key
    assert listed[both[0]["id"]]["security_groups"] == sorted([web["id"], db["id"]])
    assert [p["ip_address"] for p in listed[both[0]["id"]]["allowed_address_pairs"]] == ["10.71.0.100",
                                                                                     "10.71.0.200"]
    assert listed[closed[0]["id"]]["port_security_enabled"] is False
    assert listed[closed[0]["id"]]["security_groups"] == []
    assert listed[dhcp[0]["id"]]["security_groups"] == []
    # A page holds its own ports' values only.
    page = core.get_ports(ADMIN, filters={"network_id": [net["id"]]}, limit=2, sorts=[("id", True)])
    for port in page:
        assert port["security_groups"] == listed[port["id"]]["security_groups"]


def test_a_driver_without_the_batch_hook_sees_every_listed_port(cloud):
    core, _security, _log = cloud
    extra = PerPortDriver()
    core.extension_manager.drivers.append(("xd_per_port", extra))
    net = _network(core, "10.72.0.0/24")
    created = _ports(core, net, 3)
    # Its process hook ran in the port's transaction, after port_security wrote its row there.
    assert [p["xd_seen"] for p in created] == [True, True, True]
    assert len(extra.sessions) == 3 and all(s is extra.sessions[0] for s in extra.sessions)
    listed = core.get_ports(ADMIN, filters={"network_id": [net["id"]]})
    assert sorted((p["id"], p["xd_mac"]) for p in listed) == sorted((p["id"], p["mac_address"]) for p in created)
    assert all(p["port_security_enabled"] is True for p in listed)


def test_a_refused_port_leaves_no_rows_behind(cloud):
    core, _security, _log = cloud
    net = _network(core, "10.73.0.0/24")
    # The driver refuses after the port's rows were flushed in the same transaction.
    with pytest.raises(sg_exc.AddressPairAndPortSecurityRequired):
        _ports(core, net, 1, port_security_enabled=False, security_groups=[],
               allowed_address_pairs=[{"ip_address": "10.73.0.50"}])
    assert core.get_ports(ADMIN, filters={"network_id": [net["id"]]}) == []
    with db_api.reader_scope() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(models.PortSecurityBinding)) == 0
    # A network's flag is written in the network's transaction and read back.
    closed = core.create_network(ADMIN, {"network": {"project_id": PROJECT, "name": "closed",
                                                     "port_security_enabled": False}})
    assert core.get_network(ADMIN, closed["id"])["port_security_enabled"] is False
    updated = core.update_network(ADMIN, closed["id"], {"network": {"port_security_enabled": True}})
    assert updated["port_security_enabled"] is True
    assert core.get_network(ADMIN, closed["id"])["port_security_enabled"] is True


def test_network_list_statements_stay_constant_with_port_security(cloud):
    core, _security, log = cloud
    for index in range(3):
        core.create_network(ADMIN, {"network": {"project_id": PROJECT, "name": "few-%d" % index,
                                                "port_security_enabled": index != 1}})
    few_listed = log.record(core.get_networks, ADMIN)
    few = len(log.statements)
    for index in range(40):
        core.create_network(ADMIN, {"network": {"project_id": PROJECT, "name": "many-%d" % index}})
    many_listed = log.record(core.get_networks, ADMIN)
    assert len(few_listed) == 3 and len(many_listed) == 43
    assert len(log.statements) == few, log.statements
    flags = {n["name"]: n["port_security_enabled"] for n in many_listed}
    assert flags["few-1"] is False and flags["few-0"] is True and flags["many-39"] is True


def test_a_single_port_create_writes_plain_rows_with_port_security(cloud):
    core, security, log = cloud
    net = _network(core, "10.74.0.0/24")
    web = _group(security, "web")
    created = log.record(core.create_port, ADMIN, {"port": {
        "project_id": PROJECT, "network_id": net["id"], "security_groups": [web["id"]],
        "allowed_address_pairs": [{"ip_address": "10.74.0.99"}]}})
    # The port is not loaded back as an ORM object (with its side tables) to hang the driver's rows on.
    assert not [s for s in _extension_reads(log.statements) if s.startswith("SELECT")], log.statements
    assert not [s for s in log.statements if re.match(r"SELECT ipallocations\.ip_address, ipallocations\.subnet_id", s)]
    inserts = [s.split(" (")[0] for s in log.statements if s.startswith("INSERT")]
    for table in ("ports", "portsecuritybindings", "securitygroupportbindings", "allowedaddresspairs"):
        assert "INSERT INTO %s" % table in inserts, inserts
    assert created["security_groups"] == [web["id"]] and created["port_security_enabled"] is True
    assert created["allowed_address_pairs"] == [{"ip_address": "10.74.0.99", "mac_address": created["mac_address"]}]
    assert core.get_port(ADMIN, created["id"])["allowed_address_pairs"] == created["allowed_address_pairs"]
    # A member's port in a new project gets the project's default group, in the same transaction.
    member = context_mod.Context(project_id="xd-new", roles=["member"])
    shared = core.create_network(ADMIN, {"network": {"project_id": PROJECT, "name": "shared", "shared": True}})
    core.create_subnet(ADMIN, {"subnet": {"project_id": PROJECT, "network_id": shared["id"], "cidr": "10.75.0.0/24",
                                          "ip_version": 4}})
    own = core.create_port(member, {"port": {"project_id": "xd-new", "network_id": shared["id"]}})
    (default,) = security.get_security_groups(member, filters={"name": ["default"]})
    assert own["security_groups"] == [default["id"]]
