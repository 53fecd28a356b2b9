#!/usr/bin/env python3
"""What one API request costs the server, measured in process: CPU time, statements, profile.

    python bench/api_profile.py [--db sqlite|postgresql|mariadb] [--ports 1000] [--routers 20]
                                [--repeat 200] [--profile PHASE[,PHASE]] [--top 15]

It builds the application exactly as a netweave-server worker does (the
configuration files of tests/harness/server.py, ``netweave-db-manage upgrade
heads``, ``core.cmd.server.make_app``: ML2 with the port_security extension
driver, the port_security and router service plugins, noauth) and calls it
through WSGI in this one thread, with no HTTP server and no other client. For
each phase it prints the CPU milliseconds per request (``time.process_time``,
which the machine's other work moves much less than wall-clock rates) and
the SQL statements sent per request (SQLAlchemy's cursor events). With
``--profile`` the named phases (``all`` for every one) also run under cProfile
and print their top frames by own time and by cumulative time.

bench/api_bench.py measures the same calls over HTTP with many clients; this
tells where one call's time goes. See bench/README.md.
"""
import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time

import sqlalchemy as sa
import webob

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
PROJECT = "profile"


class Api:
    """``heartbeat``: refreshes the stand-in L3 agent's liveness; ``settle``: waits until the
    notifications queued by the calls so far were sent (None: nothing to do)."""

    def __init__(self, app, heartbeat=None, settle=None):
        self.app = app
        self.heartbeat = heartbeat or (lambda: None)
        self.settle = settle or (lambda: None)
        # CPU seconds spent inside the WSGI application, without the test client's own
        # request building and JSON decoding (a 1,000-port body takes the client ~20 ms).
        self.app_cpu = 0.0

    def call(self, method, path, body=None, expect=200, roles=None):
        """``roles``: the X-Roles header (None: none, the caller is admin)."""
        headers = {"X-Project-Id": PROJECT, "Content-Type": "application/json"}
        if roles is not None:
            headers["X-Roles"] = roles
        request = webob.Request.blank(path, method=method, headers=headers)
        if body is not None:
            request.body = json.dumps(body).encode()
        start = time.process_time()
        response = request.get_response(self.app)
        self.app_cpu += time.process_time() - start
        if response.status_int != expect:
            raise SystemExit("%s %s -> %s %s" % (method, path, response.status, response.body[:300]))
        return json.loads(response.body) if response.body else None


class Statements:
    """Statements sent (and, with ``casts``, agent notifications cast)."""

    def __init__(self, engines, casts=None):
        self.count = 0
        self.casts = casts
        self.log = None  # a list while the SQL text is wanted
        for engine in engines:
            sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args):
        self.count += 1
        if self.log is not None:
            self.log.append(" ".join(statement.split()))


class CountingCasts:
    """Counts the casts oslo.messaging's client is asked for (wraps RPCClient.cast)."""

    def __init__(self):
        import oslo_messaging

        self.count = 0
        original = oslo_messaging.RPCClient.cast
        counter = self

        def cast(client, *args, **kwargs):
            counter.count += 1
            return original(client, *args, **kwargs)
        oslo_messaging.RPCClient.cast = cast
        # prepare() makes a _CallContext whose cast is its own.
        from oslo_messaging.rpc import client as rpc_client
        original_prepared = rpc_client._CallContext.cast

        def prepared_cast(call_context, *args, **kwargs):
            counter.count += 1
            return original_prepared(call_context, *args, **kwargs)
        rpc_client._CallContext.cast = prepared_cast


