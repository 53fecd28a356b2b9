#!/usr/bin/env python3
"""Throughput and latency of the Neutron v2.0 API: ports, networks, routers and floating IPs.

Point it at any Neutron-compatible endpoint that runs without authentication
(noauth: the X-Project-Id header names the project, no X-Roles means admin):

    python bench/api_bench.py --url http://127.0.0.1:9696

or let it start netweave-server itself on a throw-away database:

    python bench/api_bench.py --start sqlite --workers 2
    python bench/api_bench.py --start postgresql --workers 4
    python bench/api_bench.py --start mariadb --workers 2

Each phase prints operations per second and the 50th/99th percentile latency.
Every client thread keeps its own HTTP/1.1 keep-alive connection. See
bench/README.md.
"""
import argparse
import contextlib
import http.client
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS_DIR = os.path.join(REPO, "tests")

# (full run, --quick)
SIZES = {
    "serial_creates": (200, 10),
    "concurrent_creates": (800, 40),
    "list_repeats": (20, 3),
    "shows": (2000, 40),
    "sample": (400, 20),
    "network_creates": (100, 5),
    "routers": (100, 5),
    "floating_ips": (1000, 20),
}
PORT_CIDR = "10.96.0.0/20"  # 4093 addresses in the default pool
EXTERNAL_CIDR = "10.112.0.0/20"  # router gateways and floating IPs


# --- HTTP ------------------------------------------------------------------------------


class HTTPFailure(Exception):
    def __init__(self, method, path, status, body):
        super().__init__("%s %s -> %s %s" % (method, path, status, body[:300]))
        self.status = status


class Client:
    """One keep-alive connection to the endpoint; not shared between threads."""

    def __init__(self, base_url, project, timeout=120):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https"):
            raise SystemExit("--url must be an http:// or https:// URL")
        self.scheme = parts.scheme
        self.netloc = parts.netloc
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if project:
            self.headers["X-Project-Id"] = project
        self.conn = None

    def _connect(self):
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        self.conn = cls(self.netloc, timeout=self.timeout)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, expect=(200,)):
        """Send one request; returns the decoded JSON (or None). Raises HTTPFailure
        when the status is not in ``expect``."""
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in (0, 1):
            reused = self.conn is not None
            if not reused:
                self._connect()
            try:
                self.conn.request(method, self.prefix + path, body=payload, headers=self.headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection before reading
                # this request: open a new one and send it again, once.
                self.close()
                if not reused or attempt:
                    raise
        if response.will_close:
            self.close()
        if response.status not in expect:
            raise HTTPFailure(method, path, response.status, data.decode("utf-8", "replace"))
        return json.loads(data) if data else None


# --- measuring -------------------------------------------------------------------------


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class Phase:
    def __init__(self, name, clients=1):
        self.name = name
        self.clients = clients
        self.latencies = []
        self.errors = []
        self.elapsed = 0.0
        self.cpu = {}  # "server"/"database"/"client" -> CPU seconds the phase used
        self._lock = threading.Lock()

    def record(self, seconds, error=None):
        with self._lock:
            if error is None:
                self.latencies.append(seconds)
            else:
                self.errors.append(error)

    def timed(self, call, *args, **kwargs):
        """Run ``call`` and record how long it took; returns its result, or None on failure."""
        start = time.perf_counter()
        try:
            result = call(*args, **kwargs)
        except (HTTPFailure, OSError, http.client.HTTPException) as error:
            self.record(time.perf_counter() - start, error)
            return None
        self.record(time.perf_counter() - start)
        return result

    def summary(self):
        values = sorted(self.latencies)
        count = len(values)
        return {
            "ops": count,
            "errors": len(self.errors),
            "seconds": self.elapsed,
            "ops_per_s": count / self.elapsed if self.elapsed else float("nan"),
            "p50_ms": percentile(values, 0.50) * 1000,
            "p99_ms": percentile(values, 0.99) * 1000,
        }


class CpuMeter:
    """CPU time used by process groups while a phase runs (from /proc/<pid>/stat).

    ``groups``: name -> function returning the pids to count, read at each
    sample (gunicorn may replace a worker). The bench's own threads count as
    "client".
    """

    def __init__(self, groups):
        self.groups = groups
        self.ticks = os.sysconf("SC_CLK_TCK")

    def sample(self):
        values = {"client": time.process_time()}
        for name, pids in self.groups.items():
            values[name] = sum(_cpu_seconds(pid, self.ticks) for pid in pids())
        return values

    @staticmethod
    def difference(before, after):
        return {name: after[name] - before[name] for name in before}


def _cpu_seconds(pid, ticks):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / ticks


METER = None  # a CpuMeter when the bench started the server


def _measured(phase, body):
    before = METER.sample() if METER else None
    start = time.perf_counter()
    result = body()
    phase.elapsed = time.perf_counter() - start
    if METER:
        phase.cpu = CpuMeter.difference(before, METER.sample())
    return result


def run_serial(phase, client, items, work):
    return _measured(phase, lambda: [phase.timed(work, client, item) for item in items])


def run_parallel(phase, clients, items, work):
    """Share ``items`` among the clients' threads (round robin), released together."""
    shares = [items[i::len(clients)] for i in range(len(clients))]
    results = [[] for _ in clients]
    barrier = threading.Barrier(len(clients) + 1)

    def body(index):
        barrier.wait()
        for item in shares[index]:
            results[index].append(phase.timed(work, clients[index], item))

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(len(clients))]
    for thread in threads:
        thread.start()

    def release_and_wait():
        barrier.wait()
        for thread in threads:
            thread.join()

    _measured(phase, release_and_wait)
    return [result for share in results for result in share]


