#!/usr/bin/env python3
"""How API costs change with the size of the database: a scale curve.

Starts netweave-server (noauth) on a throw-away database and grows it in
steps, measuring the same calls at each size:

    python bench/scale_bench.py --start sqlite
    python bench/scale_bench.py --start postgresql
    python bench/scale_bench.py --start sqlite --quick     # a smoke run, well under a minute

The data is built through the API with bulk POSTs (``{"ports": [...]}`` of
``--chunk`` members, likewise for networks and security group rules), so what
is measured and what is built go through the same code. All ports sit in one
network of one project. At each port count it reports:

  * port create and port show rates (serial, one keep-alive client);
  * the time of ``GET /v2.0/ports?network_id=..&limit=N`` for several N;
  * ``limit=100`` pages at depth 1, 50 and 400 (markers of known ids);

then, with the ports still present, a security group of ``--rules`` rules
(rule list page, a rule list filtered by the group, group show, rule create,
port create with that group, and the L2 agents' ``security_group_info_for_devices``
for one port of it, called in this process on the server's own database) and
``--networks`` networks (network create, show, ``limit=100`` pages at depth 1
and 20, the whole list, and port create on one of them).

Every figure should be flat in the database size; list times should follow
the page returned. See bench/README.md for results.
"""
import argparse
import os
import random
import signal
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_bench  # noqa: E402  (the HTTP client and the started server)

# (full run, --quick)
STEPS = {"port_counts": ((10000, 50000), (500, 1500)),
         "rules": (5000, 300),
         "networks": (2000, 150),
         "creates": (100, 10),
         "shows": (300, 20),
         "repeats": (7, 2)}
PAGE_SIZES = (10, 100, 1000, 5000)
DEPTHS = (1, 50, 400)
PORT_CIDR = "10.128.0.0/14"  # room for every port of the full run


def size(name, quick):
    return STEPS[name][1 if quick else 0]


def median_ms(call, repeats):
    """Median wall time of ``call()`` in milliseconds over ``repeats`` runs (after one warm-up)."""
    call()
    values = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        values.append((time.perf_counter() - start) * 1000)
    return statistics.median(values)


def rate(call, items):
    """Calls per second of ``call(item)`` run serially over ``items``."""
    start = time.perf_counter()
    for item in items:
        call(item)
    return len(items) / (time.perf_counter() - start)


class Cloud:
    def __init__(self, client, chunk):
        self.client = client
        self.chunk = chunk
        self.port_ids = []

    def request(self, method, path, body=None, expect=(200,)):
        return self.client.request(method, path, body, expect=expect)

    def bulk(self, collection, member, bodies):
        """Create ``bodies`` with bulk POSTs of ``chunk`` members; returns the created dicts."""
        created = []
        for start in range(0, len(bodies), self.chunk):
            part = bodies[start:start + self.chunk]
            key = collection.replace("-", "_")
            reply = self.request("POST", "/v2.0/%s" % collection, {key: part}, expect=(201,))
            created.extend(reply[key])
        return created

    def grow_ports(self, network_id, target):
        missing = target - len(self.port_ids)
        start = time.perf_counter()
        made = self.bulk("ports", "port", [{"network_id": network_id, "name": "s%d" % i}
                                           for i in range(len(self.port_ids), len(self.port_ids) + missing)])
        self.port_ids.extend(p["id"] for p in made)
        return missing / (time.perf_counter() - start)


def measure_ports(cloud, network_id, quick, repeats):
    rows = {}
    made = []

    def create(index):
        made.append(cloud.request("POST", "/v2.0/ports", {"port": {"network_id": network_id,
                                                                   "name": "c%d" % index}},
                                  expect=(201,))["port"]["id"])

    rows["port create /s"] = rate(create, range(size("creates", quick)))
    cloud.port_ids.extend(made)
    sample = random.Random(7).sample(cloud.port_ids, size("shows", quick))
    rows["port show /s"] = rate(lambda pid: cloud.request("GET", "/v2.0/ports/%s" % pid), sample)
    for page in PAGE_SIZES:
        if page > len(cloud.port_ids):
            continue
        path = "/v2.0/ports?network_id=%s&limit=%d" % (network_id, page)
        rows["list limit=%d ms" % page] = median_ms(lambda path=path: cloud.request("GET", path), repeats)
    # The ports are listed in id order: the marker of page n is the (100 * (n - 1))th id.
    ordered = sorted(cloud.port_ids)
    for depth in DEPTHS:
        if 100 * depth > len(ordered):
            continue
        path = "/v2.0/ports?network_id=%s&limit=100" % network_id
        if depth > 1:
            path += "&marker=%s" % ordered[100 * (depth - 1) - 1]
        expected = ordered[100 * (depth - 1)]

        def page(path=path, expected=expected):
            got = cloud.request("GET", path)["ports"]
            assert got and got[0]["id"] == expected, (path, got[:1])
        rows["page %d (limit=100) ms" % depth] = median_ms(page, repeats)
    return rows


