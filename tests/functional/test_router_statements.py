"""What the router calls the L3 bench makes cost the database, on SQLite and PostgreSQL.

Router create with a gateway, interface add, floating IP create with a port and
floating IP association, with an alive L3 agent and the notifier sending from
its thread as the server's does: each sends the same statements with few
routers and floating IPs present as with many, no more than pinned here, and
none of them reads back what it just wrote or the whole router. Only the
statements of the calling thread count (the notifier's sender has its own).
"""
import threading
import uuid

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.db import api as db_api
from netweave.core.rpc import topics
from netweave.service_plugins.router import l3_notifier
from netweave.service_plugins.router import plugin as plugin_mod

ADMIN = context_mod.get_admin_context()
FEW, MANY = 2, 25

# The most statements each call may send from the request, as measured on SQLite (which
# also counts its BEGINs; PostgreSQL sends 19, 19, 17 and 7). The port a call makes is the
# core's port create: about 12 of them.
LIMITS = {"router create (gateway)": 25, "router interface add": 24, "fip create (with port)": 21,
          "fip associate": 10}


class ThreadStatements:
    """The statements the calling thread sends while ``record`` runs a call."""

    def __init__(self, engine):
        self.engine = engine
        self.statements = []
        self.thread = None
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args):
        if self.thread == threading.get_ident():
            self.statements.append(" ".join(statement.split()))

    def record(self, call, *args, **kwargs):
        self.statements = []
        self.thread = threading.get_ident()
        try:
            return call(*args, **kwargs)
        finally:
            self.thread = None

    def close(self):
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


class RecordingCasts:
    connected = True

    def __init__(self):
        self.sent = []

    def cast(self, context, method, topic=None, server=None, fanout=False, **kwargs):
        self.sent.append((method, server, kwargs))


