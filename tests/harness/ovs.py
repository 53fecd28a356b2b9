"""Open vSwitch for tests: the daemons, throw-away bridges and namespaces, a userspace underlay.

Fixtures (import them into a test module: ``from harness.ovs import ovs_switch, ovs_sandbox``):
  ovs_switch   (session) makes sure ovsdb-server and ovs-vswitchd run. When they
               do not, it starts them with Debian's ``ovs-ctl start`` and stops
               them at the end of the session (when several test processes
               share the machine, the last one to finish stops them: see
               ``_Leases``); daemons it found running are left alone. Skips
               (fails on CI) without root or openvswitch-switch.
  ovs_sandbox  (function) an ``OvsSandbox``: every bridge, namespace and
               instance made through it is removed at teardown, pass or fail.
Outside pytest (bench/), ``acquire_switch()`` / ``release_switch()`` take and
drop the same lease. ``SwitchWatch`` counts flow and OVSDB changes on bridges.

The machines have no openvswitch kernel module, so everything runs on the
userspace datapath (``datapath_type=netdev``). One ovs-vswitchd serves the
machine, so a test "host" is a set of bridges with names of its own.

Userspace tunnelling: ovs-vswitchd encapsulates a packet, looks the remote
endpoint up in its own routing table (copied from the kernel's) and sends it as
if it came out of the internal port of the bridge that route names; a packet for
one of its tunnel endpoints is decapsulated when it is output to the LOCAL port
of a bridge whose kernel device holds that address. Two hosts' endpoints on one
kernel are both local addresses, so the route to either names the same device.
``Underlay`` therefore puts every endpoint address on the LOCAL port of one
netdev bridge, and gives it a single flow that sends encapsulated packets for
those addresses back out of LOCAL (``actions=IN_PORT``), where they are
decapsulated and delivered to the tunnel port whose local_ip/remote_ip match.
Neighbour entries for the endpoints are set with ``tnl/neigh/set`` (nothing
answers ARP for them). Check with ``ovs-appctl ovs/route/show``,
``tnl/neigh/show`` and ``tnl/ports/show -v``.
"""
import contextlib
import fcntl
import os
import secrets
import subprocess
import time

import pytest

from harness.system import find_executable, require, require_root

OVS_CTL = "/usr/share/openvswitch/scripts/ovs-ctl"
DB_SOCKET = "/var/run/openvswitch/db.sock"
DB_CONNECTION = "unix:" + DB_SOCKET
OVSDB_PIDFILE = "/var/run/openvswitch/ovsdb-server.pid"
LEASE_DIR = "/run/netweave-ovs-tests"
INSTALL_HINT = ("openvswitch-switch is not installed (it is in tools/apt-packages.txt; "
                "tools/install.sh openvswitch-switch)")


class CommandFailed(RuntimeError):
    pass