class InProcess:
    """The server's plugins loaded in this process on its database (same configuration
    files), for what the API does not serve: the L2 agents' RPC calls."""

    def __init__(self, config_files):
        import logging

        from netweave.core.cmd import common
        from netweave.core.cmd import server as server_cmd

        args = []
        for path in config_files:
            args += ["--config-file", path]
        conf = common.parse_config(args)
        logging.getLogger("netweave").setLevel(logging.ERROR)
        self.core, self.services = server_cmd.load_plugins(conf, sync=False)

    def security_group_rpc(self):
        from netweave.service_plugins.port_security import plugin as port_security

        plugin, = [p for p in self.services if isinstance(p, port_security.PortSecurityPlugin)]
        return plugin.rpc_endpoints()["q-plugin"][0]


def measure_rules(cloud, quick, repeats, network_id, in_process):
    group = cloud.request("POST", "/v2.0/security-groups", {"security_group": {"name": "scale"}},
                          expect=(201,))["security_group"]
    count = size("rules", quick)
    start = time.perf_counter()
    # Distinct rules: one TCP port each (the API refuses duplicates).
    rules = cloud.bulk("security-group-rules", "security_group_rule", [
        {"security_group_id": group["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
         "port_range_min": 1 + i, "port_range_max": 1 + i} for i in range(count)])
    built = count / (time.perf_counter() - start)
    rows = {"rules present": count, "rule bulk build /s": built}
    rows["rule list limit=100 ms"] = median_ms(
        lambda: cloud.request("GET", "/v2.0/security-group-rules?limit=100"), repeats)
    rows["rule list of the group ms"] = median_ms(
        lambda: cloud.request("GET", "/v2.0/security-group-rules?security_group_id=%s" % group["id"]), repeats)
    # A page of the group's rules past a marker (the rules in id order, as for ports).
    ordered = sorted(r["id"] for r in rules)
    deep = min(20, len(ordered) // 100)
    if deep >= 2:
        page_path = "/v2.0/security-group-rules?security_group_id=%s&limit=100&marker=%s" % (
            group["id"], ordered[100 * (deep - 1) - 1])

        def group_page():
            got = cloud.request("GET", page_path)["security_group_rules"]
            assert got and got[0]["id"] == ordered[100 * (deep - 1)], got[:1]
        rows["group's rules page %d (limit=100) ms" % deep] = median_ms(group_page, repeats)
    rows["group show ms"] = median_ms(
        lambda: cloud.request("GET", "/v2.0/security-groups/%s" % group["id"]), repeats)
    rows["rule create /s"] = _rule_creates(cloud, group["id"], count, size("creates", quick))
    members = []

    def port_in_group(index):
        members.append(cloud.request("POST", "/v2.0/ports", {"port": {
            "network_id": network_id, "name": "g%d" % index, "security_groups": [group["id"]]}},
            expect=(201,))["port"]["id"])
    rows["port create in the group /s"] = rate(port_in_group, range(size("creates", quick)))
    cloud.port_ids.extend(members)
    if in_process is not None:
        from netweave.core import context as context_mod

        endpoint = in_process.security_group_rpc()
        admin = context_mod.get_admin_context()

        def info():
            got = endpoint.security_group_info_for_devices(admin, devices=[members[0]])
            assert len(got["security_groups"][group["id"]]) >= count, "the group's rules are missing"
        rows["agent SG info (1 port) ms"] = median_ms(info, repeats)
    return rows


def _rule_creates(cloud, group_id, offset, count):
    def create(i):
        cloud.request("POST", "/v2.0/security-group-rules", {"security_group_rule": {
            "security_group_id": group_id, "direction": "ingress", "ethertype": "IPv4", "protocol": "udp",
            "port_range_min": 1 + offset + i, "port_range_max": 1 + offset + i}}, expect=(201,))
    return rate(create, range(count))


def measure_networks(cloud, quick, repeats):
    count = size("networks", quick)
    start = time.perf_counter()
    made = cloud.bulk("networks", "network", [{"name": "scale-%d" % i} for i in range(count)])
    built = count / (time.perf_counter() - start)
    rows = {"networks present": count + 1, "network bulk build /s": built}
    ordered = sorted(n["id"] for n in cloud.request("GET", "/v2.0/networks?fields=id")["networks"])
    for depth in (1, 20):
        if 100 * depth > len(ordered):
            continue
        path = "/v2.0/networks?limit=100"
        if depth > 1:
            path += "&marker=%s" % ordered[100 * (depth - 1) - 1]
        expected = ordered[100 * (depth - 1)]

        def page(path=path, expected=expected):
            got = cloud.request("GET", path)["networks"]
            assert got and got[0]["id"] == expected, (path, got[:1])
        rows["network page %d (limit=100) ms" % depth] = median_ms(page, repeats)
    rows["network list (all) ms"] = median_ms(lambda: cloud.request("GET", "/v2.0/networks"), repeats)
    sample = random.Random(11).sample([n["id"] for n in made], size("shows", quick))
    rows["network show /s"] = rate(lambda nid: cloud.request("GET", "/v2.0/networks/%s" % nid), sample)
    rows["network create /s"] = rate(lambda i: cloud.request(
        "POST", "/v2.0/networks", {"network": {"name": "late-%d" % i}}, expect=(201,)),
        range(size("creates", quick)))
    target = made[len(made) // 2]["id"]
    cloud.request("POST", "/v2.0/subnets", {"subnet": {
        "network_id": target, "ip_version": 4, "cidr": "10.64.0.0/16", "enable_dhcp": False}}, expect=(201,))
    rows["port create (new network) /s"] = rate(lambda i: cloud.request(
        "POST", "/v2.0/ports", {"port": {"network_id": target, "name": "n%d" % i}}, expect=(201,)),
        range(size("creates", quick)))
    return rows


def print_rows(title, rows):
    print()
    print(title)
    for name, value in rows.items():
        print("  %-36s %10.1f" % (name, value))


def run(args, url, config_files):
    quick = args.quick
    repeats = size("repeats", quick)
    project = "scale-%s" % uuid.uuid4().hex[:10]
    client = api_bench.Client(url, project)
    cloud = Cloud(client, args.chunk)
    cloud.request("PUT", "/v2.0/quotas/%s" % project, {"quota": {
        "port": -1, "network": -1, "subnet": -1, "security_group": -1, "security_group_rule": -1}})
    network = cloud.request("POST", "/v2.0/networks", {"network": {"name": "scale-ports"}},
                            expect=(201,))["network"]
    cloud.request("POST", "/v2.0/subnets", {"subnet": {
        "network_id": network["id"], "ip_version": 4, "cidr": PORT_CIDR, "enable_dhcp": False}}, expect=(201,))
    table = {}
    for target in size("port_counts", quick):
        built = cloud.grow_ports(network["id"], target)
        rows = {"ports present": len(cloud.port_ids), "port bulk build /s": built,
                "load average at start": os.getloadavg()[0]}
        rows.update(measure_ports(cloud, network["id"], quick, repeats))
        rows["load average at end"] = os.getloadavg()[0]
        print_rows("%d ports in the network" % target, rows)
        table[target] = rows
    in_process = InProcess(config_files) if config_files else None
    load = os.getloadavg()[0]
    rules = measure_rules(cloud, quick, repeats, network["id"], in_process)
    rules["load average at start"], rules["load average at end"] = load, os.getloadavg()[0]
    print_rows("security group rules", rules)
    load = os.getloadavg()[0]
    networks = measure_networks(cloud, quick, repeats)
    networks["load average at start"], networks["load average at end"] = load, os.getloadavg()[0]
    print_rows("networks", networks)
    print()
    print("| measure | " + " | ".join("%d ports" % t for t in table) + " |")
    print("|---|" + "---:|" * len(table))
    names = [n for n in next(iter(table.values())) if n not in ("ports present",)]
    for name in names:
        print("| %s | " % name + " | ".join(
            "%.1f" % table[t][name] if name in table[t] else "-" for t in table) + " |")
    client.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--workers", type=int, default=1, help="API workers (default 1: serial measurements)")
    parser.add_argument("--chunk", type=int, default=500, help="members per bulk POST (default 500)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    # A run stopped from outside (timeout, kill) still stops the server and database it started.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    started = api_bench.Started(args.start, args.workers)
    try:
        url = started.start()
        print("scale curve against %s, %d worker(s), bulk chunks of %d" % (
            args.start, args.workers, args.chunk))
        run(args, url, started.server.config_files)
    finally:
        started.stop()
    print()
    print("total run time %.1f s" % (time.perf_counter() - began))
    return 0


if __name__ == "__main__":
    sys.exit(main())