@pytest.fixture(params=ml2_plugin.BACKENDS)
def cloud(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    with ml2_plugin.plugin_overrides():
        core = ml2_plugin.in_process_plugin(url)
        l3 = plugin_mod.RouterPlugin(cfg.CONF)
        casts = RecordingCasts()
        l3.notifier = l3_notifier.L3AgentNotifier(casts)
        l3.notifier.send_in_background()
        l3.initialize(core)
        core.agents.report_state(ADMIN, {"agent_type": topics.AGENT_TYPE_L3, "binary": "netweave-l3-agent",
                                         "host": "network1", "topic": topics.L3_AGENT,
                                         "configurations": {"agent_mode": "legacy"}})
        log = ThreadStatements(db_api.DATABASE.engine)
        try:
            yield core, l3, log, casts
        finally:
            l3.notifier.wait_sent(30)
            log.close()
            db_api.DATABASE.engine.dispose()


class Routers:
    def __init__(self, core, l3):
        self.core, self.l3 = core, l3
        self.project = "routers-%s" % uuid.uuid4().hex[:8]
        with db_api.session_scope() as session:
            core.quotas.update(session, self.project, {name: -1 for name in core.quotas.countable})
        self.ext = core.create_network(ADMIN, {"network": {"project_id": "admin", "name": "ext",
                                                           "router:external": True}})
        core.create_subnet(ADMIN, {"subnet": {"project_id": "admin", "network_id": self.ext["id"],
                                              "cidr": "10.30.0.0/20", "ip_version": 4, "enable_dhcp": False}})
        self.made = 0

    def subnet(self):
        index, self.made = self.made, self.made + 1
        net = self.core.create_network(ADMIN, {"network": {"project_id": self.project, "name": "n%d" % index}})
        return net, self.core.create_subnet(ADMIN, {"subnet": {
            "project_id": self.project, "network_id": net["id"], "cidr": "10.%d.%d.0/24" % (64 + index // 250,
                                                                                             index % 250),
            "ip_version": 4, "enable_dhcp": False}})

    def create(self):
        return self.l3.create_router(ADMIN, {"router": {
            "project_id": self.project, "name": "r", "external_gateway_info": {"network_id": self.ext["id"]}}})

    def add_interface(self, router, subnet):
        return self.l3.add_router_interface(ADMIN, router["id"], {"subnet_id": subnet["id"]})

    def port(self, net):
        return self.core.create_port(ADMIN, {"port": {"project_id": self.project, "network_id": net["id"],
                                                      "device_owner": "compute:nova"}})

    def fip(self, port=None):
        return self.l3.create_floatingip(ADMIN, {"floatingip": {
            "project_id": self.project, "floating_network_id": self.ext["id"],
            "port_id": port["id"] if port else None}})

    def associate(self, fip, port):
        return self.l3.update_floatingip(ADMIN, fip["id"], {"floatingip": {"port_id": port["id"]}})

    def routed(self, count, fips_each=2):
        """``count`` more routers, each with its gateway, an interface and associated floating IPs."""
        for _ in range(count):
            router = self.create()
            net, subnet = self.subnet()
            self.add_interface(router, subnet)
            for _ in range(fips_each):
                self.fip(self.port(net))


def _calls(routers, log):
    """{call: its statements} of one of each call on a new router."""
    texts = {}
    router = log.record(routers.create)
    texts["router create (gateway)"] = log.statements
    net, subnet = routers.subnet()
    log.record(routers.add_interface, router, subnet)
    texts["router interface add"] = log.statements
    first, second = routers.port(net), routers.port(net)
    made = log.record(routers.fip, first)
    texts["fip create (with port)"] = log.statements
    free = routers.fip()
    associated = log.record(routers.associate, free, second)
    texts["fip associate"] = log.statements
    assert (made["router_id"], associated["router_id"]) == (router["id"], router["id"])
    assert associated["port_details"]["device_owner"] == "compute:nova"
    return texts


def test_router_calls_cost_the_same_with_more_routers_and_no_more_than_pinned(cloud):
    core, l3, log, casts = cloud
    routers = Routers(core, l3)
    costs = {}
    for total in (FEW, MANY):
        routers.routed(total - routers.made)
        costs[total] = _calls(routers, log)
    for name, limit in LIMITS.items():
        few, many = costs[FEW][name], costs[MANY][name]
        assert len(few) == len(many), (name, few, many)
        assert len(many) <= limit, (name, len(many), many)
    for name, texts in costs[MANY].items():
        # Whom to tell is read by the sender, not by the request.
        assert not [t for t in texts if "JOIN agents ON agents.id = routerl3agentbindings.l3_agent_id" in t], name
    # A router made with its gateway is written once and answered from what was written.
    create = costs[MANY]["router create (gateway)"]
    assert len([t for t in create if t.startswith("INSERT INTO routers ")]) == 1
    assert not [t for t in create if t.startswith(("UPDATE routers", "SELECT routers.admin_state_up"))
                or "FROM routerroutes" in t]
    # The interface add reads the router's owner and subnets, not the whole router.
    assert not [t for t in costs[MANY]["router interface add"] if "FROM routerroutes" in t]
    # A floating IP write answers from the row it wrote: nothing of it is read after.
    for name, verb in (("fip create (with port)", "INSERT INTO floatingips"),
                       ("fip associate", "UPDATE floatingips")):
        texts = costs[MANY][name]
        written = next(i for i, t in enumerate(texts) if t.startswith(verb))
        assert not [t for t in texts[written:] if "FROM floatingips" in t], (name, texts[written:])
    # Every change was told to the agent's host, in fewer casts than changes when they gathered.
    assert l3.notifier.wait_sent(30)
    assert casts.sent and all(method == "routers_updated" and server == "network1"
                              for method, server, _kwargs in casts.sent)


def test_floating_ip_statuses_cost_one_statement_per_status(cloud):
    from netweave.service_plugins.router import l3_rpc
    core, l3, log, _casts = cloud
    routers = Routers(core, l3)
    routers.routed(1, fips_each=6)
    [router] = l3.get_routers(ADMIN, filters={"project_id": [routers.project]})
    fips = sorted(l3.get_floatingips(ADMIN, filters={"router_id": [router["id"]]}), key=lambda f: f["id"])
    assert len(fips) == 6
    endpoint = l3_rpc.L3RpcEndpoint(l3.scheduler, core.ports, auto_schedule=False)
    statuses = {fip["id"]: "ACTIVE" if index % 3 else "ERROR" for index, fip in enumerate(fips)}
    statuses["no-such-floating-ip"] = "ACTIVE"
    statuses[fips[0]["id"] + "x"] = "BROKEN"
    log.record(endpoint.update_floatingip_statuses, ADMIN, router_id=router["id"], fip_statuses=statuses)
    assert len([t for t in log.statements if t.startswith("UPDATE floatingips")]) == 2
    after = {f["id"]: f for f in l3.get_floatingips(ADMIN, filters={"router_id": [router["id"]]})}
    for fip in fips:
        assert after[fip["id"]]["status"] == statuses[fip["id"]]
        assert after[fip["id"]]["revision_number"] == fip["revision_number"] + 1
    # Reported again: nothing changes, no revision is bumped.
    log.record(endpoint.update_floatingip_statuses, ADMIN, router_id=router["id"], fip_statuses=statuses)
    again = {f["id"]: f for f in l3.get_floatingips(ADMIN, filters={"router_id": [router["id"]]})}
    assert again == after
