#!/usr/bin/env python3
"""Upstream Neutron's API server as a reference for bench/api_bench.py.

Starts neutron-api (``neutron.wsgi.api:application``) under uWSGI from a
virtualenv of its own, outside this repository, on a private, throw-away
MariaDB or PostgreSQL server started by the same harness code as
``api_bench.py --start mariadb|postgresql`` (tests/harness/mariadb.py and
postgres.py), with the configuration the bench gives netweave-server: noauth,
core plugin ml2, ML2 extension driver port_security, no mechanism driver, no
agents and no RPC (oslo.messaging's in-process ``fake:/`` transport):

    python bench/neutron_reference.py --db mariadb            # serves until Ctrl-C
    python bench/neutron_reference.py --db postgresql -- \\
        python bench/api_bench.py --url {url} --no-routers    # runs the command, then stops

Run it with the netweave venv's Python (the harness needs its PyMySQL and
psycopg); ``--neutron-venv`` names the venv with Neutron and uWSGI (see the
end of bench/README.md for how to make it). While a command runs, each phase
row api_bench.py prints gets the CPU milliseconds per operation of the server
(uWSGI master and processes) and of the database, as the bench prints them for
a server it started; afterwards the resident memory and CPU time of each uWSGI
process are printed. Everything is deleted on exit.
"""
import argparse
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
TESTS_DIR = os.path.join(os.path.dirname(BENCH_DIR), "tests")
for folder in (BENCH_DIR, TESTS_DIR):
    if folder not in sys.path:
        sys.path.insert(0, folder)

import api_bench  # noqa: E402 - the bench's /proc readers (children, memory, CPU)

from harness import processes  # noqa: E402

DEFAULT_VENV = os.environ.get("NEUTRON_VENV", "/work/neutron29/venv")

NEUTRON_CONF = """\
[DEFAULT]
core_plugin = ml2
service_plugins =
auth_strategy = noauth
api_paste_config = {directory}/api-paste.ini
state_path = {state}
transport_url = fake:/
# No DHCP agent exists: with notifications on, every port create tries to schedule
# its network to one and logs a warning. netweave-server without a transport_url
# sends nothing either.
dhcp_agent_notification = false
# No Nova here to tell about port changes.
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
use_stderr = true
debug = false

[database]
connection = {database}
max_pool_size = 10

[oslo_concurrency]
lock_path = {state}/lock
"""

# Neutron's noauth pipeline ignores X-Project-Id: every request becomes an admin
# context of no project, and creates then need project_id in the body. The bench
# sends none, and relies on netweave's noauth, where X-Project-Id names the project
# and a request without X-Roles is an admin's. This filter gives Neutron the same
# headers keystonemiddleware would after a token check (an admin of that project
# when X-Roles is absent), and the paste file puts Neutron's own keystonecontext
# filter after it in place of authtoken.
NOAUTH_FILTER = '''\
"""Keystone's headers for a request without a token (neutron_reference.py)."""


def filter_factory(global_conf, **local_conf):
    def make(application):
        def headers_as_keystone_would(environ, start_response):
            environ.setdefault("HTTP_X_USER_ID", "reference-user")
            environ.setdefault("HTTP_X_ROLES", "admin")
            return application(environ, start_response)
        return headers_as_keystone_would
    return make
'''
NOAUTH_PIPELINE = ("noauth = cors http_proxy_to_wsgi request_id catch_errors osprofiler noauth_headers "
                   "keystonecontext extensions neutronapiapp_v2_0")
NOAUTH_FILTER_SECTION = """
[filter:noauth_headers]
paste.filter_factory = neutron_reference_noauth:filter_factory
"""

# Neutron 29.0.0's expand migration d553edeb540f (tags made case-sensitive, 2025.2)
# runs MySQL's "ALTER TABLE tags CONVERT TO CHARACTER SET utf8mb4 ..." on any
# database and only forgives MySQL's own error, so `upgrade heads` fails on
# PostgreSQL. PostgreSQL compares text case-sensitively already: on it the
# migration is stamped as done instead (revision, the one it revises).
MYSQL_ONLY_MIGRATION = ("d553edeb540f", "ad80a9f07c5c")

