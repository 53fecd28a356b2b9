"""The metadata proxy in a qdhcp- or qrouter- namespace: one haproxy per network or router.

Instances reach 169.254.169.254:80; haproxy, listening there inside the
namespace, adds who is asking (X-Forwarded-For: the client's address as the
kernel saw it) and for which resource (X-Neutron-Network-ID or
X-Neutron-Router-ID), and hands the request to the metadata agent over its
unix socket. Headers of those names sent by the client are deleted first, so
an instance cannot pose as another address or network.

``render_config`` plans the configuration (pure); ``NamespaceProxy`` writes it
to ``<state_path>/ns-metadata-proxy/<resource id>.conf`` (the book's layout)
and runs haproxy through core.agent.external_process.
"""
import grp
import ipaddress
import logging
import os
import pwd
import re

from netweave.core.agent import external_process

LOG = logging.getLogger(__name__)

METADATA_ADDRESS = "169.254.169.254"
METADATA_V6_ADDRESS = "fe80::a9fe:a9fe"
SERVICE = "haproxy"
CONFIG_DIR = "ns-metadata-proxy"

KIND_NETWORK = "network"
KIND_ROUTER = "router"
RESOURCE_HEADERS = {KIND_NETWORK: "X-Neutron-Network-ID", KIND_ROUTER: "X-Neutron-Router-ID"}
# The qdhcp- proxy answers on port 80 itself; in a qrouter- namespace a NAT rule
# redirects 169.254.169.254:80 to 9697, as in Neutron.
DEFAULT_PORTS = {KIND_NETWORK: 80, KIND_ROUTER: 9697}

# Anything put into the file must be one plain token: no way to smuggle in a directive.
_TOKEN = re.compile(r"^[A-Za-z0-9._:/@+=-]+$")

_TEMPLATE = """\
global
    {user_keyword:<12}{user}
    {group_keyword:<12}{group}
    maxconn     1024
    pidfile     {pid_file}
    daemon

defaults
    mode http
    option http-server-close
    option forwardfor
    retries                 3
    timeout http-request    30s
    timeout connect         30s
    timeout client          32s
    timeout server          32s
    timeout http-keep-alive 30s

listen listener
    bind {bind}{bind_v6}
    server metadata {socket}
    http-request del-header X-Forwarded-For
    http-request del-header X-Neutron-Network-ID
    http-request del-header X-Neutron-Router-ID
    http-request add-header {header} {resource_id}
"""


class ProxyConfigError(ValueError):
    """A value that cannot go into a haproxy configuration."""


def _token(value, what):
    text = str(value)
    if not _TOKEN.match(text):
        raise ProxyConfigError("%s %r is not usable in a haproxy configuration" % (what, text))
    return text


def _bind_address(host, port):
    address = ipaddress.ip_address(host)
    if address.version == 6:
        return "[%s]:%d" % (address, port)
    return "%s:%d" % (address, port)


def render_config(resource_id, kind, socket_path, pid_file, user, group, bind_host="0.0.0.0", port=None,
                  bind_v6_interface=None):
    """The haproxy configuration of one namespace proxy, as text.

    ``user``/``group`` are names or numeric ids (haproxy's own ``user``/``group``
    keywords take names, ``uid``/``gid`` numbers). ``bind_v6_interface``: also
    listen on fe80::a9fe:a9fe, which is link-local and so needs the device.
    """
    if kind not in RESOURCE_HEADERS:
        raise ProxyConfigError("kind must be one of %s, not %r" % (sorted(RESOURCE_HEADERS), kind))
    port = DEFAULT_PORTS[kind] if port is None else int(port)
    if not 0 < port < 65536:
        raise ProxyConfigError("port %d is out of range" % port)
    user, group = _token(user, "user"), _token(group, "group")
    return _TEMPLATE.format(
        user_keyword="uid" if user.isdigit() else "user", user=user,
        group_keyword="gid" if group.isdigit() else "group", group=group,
        pid_file=_token(pid_file, "pid file"), bind=_bind_address(bind_host, port),
        bind_v6=("\n    bind %s:%d interface %s" % (METADATA_V6_ADDRESS, port, _token(bind_v6_interface, "interface"))
                 if bind_v6_interface else ""),
        socket=_token(socket_path, "socket path"), header=RESOURCE_HEADERS[kind],
        resource_id=_token(resource_id, "resource id"))


def _effective_user(name):
    """A configured user (name or uid) as haproxy takes it; empty: this process's user."""
    if not name:
        return str(os.geteuid())
    if str(name).isdigit():
        return str(name)
    pwd.getpwnam(name)  # fail early on an unknown name
    return name


def _effective_group(name):
    if not name:
        return str(os.getegid())
    if str(name).isdigit():
        return str(name)
    grp.getgrnam(name)
    return name


class NamespaceProxy:
    """Starts, stops and finds the haproxy of each network or router.

    ``monitor`` (an external_process.ProcessMonitor) respawns a proxy that dies
    between ``spawn`` and ``stop``.
    """

    def __init__(self, state_path, metadata_proxy_socket, user=None, group=None, monitor=None,
                 executable="haproxy"):
        self.state_path = state_path
        self.socket_path = metadata_proxy_socket
        self.user = _effective_user(user)
        self.group = _effective_group(group)
        self.monitor = monitor
        self.executable = executable

    def config_path(self, resource_id):
        return os.path.join(self.state_path, CONFIG_DIR, "%s.conf" % _token(resource_id, "resource id"))

    def _manager(self, resource_id, namespace=None):
        config_path = self.config_path(resource_id)
        return external_process.ProcessManager(
            resource_id, SERVICE, lambda _pid_file: [self.executable, "-f", config_path], self.state_path,
            namespace=namespace)

    def spawn(self, namespace, resource_id, kind=KIND_NETWORK, port=None, bind_v6_interface=None):
        """Make sure a proxy for ``resource_id`` runs in ``namespace`` with the current settings;
        ``bind_v6_interface``: the device to answer on fe80::a9fe:a9fe as well."""
        manager = self._manager(resource_id, namespace)
        text = render_config(resource_id, kind, self.socket_path, manager.pid_file, self.user, self.group,
                             port=port, bind_v6_interface=bind_v6_interface)
        changed = _write_if_changed(self.config_path(resource_id), text)
        if changed and manager.active:
            # haproxy outside master-worker mode cannot re-read its file: restart it.
            LOG.info("Metadata proxy settings of %s changed; restarting it", resource_id)
            manager.disable()
        manager.enable()
        if self.monitor is not None:
            self.monitor.register(manager)
        return manager

    def stop(self, resource_id):
        """Stop the proxy of ``resource_id`` (if any) and forget its configuration."""
        if self.monitor is not None:
            self.monitor.unregister(SERVICE, resource_id)
        self._manager(resource_id).disable()
        try:
            os.unlink(self.config_path(resource_id))
        except FileNotFoundError:
            pass

    def active(self, resource_id):
        return self._manager(resource_id).active

    def pid(self, resource_id):
        manager = self._manager(resource_id)
        return manager.pid if manager.active else None


def _write_if_changed(path, text):
    try:
        with open(path) as handle:
            if handle.read() == text:
                return False
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    scratch = path + ".tmp"
    with open(scratch, "w") as handle:
        handle.write(text)
    os.replace(scratch, path)
    return True
