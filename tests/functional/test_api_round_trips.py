"""What a port create and a port list cost the database, counted on the real API.

The WSGI application runs in the test process over the real ML2 plugin on
SQLite and PostgreSQL; every statement sent to the database is recorded
through SQLAlchemy's cursor events. These pin down the fast paths: an
automatic address is found without reading the subnet's allocations, an
admin request never reads the network owner, a list does not grow its
statement count with its length, and pooled connections in steady use are
not pinged.
"""
import json
import re
import time
import uuid

import pytest
import sqlalchemy as sa
import webob
from oslo_config import cfg

from harness import ml2_plugin, policy_probe
from netweave.core import policy
from netweave.core.api import builder
from netweave.core.db import api as db_api

PROJECT = "rt-%s" % uuid.uuid4().hex[:8]


class StatementLog:
    """SQL text of every statement the engine sends while ``recording``."""

    def __init__(self, engine):
        self.engine = engine
        self.statements = []
        self.recording = False
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, _parameters, _context, _executemany):
        if self.recording:
            self.statements.append(" ".join(statement.split()))

    def record(self, call, *args):
        self.statements = []
        self.recording = True
        try:
            return call(*args)
        finally:
            self.recording = False

    def close(self):
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


class Api:
    def __init__(self, app):
        self.app = app

    def call(self, method, path, body=None, project=PROJECT, roles=None, expect=None):
        headers = {"X-Project-Id": project, "Content-Type": "application/json"}
        if roles:
            headers["X-Roles"] = roles
        request = webob.Request.blank(path, method=method, headers=headers)
        if body is not None:
            request.body = json.dumps(body).encode()
        response = request.get_response(self.app)
        if expect is not None:
            assert response.status_int == expect, response.body
        return response.status_int, (json.loads(response.body) if response.body else None)