# The ranges tests/harness/server.py gives netweave-server; project networks are VXLAN
# on both (netweave also lists gre, geneve and local, which a create does not reach).
ML2_CONF = """\
[ml2]
type_drivers = local,flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers =
extension_drivers = port_security

[ml2_type_flat]
flat_networks = physnet1,physnet2

[ml2_type_vlan]
network_vlan_ranges = physnet1:100:199,physnet2

[ml2_type_vxlan]
vni_ranges = 1:1000

[securitygroup]
enable_security_group = true
"""

# As deployment tools run neutron-api: a master, N single-threaded processes each
# loading the application itself (lazy-apps), HTTP served by the processes.
UWSGI_INI = """\
[uwsgi]
http-socket = 127.0.0.1:{port}
master = true
processes = {processes}
threads = 1
lazy-apps = true
enable-threads = true
die-on-term = true
need-app = true
buffer-size = 65535
add-header = Connection: close
# One log line per request is all uWSGI would add; Neutron still logs as configured.
disable-logging = true
virtualenv = {venv}
pythonpath = {directory}
module = neutron.wsgi.api:application
env = OS_NEUTRON_CONFIG_DIR={directory}
env = OS_NEUTRON_CONFIG_FILES=neutron.conf;ml2_conf.ini
"""


