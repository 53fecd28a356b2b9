"""L3 agent benchmark: many routers and floating IPs made through the API, the agent's restart, and
one floating IP association.

    sudo python bench/l3_agent_bench.py [--routers 100] [--fips 1000] [--clients 8] [--quick]
                                        [--profile-restart FILE]

How it runs: the real thing, as tests/harness/l3.RoutedCloud starts it: a
private RabbitMQ, netweave-server and netweave-rpc-server (SQLite) with the
router plugin, a Linux bridge agent process on each of two host namespaces
(h1 compute, h2 network node) and a netweave-l3-agent process for h2; an
"internet" namespace behind the flat external network.

1. wiring: N routers, each with a gateway on the external network and one
   interface on a project network of its own (a /24), and F floating IPs
   spread over them, each associated with a port of that network; made
   through the REST API as a cloud would: Neutron's bulk POST where it has
   one (networks, subnets, ports), single calls from ``--clients`` threads
   for routers, interfaces and floating IPs (no bulk form in Neutron). The
   API calls' time is reported by phase. The figure is the time
   from the first API call until every router port (interfaces and
   gateways, bound to the network node and wired by its Linux bridge agent)
   is ACTIVE and every floating IP is ACTIVE (reported by the L3 agent once
   its NAT rules are in place); how long after the last API call that
   came, and the CPU time the L3 agent process used meanwhile;
2. restart: the L3 agent is stopped (SIGTERM) and started again with that
   state in place; the figure is the agent's own "Full sync (agent start)"
   time and the number of routers it changed anything of (netlink, sysctl,
   iptables, devices): the goal is none; and the agent's CPU time until
   then (its own, and its commands');
3. association: an instance on h1 behind the first router runs a UDP echo
   server; the internet sends a datagram to an unassociated floating IP every
   2 ms; the figure is the time from the association's API call until the
   first answer comes back through the DNAT.

Everything is removed at the end. Needs root, ip, iptables, conntrack and
rabbitmq-server.
"""
import argparse
import concurrent.futures
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from harness import l3, multihost, rabbitmq  # noqa: E402

GOALS = {"wiring": 20.0, "restart": 3.0, "association": 0.300}

# Sends "who" to ADDRESS:PORT every INTERVAL seconds until an answer; prints the wall-clock time it came.
PROBE = r"""
import socket, sys, time
address, port, interval, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setblocking(False)
print("ready", flush=True)
deadline = time.time() + limit
while time.time() < deadline:
    try:
        sock.sendto(b"who", (address, port))
    except OSError:
        pass
    end = time.time() + interval
    while time.time() < end:
        try:
            sock.recvfrom(2048)
            print("%.6f" % time.time(), flush=True)
            sys.exit(0)
        except BlockingIOError:
            time.sleep(0.0002)
print("none", flush=True)
"""


