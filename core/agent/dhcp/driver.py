"""Serving one network: its qdhcp- namespace, DHCP port device, dnsmasq files and process.

``DnsmasqDriver.serve(network, dhcp_port)`` brings the host in line with one
network info dict (see /work/briefs contract: subnets and ports) and the
network's DHCP port; it is idempotent and cheap when nothing changed:

* files are rendered by core.agent.dhcp.dnsmasq and replaced atomically only
  when their text changed;
* a running dnsmasq whose command line is still right gets SIGHUP (it rereads
  the hosts, addn_hosts and opts files); a changed command line (new
  dhcp-range, MTU, ...) restarts that network's dnsmasq only;
* leases of addresses no longer allocated are dropped with dhcp_release (IPv4,
  by ip and MAC) and dhcp_release6 (IPv6, by ip, client DUID and IAID);
* the device and its addresses are checked when the DHCP port changed or a
  full check is asked for (agent start, resync), not on every port change.

A restarted agent finds dnsmasq by its pid file and leaves it serving.
"""
import dataclasses
import ipaddress
import logging
import os
import shutil
import threading

from netweave.core import naming
from netweave.core.agent import commands, external_process, interface
from netweave.core.agent.dhcp import dnsmasq

LOG = logging.getLogger(__name__)

SERVICE = "dnsmasq"
PORT_ID_FILE = "port_id"
UNCHANGED, STARTED, RELOADED, RESTARTED, STOPPED = "unchanged", "started", "reloaded", "restarted", "stopped"


def write_if_changed(path, text):
    """Replace ``path`` atomically when its content differs; True when written."""
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return False
    except FileNotFoundError:
        pass
    temporary = "%s.tmp%d.%d" % (path, os.getpid(), threading.get_ident())
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)
    return True


@dataclasses.dataclass
class LeaseFile:
    """What dnsmasq's lease file holds: IPv4 leases by MAC, IPv6 ones by client DUID and IAID."""
    v4: list = dataclasses.field(default_factory=list)   # [(ip, mac)]
    v6: list = dataclasses.field(default_factory=list)   # [(ip, iaid, client DUID)]
    server_duid: str = None                               # dnsmasq's own DUID, once it served IPv6


def read_leases(path):
    """Parse a dnsmasq lease file: "<expiry> <mac> <ip> <name> <client-id>" lines for IPv4;
    after a "duid <server DUID>" line, "<expiry> <iaid> <ip> <name> <client DUID>" for IPv6."""
    leases = LeaseFile()
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return leases
    for line in lines:
        fields = line.split()
        if len(fields) == 2 and fields[0] == "duid":
            leases.server_duid = fields[1]
        elif len(fields) >= 5 and ":" in fields[2]:
            # A temporary address's IAID carries a "T" prefix; dhcp_release6 wants the number.
            leases.v6.append((fields[2], fields[1].lstrip("T"), fields[4]))
        elif len(fields) >= 3 and fields[0] != "duid":
            leases.v4.append((fields[2], fields[1].lower()))
    return leases


def stale_leases(leases, network):
    """IPv4 leases dnsmasq holds for addresses no longer allocated to that MAC (pure)."""
    allocated = dnsmasq.allocations(network)
    return sorted(lease for lease in leases if lease not in allocated)


def stale_v6_leases(leases, network):
    """IPv6 leases whose address is no longer allocated on the network (pure).

    An IPv6 lease names the client's DUID, not its MAC, so the address alone decides.
    """
    allocated = {ipaddress.ip_address(ip) for ip, _mac in dnsmasq.allocations(network)}
    return sorted(lease for lease in leases if ipaddress.ip_address(lease[0]) not in allocated)


def ipv6_available():
    """Whether this kernel has IPv6 (then metadata is offered on fe80::a9fe:a9fe too)."""
    return os.path.isdir("/proc/sys/net/ipv6")