def run(argv, check=True, timeout=60, input=None):
    argv = [str(a) for a in argv]
    exe = find_executable(argv[0]) or argv[0]
    result = subprocess.run([exe] + argv[1:], capture_output=True, text=True, timeout=timeout,
                            input=input, stdin=None if input is not None else subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise CommandFailed("%s failed (%d): %s %s" % (" ".join(argv), result.returncode,
                                                        result.stdout.strip(), result.stderr.strip()))
    return result


def vsctl(*args, **kwargs):
    return run(["ovs-vsctl", "--timeout=30"] + list(args), **kwargs).stdout.strip()


def ofctl(*args, **kwargs):
    return run(["ovs-ofctl"] + list(args), **kwargs).stdout


def appctl(*args, **kwargs):
    return run(["ovs-appctl"] + list(args), **kwargs).stdout


def ip(*args, **kwargs):
    return run(["ip"] + list(args), **kwargs).stdout


def in_netns(namespace, *argv, **kwargs):
    return run(["ip", "netns", "exec", namespace] + list(argv), **kwargs)


def openvswitch_installed():
    return os.path.exists(OVS_CTL) and all(
        find_executable(exe) for exe in ("ovs-vsctl", "ovs-ofctl", "ovs-appctl", "ovsdb-server",
                                         "ovs-vswitchd"))


def daemons_running():
    try:
        db = run(["ovs-vsctl", "--timeout=5", "show"], check=False, timeout=15)
        switch = run(["ovs-appctl", "-T", "5", "-t", "ovs-vswitchd", "version"], check=False, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return db.returncode == 0 and switch.returncode == 0


def start_daemons():
    result = run([OVS_CTL, "start", "--system-id=random"], check=False, timeout=120)
    deadline = time.monotonic() + 30
    while not daemons_running():
        if time.monotonic() > deadline:
            raise CommandFailed("ovs-ctl start did not bring up Open vSwitch (%d): %s %s"
                                % (result.returncode, result.stdout, result.stderr))
        time.sleep(0.2)


def stop_daemons():
    run([OVS_CTL, "stop"], check=False, timeout=120)


def _ovsdb_server_pid():
    try:
        with open(OVSDB_PIDFILE) as f:
            return f.read().strip()
    except OSError:
        return None


class _Leases:
    """Who uses daemons that tests started, across test processes.

    Several pytest processes may share the machine's Open vSwitch. Each holds
    a lease (a file named after its pid) while it runs. The daemons are
    stopped by the last process to leave, and only when a test fixture started
    them: the marker file holds the pid of the ovsdb-server it started, so
    daemons started any other way are never stopped.
    """

    def __init__(self, directory=LEASE_DIR):
        self.directory = directory
        self.users_dir = os.path.join(directory, "users")
        self.marker = os.path.join(directory, "started-by-tests")

    @contextlib.contextmanager
    def locked(self):
        os.makedirs(self.users_dir, exist_ok=True)
        with open(os.path.join(self.directory, "lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _live_users(self):
        alive = []
        for name in os.listdir(self.users_dir):
            try:
                os.kill(int(name), 0)
            except (ValueError, ProcessLookupError):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self.users_dir, name))
                continue
            except PermissionError:
                pass
            alive.append(int(name))
        return alive

    def enter(self):
        """Take a lease, starting the daemons when they are not running; True when we started them."""
        with self.locked():
            started = False
            if not daemons_running():
                start_daemons()
                with open(self.marker, "w") as f:
                    f.write(_ovsdb_server_pid() or "")
                started = True
            open(os.path.join(self.users_dir, str(os.getpid())), "w").close()
            return started

    def leave(self):
        """Drop our lease; stop the daemons if tests started them and no other test process uses them."""
        with self.locked():
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.users_dir, str(os.getpid())))
            if self._live_users() or not os.path.exists(self.marker):
                return False
            with open(self.marker) as f:
                started_pid = f.read().strip()
            os.unlink(self.marker)
            if started_pid and started_pid == _ovsdb_server_pid():
                stop_daemons()
                return True
            return False


_LEASES = _Leases()


class _Daemons:
    """This process's use of the fixture (it runs once per module importing it)."""
    users = 0
    started = False


class OvsSwitch:
    """The machine's Open vSwitch, as the session fixture found or started it."""

    def __init__(self, started):
        self.started = started
        self.db_connection = DB_CONNECTION

    @property
    def datapath_types(self):
        return vsctl("get", "Open_vSwitch", ".", "datapath_types").strip("[]").replace(" ", "").split(",")

    def next_cfg(self):
        return int(vsctl("get", "Open_vSwitch", ".", "next_cfg"))


def acquire_switch():
    """This process uses the machine's Open vSwitch (starting it if needed); pair with release_switch."""
    if _Daemons.users == 0:
        _Daemons.started = _LEASES.enter()
    _Daemons.users += 1
    return OvsSwitch(started=_Daemons.started)


def release_switch():
    _Daemons.users -= 1
    if _Daemons.users == 0:
        _LEASES.leave()


@pytest.fixture(scope="session")
def ovs_switch():
    require_root()
    require(openvswitch_installed(), INSTALL_HINT)
    switch = acquire_switch()
    try:
        require("netdev" in switch.datapath_types,
                "ovs-vswitchd offers no userspace (netdev) datapath: %s" % switch.datapath_types)
        yield switch
    finally:
        release_switch()


def flows_of(bridge):
    """Flow lines of ``bridge`` as dump-flows --names prints them."""
    return [line for line in ofctl("dump-flows", "--names", bridge).splitlines() if " actions=" in line]