class NeutronReference:
    """Private database, migrated schema and neutron-api under uWSGI."""

    def __init__(self, db_kind, venv, processes_count):
        self.db_kind = db_kind
        self.venv = venv
        self.processes = processes_count
        self.directory = tempfile.mkdtemp(prefix="neutron-reference-")
        self.database = None
        self.server = None
        self.url = None

    def _bin(self, name):
        return os.path.join(self.venv, "bin", name)

    def _start_database(self):
        if self.db_kind == "mariadb":
            from harness import mariadb

            self.database = mariadb.start_private_mariadb()
            return self.database.url_for(self.database.create_database("neutron"))
        from harness import postgres

        self.database = postgres.start_private_postgres()
        url = self.database.url_for(self.database.create_database("neutron"))
        # The harness names psycopg 3; the Neutron venv has psycopg2, as its docs use.
        return url.replace("postgresql+psycopg://", "postgresql+psycopg2://", 1)

    def _write(self, name, text):
        path = os.path.join(self.directory, name)
        with open(path, "w") as handle:
            handle.write(text)
        return path

    def _write_paste(self):
        """The venv's api-paste.ini with the noauth pipeline of NOAUTH_FILTER."""
        with open(os.path.join(self.venv, "etc", "neutron", "api-paste.ini")) as handle:
            lines = handle.read().splitlines()
        noauth = [i for i, line in enumerate(lines) if line.startswith("noauth = ") and "neutronapiapp_v2_0" in line]
        if len(noauth) != 1:
            raise RuntimeError("api-paste.ini: expected one noauth pipeline of neutronapiapp_v2_0")
        lines[noauth[0]] = NOAUTH_PIPELINE
        self._write("api-paste.ini", "\n".join(lines) + "\n" + NOAUTH_FILTER_SECTION)
        self._write("neutron_reference_noauth.py", NOAUTH_FILTER)

    def _migrate(self, conf, ml2):
        """``neutron-db-manage upgrade heads``; on PostgreSQL past MYSQL_ONLY_MIGRATION."""
        steps = [["upgrade", "heads"]]
        if self.db_kind == "postgresql":
            revision, parent = MYSQL_ONLY_MIGRATION
            steps = [["upgrade", parent], ["stamp", revision]] + steps
        for step in steps:
            result = subprocess.run([self._bin("neutron-db-manage"), "--config-file", conf, "--config-file", ml2]
                                    + step, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if result.returncode != 0:
                raise RuntimeError("neutron-db-manage %s failed:\n%s" % (" ".join(step), result.stdout[-3000:]))

    def start(self, timeout=180):
        database_url = self._start_database()
        state = os.path.join(self.directory, "state")
        os.makedirs(os.path.join(state, "lock"))
        self._write_paste()
        conf = self._write("neutron.conf", NEUTRON_CONF.format(directory=self.directory, state=state,
                                                               database=database_url))
        ml2 = self._write("ml2_conf.ini", ML2_CONF)
        self._migrate(conf, ml2)
        port = processes.free_tcp_port()
        ini = self._write("uwsgi.ini", UWSGI_INI.format(port=port, processes=self.processes, venv=self.venv,
                                                        directory=self.directory))
        # uWSGI's temp files (neutron's start-time file) stay in our folder.
        self.server = processes.start_process([self._bin("uwsgi"), "--ini", ini],
                                              os.path.join(self.directory, "uwsgi.log"),
                                              env={"TMPDIR": self.directory})
        self.url = "http://127.0.0.1:%d" % port
        try:
            # Each process loads the application on its own (lazy-apps): wait until a
            # request is answered, then give the other processes time to finish loading.
            self.server.wait_until(self._answers, timeout, "neutron-api answered GET /v2.0/networks")
            self.server.wait_until(self._workers_loaded, timeout, "every uWSGI process loaded the app")
        except Exception:
            print(self.server.log_tail(60), file=sys.stderr)
            raise
        return self.url

    def _answers(self):
        try:
            client = api_bench.Client(self.url, "reference-probe", timeout=5)
            client.request("GET", "/v2.0/networks")
            client.close()
            return True
        except (OSError, api_bench.HTTPFailure, http.client.HTTPException):
            return False

    def _workers_loaded(self):
        with open(self.server.log_path, errors="replace") as handle:
            return handle.read().count("WSGI app 0 (mountpoint='') ready") >= self.processes

    def describe(self):
        versions = subprocess.run([self._bin("python"), "-c",
                                   "import importlib.metadata as m, sys; print('neutron %s, neutron-lib %s, "
                                   "SQLAlchemy %s, oslo.db %s, uWSGI %s, Python %s' % (m.version('neutron'), "
                                   "m.version('neutron-lib'), m.version('SQLAlchemy'), m.version('oslo.db'), "
                                   "m.version('uwsgi'), sys.version.split()[0]))"],
                                  stdout=subprocess.PIPE, text=True).stdout.strip()
        return "\n".join([
            "Neutron reference server",
            "  URL            %s" % self.url,
            "  software       %s" % versions,
            "  server         neutron-api (neutron.wsgi.api:application) under uWSGI, %d processes x 1 thread, "
            "http-socket (Connection: close)" % self.processes,
            "  database       %s" % self._database_label(),
            "  configuration  noauth, ml2 (type drivers local,flat,vlan,vxlan; tenant vxlan; no mechanism driver; "
            "extension driver port_security), no service plugins beyond Neutron's defaults, transport fake:/, "
            "no DHCP agent notification; "
            "X-Project-Id names the project, no X-Roles means admin (keystonecontext after a header filter)",
            "  files          %s" % self.directory,
        ])

    def _database_label(self):
        if self.db_kind == "mariadb":
            return "private MariaDB (tests/harness/mariadb.py, durability off)"
        return ("private PostgreSQL (tests/harness/postgres.py, fsync off); migration %s stamped, not run"
                % MYSQL_ONLY_MIGRATION[0])

    def process_table(self):
        """[(pid, role, VmRSS kB, VmHWM kB, CPU s)] of the uWSGI master and its processes."""
        ticks = os.sysconf("SC_CLK_TCK")
        master = self.server.pid
        rows = [(master, "master") + api_bench._memory(master) + (api_bench._cpu_seconds(master, ticks),)]
        for pid in api_bench._children(master):
            rows.append((pid, "worker") + api_bench._memory(pid) + (api_bench._cpu_seconds(pid, ticks),))
        return rows

    def database_cpu(self):
        ticks = os.sysconf("SC_CLK_TCK")
        return sum(api_bench._cpu_seconds(pid, ticks) for pid in api_bench._descendants(self.database.process.pid))

    def stop(self):
        try:
            if self.server is not None:
                self.server.stop(grace=30)
        finally:
            if self.database is not None:
                self.database.stop()
            shutil.rmtree(self.directory, ignore_errors=True)


# A phase row of api_bench.py: name (24 wide), ops, errors, seconds, ...
PHASE_ROW = re.compile(r"^(?P<name>.{24}) +(?P<ops>\d+) +(?P<errors>\d+) +[\d.]+ ")


def run_with_phase_cpu(reference, argv):
    """Run ``argv``, passing its output on; each api_bench.py phase row gets the CPU
    milliseconds per operation of the server and database, as the bench prints them
    for a server it started itself: sampled when the table's header and each row
    are printed, so a phase's share holds its own calls (and the set-up of its
    clients, which sends no request)."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, bufsize=1)
    previous = None
    for line in process.stdout:
        line = line.rstrip("\n")
        row = PHASE_ROW.match(line)
        if line.startswith("phase "):
            previous = _cpu_sample(reference)
        elif row and previous is not None:
            now = _cpu_sample(reference)
            done = int(row.group("ops")) + int(row.group("errors"))
            if done:
                line += "; cpu ms/op: database %.2f server %.2f" % (
                    (now[1] - previous[1]) * 1000 / done, (now[0] - previous[0]) * 1000 / done)
            previous = now
        elif not line.strip():
            previous = None  # the table ended
        print(line, flush=True)
    return process.wait()


def _cpu_sample(reference):
    """(uWSGI master and processes, database) CPU seconds so far."""
    return sum(row[4] for row in reference.process_table()), reference.database_cpu()


def print_processes(reference, cpu_before, database_cpu_before):
    print()
    print("neutron-api memory and CPU after the run (/proc/<pid>/status, stat)")
    print("%-8s %-8s %12s %12s %12s" % ("pid", "process", "VmRSS MB", "VmHWM MB", "CPU s (run)"))
    for pid, role, rss, hwm, cpu in reference.process_table():
        print("%-8d %-8s %12s %12s %12.1f" % (pid, role, api_bench._mb(rss), api_bench._mb(hwm),
                                             cpu - cpu_before.get(pid, 0.0)))
    print("database CPU during the run: %.1f s" % (reference.database_cpu() - database_cpu_before))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("mariadb", "postgresql"), default="mariadb")
    parser.add_argument("--neutron-venv", default=DEFAULT_VENV,
                        help="virtualenv with neutron and uwsgi (default %(default)s, or $NEUTRON_VENV)")
    parser.add_argument("--processes", type=int, default=2, help="uWSGI processes (API workers, default 2)")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="after --: a command to run against the server ({url} is replaced); "
                             "without one the server runs until Ctrl-C")
    args = parser.parse_args(argv)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    return args


def _interrupt(_signum, _frame):
    """SIGTERM and SIGINT end the run through the same cleanup."""
    raise KeyboardInterrupt


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    reference = NeutronReference(args.db, args.neutron_venv, args.processes)
    # Also SIGINT: a shell that starts us in the background leaves it ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    status = 0
    try:
        began = time.perf_counter()
        reference.start()
        print(reference.describe())
        print("  started in     %.1f s (database, migrations, uWSGI)" % (time.perf_counter() - began))
        sys.stdout.flush()
        if not args.command:
            print("serving until Ctrl-C")
            sys.stdout.flush()
            while reference.server.alive():
                time.sleep(1)
            print("uWSGI ended:\n" + reference.server.log_tail(40))
            return 1
        cpu_before = {row[0]: row[4] for row in reference.process_table()}
        database_cpu_before = reference.database_cpu()
        status = run_with_phase_cpu(reference, [part.replace("{url}", reference.url) for part in args.command])
        print_processes(reference, cpu_before, database_cpu_before)
    except KeyboardInterrupt:
        status = 130
    finally:
        reference.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