def running_argv(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return [part.decode(errors="replace") for part in handle.read().split(b"\0") if part]
    except OSError:
        return None


@dataclasses.dataclass
class Served:
    """What this process last did for one network."""
    port_key: tuple = None      # (port id, mac, mtu, addresses) last plugged
    device: str = None
    argv: list = None
    metadata: str = None       # the device the metadata proxy was started for


@dataclasses.dataclass
class ServeResult:
    action: str
    device: str
    released: list


def _metadata_proxy_class():
    try:
        from netweave.core.agent.metadata.proxy import NamespaceProxy
    except ImportError:
        return None
    return NamespaceProxy


class DnsmasqDriver:
    def __init__(self, settings, interface_driver, monitor=None, metadata_proxy_socket=None, proxy_user=None,
                 proxy_group=None):
        self.settings = settings
        self.interface_driver = interface_driver
        self.monitor = monitor
        self.metadata_proxy_socket = metadata_proxy_socket
        self.proxy_user = proxy_user or None
        self.proxy_group = proxy_group or None
        self._served = {}
        self._lock = threading.Lock()

    # --- per network ---------------------------------------------------------------------

    def paths(self, network_id):
        return dnsmasq.Paths(self.settings.state_path, network_id)

    def process(self, network_id):
        served = self._served_state(network_id)
        return external_process.ProcessManager(
            network_id, SERVICE, lambda _pid_file: list(served.argv or ()), self.settings.state_path,
            namespace=naming.dhcp_namespace(network_id))

    def _served_state(self, network_id):
        with self._lock:
            return self._served.setdefault(network_id, Served())

    def serve(self, network, dhcp_port, check_devices=False):
        """Serve ``network`` from ``dhcp_port``; returns a ServeResult."""
        network_id = network["id"]
        namespace = naming.dhcp_namespace(network_id)
        served = self._served_state(network_id)
        paths = self.paths(network_id)
        metadata = dnsmasq.should_enable_metadata(network, self.settings)
        addresses = dnsmasq.dhcp_port_addresses(network, dhcp_port)
        if metadata:
            addresses.append(dnsmasq.METADATA_PORT_CIDR)
            if ipv6_available():
                addresses.append(dnsmasq.METADATA_V6_PORT_CIDR)
        port_key = (dhcp_port["id"], dhcp_port["mac_address"].lower(), network.get("mtu"), tuple(addresses))
        if check_devices or served.port_key != port_key or served.device is None:
            previous = _read_text(os.path.join(paths.directory, PORT_ID_FILE))
            if previous and previous != dhcp_port["id"]:
                # The network got a new DHCP port: the old one's device must not linger.
                self.interface_driver.unplug(previous, namespace)
            served.device = self._plug(network, dhcp_port, namespace, addresses)
            served.port_key = port_key
        os.makedirs(paths.directory, exist_ok=True)
        write_if_changed(os.path.join(paths.directory, PORT_ID_FILE), dhcp_port["id"] + "\n")
        write_if_changed(paths.interface, served.device + "\n")
        changed = write_if_changed(paths.hosts, dnsmasq.render_hosts(network, self.settings))
        changed |= write_if_changed(paths.addn_hosts, dnsmasq.render_addn_hosts(network, self.settings))
        changed |= write_if_changed(paths.opts, dnsmasq.render_opts(network, dhcp_port, self.settings))
        manager = self.process(network_id)
        argv = dnsmasq.build_argv(network, served.device, manager.pid_file, paths, self.settings)
        if self.settings.dnsmasq_base_log_dir:
            os.makedirs(os.path.join(self.settings.dnsmasq_base_log_dir, network_id), exist_ok=True)
        action = self._run_dnsmasq(manager, served, argv, changed)
        released = self._release(network, paths, namespace, served.device)
        self._metadata(network_id, namespace, metadata, served)
        if self.monitor is not None:
            self.monitor.register(manager)
        return ServeResult(action, served.device, released)

    def _plug(self, network, dhcp_port, namespace, addresses):
        interface.ensure_namespace(namespace)
        device = self.interface_driver.plug(network["id"], dhcp_port["id"], dhcp_port["mac_address"], namespace,
                                            mtu=network.get("mtu") or None)
        interface.set_addresses(namespace, device, addresses)
        return device

    def _run_dnsmasq(self, manager, served, argv, files_changed):
        running = manager.active
        current = running_argv(manager.pid) if running else None
        served.argv = argv
        if not running:
            manager.enable()
            return STARTED
        if current != argv:
            LOG.info("dnsmasq for %s needs a new command line; restarting it", manager.uuid)
            if self.monitor is not None:
                # Not "dead" meanwhile: the monitor must not start one of its own.
                self.monitor.unregister(SERVICE, manager.uuid)
            manager.disable(wait_reaped=False)
            manager.enable()
            return RESTARTED
        if files_changed:
            manager.reload()
            return RELOADED
        return UNCHANGED

    def _release(self, network, paths, namespace, device):
        """Drop the leases of addresses no longer allocated; returns [(ip, mac or client DUID)]."""
        leases = read_leases(paths.leases)
        released = []
        for ip_address, mac in stale_leases(leases.v4, network):
            if self._run_release(namespace, ["dhcp_release", device, ip_address, mac], network, ip_address):
                released.append((ip_address, mac))
        stale_v6 = stale_v6_leases(leases.v6, network)
        if stale_v6 and not leases.server_duid:
            LOG.warning("dnsmasq's lease file for %s names no server DUID: cannot release %s", network["id"],
                        ", ".join(ip for ip, _iaid, _client in stale_v6))
            stale_v6 = []
        for ip_address, iaid, client_id in stale_v6:
            argv = ["dhcp_release6", "--iface", device, "--ip", ip_address, "--client-id", client_id,
                    "--server-id", leases.server_duid, "--iaid", iaid]
            if self._run_release(namespace, argv, network, ip_address):
                released.append((ip_address, client_id))
        return released

    @staticmethod
    def _run_release(namespace, argv, network, ip_address):
        try:
            result = commands.run(argv, namespace=namespace, timeout=30, check=False)
        except commands.CommandError as error:
            LOG.warning("%s", error)
            return False
        if not result.ok:
            LOG.warning("%s failed: %s", " ".join(argv), (result.stderr or result.stdout).strip())
            return False
        LOG.info("Released the lease of %s on network %s", ip_address, network["id"])
        return True

    def _metadata(self, network_id, namespace, wanted, served):
        # The proxy's IPv6 listener is bound to the DHCP port's device: a new device, a new proxy.
        wanted = served.device if wanted else None
        if wanted == served.metadata:
            return
        proxy_class = _metadata_proxy_class()
        if proxy_class is None:
            LOG.warning("Metadata proxy not available in this installation; network %s gets the metadata "
                        "route and address but no proxy", network_id)
            served.metadata = wanted
            return
        proxy = self._proxy(proxy_class)
        if wanted:
            v6_interface = wanted if ipv6_available() else None
            proxy.spawn(namespace, resource_id=network_id, kind="network", bind_v6_interface=v6_interface)
        else:
            proxy.stop(network_id)
        served.metadata = wanted

    def _proxy(self, proxy_class):
        return proxy_class(self.settings.state_path, self.metadata_proxy_socket, user=self.proxy_user,
                           group=self.proxy_group, monitor=self.monitor)

    # --- teardown and discovery -----------------------------------------------------------

    def teardown(self, network_id):
        """Stop serving ``network_id``: dnsmasq, proxy, device, namespace and files go."""
        namespace = naming.dhcp_namespace(network_id)
        paths = self.paths(network_id)
        if self.monitor is not None:
            self.monitor.unregister(SERVICE, network_id)
        self.process(network_id).disable(wait_reaped=False)
        with self._lock:
            self._served.pop(network_id, None)
        proxy_class = _metadata_proxy_class()
        if proxy_class is not None:
            try:
                self._proxy(proxy_class).stop(network_id)
            except Exception:  # noqa: BLE001 - the namespace goes anyway
                LOG.exception("Stopping the metadata proxy of %s failed", network_id)
        port_id = _read_text(os.path.join(paths.directory, PORT_ID_FILE))
        if port_id:
            self.interface_driver.unplug(port_id, namespace)
        interface.delete_namespace(namespace)
        shutil.rmtree(paths.directory, ignore_errors=True)
        LOG.info("Network %s is no longer served here", network_id)
        return STOPPED

    def known_networks(self):
        """Network ids with files under state_path/dhcp: served now or before a restart."""
        base = os.path.join(self.settings.state_path, "dhcp")
        try:
            return sorted(name for name in os.listdir(base) if os.path.isdir(os.path.join(base, name)))
        except FileNotFoundError:
            return []


def _read_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or None
    except FileNotFoundError:
        return None
