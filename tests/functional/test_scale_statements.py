"""Costs that grow with the work, not with the rows (SQLite and PostgreSQL).

The same call is made with few rows present and with many: a list page at depth
(limit + marker), a show and a create must send the same statements, none of
them an OFFSET, and the page query of a network's ports must seek its index.
"""
import re
import uuid

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.service_plugins.port_security import plugin as plugin_mod

ADMIN = context_mod.get_admin_context()
FEW, MANY = 12, 200
_IN_LIST = re.compile(r"IN \((\?|%\(\w+\)s|__\[POSTCOMPILE_\w+\])(, (\?|%\(\w+\)s))*\)")


class StatementLog:
    """The statements (text, parameters) the engine sends while ``record`` runs a call."""

    def __init__(self, engine):
        self.engine = engine
        self.statements = []
        self.recording = False
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, parameters, _context, _executemany):
        if self.recording:
            self.statements.append((" ".join(statement.split()), parameters))

    def record(self, call, *args, **kwargs):
        self.statements = []
        self.recording = True
        try:
            return call(*args, **kwargs)
        finally:
            self.recording = False

    def texts(self):
        return [text for text, _ in self.statements]

    def close(self):
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


@pytest.fixture(params=ml2_plugin.BACKENDS)
def cloud(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    cfg.CONF.set_override("extension_drivers", ["port_security"], "ml2")
    try:
        with ml2_plugin.plugin_overrides():
            # Room for more project networks than the harness's hundred VNIs.
            cfg.CONF.set_override("vni_ranges", ["100:1099"], "ml2_type_vxlan")
            core = ml2_plugin.in_process_plugin(url)
            security = plugin_mod.PortSecurityPlugin()
            security.initialize(core)
            log = StatementLog(db_api.DATABASE.engine)
            try:
                yield core, security, log, request.param
            finally:
                log.close()
                db_api.DATABASE.engine.dispose()
    finally:
        cfg.CONF.clear_override("extension_drivers", "ml2")


def _project(core):
    """A new project without limits: the tests create more than the default quotas allow."""
    project = "scale-%s" % uuid.uuid4().hex[:8]
    with db_api.session_scope() as session:
        core.quotas.update(session, project, {name: -1 for name in core.quotas.countable})
    return project


def _network(core, project, cidr="10.80.0.0/22"):
    net = core.create_network(ADMIN, {"network": {"project_id": project, "name": "scale"}})
    core.create_subnet(ADMIN, {"subnet": {"project_id": project, "network_id": net["id"], "cidr": cidr,
                                          "ip_version": 4, "enable_dhcp": False}})
    return net


def _grow_ports(core, project, net, total):
    present = len(core.get_ports(ADMIN, filters={"network_id": [net["id"]]}, fields=["id"]))
    body = {"ports": [{"port": {"project_id": project, "network_id": net["id"]}} for _ in range(total - present)]}
    core.create_port_bulk(ADMIN, body)


def _page_at_depth(call, log, filters=None):
    """Statements of a limit=5 page whose marker is the 6th id: a page past the first.

    No OFFSET skips rows (SQLite's dialect writes "LIMIT ? OFFSET ?" for any limit:
    the offset sent there must be 0; it is the parameter of the ? after OFFSET, which
    a statement reading the page as a CTE does not send last)."""
    ordered = sorted(item["id"] for item in call(ADMIN, filters=filters, fields=["id"]))
    page = log.record(call, ADMIN, filters=filters, limit=5, marker=ordered[5], sorts=[("id", True)])
    assert [item["id"] for item in page] == ordered[6:11]
    texts = log.texts()
    for text, params in log.statements:
        if " OFFSET " in text:
            offset = text[:text.index(" OFFSET ?")].count("?")
            assert text.count(" OFFSET ?") == 1 and tuple(params)[offset] == 0, (text, params)
    return texts


def _same_shape(few, many):
    """The same statements were sent, whatever the rows: the same count and the same texts
    (an IN list may be as long as the page, never as the table)."""
    assert len(few) == len(many), (few, many)
    assert [_IN_LIST.sub("IN (..)", t) for t in few] == [_IN_LIST.sub("IN (..)", t) for t in many]


def test_port_pages_show_and_create_cost_the_same_with_more_ports(cloud):
    core, _security, log, backend = cloud
    project = _project(core)
    net = _network(core, project)
    costs = {}
    for total in (FEW, MANY):
        _grow_ports(core, project, net, total)
        listed = _page_at_depth(core.get_ports, log, filters={"network_id": [net["id"]]})
        some = core.get_ports(ADMIN, filters={"network_id": [net["id"]]}, limit=1)[0]
        log.record(core.get_port, ADMIN, some["id"])
        shown = log.texts()
        log.record(core.create_port, ADMIN, {"port": {"project_id": project, "network_id": net["id"]}})
        created = log.texts()
        costs[total] = (listed, shown, created)
    for few, many in zip(costs[FEW], costs[MANY]):
        _same_shape(few, many)
    # A create reads the network with its segments, RBAC entries, subnets, pools and
    # service types in one statement.
    network_reads = [t for t in costs[MANY][2] if re.search(r"\bnetworks\.id\b|\bnetworksegments\b", t)]
    assert len(network_reads) == 1, network_reads
    for table in ("networksegments", "networkrbacs", "subnets", "ipallocationpools", "subnet_service_types"):
        assert table in network_reads[0], (table, network_reads[0])
    # The port's defaults, its network's port security flag and its project's default
    # group, in one statement too.
    default_reads = [t for t in costs[MANY][2] if t.startswith("SELECT") and re.search(
        r"\bnetworksecuritybindings\b|\bdefault_security_group\b", t)]
    assert len(default_reads) == 1 and "default_security_group" in default_reads[0], default_reads
    # The network's ports in id order come from the index past the marker: no sort of the network.
    log.record(core.get_ports, ADMIN, filters={"network_id": [net["id"]]}, limit=5, sorts=[("id", True)],
               marker=core.get_ports(ADMIN, filters={"network_id": [net["id"]]}, limit=1)[0]["id"])
    _assert_seeks(log, backend, "SELECT ports.network_id", "ix_ports_network_id_id", "ports.network_id")
    if backend != "sqlite":
        # Joined by merging, as PostgreSQL joins the bindings on a large table: they too are
        # read from the marker on, not from the first binding of the table.
        plan = _postgresql_plan(log, "SELECT ports.network_id", "enable_nestloop", "enable_hashjoin")
        assert re.search(r"Merge Left Join .*Index Scan using ml2_port_bindings_pkey on ml2_port_bindings "
                         r"[^|]*\| +Index Cond: \(\(port_id\)(::\w+)? > ", plan), plan


def _member(project):
    return context_mod.Context(project_id=project, user_id="user-" + project, roles=["member"])


def test_a_members_port_page_costs_the_same_with_more_ports_and_seeks(cloud):
    """A member sees its project's ports and the ports on its networks: a page of them is
    read as seeks of both, each limited to the page, whatever the depth."""
    core, _security, log, backend = cloud
    project, other = _project(core), _project(core)
    own_net = _network(core, project)
    their_net = _network(core, other, cidr="10.90.0.0/22")
    member = _member(project)
    costs = []
    for total in (FEW, MANY):
        _grow_ports(core, project, own_net, total)
        # The project's ports on another's network, and another's ports on the project's network.
        for net, owner in ((their_net, project), (own_net, other)):
            core.create_port_bulk(ADMIN, {"ports": [{"port": {"project_id": owner, "network_id": net["id"]}}
                                                    for _ in range(3)]})
        seen = sorted(p["id"] for p in core.get_ports(member, fields=["id"]))
        everything = core.get_ports(ADMIN, fields=["id", "project_id", "network_id"])
        assert seen == sorted(p["id"] for p in everything
                              if project in (p["project_id"], {own_net["id"]: project}.get(p["network_id"])))
        assert len(seen) == total + 3 * len(costs) + 6
        depth = len(seen) // 2
        page = log.record(core.get_ports, member, limit=5, marker=seen[depth], sorts=[("id", True)])
        assert [p["id"] for p in page] == seen[depth + 1:depth + 6]
        costs.append(log.texts())
        # The whole way through, page by page, and a page starting at the first port.
        walked, marker = [], None
        while True:
            page = core.get_ports(member, limit=40, marker=marker, fields=["id"])
            walked += [p["id"] for p in page]
            if len(page) < 40:
                break
            marker = page[-1]["id"]
        assert walked == seen
        # Filtered pages (their own statements), a binding attribute's too.
        on_theirs = sorted(p["id"] for p in everything if p["network_id"] == their_net["id"])
        for filters in ({"network_id": [their_net["id"]]},
                        {"network_id": [their_net["id"]], "binding:vnic_type": ["normal"]}):
            page = core.get_ports(member, filters=filters, limit=2, marker=on_theirs[0], sorts=[("id", True)])
            assert [p["id"] for p in page] == on_theirs[1:3]
    _same_shape(*costs)
    text, params = next((t, p) for t, p in log.statements if t.startswith("SELECT ports.") and " ORDER BY " in t)
    with db_api.DATABASE.engine.connect() as conn:
        if backend == "sqlite":
            plan = " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + text, params))
            assert "ix_ports_project_id_id (project_id=? AND id>?)" in plan, plan
            assert "ix_ports_network_id_id (network_id=? AND id>?)" in plan, plan
            # Each branch in its index's order, the merge through the UNION's own B-tree: no sort.
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " | ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + text, params))
            for index, column in (("ix_ports_project_id_id", "project_id"), ("ix_ports_network_id_id", "network_id")):
                seek = r"Index Only Scan using %s on \w+ .*? \| +Index Cond: \(\(%s = [^|]* AND \(id > " % (
                    index, column)
                assert re.search(seek, plan), plan
            # Each branch is limited to the page: only their merged rows are sorted (and made unique).
            assert plan.count("Sort Key") <= 1, plan


def _postgresql_plan(log, starts, *disabled):
    """PostgreSQL's plan of the page statement of ``log`` starting with ``starts``, with
    sequential scans, sorts and the ``disabled`` plan types priced out."""
    text, params = next((t, p) for t, p in log.statements if t.startswith(starts) and " ORDER BY " in t)
    with db_api.DATABASE.engine.connect() as conn:
        for setting in ("enable_seqscan", "enable_sort") + disabled:
            conn.exec_driver_sql("SET %s = off" % setting)
        return " | ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + text, params))


def test_a_page_past_a_marker_carries_each_ports_binding(cloud):
    core, _security, _log, _backend = cloud
    project = _project(core)
    net = _network(core, project)
    hosts = {}
    for index in range(8):
        port = core.create_port(ADMIN, {"port": {"project_id": project, "network_id": net["id"],
                                                 "binding:host_id": "host-%d" % index}})
        hosts[port["id"]] = port["binding:host_id"]
    ordered = sorted(hosts)
    filters = {"network_id": [net["id"]]}
    page = core.get_ports(ADMIN, filters=filters, limit=3, marker=ordered[2], sorts=[("id", True)])
    assert [(p["id"], p["binding:host_id"]) for p in page] == [(i, hosts[i]) for i in ordered[3:6]]
    # In reverse, and past a marker no port has (the page starts at the first port): bindings all there.
    page = core.get_ports(ADMIN, filters=filters, limit=3, marker=ordered[5], page_reverse=True)
    assert {p["binding:host_id"] for p in page} == {hosts[i] for i in ordered[2:5]}
    page = core.get_ports(ADMIN, filters=filters, limit=3, marker="0" * 8 + "-0000-0000-0000-" + "f" * 12,
                          sorts=[("id", True)])
    assert [p["binding:host_id"] for p in page] and all(p["binding:host_id"] == hosts[p["id"]] for p in page)


def _assert_seeks(log, backend, starts, index, equal_column):
    """The page statement of ``log`` starting with ``starts`` reads ``index`` from the marker on,
    in its order: a seek, no sort of what the filter matches (SQLite's plan, or PostgreSQL's
    with sequential scans and sorts priced out, as on a large table)."""
    text, params = next((t, p) for t, p in log.statements if t.startswith(starts) and " ORDER BY " in t)
    column = equal_column.split(".")[1]
    with db_api.DATABASE.engine.connect() as conn:
        if backend == "sqlite":
            plan = " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + text, params))
            assert "%s (%s=? AND id>?)" % (index, column) in plan, plan
            assert "TEMP B-TREE" not in plan, plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_sort = off")
            plan = " | ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + text, params))
            seek = r"Index Scan using %s on \w+ .*? \| +Index Cond: \(\(\(%s\)(::\w+)? = .*\(id\)(::\w+)? > " % (
                index, column)
            # Or, once ANALYZE found that (nearly) every row of the table matches the filter,
            # the primary key from the marker on, filtered: a seek as well, and PostgreSQL's
            # pick whenever its statistics say the filter drops next to nothing.
            dense = (r"Index Scan using \w+_pkey on \w+ .*? \| +Index Cond: \(\(id\)(::\w+)? > "
                     r".*\| +Filter: \(\(%s\)" % column)
            assert re.search(seek, plan) or re.search(dense, plan), plan
            assert "Sort" not in plan, plan


def test_a_bulk_create_costs_the_same_with_more_ports_and_writes_each_table_once(cloud):
    core, _security, log, _backend = cloud
    project = _project(core)
    net = _network(core, project, "10.96.0.0/16")
    bulk = {"ports": [{"port": {"project_id": project, "network_id": net["id"]}} for _ in range(30)]}
    costs = {}
    for total in (FEW, MANY):
        _grow_ports(core, project, net, total)
        created = log.record(core.create_port_bulk, ADMIN, bulk)
        assert len({p["fixed_ips"][0]["ip_address"] for p in created}) == 30
        costs[total] = log.texts()
    _same_shape(costs[FEW], costs[MANY])
    texts = costs[MANY]
    # One quota count, one candidate check for every automatic address of the request,
    # one insert each of the ports, their bindings and their addresses.
    assert sum("stored_limit" in t for t in texts) == 1, texts
    assert sum(t.startswith("SELECT ipallocations.ip_address") for t in texts) == 1, texts
    for table in ("ports", "ml2_port_bindings", "ipallocations"):
        assert sum(t.startswith("INSERT INTO %s " % table) for t in texts) == 1, (table, texts)
    # One check of the generated MACs against the network, not a retry per clash.
    assert sum(t.startswith("SELECT ports.mac_address") for t in texts) == 1, texts
    # What is left per port: the two port_security rows.
    assert len(texts) <= 20 + 2 * 30, texts


def test_network_and_subnet_pages_network_show_and_create_cost_the_same_with_more_rows(cloud):
    core, _security, log, _backend = cloud
    project = _project(core)
    costs = {}
    made = 0
    for total in (FEW, MANY):
        while made < total:
            _network(core, project, "10.%d.%d.0/24" % (90 + made // 250, made % 250))
            made += 1
        log.record(core.get_network, ADMIN, core.get_networks(ADMIN, limit=1)[0]["id"])
        shown = log.texts()
        log.record(core.create_network, ADMIN, {"network": {"project_id": project, "name": "late"}})
        costs[total] = (_page_at_depth(core.get_networks, log), _page_at_depth(core.get_subnets, log), shown,
                        log.texts())
    for few, many in zip(costs[FEW], costs[MANY]):
        _same_shape(few, many)
    networks_page, _subnets_page, shown, created = ([t for t in texts if not t.startswith("BEGIN")]
                                                    for texts in costs[MANY])
    # A network page: its rows, then every side table in one statement (a page past the
    # first reads its marker first); a network: its row and side tables in one statement;
    # a create reads nothing back.
    assert len(networks_page) == 3, networks_page
    assert len(shown) == 1, shown
    assert not any(t.startswith("SELECT networks.") for t in created), created


def test_rule_pages_creates_group_show_and_agent_info_cost_the_same_with_more_rules(cloud):
    core, security, log, backend = cloud
    project = _project(core)
    group = security.create_security_group(ADMIN, {"security_group": {
        "project_id": project, "name": "scale", "description": ""}})

    def rule(port):
        return {"security_group_rule": {
            "project_id": project, "security_group_id": group["id"], "direction": "ingress",
            "ethertype": "IPv4", "protocol": "tcp", "port_range_min": port, "port_range_max": port}}

    net = _network(core, project)
    member = core.create_port(ADMIN, {"port": {"project_id": project, "network_id": net["id"],
                                               "security_groups": [group["id"]]}})
    agent_rpc = security.rpc_endpoints()["q-plugin"][0]
    costs = {}
    made = 0
    for total in (FEW, MANY):
        security.create_security_group_rule_bulk(ADMIN, {"security_group_rules": [
            rule(1000 + made + i) for i in range(total - made)]})
        made = total
        listed = _page_at_depth(security.get_security_group_rules, log,
                                filters={"security_group_id": [group["id"]]})
        log.record(security.create_security_group_rule, ADMIN, rule(5000 + total))
        made += 1
        created = log.texts()
        shown = log.record(security.get_security_group, ADMIN, group["id"])
        assert len(shown["security_group_rules"]) >= made
        shown = log.texts()
        log.record(core.create_port, ADMIN, {"port": {"project_id": project, "network_id": net["id"],
                                                      "security_groups": [group["id"]]}})
        port_created = log.texts()
        info = log.record(agent_rpc.security_group_info_for_devices, ADMIN, devices=[member["id"]])
        assert len(info["security_groups"][group["id"]]) >= made
        costs[total] = (listed, created, shown, port_created, log.texts())
    for few, many in zip(costs[FEW], costs[MANY]):
        _same_shape(few, many)
    # A page of the group's rules seeks (security_group_id, id): no sort of the group's rules.
    _page_at_depth(security.get_security_group_rules, log, filters={"security_group_id": [group["id"]]})
    _assert_seeks(log, backend, "SELECT securitygrouprules.", "ix_securitygrouprules_security_group_id_id",
                  "securitygrouprules.security_group_id")


def test_the_quota_check_counts_no_further_than_the_limit(cloud):
    core, _security, log, _backend = cloud
    project = _project(core)
    net = _network(core, project)
    _grow_ports(core, project, net, 6)
    with db_api.session_scope() as session:
        core.quotas.update(session, project, {"port": 7})
    log.record(core.create_port, ADMIN, {"port": {"project_id": project, "network_id": net["id"]}})
    checks = [t for t in log.texts() if "stored_limit" in t]
    assert checks and all(re.search(r"FROM ports WHERE ports\.project_id = \S+ LIMIT ", t) for t in checks), checks
    with pytest.raises(exc.OverQuota):
        core.create_port(ADMIN, {"port": {"project_id": project, "network_id": net["id"]}})
    assert len(core.get_ports(ADMIN, filters={"network_id": [net["id"]]})) == 7
    with db_api.reader_scope() as session:
        # Counted up to one past the limit: enough to refuse, whatever the project holds.
        assert core.quotas.check(session, project, "port", adding=0) == 7
        with pytest.raises(exc.OverQuota):
            core.quotas.check_usage(session, project, "port", 3)
        core.quotas.check_usage(session, project, "port", 7, adding=0)
        assert core.quotas.usage(session, project, "port") == 7  # the reported usage stays exact
    # Unlimited: the check counts nothing.
    with db_api.session_scope() as session:
        core.quotas.update(session, project, {"port": -1})
    with db_api.reader_scope() as session:
        assert core.quotas.check(session, project, "port", adding=10 ** 6) is None
    core.create_port(ADMIN, {"port": {"project_id": project, "network_id": net["id"]}})