class Underlay:
    """Tunnel endpoint addresses on the LOCAL port of one netdev bridge (see the module doc)."""

    def __init__(self, bridge, addresses, prefixlen=24):
        self.bridge = bridge
        self.addresses = list(addresses)
        self.prefixlen = prefixlen

    def create(self):
        vsctl("add-br", self.bridge, "--", "set", "bridge", self.bridge, "datapath_type=netdev",
              "fail_mode=secure")
        ip("link", "set", self.bridge, "up")
        for address in self.addresses:
            ip("addr", "add", "%s/%d" % (address, self.prefixlen), "dev", self.bridge)
        network = "%s/%d" % (self.addresses[0], self.prefixlen)
        ofctl("add-flow", self.bridge, "priority=10,in_port=LOCAL,ip,nw_dst=%s actions=IN_PORT" % network)
        self.set_neighbours()
        self.wait_listening()

    @property
    def mac(self):
        with open("/sys/class/net/%s/address" % self.bridge) as f:
            return f.read().strip()

    def set_neighbours(self):
        for address in self.addresses:
            appctl("tnl/neigh/set", self.bridge, address, self.mac)

    def wait_listening(self, timeout=10):
        """Until ovs-vswitchd's tunnel port map knows the endpoint addresses of the bridge."""
        deadline = time.monotonic() + timeout
        while True:
            routes = appctl("ovs/route/show")
            if all("%s/32 dev %s" % (a, self.bridge) in routes for a in self.addresses):
                return
            if time.monotonic() > deadline:
                raise AssertionError("ovs-vswitchd has no local routes for %s on %s:\n%s"
                                     % (self.addresses, self.bridge, routes))
            time.sleep(0.1)


class OvsSandbox:
    """Names, bridges, namespaces and instances of one test; ``cleanup`` removes them all."""

    def __init__(self):
        self.token = secrets.token_hex(2)[:3]
        self.bridges = []
        self.namespaces = []

    def name(self, prefix, suffix=""):
        name = "%s%s%s" % (prefix, self.token, suffix)
        assert len(name) <= 15, name
        return name

    def track_bridge(self, name):
        if name not in self.bridges:
            self.bridges.append(name)
        return name

    def add_bridge(self, name, datapath_type="netdev", fail_mode=None):
        self.track_bridge(name)
        extra = ["fail_mode=%s" % fail_mode] if fail_mode else []
        vsctl("add-br", name, "--", "set", "bridge", name, "datapath_type=%s" % datapath_type, *extra)
        return name

    def patch(self, bridge_a, port_a, bridge_b, port_b):
        """A patch cable between two bridges (a "wire" between two hosts' NICs)."""
        vsctl("add-port", bridge_a, port_a, "--", "set", "interface", port_a, "type=patch",
              "options:peer=%s" % port_b, "--", "add-port", bridge_b, port_b, "--", "set", "interface",
              port_b, "type=patch", "options:peer=%s" % port_a)

    def underlay(self, addresses, prefixlen=24):
        underlay = Underlay(self.track_bridge(self.name("nwu")), addresses, prefixlen)
        underlay.create()
        return underlay

    def add_namespace(self, name):
        self.namespaces.append(name)
        ip("netns", "add", name)
        in_netns(name, "ip", "link", "set", "lo", "up")
        return name

    def plug_instance(self, bridge, port_id, mac, cidr, namespace=None, mtu=None):
        """What a hypervisor does: an internal port tap<id[:11]> on ``bridge`` with the
        port's external_ids, moved into a namespace of its own with the port's MAC and IP.
        Returns (namespace, device name)."""
        device = ("tap" + port_id)[:14]
        namespace = namespace or self.add_namespace("nwt-%s-%s" % (self.token, port_id[:8]))
        vsctl("add-port", bridge, device, "--", "set", "interface", device, "type=internal",
              "external_ids:iface-id=%s" % port_id, "external_ids:attached-mac=%s" % mac,
              "external_ids:iface-status=active")
        ip("link", "set", device, "netns", namespace)
        in_netns(namespace, "ip", "link", "set", device, "address", mac)
        if mtu:
            in_netns(namespace, "ip", "link", "set", device, "mtu", str(mtu))
        in_netns(namespace, "ip", "addr", "add", cidr, "dev", device)
        in_netns(namespace, "ip", "link", "set", device, "up")
        return namespace, device

    def unplug_instance(self, device):
        vsctl("--if-exists", "del-port", device)

    def cleanup(self):
        errors = []
        # Bridges first: ovs-vswitchd closes the internal ports' tap devices,
        # wherever they are; the namespaces are then empty.
        for bridge in reversed(self.bridges):
            try:
                vsctl("--if-exists", "del-br", bridge)
            except Exception as exc:  # noqa: BLE001 - remove the rest all the same
                errors.append("bridge %s: %s" % (bridge, exc))
        for namespace in reversed(self.namespaces):
            try:
                ip("netns", "del", namespace, check=False)
            except Exception as exc:  # noqa: BLE001
                errors.append("namespace %s: %s" % (namespace, exc))
        self.bridges, self.namespaces = [], []
        if errors:
            raise RuntimeError("cleanup failed: " + "; ".join(errors))