def build_app(directory, database_url, agents=True):
    """``agents``: as in a deployment with an L3 agent: transport_url set (oslo.messaging's
    in-memory fake driver: casts are built and serialised, nothing leaves the process) and
    an alive L3 agent, so router changes are scheduled and notified as they are there."""
    from harness import server as server_helpers
    from netweave.core import context
    from netweave.core.api import builder
    from netweave.core.cmd import common
    from netweave.core.cmd import server as server_cmd
    from netweave.core.db import api as db_api
    from netweave.service_plugins.router import plugin as router_plugin

    extra = "\n[DEFAULT]\nservice_plugins = port_security,router\n"
    if agents:
        extra += "transport_url = fake://\n"
    paths, _state = server_helpers.write_config(
        directory, 0, database_url=database_url, ml2={"extension_drivers": "port_security"}, extra=extra)
    manage = os.path.join(os.path.dirname(sys.executable), "netweave-db-manage")
    subprocess.run([manage, "--config-file", paths[0], "--config-file", paths[1], "upgrade", "heads"],
                   check=True, stdout=subprocess.DEVNULL)
    conf = common.parse_config(["--config-file", paths[0], "--config-file", paths[1]])
    casts = CountingCasts() if agents else None
    core_plugin, service_plugins = server_cmd.load_plugins(conf, sync=True)
    app = builder.build_wsgi_app(conf, core_plugin, service_plugins)
    server_cmd.prepare_worker_memory(None)  # as a worker does once its app is built
    heartbeat = None
    notifiers = [p.notifier for p in service_plugins if isinstance(p, router_plugin.RouterPlugin)]

    def settle():
        for notifier in notifiers:
            notifier.wait_sent(timeout=60)
    if agents:
        def heartbeat():
            core_plugin.agents.report_state(context.get_admin_context(), {
                "agent_type": "L3 agent", "binary": "netweave-l3-agent", "host": "network1", "topic": "l3_agent",
                "configurations": {"agent_mode": "legacy"}})
        heartbeat()
    # Warnings such as "no alive L3 agent" would bury the figures (there is no agent here).
    logging.getLogger("netweave").setLevel(logging.ERROR)
    return Api(app, heartbeat, settle), Statements(db_api.DATABASE.engines(), casts)


class Phase:
    def __init__(self, name, calls, roles=None):
        self.name = name
        self.calls = calls  # [(method, path, body, expect)]
        self.roles = roles  # the callers' X-Roles (None: admin)


def run_phase(api, statements, phase, profile, top, show_sql=False):
    if show_sql:
        # The first call once more, on its own, for its SQL (a show or an update can repeat).
        statements.log = []
        method, path, body, expect = phase.calls[0]
        api.call(method, path, body, expect, phase.roles)
        print("    SQL of one %s:" % phase.name)
        for text in statements.log:
            print("      " + (text if len(text) < 300 else text[:297] + "..."))
        statements.log = None
        phase.calls = phase.calls[1:]
    api.heartbeat()
    before_statements = statements.count
    before_casts = statements.casts.count if statements.casts else 0
    profiler = cProfile.Profile() if profile else None
    start_cpu, start_wall, start_app = time.process_time(), time.perf_counter(), api.app_cpu
    if profiler:
        profiler.enable()
    for method, path, body, expect in phase.calls:
        api.call(method, path, body, expect, phase.roles)
    # Notifications sent in the background count with the calls that queued them.
    api.settle()
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
    app_cpu = api.app_cpu - start_app
    count = len(phase.calls)
    casts = "%12.2f" % ((statements.casts.count - before_casts) / count) if statements.casts else "%12s" % "-"
    print("%-26s %6d %12.3f %12.3f %12.3f %12.1f%s%s" % (
        phase.name, count, cpu * 1000 / count, app_cpu * 1000 / count, wall * 1000 / count,
        (statements.count - before_statements) / count, casts, "  (under cProfile)" if profiler else ""))
    if profiler:
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats(order).print_stats(top)
            text = out.getvalue()
            print("    top %d by %s, %d calls:" % (top, order, count))
            listing = text[text.index("ncalls"):] if "ncalls" in text else text
            for line in listing.rstrip().splitlines():
                print("    " + line.replace(REPO + "/", "").replace(sys.prefix + "/lib/", ""))
    sys.stdout.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "mariadb"), default="sqlite")
    parser.add_argument("--ports", type=int, default=1000, help="ports on the listed network (default 1000)")
    parser.add_argument("--routers", type=int, default=20, help="routers, each with 5 floating IPs (default 20)")
    parser.add_argument("--repeat", type=int, default=200, help="requests per port phase (default 200)")
    parser.add_argument("--profile", default="", help="phases to profile, comma separated, or 'all'")
    parser.add_argument("--sql", default="", help="phases whose statements to print, comma separated, or 'all'")
    parser.add_argument("--no-agents", action="store_true",
                        help="no transport_url and no L3 agent: router changes are neither scheduled nor cast")
    parser.add_argument("--top", type=int, default=15, help="frames printed per profile order (default 15)")
    args = parser.parse_args(argv)
    directory = tempfile.mkdtemp(prefix="netweave-profile-")
    server = None  # the private database server, if any
    try:
        url = None
        if args.db == "postgresql":
            from harness import postgres as postgres_helpers
            server = postgres_helpers.start_private_postgres()
            url = server.url_for(server.create_database("profile"))
        elif args.db == "mariadb":
            from harness import mariadb as mariadb_helpers
            server = mariadb_helpers.start_private_mariadb()
            url = server.url_for(server.create_database("profile"))
        api, statements = build_app(directory, url, agents=not args.no_agents)
        profiled = set(args.profile.split(",")) if args.profile else set()
        run(api, statements, args, profiled)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)
    return 0