@pytest.fixture(params=ml2_plugin.BACKENDS)
def api(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    cfg.CONF.set_override("auth_strategy", "noauth")
    try:
        with ml2_plugin.plugin_overrides():
            plugin = ml2_plugin.in_process_plugin(url)
            log = StatementLog(db_api.DATABASE.engine)
            try:
                yield Api(builder.build_wsgi_app(cfg.CONF, plugin)), log
            finally:
                log.close()
                db_api.DATABASE.engine.dispose()
    finally:
        cfg.CONF.clear_override("auth_strategy")


def _network(api, cidr, project=PROJECT):
    _, net = api.call("POST", "/v2.0/networks", {"network": {"name": "rt", "project_id": project}}, expect=201)
    net_id = net["network"]["id"]
    _, subnet = api.call("POST", "/v2.0/subnets", {"subnet": {"network_id": net_id, "cidr": cidr, "ip_version": 4,
                                                             "project_id": project}}, expect=201)
    return net_id, subnet["subnet"]["id"]


def _create_ports(api, net_id, count, **extra):
    body = {"ports": [dict({"network_id": net_id}, **extra) for _ in range(count)]}
    _, created = api.call("POST", "/v2.0/ports", body, expect=201)
    return created["ports"]


def _reads_whole_subnet(statement):
    # The fallback: every allocation of a subnet, no address named.
    return (re.search(r"FROM ipallocations\b", statement) and "subnet_id" in statement
            and "ip_address IN" not in statement and "port_id" not in statement)


def test_port_create_samples_addresses_and_skips_the_owner_read(api):
    app, log = api
    net_id, subnet_id = _network(app, "10.40.0.0/20")
    _create_ports(app, net_id, 300)
    _, port = log.record(app.call, "POST", "/v2.0/ports", {"port": {"network_id": net_id}}, PROJECT, None, 201)
    statements = log.statements
    assert not [s for s in statements if _reads_whole_subnet(s)], statements
    # One look at the candidates, by address.
    assert len([s for s in statements if "FROM ipallocations" in s and "ip_address IN" in s]) == 1
    # An admin (noauth without roles) passes every rule: no owner lookup of the network.
    assert not [s for s in statements if re.match(r"SELECT networks\.id, networks\.project_id FROM", s)]
    assert not [s for s in statements if s.upper() == "SELECT 1"]
    # Extension and mechanism driver hooks add their own statements; the core path is 11-14.
    assert len(statements) <= 20, statements
    fixed = port["port"]["fixed_ips"]
    assert len(fixed) == 1 and fixed[0]["subnet_id"] == subnet_id


def test_a_member_still_gets_policy_and_owner_checks(api):
    app, _log = api
    net_id, _ = _network(app, "10.41.0.0/24", project="rt-owner")
    status, body = app.call("POST", "/v2.0/ports", {"port": {"network_id": net_id}}, project="rt-other",
                            roles="member")
    assert status == 404 and body["NeutronError"]["type"] == "NetworkNotFound"
    status, body = app.call("POST", "/v2.0/ports", {"port": {"network_id": str(uuid.uuid4())}})
    assert status == 404 and body["NeutronError"]["type"] == "NetworkNotFound"
    status, body = app.call("POST", "/v2.0/ports", {"port": {"network_id": net_id}}, project="rt-owner",
                            roles="member", expect=201)
    port_id = body["port"]["id"]
    # The network owner sees the port of another project on its network; others do not.
    status, _ = app.call("GET", "/v2.0/ports/%s" % port_id, project="rt-other", roles="member")
    assert status == 404


def test_port_list_statements_do_not_grow_with_the_list(api):
    app, log = api
    net_id, _ = _network(app, "10.42.0.0/22")
    _create_ports(app, net_id, 5)
    _, small = log.record(app.call, "GET", "/v2.0/ports?network_id=%s" % net_id)
    few = len(log.statements)
    _create_ports(app, net_id, 120)
    _, large = log.record(app.call, "GET", "/v2.0/ports?network_id=%s" % net_id)
    assert len(small["ports"]) == 5 and len(large["ports"]) == 125
    assert len(log.statements) == few, log.statements


def test_listed_fixed_ips_belong_to_the_listed_ports(api):
    app, _log = api
    net_id, subnet_id = _network(app, "10.43.0.0/24")
    plain = _create_ports(app, net_id, 4)
    routers = _create_ports(app, net_id, 3, device_owner="network:router_interface")
    two = _create_ports(app, net_id, 1, fixed_ips=[{"subnet_id": subnet_id}, {"subnet_id": subnet_id}])
    other_net, _ = _network(app, "10.44.0.0/24")
    _create_ports(app, other_net, 2)
    expected = {p["id"]: p["fixed_ips"] for p in plain + routers + two}
    assert len(two[0]["fixed_ips"]) == 2

    def listed(query):
        _, body = app.call("GET", "/v2.0/ports?%s" % query, expect=200)
        return {p["id"]: p["fixed_ips"] for p in body["ports"]}

    # By network (allocations read by network id), narrowed by another filter,
    # paged (joined to the page) and unfiltered: each port keeps its own addresses in order.
    assert listed("network_id=%s" % net_id) == expected
    routers_only = listed("network_id=%s&device_owner=network:router_interface" % net_id)
    assert routers_only == {p["id"]: expected[p["id"]] for p in routers}
    paged = listed("network_id=%s&limit=3&sort_key=id" % net_id)
    assert len(paged) == 3 and all(paged[i] == expected[i] for i in paged)
    everything = listed("")
    assert all(everything[i] == expected[i] for i in expected)


def test_listed_tags_belong_to_the_listed_ports(api):
    app, _log = api
    net_id, _ = _network(app, "10.45.0.0/24")
    ports = _create_ports(app, net_id, 4)
    for port, tags in zip(ports, (["b", "a", "C"], [], ["x"], ["a"])):
        if tags:
            app.call("PUT", "/v2.0/ports/%s/tags" % port["id"], {"tags": tags}, expect=200)
    other_net, _ = _network(app, "10.46.0.0/24")
    other = _create_ports(app, other_net, 1)[0]
    app.call("PUT", "/v2.0/ports/%s/tags" % other["id"], {"tags": ["elsewhere"]}, expect=200)
    _, body = app.call("GET", "/v2.0/ports?network_id=%s" % net_id, expect=200)
    listed = {p["id"]: p["tags"] for p in body["ports"]}
    assert listed == {ports[0]["id"]: ["C", "a", "b"], ports[1]["id"]: [], ports[2]["id"]: ["x"],
                      ports[3]["id"]: ["a"]}
    _, body = app.call("GET", "/v2.0/ports?tags=a&limit=1", expect=200)
    assert [p["tags"] for p in body["ports"]] in (
        [["C", "a", "b"]], [["a"]]) and body["ports"][0]["network_id"] == net_id


def _writes(statements):
    return [s for s in statements if re.match(r"(INSERT|UPDATE|DELETE)\b", s)]


def _reads_of(table, statements):
    """The SELECTs whose own FROM (not a joined subquery's) is ``table``, unions aside."""
    return [s for s in statements if re.match(r"SELECT [^()]*? FROM %s\b" % table, s) and " UNION ALL " not in s]


def _shows_of(table, statements):
    """The SELECTs that read a row of ``table`` with its side tables as a show does: a
    UNION ALL whose first branch reads ``table`` (joined to its one-row tables)."""
    return [s for s in statements if s.startswith("SELECT ") and " UNION ALL " in s
            and re.search(r"FROM %s\b" % table, s.split(" UNION ALL ")[0])]


def test_port_show_reads_the_port_the_way_a_list_does(api):
    app, log = api
    net_id, _ = _network(app, "10.47.0.0/24")
    port = _create_ports(app, net_id, 3)[1]
    _, shown = log.record(app.call, "GET", "/v2.0/ports/%s" % port["id"], None, PROJECT, None, 200)
    statements = [s for s in log.statements if not s.startswith("BEGIN")]
    assert shown["port"] == port
    # The port with its binding, its tags, addresses and DHCP options in one query;
    # no Port objects (their relationships cost a query apiece) and no network read.
    assert len(_shows_of("ports", statements)) == 1, statements
    assert not _reads_of("ml2_port_bindings", statements), statements
    assert not _reads_of("networks", statements), statements
    assert len(statements) == 1, statements
    assert all(table in statements[0] for table in ("FROM tags", "FROM ipallocations", "FROM extradhcpopts"))
    # A member: visibility is part of the port query, and so is the network's owner the
    # policy's target needs: as many statements as an admin's show.
    _, shown = log.record(app.call, "GET", "/v2.0/ports/%s" % port["id"], None, PROJECT, "member", 200)
    member_statements = [s for s in log.statements if not s.startswith("BEGIN")]
    assert len(member_statements) == len(statements) and len(log.statements) <= len(statements) + 1, log.statements
    assert not _reads_of("networks", member_statements), log.statements
    status, _ = app.call("GET", "/v2.0/ports/%s" % port["id"], project="rt-stranger", roles="member")
    assert status == 404
    # Another project's port on the member's network: shown to the network's owner,
    # which the policy's target learns from that same port query.
    _, theirs = app.call("POST", "/v2.0/ports", {"port": {"network_id": net_id, "project_id": "rt-stranger"}},
                         expect=201)
    _, shown = log.record(app.call, "GET", "/v2.0/ports/%s" % theirs["port"]["id"], None, PROJECT, "member", 200)
    assert shown["port"]["project_id"] == "rt-stranger"
    assert len([s for s in log.statements if not s.startswith("BEGIN")]) == len(statements), log.statements


def test_a_member_page_reads_its_network_owners_with_its_ports(api):
    """A member's page (?limit=) gets each port's network owner, which its policy
    targets need, in the page's own statement: no read of the networks follows."""
    app, log = api
    net_id, _ = _network(app, "10.49.0.0/24")
    mine = _create_ports(app, net_id, 3)
    _, theirs = app.call("POST", "/v2.0/ports", {"port": {"network_id": net_id, "project_id": "rt-stranger"}},
                         expect=201)
    _, page = log.record(app.call, "GET", "/v2.0/ports?limit=10", None, PROJECT, "member", 200)
    assert sorted(p["id"] for p in page["ports"]) == sorted([p["id"] for p in mine] + [theirs["port"]["id"]])
    statements = [s for s in log.statements if not s.startswith("BEGIN")]
    assert not [s for s in statements if re.match(r"SELECT networks\.id, networks\.project_id FROM", s)], statements
    # The project's networks (the page's seeks), the page, its side tables.
    assert len(statements) == 3, statements
    # The stranger sees its own port only: the owner of the network is not theirs.
    _, page = app.call("GET", "/v2.0/ports?limit=10", project="rt-stranger", roles="member", expect=200)
    assert [p["id"] for p in page["ports"]] == [theirs["port"]["id"]]


def test_a_member_show_evaluates_its_rules_once_per_kind_of_port_and_reads_no_policy_file(api, monkeypatch):
    app, _log = api
    net_id, _ = _network(app, "10.46.0.0/24")
    ports = _create_ports(app, net_id, 12)
    app.call("GET", "/v2.0/ports/%s" % ports[0]["id"], project=PROJECT, roles="member", expect=200)
    enforcer = policy.init()
    evaluated = policy_probe.count_enforce(monkeypatch, enforcer)
    looked_at, start = enforcer.files_looked_at, time.monotonic()
    admin_only = {"binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details"}
    for port in ports[1:]:
        _, shown = app.call("GET", "/v2.0/ports/%s" % port["id"], project=PROJECT, roles="member", expect=200)
        assert not admin_only & set(shown["port"])
    # Every rule of these shows (context_is_admin, get_port, get_port:binding:*) reads the
    # same of each: answered by the first show's evaluations.
    assert evaluated == []
    # Another project's port on the member's network is another kind of port: get_port
    # is evaluated for it, once.
    another = "rt-%s" % uuid.uuid4().hex[:8]
    _, theirs = app.call("POST", "/v2.0/ports", {"port": {"network_id": net_id, "project_id": another}}, expect=201)
    for _ in range(3):
        app.call("GET", "/v2.0/ports/%s" % theirs["port"]["id"], project=PROJECT, roles="member", expect=200)
    assert evaluated == ["get_port"]
    # The policy files are looked at once a second at most, not on every check.
    seconds = time.monotonic() - start
    assert enforcer.files_looked_at - looked_at <= int(seconds / policy.POLICY_FILES_RECHECK_SECONDS) + 1


def test_port_update_reads_once_and_writes_one_row(api):
    app, log = api
    net_id, _ = _network(app, "10.48.0.0/24")
    port = _create_ports(app, net_id, 1)[0]
    _, updated = log.record(app.call, "PUT", "/v2.0/ports/%s" % port["id"], {"port": {"name": "renamed"}},
                            PROJECT, None, 200)
    statements = [s for s in log.statements if not s.startswith("BEGIN")]
    assert updated["port"]["name"] == "renamed"
    assert updated["port"]["revision_number"] == port["revision_number"] + 1
    assert {k: v for k, v in updated["port"].items() if k not in ("name", "revision_number", "updated_at")} == \
        {k: v for k, v in port.items() if k not in ("name", "revision_number", "updated_at")}
    # One compare-and-swap UPDATE of the port's row, nothing else written.
    writes = _writes(statements)
    assert len(writes) == 1 and writes[0].startswith("UPDATE ports SET"), writes
    assert "revision_number =" in writes[0].split(" WHERE ", 1)[1], writes
    # The port read once as a show reads it (its row with its side tables, one
    # statement), then the compare-and-swap: its row is not read again, and its
    # network not at all (no driver here looks at it).
    assert len(_shows_of("ports", statements)) == 1 and not _reads_of("ports", statements), statements
    assert not _reads_of("networks", statements), statements
    assert len(statements) == 2, statements
    _, shown = app.call("GET", "/v2.0/ports/%s" % port["id"], expect=200)
    assert shown["port"] == updated["port"]


def test_port_delete_reads_once_and_deletes_one_row(api):
    app, log = api
    net_id, subnet_id = _network(app, "10.49.0.0/24")
    port = _create_ports(app, net_id, 1)[0]
    app.call("PUT", "/v2.0/ports/%s/tags" % port["id"], {"tags": ["gone"]}, expect=200)
    log.record(app.call, "DELETE", "/v2.0/ports/%s" % port["id"], None, PROJECT, None, 204)
    statements = [s for s in log.statements if not s.startswith("BEGIN")]
    # The database removes the binding and the addresses (ON DELETE CASCADE): the
    # port's row and its tags are the only statements written.
    writes = _writes(statements)
    assert [w.split(" WHERE")[0] for w in writes] == ["DELETE FROM tags", "DELETE FROM ports"], writes
    assert len(_shows_of("ports", statements)) == 1 and not _reads_of("ports", statements), statements
    assert not _reads_of("networks", statements), statements
    # The read as a show reads it (1), then the two DELETEs.
    assert len(statements) == 3, statements
    status, _ = app.call("GET", "/v2.0/ports/%s" % port["id"])
    assert status == 404
    engine = db_api.DATABASE.engine
    with engine.connect() as conn:
        for table, column in (("ipallocations", "port_id"), ("ml2_port_bindings", "port_id"),
                              ("tags", "resource_id")):
            left = conn.execute(sa.text("SELECT count(*) FROM %s WHERE %s = :id" % (table, column)),
                                {"id": port["id"]}).scalar()
            assert left == 0, table
    # The address is free again.
    address = port["fixed_ips"][0]["ip_address"]
    _, again = app.call("POST", "/v2.0/ports", {"port": {"network_id": net_id, "fixed_ips": [
        {"subnet_id": subnet_id, "ip_address": address}]}}, expect=201)
    assert again["port"]["fixed_ips"][0]["ip_address"] == address
    status, body = app.call("DELETE", "/v2.0/ports/%s" % port["id"])
    assert status == 404 and body["NeutronError"]["type"] == "PortNotFound"
    # A port without tags (read with it) has none to delete: its row is the only write.
    log.record(app.call, "DELETE", "/v2.0/ports/%s" % again["port"]["id"], None, PROJECT, None, 204)
    statements = [s for s in log.statements if not s.startswith("BEGIN")]
    assert [w.split(" WHERE")[0] for w in _writes(statements)] == ["DELETE FROM ports"], statements
    assert len(statements) == 2, statements


def test_network_create_writes_its_row_once(api):
    app, log = api
    _, created = log.record(app.call, "POST", "/v2.0/networks", {"network": {"name": "once"}}, PROJECT, None,
                            201)
    statements = [s for s in log.statements if not s.startswith("BEGIN")]
    # Its segment is allocated first: the row is inserted with its MTU, never updated.
    writes = [w.split(" (")[0].split(" SET")[0] for w in _writes(statements) if "networks" in w.split(" WHERE")[0]]
    assert writes == ["INSERT INTO networks", "INSERT INTO networksegments"], statements
    assert created["network"]["mtu"] == 1450 and created["network"]["revision_number"] == 0


def test_network_show_reads_in_one_statement_and_a_list_in_two_whatever_the_page(api):
    app, log = api
    net_id, subnet_id = _network(app, "10.48.0.0/24")
    app.call("PUT", "/v2.0/networks/%s/tags/blue" % net_id, expect=201)
    for index in range(6):
        _network(app, "10.48.%d.0/24" % (index + 1))
    _, shown = log.record(app.call, "GET", "/v2.0/networks/%s" % net_id, None, PROJECT, None, 200)
    statements = [s for s in log.statements if not s.startswith("BEGIN")]
    # The network with its external flag and every side table of it in one statement.
    assert len(statements) == 1 and len(_shows_of("networks", statements)) == 1, statements
    assert all(table in statements[0] for table in ("FROM networksegments", "FROM networkrbacs", "FROM subnets",
                                                    "FROM tags"))
    network = shown["network"]
    assert network["subnets"] == [subnet_id] and network["tags"] == ["blue"]
    assert network["provider:network_type"] == "vxlan" and network["shared"] is False
    assert network["router:external"] is False and network["ipv4_address_scope"] is None
    counts = {}
    for limit in (1, 7):
        _, listed = log.record(app.call, "GET", "/v2.0/networks?limit=%d" % limit, None, PROJECT, None, 200)
        assert len(listed["networks"]) == limit
        counts[limit] = len([s for s in log.statements if not s.startswith("BEGIN")])
    assert counts == {1: 2, 7: 2}, counts
    _, listed = app.call("GET", "/v2.0/networks?id=%s" % net_id, expect=200)
    assert listed["networks"] == [network]
    # A member: visibility is part of the network query, still one statement.
    _, member = log.record(app.call, "GET", "/v2.0/networks/%s" % net_id, None, PROJECT, "member", 200)
    # (A member is not shown the provider attributes.)
    assert member["network"] == {k: v for k, v in network.items() if not k.startswith("provider:")}
    assert len([s for s in log.statements if not s.startswith("BEGIN")]) == 1, log.statements
    status, _ = app.call("GET", "/v2.0/networks/%s" % net_id, project="rt-stranger", roles="member")
    assert status == 404


def test_network_create_answers_from_what_it_wrote(api):
    app, log = api
    _, created = log.record(app.call, "POST", "/v2.0/networks", {"network": {"name": "lean", "tags": ["a"]}},
                            PROJECT, None, 201)
    statements = [s for s in log.statements if not s.startswith("BEGIN")]
    # Quota, the segment's allocation (a read and a claim), the inserts: nothing read back.
    assert not _reads_of("networks", statements) and not _reads_of("networksegments", statements), statements
    assert len(statements) == 6, statements
    _, shown = app.call("GET", "/v2.0/networks/%s" % created["network"]["id"], expect=200)
    assert created["network"] == shown["network"]


def _allocated_vnis(vni):
    with db_api.session_scope() as session:
        return session.execute(sa.text("SELECT allocated FROM ml2_vxlan_allocations WHERE vxlan_vni = :vni"),
                               {"vni": vni}).scalar()


def test_network_delete_reads_once_and_deletes_one_row(api):
    app, log = api
    net_id, subnet_id = _network(app, "10.49.0.0/24")
    app.call("PUT", "/v2.0/networks/%s/tags/red" % net_id, expect=201)
    app.call("PUT", "/v2.0/subnets/%s/tags/green" % subnet_id, expect=201)
    _, dhcp = app.call("POST", "/v2.0/ports", {"port": {"network_id": net_id, "device_owner": "network:dhcp"}},
                       expect=201)
    _, used = app.call("POST", "/v2.0/ports", {"port": {"network_id": net_id, "device_owner": "compute:nova"}},
                       expect=201)
    _, shown = app.call("GET", "/v2.0/networks/%s" % net_id, expect=200)
    vni = shown["network"]["provider:segmentation_id"]
    assert _allocated_vnis(vni)
    status, body = app.call("DELETE", "/v2.0/networks/%s" % net_id)
    assert status == 409 and body["NeutronError"]["type"] == "NetworkInUse"
    app.call("DELETE", "/v2.0/ports/%s" % used["port"]["id"], expect=204)
    log.record(app.call, "DELETE", "/v2.0/networks/%s" % net_id, None, PROJECT, None, 204)
    statements = [s for s in log.statements if not s.startswith("BEGIN")]
    # One read of the network (its row with its side tables), a count of its ports.
    assert len(_shows_of("networks", statements)) == 1 and not _reads_of("networks", statements), statements
    assert not _reads_of("ports", statements) and not _reads_of("subnets", statements), statements
    writes = [w.split(" WHERE")[0].split(" SET")[0] for w in _writes(statements)]
    assert writes == ["DELETE FROM ports", "UPDATE ml2_vxlan_allocations", "DELETE FROM tags",
                      "DELETE FROM networks"], statements
    assert len(statements) == 6, statements
    assert not _allocated_vnis(vni)
    with db_api.session_scope() as session:
        for table, column, value in (("ports", "id", dhcp["port"]["id"]), ("ipallocations", "network_id", net_id),
                                     ("ml2_port_bindings", "port_id", dhcp["port"]["id"]),
                                     ("subnets", "network_id", net_id), ("networksegments", "network_id", net_id),
                                     ("tags", "resource_id", net_id), ("tags", "resource_id", subnet_id)):
            left = session.execute(sa.text("SELECT count(*) FROM %s WHERE %s = :v" % (table, column)),
                                   {"v": value}).scalar()
            assert left == 0, table
    status, _ = app.call("DELETE", "/v2.0/networks/%s" % net_id)
    assert status == 404