# --- the work --------------------------------------------------------------------------


def create_port(client, index):
    return client.request("POST", "/v2.0/ports", {"port": {"network_id": client.network_id,
                                                           "name": "bench-%d" % index}},
                          expect=(201,))["port"]


def list_ports(client, _index):
    ports = client.request("GET", "/v2.0/ports?network_id=%s" % client.network_id)["ports"]
    client.listed = len(ports)
    return len(ports)


def show_port(client, port_id):
    return client.request("GET", "/v2.0/ports/%s" % port_id)["port"]


def update_port(client, port_id):
    return client.request("PUT", "/v2.0/ports/%s" % port_id, {"port": {"name": "renamed-" + port_id[:8]}})


def delete_port(client, port_id):
    return client.request("DELETE", "/v2.0/ports/%s" % port_id, expect=(204,))


def create_network(client, index):
    return client.request("POST", "/v2.0/networks", {"network": {"name": "bench-net-%d" % index}},
                          expect=(201,))["network"]


def delete_network(client, network_id):
    return client.request("DELETE", "/v2.0/networks/%s" % network_id, expect=(204,))


def list_networks(client, _index):
    networks = client.request("GET", "/v2.0/networks")["networks"]
    client.listed = len(networks)
    return len(networks)


def router_subnet_cidr(index):
    return "10.%d.%d.0/24" % (128 + index // 250, index % 250)


def create_router_network(client, index):
    """A project network with a /24 for router ``index``; returns (network, subnet)."""
    network = client.request("POST", "/v2.0/networks", {"network": {"name": "bench-r%d" % index}},
                             expect=(201,))["network"]
    subnet = client.request("POST", "/v2.0/subnets", {"subnet": {
        "network_id": network["id"], "ip_version": 4, "cidr": router_subnet_cidr(index), "enable_dhcp": False,
        "name": "bench-r%d" % index}}, expect=(201,))["subnet"]
    return network, subnet


def create_router(client, index):
    return client.request("POST", "/v2.0/routers", {"router": {"name": "bench-%d" % index}},
                          expect=(201,))["router"]


def add_router_interface(client, pair):
    router_id, subnet_id = pair
    return client.request("PUT", "/v2.0/routers/%s/add_router_interface" % router_id, {"subnet_id": subnet_id})


def set_router_gateway(client, router_id):
    return client.request("PUT", "/v2.0/routers/%s" % router_id, {"router": {
        "external_gateway_info": {"network_id": client.external_id}}})["router"]


def create_instance_port(client, network_id):
    return client.request("POST", "/v2.0/ports", {"port": {"network_id": network_id,
                                                           "device_owner": "compute:nova"}},
                          expect=(201,))["port"]


def create_floating_ip(client, port_id):
    """A floating IP on the external network, associated with ``port_id`` (None: not associated)."""
    body = {"floating_network_id": client.external_id}
    if port_id is not None:
        body["port_id"] = port_id
    return client.request("POST", "/v2.0/floatingips", {"floatingip": body}, expect=(201,))["floatingip"]


def associate_floating_ip(client, pair):
    fip_id, port_id = pair
    return client.request("PUT", "/v2.0/floatingips/%s" % fip_id, {"floatingip": {"port_id": port_id}})


# --- servers the bench starts ------------------------------------------------------------


class Started:
    """netweave-server started by the bench, and the database it uses."""

    def __init__(self, kind, workers, port_security=True, routers=True):
        self.kind = kind
        self.workers = workers
        # The all-in-one's defaults: security groups on, ports extended with their groups.
        self.port_security = port_security
        self.routers = routers
        self.directory = tempfile.mkdtemp(prefix="netweave-bench-")
        self.database = None  # the private PostgreSQL or MariaDB server, when the bench starts one
        self.server = None
        if TESTS_DIR not in sys.path:
            sys.path.insert(0, TESTS_DIR)

    def start(self):
        from harness import server as server_helpers

        url = None
        if self.kind == "postgresql":
            from harness import postgres

            self.database = postgres.start_private_postgres()
        elif self.kind == "mariadb":
            from harness import mariadb

            self.database = mariadb.start_private_mariadb()
        if self.database is not None:
            url = self.database.url_for(self.database.create_database("bench"))
        ml2, services = None, []
        if self.port_security:
            ml2 = {"extension_drivers": "port_security"}
            services.append("port_security")
        if self.routers:
            services.append("router")
        extra = "\n[DEFAULT]\nservice_plugins = %s\n" % ",".join(services) if services else ""
        self.server = server_helpers.start_server(self.directory, database_url=url, workers=self.workers,
                                                  ml2=ml2, extra=extra)
        return self.server.url

    def database_label(self):
        if self.database is not None:
            version = ""
            try:
                with contextlib.closing(self.database.connect()) as conn, conn.cursor() as cur:
                    cur.execute("SELECT version()")
                    version = " " + cur.fetchone()[0].split(",")[0]
            except Exception:  # noqa: BLE001 - the label is informational
                pass
            if self.kind == "postgresql":
                return "%s (private cluster, fsync off)" % version.strip()
            return "MariaDB%s (private server, durability off)" % version
        return "SQLite file %s (WAL)" % os.path.join(self.server.state_path, "netweave.sqlite")

    def worker_memory(self):
        """[(pid, role, VmRSS kB, VmHWM kB)] of the gunicorn master and its workers."""
        master = self.server.process.pid
        rows = [(master, "master") + _memory(master)]
        for pid in _children(master):
            rows.append((pid, "worker") + _memory(pid))
        return rows

    def cpu_groups(self):
        """Processes whose CPU time the phases report: the server's, and PostgreSQL's."""
        master = self.server.process.pid
        groups = {"server": lambda: [master] + _children(master)}
        if self.database is not None:
            database_pid = self.database.process.pid
            groups["database"] = lambda: _descendants(database_pid)
        return groups

    def stop(self):
        try:
            if self.server is not None:
                self.server.stop()
        finally:
            if self.database is not None:
                self.database.stop()
            shutil.rmtree(self.directory, ignore_errors=True)


def _children(pid):
    found = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
        for task in tasks:
            with open("/proc/%d/task/%s/children" % (pid, task)) as handle:
                found += [int(p) for p in handle.read().split()]
        return sorted(set(found))
    except OSError:
        pass
    # Kernels without /proc/<pid>/task/<tid>/children: scan every process's parent.
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def _descendants(pid):
    found = [pid]
    for child in _children(pid):
        found += _descendants(child)
    return found


def _memory(pid):
    values = {"VmRSS": None, "VmHWM": None}
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                if key in values:
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values["VmRSS"], values["VmHWM"]


# --- main ------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="endpoint of a running server (noauth), e.g. http://127.0.0.1:9696")
    target.add_argument("--start", choices=("sqlite", "postgresql", "mariadb"),
                        help="start netweave-server on a new database of this kind")
    parser.add_argument("--workers", type=int, default=2, help="API workers of the started server (default 2)")
    parser.add_argument("--no-port-security", dest="port_security", action="store_false",
                        help="start the server without the port_security plugin and extension driver "
                             "(on by default, as in the all-in-one)")
    parser.add_argument("--no-routers", dest="routers", action="store_false",
                        help="skip the router and floating IP phases (and, when the bench starts the server, "
                             "the router plugin)")
    parser.add_argument("--project", help="project id sent as X-Project-Id (default: a new bench-... id)")
    parser.add_argument("--clients", type=int, default=8, help="client threads of the parallel phase (default 8)")
    parser.add_argument("--quick", action="store_true", help="a few operations per phase: a smoke run")
    parser.add_argument("--keep", action="store_true", help="leave the created ports and networks behind")
    return parser.parse_args(argv)


def size(name, quick):
    return SIZES[name][1 if quick else 0]


def print_header(args, url, started, project):
    if started is not None:
        database, workers = started.database_label(), str(args.workers)
    else:
        database, workers = "unknown (external endpoint)", "unknown (external endpoint)"
    print("netweave API benchmark%s" % (" (--quick)" if args.quick else ""))
    print("  URL            %s" % url)
    print("  database       %s" % database)
    print("  server workers %s" % workers)
    if started is not None:
        print("  plugins        ml2%s%s" % (" + port_security (service plugin and extension driver)"
                                            if started.port_security else " (--no-port-security)",
                                            " + router" if started.routers else ""))
    print("  client threads %d (parallel phases), 1 otherwise" % args.clients)
    print("  machine        %d cores (os.cpu_count), %s, Python %s" % (
        os.cpu_count() or 0, platform.platform(), platform.python_version()))
    print("  project        %s" % project)
    print("  load average   %s (1, 5, 15 min, at start: other work on the machine skews every figure)"
          % _load_average())
    sys.stdout.flush()


def _load_average():
    try:
        return ", ".join("%.2f" % v for v in os.getloadavg())
    except OSError:
        return "unknown"


def cpu_note(phase):
    """CPU milliseconds per operation, by process group, when they were measured."""
    done = len(phase.latencies) + len(phase.errors)
    if not phase.cpu or not done:
        return ""
    return "cpu ms/op: " + " ".join("%s %.2f" % (name, seconds * 1000 / done)
                                    for name, seconds in sorted(phase.cpu.items()))


def print_phase(phase, note=""):
    s = phase.summary()
    note = "; ".join(n for n in (note, cpu_note(phase)) if n)
    print("%-24s %7d %6d %9.2f %10.1f %9.1f %9.1f  %s" % (
        phase.name, s["ops"], s["errors"], s["seconds"], s["ops_per_s"], s["p50_ms"], s["p99_ms"], note))
    for error in phase.errors[:3]:
        print("    error: %s" % error)
    sys.stdout.flush()


def open_clients(url, project, count, network_id, own_projects=False):
    """``count`` clients; with ``own_projects`` client i acts for project "<project>-c<i>"."""
    clients = []
    for index in range(count):
        client = Client(url, "%s-c%d" % (project, index) if own_projects else project)
        client.network_id = network_id
        clients.append(client)
    return clients


def raise_quotas(admin, projects, limits=None):
    """Lift the port and network quotas (or ``limits``) of the bench's projects where the
    endpoint allows it.

    The run also fits Neutron's default quotas (500 ports, 100 networks per
    project): the parallel clients create their ports in projects of their own
    and the network phase uses one more project.
    """
    failed = []
    for project in projects:
        try:
            admin.request("PUT", "/v2.0/quotas/%s" % project, {"quota": limits or {"port": -1, "network": -1}})
        except (HTTPFailure, OSError, http.client.HTTPException) as error:
            failed.append(error)
    if failed:
        print("  note: quotas left as they are (%d of %d updates failed: %s)" % (
            len(failed), len(projects), str(failed[0])[:120]))


def run(args, url, started):
    quick = args.quick
    project = args.project or "bench-%s" % uuid.uuid4().hex[:12]
    print_header(args, url, started, project)
    admin = Client(url, project)
    net_client = Client(url, project + "-nets")
    raise_quotas(admin, [project, net_client.headers["X-Project-Id"]] +
                 [c.headers["X-Project-Id"] for c in open_clients(url, project, args.clients, None, True)])
    network = admin.request("POST", "/v2.0/networks", {"network": {"name": "bench-ports"}},
                            expect=(201,))["network"]
    admin.request("POST", "/v2.0/subnets", {"subnet": {"network_id": network["id"], "ip_version": 4,
                                                       "cidr": PORT_CIDR, "name": "bench"}}, expect=(201,))
    admin.network_id = network["id"]
    created_networks = [network["id"]]
    ports = []
    made = RouterRun()

    print()
    print("%-24s %7s %6s %9s %10s %9s %9s" % ("phase", "ops", "errors", "seconds", "ops/s", "p50 ms", "p99 ms"))
    try:
        serial = Phase("port create (serial)")
        ports += run_serial(serial, admin, range(size("serial_creates", quick)), create_port)
        print_phase(serial, "1 client")

        clients = open_clients(url, project, args.clients, network["id"], own_projects=True)
        parallel = Phase("port create (parallel)", clients=args.clients)
        first = size("serial_creates", quick)
        ports += run_parallel(parallel, clients, list(range(first, first + size("concurrent_creates", quick))),
                              create_port)
        print_phase(parallel, "%d clients" % args.clients)
        ports = [p for p in ports if p is not None]
        for client in clients:
            client.close()

        listing = Phase("port list")
        run_serial(listing, admin, range(size("list_repeats", quick)), list_ports)
        print_phase(listing, "%d ports on the network" % getattr(admin, "listed", 0))

        # Show, update and delete as many clients do them at once, acting as the admin.
        clients = open_clients(url, project, args.clients, network["id"])
        shown = [ports[i % len(ports)]["id"] for i in range(size("shows", quick))]
        show = Phase("port show", clients=args.clients)
        run_parallel(show, clients, shown, show_port)
        print_phase(show, "%d clients" % args.clients)

        sample = [p["id"] for p in ports[:size("sample", quick)]]
        update = Phase("port update (name)", clients=args.clients)
        run_parallel(update, clients, sample, update_port)
        print_phase(update, "%d clients" % args.clients)

        delete = Phase("port delete", clients=args.clients)
        run_parallel(delete, clients, sample, delete_port)
        print_phase(delete, "%d clients" % args.clients)
        for client in clients:
            client.close()
        deleted = set(sample)
        ports = [p for p in ports if p["id"] not in deleted]

        # As many clients at once as the other writes, all in the networks' own project.
        clients = open_clients(url, net_client.headers["X-Project-Id"], args.clients, None)
        net_create = Phase("network create", clients=args.clients)
        nets = run_parallel(net_create, clients, list(range(size("network_creates", quick))), create_network)
        created_networks += [n["id"] for n in nets if n is not None]
        print_phase(net_create, "%d clients" % args.clients)
        for client in clients:
            client.close()

        net_list = Phase("network list")
        run_serial(net_list, admin, range(size("list_repeats", quick)), list_networks)
        print_phase(net_list, "%d networks visible" % getattr(admin, "listed", 0))

        clients = open_clients(url, project, args.clients, None)
        net_delete = Phase("network delete", clients=args.clients)
        made_here = [n["id"] for n in nets if n is not None]
        run_parallel(net_delete, clients, made_here, delete_network)
        print_phase(net_delete, "%d clients" % args.clients)
        for client in clients:
            client.close()
        if not net_delete.errors:
            created_networks = [n for n in created_networks if n not in set(made_here)]

        if args.routers and has_extension(admin, "router"):
            run_routers(url, project, args, quick, made)
        elif args.routers:
            print("  routers: skipped, the endpoint does not serve the router extension")
    finally:
        if not args.keep and started is None:
            cleanup_routers(url, project, made, args.clients)
            cleanup(url, project, ports, created_networks, args.clients)
        admin.close()
        net_client.close()


def has_extension(client, alias):
    try:
        client.request("GET", "/v2.0/extensions/%s" % alias)
    except HTTPFailure as error:
        if error.status == 404:
            return False
        raise
    return True


class RouterRun:
    """What the router phases made, for the cleanup of an external endpoint."""

    def __init__(self):
        self.external_id = None
        self.networks = []    # (network, subnet) per router
        self.routers = []
        self.interfaces = []  # (router id, subnet id)
        self.ports = []
        self.floating_ips = []


def run_routers(url, project, args, quick, made):
    """Routers with an interface and a gateway, and floating IPs on their networks, as
    bench/l3_agent_bench.py makes them (there with the agents wiring them): each
    call kind is a phase of its own, made by ``--clients`` threads acting for one
    project."""
    count, fips = size("routers", quick), size("floating_ips", quick)
    router_project = project + "-routers"
    admin = Client(url, router_project)
    raise_quotas(admin, [router_project], {"port": -1, "network": -1, "subnet": -1, "router": -1,
                                           "floatingip": -1})
    external = admin.request("POST", "/v2.0/networks", {"network": {"name": "bench-external",
                                                                    "router:external": True}},
                             expect=(201,))["network"]
    made.external_id = external["id"]
    admin.request("POST", "/v2.0/subnets", {"subnet": {"network_id": external["id"], "ip_version": 4,
                                                       "cidr": EXTERNAL_CIDR, "enable_dhcp": False,
                                                       "name": "bench-external"}}, expect=(201,))
    clients = open_clients(url, router_project, args.clients, None)
    for client in clients:
        client.external_id = external["id"]
    note = "%d clients" % args.clients
    try:
        phase = Phase("router network+subnet", clients=args.clients)
        made.networks = [n for n in run_parallel(phase, clients, list(range(count)), create_router_network)
                         if n is not None]
        print_phase(phase, note + "; 2 calls per op")

        phase = Phase("router create", clients=args.clients)
        made.routers = [r for r in run_parallel(phase, clients, list(range(count)), create_router)
                        if r is not None]
        print_phase(phase, note)

        pairs = [(router["id"], subnet["id"]) for router, (_net, subnet) in zip(made.routers, made.networks)]
        phase = Phase("router interface add", clients=args.clients)
        added = run_parallel(phase, clients, pairs, add_router_interface)
        made.interfaces = [pair for pair, result in zip(_round_robin(pairs, len(clients)), added)
                           if result is not None]
        print_phase(phase, note)

        phase = Phase("router gateway set", clients=args.clients)
        run_parallel(phase, clients, [r["id"] for r in made.routers], set_router_gateway)
        print_phase(phase, note)

        # One port per floating IP on the routers' networks, spread over them.
        targets = [made.networks[i % len(made.networks)][0]["id"] for i in range(fips)] if made.networks else []
        phase = Phase("port create (instances)", clients=args.clients)
        made.ports = [p for p in run_parallel(phase, clients, targets, create_instance_port) if p is not None]
        print_phase(phase, note)

        half = len(made.ports) // 2
        phase = Phase("fip create (with port)", clients=args.clients)
        made.floating_ips += [f for f in run_parallel(phase, clients, [p["id"] for p in made.ports[:half]],
                                                      create_floating_ip) if f is not None]
        print_phase(phase, note)

        phase = Phase("fip create (no port)", clients=args.clients)
        free = [f for f in run_parallel(phase, clients, [None] * (len(made.ports) - half), create_floating_ip)
                if f is not None]
        made.floating_ips += free
        print_phase(phase, note)

        phase = Phase("fip associate", clients=args.clients)
        run_parallel(phase, clients, [(f["id"], p["id"]) for f, p in zip(free, made.ports[half:])],
                     associate_floating_ip)
        print_phase(phase, note)
    finally:
        for client in clients + [admin]:
            client.close()


def _round_robin(items, count):
    """``items`` in the order run_parallel returns their results."""
    return [item for index in range(count) for item in items[index::count]]


def cleanup_routers(url, project, made, threads):
    """Delete what run_routers made: floating IPs, interfaces, routers, ports, networks."""
    if made.external_id is None:
        return
    clients = open_clients(url, project + "-routers", max(1, threads), None)
    phase = Phase("cleanup")
    run_parallel(phase, clients, [f["id"] for f in made.floating_ips],
                 lambda c, i: c.request("DELETE", "/v2.0/floatingips/%s" % i, expect=(204,)))
    run_parallel(phase, clients, made.interfaces,
                 lambda c, pair: c.request("PUT", "/v2.0/routers/%s/remove_router_interface" % pair[0],
                                           {"subnet_id": pair[1]}))
    run_parallel(phase, clients, [r["id"] for r in made.routers],
                 lambda c, i: c.request("DELETE", "/v2.0/routers/%s" % i, expect=(204,)))
    run_parallel(phase, clients, [p["id"] for p in made.ports], delete_port)
    run_parallel(phase, clients, [n["id"] for n, _s in made.networks] + [made.external_id],
                 lambda c, i: c.request("DELETE", "/v2.0/networks/%s" % i, expect=(204,)))
    for client in clients:
        client.close()
    if phase.errors:
        print("  router cleanup: %d deletes failed, e.g. %s" % (len(phase.errors), phase.errors[0]))


def cleanup(url, project, ports, networks, threads):
    """Delete what the run created (ports first: a network with ports cannot go)."""
    clients = open_clients(url, project, max(1, threads), None)
    phase = Phase("cleanup")
    run_parallel(phase, clients, [p["id"] for p in ports], delete_port)
    for network_id in networks:
        phase.timed(clients[0].request, "DELETE", "/v2.0/networks/%s" % network_id, expect=(204,))
    for client in clients:
        client.close()
    if phase.errors:
        print("  cleanup: %d deletes failed, e.g. %s" % (len(phase.errors), phase.errors[0]))


def print_memory(started):
    print()
    print("server memory after the run (/proc/<pid>/status)")
    print("%-8s %-8s %12s %12s" % ("pid", "process", "VmRSS MB", "VmHWM MB"))
    for pid, role, rss, hwm in started.worker_memory():
        print("%-8d %-8s %12s %12s" % (pid, role, _mb(rss), _mb(hwm)))


def _mb(kb):
    return "?" if kb is None else "%.1f" % (kb / 1024.0)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = None
    began = time.perf_counter()
    try:
        if args.start:
            started = Started(args.start, args.workers, args.port_security, args.routers)
            url = started.start()
            global METER
            METER = CpuMeter(started.cpu_groups())
        else:
            url = args.url.rstrip("/")
        run(args, url, started)
        if started is not None:
            print_memory(started)
    finally:
        if started is not None:
            started.stop()
    print()
    print("total run time %.1f s" % (time.perf_counter() - began))
    return 0


if __name__ == "__main__":
    sys.exit(main())