def wanted(name, profiled):
    return "all" in profiled or name in profiled


def run(api, statements, args, profiled):
    print("netweave API in-process profile: %s, %d ports, %d routers, load average %s" % (
        args.db, args.ports, args.routers, ", ".join("%.2f" % v for v in os.getloadavg())))
    api.call("PUT", "/v2.0/quotas/%s" % PROJECT, {"quota": {"port": -1, "network": -1, "subnet": -1,
                                                            "router": -1, "floatingip": -1}})
    net = api.call("POST", "/v2.0/networks", {"network": {"name": "profile"}}, expect=201)["network"]
    api.call("POST", "/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                  "cidr": "10.96.0.0/20"}}, expect=201)
    port_ids = [api.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"], "name": "p%d" % i}},
                         expect=201)["port"]["id"] for i in range(args.ports)]
    print()
    print("%-26s %6s %12s %12s %12s %12s %11s" % ("phase", "calls", "cpu ms/call", "app cpu ms", "wall ms/call",
                                                  "stmts/call", "casts/call"))

    def phase(name, calls, roles=None):
        run_phase(api, statements, Phase(name, calls, roles), wanted(name, profiled), args.top,
                  wanted(name, set(args.sql.split(",")) if args.sql else set()))

    repeat = args.repeat
    phase("GET /", [("GET", "/", None, 200)] * repeat)
    phase("network list limit=1", [("GET", "/v2.0/networks?limit=1", None, 200)] * repeat)
    phase("network show", [("GET", "/v2.0/networks/%s" % net["id"], None, 200)] * repeat)
    phase("network show (member)", [("GET", "/v2.0/networks/%s" % net["id"], None, 200)] * repeat, roles="member")
    phase("port show", [("GET", "/v2.0/ports/%s" % port_ids[i % len(port_ids)], None, 200)
                        for i in range(repeat)])
    # The same shows by a member of the project: the policy's rules decide each attribute.
    phase("port show (member)", [("GET", "/v2.0/ports/%s" % port_ids[i % len(port_ids)], None, 200)
                                 for i in range(repeat)], roles="member")
    phase("port list (%d)" % args.ports, [("GET", "/v2.0/ports?network_id=%s" % net["id"], None, 200)] * 10)
    # Pages of 100 as `openstack port list` asks for them, by an admin and by a member of
    # the project (X-Roles: member: the policy's rules and the visibility filter apply).
    ordered = sorted(port_ids)
    deep = ordered[len(ordered) // 2] if len(ordered) > 200 else None
    pages = [("GET", "/v2.0/ports?limit=100", None, 200)]
    if deep:
        pages.append(("GET", "/v2.0/ports?limit=100&marker=%s" % deep, None, 200))
    count = max(10, repeat // 10)
    phase("port page (admin)", pages * count)
    phase("port page (member)", pages * count, roles="member")
    sample = port_ids[:repeat]
    phase("port update (name)", [("PUT", "/v2.0/ports/%s" % p, {"port": {"name": "renamed"}}, 200) for p in sample])
    phase("port delete", [("DELETE", "/v2.0/ports/%s" % p, None, 204) for p in sample])
    phase("port create", [("POST", "/v2.0/ports", {"port": {"network_id": net["id"]}}, 201)] * repeat)
    networks = min(repeat, 100)
    phase("network create", [("POST", "/v2.0/networks", {"network": {"name": "gone"}}, 201)] * networks)
    # Every network of the run, as bench/api_bench.py's network list reads them.
    phase("network list (all)", [("GET", "/v2.0/networks", None, 200)] * 10)
    gone = [n["id"] for n in api.call("GET", "/v2.0/networks?name=gone&fields=id")["networks"]]
    phase("network delete", [("DELETE", "/v2.0/networks/%s" % n, None, 204) for n in gone])
    if args.routers:
        routers(api, args, phase)


def routers(api, args, phase):
    count = args.routers
    external = api.call("POST", "/v2.0/networks", {"network": {"name": "ext", "router:external": True}},
                        expect=201)["network"]
    api.call("POST", "/v2.0/subnets", {"subnet": {"network_id": external["id"], "ip_version": 4,
                                                  "cidr": "10.112.0.0/20", "enable_dhcp": False}}, expect=201)
    nets = []
    for index in range(count):
        net = api.call("POST", "/v2.0/networks", {"network": {"name": "r%d" % index}}, expect=201)["network"]
        subnet = api.call("POST", "/v2.0/subnets", {"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "10.%d.%d.0/24" % (128 + index // 250, index % 250),
            "enable_dhcp": False}}, expect=201)["subnet"]
        nets.append((net, subnet))
    phase("router create", [("POST", "/v2.0/routers", {"router": {"name": "r%d" % i}}, 201) for i in range(count)])
    router_ids = [r["id"] for r in api.call("GET", "/v2.0/routers?fields=id")["routers"]]
    # As l3_agent_bench.py makes them: the gateway in the create.
    phase("router create (gateway)", [("POST", "/v2.0/routers", {"router": {
        "name": "g%d" % i, "external_gateway_info": {"network_id": external["id"]}}}, 201) for i in range(count)])
    phase("router show", [("GET", "/v2.0/routers/%s" % r, None, 200) for r in router_ids])
    phase("router interface add", [("PUT", "/v2.0/routers/%s/add_router_interface" % r,
                                    {"subnet_id": subnet["id"]}, 200)
                                   for r, (_net, subnet) in zip(router_ids, nets)])
    phase("router gateway set", [("PUT", "/v2.0/routers/%s" % r,
                                  {"router": {"external_gateway_info": {"network_id": external["id"]}}}, 200)
                                 for r in router_ids])
    ports = [api.call("POST", "/v2.0/ports", {"port": {"network_id": nets[i % count][0]["id"],
                                                       "device_owner": "compute:nova"}}, expect=201)["port"]["id"]
             for i in range(count * 5)]
    half = len(ports) // 2
    phase("fip create (with port)", [("POST", "/v2.0/floatingips", {"floatingip": {
        "floating_network_id": external["id"], "port_id": p}}, 201) for p in ports[:half]])
    phase("fip create (no port)", [("POST", "/v2.0/floatingips", {"floatingip": {
        "floating_network_id": external["id"]}}, 201) for _ in ports[half:]])
    free = [f["id"] for f in api.call("GET", "/v2.0/floatingips?fields=id&fields=port_id")["floatingips"]
            if f["port_id"] is None]
    phase("fip associate", [("PUT", "/v2.0/floatingips/%s" % f, {"floatingip": {"port_id": p}}, 200)
                            for f, p in zip(free, ports[half:])])


if __name__ == "__main__":
    sys.exit(main())