def subnet_cidr(index):
    return "10.%d.%d.0/24" % (64 + index // 250, index % 250)


def chunks(items, size):
    return [items[start:start + size] for start in range(0, len(items), size)]


class AgentClock:
    """CPU seconds the L3 agent process used (user + system, its own and its waited-for children's:
    iptables-save, sysctl, ip), read from /proc; less noisy than wall-clock time on a shared machine."""

    def __init__(self, process):
        self.process = process
        self.ticks = os.sysconf("SC_CLK_TCK")

    def read(self):
        with open("/proc/%d/stat" % self.process.pid) as handle:
            fields = handle.read().rpartition(")")[2].split()
        utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
        return (utime + stime) / self.ticks, (cutime + cstime) / self.ticks


def cpu_since(clock, before):
    now = clock.read()
    return now[0] - before[0], now[1] - before[1]


def _proc_cpu(pid, ticks):
    """CPU seconds of ``pid`` (user + system, with its waited-for children), 0 once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / ticks


def _descendants(pid):
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir("/proc/%d/task" % current)
        except OSError:
            continue
        for task in tasks:
            try:
                with open("/proc/%d/task/%s/children" % (current, task)) as handle:
                    todo += [int(child) for child in handle.read().split()]
            except OSError:
                pass
    return found


class CpuTable:
    """CPU seconds each part of the cloud used between ``start`` and ``stop``: the API server
    (gunicorn master and workers), the RPC server, each agent, the broker (its whole process
    tree) and this bench process (the API clients)."""

    def __init__(self, cloud, broker):
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.parts = [("netweave-server (%d workers)" % cloud.api_workers, cloud.server.process.pid),
                      ("netweave-rpc-server", cloud.rpc.pid)]
        self.parts += [("linuxbridge agent %s" % host, process.pid) for host, process in sorted(cloud.agents.items())]
        self.parts += [("netweave-l3-agent", cloud.l3_agent.pid), ("rabbitmq", broker.process.pid)]
        self.before = None

    def _read(self):
        values = {name: sum(_proc_cpu(pid, self.ticks) for pid in _descendants(root)) for name, root in self.parts}
        times = os.times()
        values["bench (API clients)"] = times.user + times.system
        return values

    def start(self):
        self.before = self._read()

    def stop(self, seconds):
        after = self._read()
        used = {name: after[name] - self.before.get(name, 0.0) for name in after}
        total = sum(used.values())
        for name, value in used.items():
            print("cpu                %-34s %6.1f s" % (name, value))
        print("cpu                %-34s %6.1f s of %.1f s x %d cores" % ("all of the above", total, seconds,
                                                                         os.cpu_count()))


def make_state(cloud, routers, fips, clients):
    """The routers, their networks and floating IPs, through the API as a cloud would: Neutron's
    bulk POST where it has one (networks, subnets, ports), single calls from ``clients`` threads
    for the rest (routers, router interfaces and floating IPs have no bulk form in Neutron).
    Returns ([(router, net, subnet, [floating ip id])], {phase: seconds})."""
    per_router = [fips // routers + (1 if i < fips % routers else 0) for i in range(routers)]
    phases = {}
    started = time.monotonic()
    nets = []
    for part in chunks(range(routers), 100):
        nets += cloud.api("POST", "/networks", {"networks": [{"name": "bench-%d" % i} for i in part]})["networks"]
    subnets = []
    for part in chunks(list(enumerate(nets)), 100):
        subnets += cloud.api("POST", "/subnets", {"subnets": [
            {"network_id": net["id"], "ip_version": 4, "cidr": subnet_cidr(i), "enable_dhcp": False}
            for i, net in part]})["subnets"]
    phases["networks and subnets (bulk)"] = time.monotonic() - started

    def router_of(index):
        return cloud.router("bench-%d" % index, cloud.external, [subnets[index]])

    def ports_of(index):
        if not per_router[index]:
            return []
        return cloud.api("POST", "/ports", {"ports": [{"network_id": nets[index]["id"], "device_owner": "compute:nova"}
                                                      for _ in range(per_router[index])]})["ports"]

    def floating_ip(port):
        return cloud.floating_ip(cloud.external, port)["id"]

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        mark = time.monotonic()
        made = list(pool.map(router_of, range(routers)))
        phases["routers with gateway + interface"] = time.monotonic() - mark
        mark = time.monotonic()
        ports = list(pool.map(ports_of, range(routers)))
        phases["ports (bulk per network)"] = time.monotonic() - mark
        mark = time.monotonic()
        fip_ids = list(pool.map(floating_ip, [port for some in ports for port in some]))
        phases["floating IPs"] = time.monotonic() - mark
    built, offset = [], 0
    for index in range(routers):
        built.append((made[index], nets[index], subnets[index], fip_ids[offset:offset + per_router[index]]))
        offset += per_router[index]
    return built, phases


def count_active(cloud):
    # The server picks the router ports: the 2,000 instance and floating IP ports are not the
    # figure's, and building them at every poll cost the server CPU the wiring competes for.
    router_ports = cloud.api("GET", "/ports?fields=status&fields=device_owner"
                                    "&device_owner=network:router_interface&device_owner=network:router_gateway")["ports"]
    fips = cloud.api("GET", "/floatingips?fields=status")["floatingips"]
    return (sum(1 for p in router_ports if p["status"] == "ACTIVE"), len(router_ports),
            sum(1 for f in fips if f["status"] == "ACTIVE"), len(fips))


def wiring(cloud, routers, fips, clients, cpu):
    clock = AgentClock(cloud.l3_agent)
    before = clock.read()
    cpu.start()
    started = time.monotonic()
    built, phases = make_state(cloud, routers, fips, clients)
    api_done = time.monotonic() - started
    want_ports, want_fips = 2 * routers, fips
    state = {}

    def wired():
        state["now"] = count_active(cloud)
        active_ports, _ports, active_fips, _fips = state["now"]
        return active_ports == want_ports and active_fips == want_fips
    try:
        multihost.Cloud.wait(wired, "every router port and floating IP is ACTIVE", timeout=600, interval=0.25)
    except AssertionError:
        print("wiring             stuck at %d/%d router ports, %d/%d floating IPs ACTIVE" % state["now"])
        raise
    total = time.monotonic() - started
    own, children = cpu_since(clock, before)
    cpu.stop(total)
    for name, seconds in phases.items():
        print("wiring API         %-34s %.1f s" % (name, seconds))
    print("wiring             %d routers (gateway + 1 interface), %d floating IPs: API calls %.1f s, "
          "all ACTIVE %.1f s after the first call (%.1f s after the last)" % (routers, fips, api_done, total,
                                                                              total - api_done))
    print("wiring             L3 agent CPU meanwhile %.1f s (%.1f s its own, %.1f s its commands)"
          % (own + children, own, children))
    return built, total, api_done


# The first full sync after the start; "previous pass failed" when the start's own pass failed.
SYNC_LINE = re.compile(r"Full sync \(([^)]*)\) of (\d+) routers done in ([\d.]+)s, (\d+) changed")


def restart(cloud, routers, profile=None):
    """``profile``: a file the restarted agent's cProfile statistics go to when it stops."""
    cloud.l3_agent.stop(sig=signal.SIGTERM)
    with open(cloud.l3_agent.log_path) as handle:
        offset = len(handle.read())
    started = time.monotonic()
    cloud.start_l3_agent(wrapper=[sys.executable, "-m", "cProfile", "-o", profile] if profile else ())
    clock = AgentClock(cloud.l3_agent)
    found = {}

    def synced():
        found["cpu"] = clock.read()
        with open(cloud.l3_agent.log_path) as handle:
            match = SYNC_LINE.search(handle.read()[offset:])
        if match:
            found["match"] = match
        return bool(match)
    multihost.Cloud.wait(synced, "the restarted agent's first full sync", timeout=300, interval=0.05)
    seen = time.monotonic() - started
    reason, count, seconds, changed = (found["match"].group(1), int(found["match"].group(2)),
                                       float(found["match"].group(3)), int(found["match"].group(4)))
    own, children = found["cpu"]
    print("restart            full sync of %d routers %.2f s (%d changed); process start -> sync logged %.2f s"
          % (count, seconds, changed, seen))
    print("restart            L3 agent CPU from its start to the sync logged %.2f s (%.2f s its own, "
          "%.2f s its commands)" % (own + children, own, children))
    assert reason == "agent start", "the agent's pass at start failed (see %s); then: %s" % (
        cloud.l3_agent.log_path, found["match"].group(0))
    assert count == routers, "the agent synced %d routers, not %d" % (count, routers)
    return seconds, changed


def association(cloud, first, tmp):
    _router, net, subnet, _fips = first
    port, vm = cloud.instance("h1", net, subnet)
    cloud.wait_active(port, timeout=60)
    server = l3.start_echo_server(vm.namespace, "vm", os.path.join(tmp, "echo.log"))
    try:
        fip = cloud.floating_ip(cloud.external)
        probe = subprocess.Popen(["ip", "netns", "exec", cloud.internet, sys.executable, "-c", PROBE,
                                  fip["floating_ip_address"], str(l3.ECHO_PORT), "0.002", "30"],
                                 stdout=subprocess.PIPE, text=True)
        assert probe.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        asked = time.time()
        cloud.api("PUT", "/floatingips/" + fip["id"], {"floatingip": {"port_id": port["id"]}})
        answered = probe.stdout.readline().strip()
        probe.wait(10)
        assert answered != "none", "no answer through the floating IP within 30 s"
        seconds = float(answered) - asked
        print("association        floating IP association API call -> first answer through DNAT %.0f ms"
              % (seconds * 1000))
        return seconds
    finally:
        server.kill()
        server.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routers", type=int, default=100)
    parser.add_argument("--fips", type=int, default=1000, help="floating IPs, spread over the routers")
    parser.add_argument("--clients", type=int, default=8, help="API client threads")
    parser.add_argument("--workers", type=int, default=2, help="netweave-server API worker processes")
    parser.add_argument("--quick", action="store_true", help="5 routers, 20 floating IPs: a smoke run")
    parser.add_argument("--profile-restart", metavar="FILE",
                        help="run the restarted L3 agent under cProfile, statistics to FILE (pstats)")
    args = parser.parse_args(argv)
    if args.quick:
        args.routers, args.fips = 5, 20
    if os.geteuid() != 0:
        sys.exit("l3_agent_bench.py needs root (namespaces, bridges, iptables)")
    print("l3 agent bench     %d routers, %d floating IPs, %d API clients, %d API workers; %s, %d cores, "
          "load average %s" % (args.routers, args.fips, args.clients, args.workers, platform.python_version(),
                               os.cpu_count(), " ".join("%.2f" % v for v in os.getloadavg())))
    workdir = tempfile.mkdtemp(prefix="nwl3bench-")
    broker = rabbitmq.start_private_rabbitmq()
    cloud = l3.RoutedCloud(workdir, broker.transport_url)
    cloud.api_workers = args.workers
    try:
        cloud.start()
        cloud.external, cloud.external_subnet = cloud.external_network()
        built, wired, _api = wiring(cloud, args.routers, args.fips, args.clients, CpuTable(cloud, broker))
        resync, changed = restart(cloud, args.routers, args.profile_restart)
        associated = association(cloud, built[0], workdir)
    finally:
        cloud.close()
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    checks = [("wiring < %.0f s" % GOALS["wiring"], wired < GOALS["wiring"]),
              ("restart resync < %.0f s" % GOALS["restart"], resync < GOALS["restart"]),
              ("restart changes nothing", changed == 0),
              ("association < %.0f ms" % (GOALS["association"] * 1000), associated < GOALS["association"])]
    for name, ok in checks:
        print("check              %-28s %s" % (name, "ok" if ok else "MISSED"))
    return 0 if all(ok for _name, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