@pytest.fixture
def ovs_sandbox(ovs_switch):
    sandbox = OvsSandbox()
    try:
        yield sandbox
    finally:
        sandbox.cleanup()


def ping(namespace, address, count=1, timeout=1):
    return in_netns(namespace, "ping", "-n", "-q", "-c", str(count), "-W", str(timeout), address,
                    check=False).returncode == 0


def wait_ping(namespace, address, timeout=10):
    """True once ``address`` answers a ping from ``namespace`` (the first ones may go to ARP)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ping(namespace, address):
            return True
    return False


def neighbour_mac(namespace, address):
    out = in_netns(namespace, "ip", "neigh", "show", address).stdout.split()
    with contextlib.suppress(ValueError, IndexError):
        return out[out.index("lladdr") + 1].lower()
    return None


class SwitchWatch:
    """Counts the changes made to some bridges while it runs.

    ``ovs-ofctl monitor <bridge> watch:!initial`` on each bridge reports every
    flow added, modified or deleted; ``ovsdb-client monitor`` on the Port and
    Interface tables reports rows inserted, deleted or changed (the initial
    rows are skipped). Flows that table 10's learn() action writes (cookie
    ``ignore_cookie``) are the switch's own doing, not a change, and are left
    out. ``stop()`` returns the change lines.
    """

    def __init__(self, bridges, names=(), ignore_cookie=None):
        self.bridges = list(bridges)
        self.names = set(names)   # OVSDB rows of interest (port/interface names); empty: all
        self.ignore_cookie = ignore_cookie
        self._flow_monitors = []
        self._db_monitors = []

    def start(self, settle=1.0):
        def spawn(argv):
            # ovs-ofctl prints the events after the first reply on stderr.
            return subprocess.Popen([find_executable(argv[0]) or argv[0]] + argv[1:], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, stdin=subprocess.PIPE, text=True)
        for bridge in self.bridges:
            self._flow_monitors.append(spawn(["ovs-ofctl", "monitor", bridge, "watch:!initial"]))
        for table, columns in (("Port", "name,tag,other_config,interfaces"), ("Interface", "name,type,options")):
            self._db_monitors.append(spawn(["ovsdb-client", "monitor", DB_CONNECTION, "Open_vSwitch", table,
                                            columns, "--format=csv", "--no-headings"]))
        time.sleep(settle)  # the monitors have registered (ofctl prints nothing until a change)
        return self

    def stop(self):
        changes = []
        for process in self._flow_monitors:
            process.terminate()
            out, _ = process.communicate(timeout=10)
            for line in out.splitlines():
                if "event=" not in line:
                    continue
                if self.ignore_cookie is not None and "cookie=%#x" % self.ignore_cookie in line:
                    continue
                changes.append(line.strip())
        for index, process in enumerate(self._db_monitors):
            process.terminate()
            out, _ = process.communicate(timeout=10)
            for line in out.splitlines():
                fields = line.split(",")
                if len(fields) < 3 or fields[1] not in ("insert", "delete", "old", "new"):
                    continue
                if self.names and not (set(f.strip('"') for f in fields[2:]) & self.names):
                    continue
                changes.append("%s: %s" % (("Port", "Interface")[index], line.strip()))
        self._flow_monitors, self._db_monitors = [], []
        return changes


VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


class PrivateSwitch:
    """A second ovsdb-server/ovs-vswitchd pair of its own, for one test.

    Both daemons keep their database, sockets, pid files and logs in a
    temporary run directory (``rundir``; OVS_RUNDIR, so the bridges' management
    sockets <bridge>.mgmt are there too), reached through ``db_connection``
    (unix:<rundir>/db.sock), not through the machine's default sockets.
    ovs-vswitchd runs in a network namespace of its own (``netns``): its
    userspace datapath opens a tap device named ovs-netdev, which the
    machine's ovs-vswitchd already holds in the root namespace, and the
    internal ports it makes appear there. ``stop`` ends both daemons (by
    their pid files) and removes the namespace and the directory.
    """

    def __init__(self, token):
        import tempfile
        self.rundir = tempfile.mkdtemp(prefix="nw-ovs-")
        self.db_socket = os.path.join(self.rundir, "db.sock")
        self.db_connection = "unix:" + self.db_socket
        self.netns = "nwsw-%s" % token
        self._env = dict(os.environ, OVS_RUNDIR=self.rundir, OVS_LOGDIR=self.rundir, OVS_DBDIR=self.rundir)
        self._pidfiles = []

    def _path(self, name):
        return os.path.join(self.rundir, name)

    def _daemon(self, argv, name):
        pidfile = self._path(name + ".pid")
        self._pidfiles.append(pidfile)
        argv = argv + ["--pidfile=%s" % pidfile, "--unixctl=%s" % self._path(name + ".ctl"),
                       "--log-file=%s" % self._path(name + ".log"), "--no-chdir", "--detach"]
        result = subprocess.run(argv, env=self._env, capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise CommandFailed("%s failed (%d): %s" % (" ".join(argv), result.returncode, result.stderr))

    def start(self):
        try:
            run(["ovsdb-tool", "create", self._path("conf.db"), VSWITCH_SCHEMA])
            self._daemon([find_executable("ovsdb-server") or "ovsdb-server", self._path("conf.db"),
                          "--remote=punix:%s" % self.db_socket],
                         "ovsdb-server")
            self.vsctl("--no-wait", "init")
            ip("netns", "add", self.netns)
            in_netns(self.netns, "ip", "link", "set", "lo", "up")
            self._daemon(["ip", "netns", "exec", self.netns, find_executable("ovs-vswitchd") or "ovs-vswitchd",
                          self.db_connection], "ovs-vswitchd")
            deadline = time.monotonic() + 30
            while run(["ovs-appctl", "-t", self._path("ovs-vswitchd.ctl"), "version"], check=False).returncode:
                if time.monotonic() > deadline:
                    raise CommandFailed("the private ovs-vswitchd did not come up; see %s" % self.rundir)
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        return self

    def vsctl(self, *args, **kwargs):
        return run(["ovs-vsctl", "--timeout=30", "--db=%s" % self.db_connection] + list(args),
                   **kwargs).stdout.strip()

    def ofctl_target(self, bridge):
        return "unix:%s" % self._path("%s.mgmt" % bridge)

    def flows_of(self, bridge):
        return [line for line in ofctl("dump-flows", "--names", self.ofctl_target(bridge)).splitlines()
                if " actions=" in line]

    def plug_instance(self, bridge, port_id, mac, cidr, namespace):
        """An internal port tap<id[:11]> with the port's external_ids, moved from the switch's
        namespace into ``namespace`` (which the caller made) with the port's MAC and IP."""
        device = ("tap" + port_id)[:14]
        self.vsctl("add-port", bridge, device, "--", "set", "interface", device, "type=internal",
                   "external_ids:iface-id=%s" % port_id, "external_ids:attached-mac=%s" % mac,
                   "external_ids:iface-status=active")
        deadline = time.monotonic() + 10
        while in_netns(self.netns, "ip", "link", "show", device, check=False).returncode:
            if time.monotonic() > deadline:
                raise CommandFailed("ovs-vswitchd made no %s in %s" % (device, self.netns))
            time.sleep(0.1)
        in_netns(self.netns, "ip", "link", "set", device, "netns", namespace)
        in_netns(namespace, "ip", "link", "set", device, "address", mac)
        in_netns(namespace, "ip", "addr", "add", cidr, "dev", device)
        in_netns(namespace, "ip", "link", "set", device, "up")
        return device

    def stop(self):
        import shutil
        import signal
        for pidfile in reversed(self._pidfiles):
            with contextlib.suppress(OSError, ValueError):
                with open(pidfile) as f:
                    pid = int(f.read().strip())
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    os.kill(pid, 0)
                    time.sleep(0.05)
        self._pidfiles = []
        ip("netns", "del", self.netns, check=False)
        shutil.rmtree(self.rundir, ignore_errors=True)


@pytest.fixture
def private_switch(ovs_switch):
    """A PrivateSwitch for the test (``ovs_switch``: the checks that Open vSwitch is installed)."""
    switch = PrivateSwitch(secrets.token_hex(2)[:3])
    switch.start()
    try:
        yield switch
    finally:
        switch.stop()
