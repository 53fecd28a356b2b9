"""haproxy in qlbaas-<load balancer id>: plug the VIP, write haproxy.conf, start or reload haproxy.

``deploy(description)`` makes the host match one load balancer's description
(lbaas_rpc.describe); ``undeploy(lb_id)`` removes everything of it. Files live
in ``<loadbalancer_state_path>/v2/<lb_id>/`` (haproxy.conf, haproxy_stats.sock).
A changed configuration is loaded by a new haproxy started with ``-x <reload
socket> -sf <old pid>``: it receives the old process's listening sockets through
the reload socket (``expose-fd listeners``) instead of binding its own, and the
old process finishes the connections it has. With ``-sf`` alone the old process
closes its listening sockets and the kernel resets the connections queued on
them: 42 of 12,800 requests in 120 reloads under 400 requests/s
(bench/lbaas_bench.py); none with ``-x``.
"""
import logging
import os
import shutil
import socket
import subprocess

from netweave.core import naming
from netweave.core.agent import commands, external_process, interface
from netweave.service_plugins.lbaasv2.agent import haproxy_config

LOG = logging.getLogger(__name__)

SERVICE = "haproxy"
CONF_NAME = "haproxy.conf"
PENDING_DELETE = "PENDING_DELETE"


def namespace_of(lb_id):
    return naming.LBAAS_NS_PREFIX + lb_id


class HaproxyNamespaceDriver:
    def __init__(self, interface_driver, state_path, lbaas_state_path, user_group="nogroup",
                 send_gratuitous_arp=3, haproxy_binary="haproxy", monitor=None):
        self.interface_driver = interface_driver
        self.state_path = state_path            # the agent's: the process manager's pid files
        self.root = os.path.join(lbaas_state_path, "v2")
        self.user_group = user_group
        self.send_gratuitous_arp = send_gratuitous_arp
        self.haproxy_binary = haproxy_binary
        self.monitor = monitor                  # a ProcessMonitor respawning a haproxy that died

    def directory(self, lb_id):
        return os.path.join(self.root, lb_id)

    def _manager(self, lb_id):
        conf = os.path.join(self.directory(lb_id), CONF_NAME)
        return external_process.ProcessManager(
            lb_id, SERVICE, lambda pid_file: [self.haproxy_binary, "-f", conf, "-p", pid_file],
            self.state_path, namespace=namespace_of(lb_id))

    def deployed(self):
        """Ids of the load balancers with a directory here (what a resync may have to remove)."""
        try:
            return sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []

    def is_running(self, lb_id):
        return self._manager(lb_id).active

    def deploy(self, description):
        """Apply ``description``; returns True when haproxy serves it (False: nothing to run)."""
        lb_id = description["id"]
        if description["provisioning_status"] == PENDING_DELETE or not haproxy_config.deployable(description) \
                or not description.get("vip_port"):
            self.undeploy(lb_id)
            return False
        namespace = namespace_of(lb_id)
        interface.ensure_namespace(namespace)
        self._plug(namespace, description["vip_port"])
        directory = self.directory(lb_id)
        os.makedirs(directory, exist_ok=True)
        text = haproxy_config.render(description, directory, self.user_group, seamless_reload=True)
        path = os.path.join(directory, CONF_NAME)
        manager = self._manager(lb_id)
        running = manager.active
        if running and _read(path) == text:
            return True
        _write(path, text)
        if running:
            self._reload(manager)
        else:
            manager.enable()
        if self.monitor is not None:
            self.monitor.register(manager)
        return True

    def _plug(self, namespace, port):
        device = self.interface_driver.device_name(port["id"])
        first = interface.link_info(namespace, device) is None
        self.interface_driver.plug(port["network_id"], port["id"], port["mac_address"], namespace,
                                   mtu=port.get("mtu"))
        cidrs = ["%s/%d" % (ip["ip_address"], ip["prefixlen"]) for ip in port["fixed_ips"]]
        interface.set_addresses(namespace, device, cidrs)
        if port.get("gateway_ip"):
            interface.run_ip(namespace, "route", "replace", "default", "via", port["gateway_ip"], "dev", device,
                             check=False)
        if first and self.send_gratuitous_arp and cidrs and commands.which("arping"):
            # Neighbours may remember another MAC for the address; not waited for.
            subprocess.Popen(["ip", "netns", "exec", namespace, "arping", "-U", "-I", device, "-c",
                              str(self.send_gratuitous_arp), cidrs[0].split("/")[0]],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _reload(self, manager):
        """A new haproxy takes the old one's sockets over (-x); the old one (-sf) drains its connections."""
        argv = manager.argv()
        reload_socket = os.path.join(self.directory(manager.uuid), haproxy_config.RELOAD_SOCKET)
        if os.path.exists(reload_socket):  # not with a haproxy started from a file without it
            argv += ["-x", reload_socket]
        argv += ["-sf", str(manager.pid)]
        LOG.info("Reloading haproxy for %s: %s", manager.uuid, " ".join(argv))
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        if result.returncode:
            raise commands.CommandError(argv, result.returncode, stderr=result.stderr.decode(errors="replace"))

    def undeploy(self, lb_id):
        if self.monitor is not None:
            self.monitor.unregister(SERVICE, lb_id)
        self._manager(lb_id).disable()
        namespace = namespace_of(lb_id)
        if interface.namespace_exists(namespace):
            for device in _devices(namespace):
                if device.startswith(naming.DHCP_DEVICE_PREFIX):
                    interface.run_ip(namespace, "link", "del", "dev", device, check=False)
            interface.delete_namespace(namespace)
        shutil.rmtree(self.directory(lb_id), ignore_errors=True)

    def read_stats(self, lb_id, timeout=2.0):
        """``show stat`` through the stats socket; None when haproxy does not answer."""
        path = os.path.join(self.directory(lb_id), haproxy_config.STATS_SOCKET)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(path)
                sock.sendall(b"show stat\n")
                chunks = []
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
        except OSError:
            return None
        return b"".join(chunks).decode(errors="replace")


def _devices(namespace):
    result = commands.run(interface.ip_command(namespace, "-o", "link", "show"), timeout=30, check=False)
    names = []
    for line in result.stdout.splitlines():
        parts = line.split(":")
        if len(parts) > 1:
            names.append(parts[1].strip().split("@")[0])
    return names


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)
