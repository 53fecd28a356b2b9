"""netweave-metadata-agent: answers the namespace proxies on a unix socket.

``MetadataAgent`` puts together the port lookup (RPC get_ports, cached), the
signed forwarding to the metadata backend, an HTTP server on
``metadata_proxy_socket`` (cheroot, ``metadata_workers`` threads, so slow
backend answers do not queue everyone) and the heartbeats that make the agent
show in ``openstack network agent list`` as "Metadata agent".
"""
import grp
import logging
import os
import pwd
import threading

from cheroot import wsgi

from netweave.core.agent.metadata import backend as backend_mod
from netweave.core.agent.metadata import config as metadata_config
from netweave.core.agent.metadata import handler as handler_mod
from netweave.core.agent.metadata import lookup as lookup_mod

LOG = logging.getLogger(__name__)

AGENT_TYPE = "Metadata agent"
BINARY = "netweave-metadata-agent"
TOPIC = "N/A"

SOCKET_MODES = {metadata_config.SOCKET_MODE_USER: 0o644, metadata_config.SOCKET_MODE_GROUP: 0o664,
                metadata_config.SOCKET_MODE_ALL: 0o666}


def _is_own_user(user):
    if not user:
        return True
    uid = int(user) if str(user).isdigit() else pwd.getpwnam(user).pw_uid
    return uid == os.geteuid()


def _is_own_group(group):
    if not group:
        return True
    gid = int(group) if str(group).isdigit() else grp.getgrnam(group).gr_gid
    return gid == os.getegid()


def socket_mode(mode, proxy_user, proxy_group):
    """Permissions of the socket file: with 'deduce', the narrowest the proxies can still use."""
    if mode != metadata_config.SOCKET_MODE_DEDUCE:
        return SOCKET_MODES[mode]
    if _is_own_user(proxy_user):
        return SOCKET_MODES[metadata_config.SOCKET_MODE_USER]
    if _is_own_group(proxy_group):
        return SOCKET_MODES[metadata_config.SOCKET_MODE_GROUP]
    return SOCKET_MODES[metadata_config.SOCKET_MODE_ALL]


def agent_state(conf):
    return {
        "agent_type": AGENT_TYPE, "binary": BINARY, "host": conf.host, "topic": TOPIC,
        "configurations": {
            "metadata_proxy_socket": conf.metadata_proxy_socket,
            "nova_metadata_host": conf.nova_metadata_host,
            "nova_metadata_port": conf.nova_metadata_port,
            "log_agent_heartbeats": False,
        },
    }


class UnixSocketServer:
    """A threaded WSGI server on a unix socket; ``start`` returns once it accepts."""

    def __init__(self, path, app, threads, backlog, mode):
        self.path = path
        self.mode = mode
        self._server = wsgi.Server(path, app, numthreads=threads, request_queue_size=backlog,
                                   server_name="netweave-metadata-agent")
        self._thread = None

    def start(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        # prepare() removes a stale socket file left by an earlier run, then binds; the umask
        # makes the file born with its final mode, so no client ever sees a wider one.
        previous = os.umask(0o777 & ~self.mode)
        try:
            self._server.prepare()
        finally:
            os.umask(previous)
        os.chmod(self.path, self.mode)
        self._thread = threading.Thread(target=self._server.serve, name="metadata-socket", daemon=True)
        self._thread.start()

    def stop(self):
        self._server.stop()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class MetadataAgent:
    def __init__(self, conf, plugin_api, context, state_api=None):
        cache = lookup_mod.TtlCache(lookup_mod.ttl_from_cache_url(conf.cache_url))
        self.conf = conf
        self.lookup = lookup_mod.PortLookup(plugin_api, context, cache)
        self.backend = backend_mod.MetadataBackend(backend_mod.BackendSettings.from_conf(conf))
        self.handler = handler_mod.MetadataProxyHandler(self.lookup, self.backend)
        mode = socket_mode(conf.metadata_proxy_socket_mode, conf.metadata_proxy_user, conf.metadata_proxy_group)
        self.server = UnixSocketServer(conf.metadata_proxy_socket, self.handler, conf.metadata_workers,
                                       conf.metadata_backlog, mode)
        self.reporter = None
        if state_api is not None:
            from netweave.core.agent import state_reporter

            self.reporter = state_reporter.StateReporter(state_api, context, lambda: agent_state(conf),
                                                         conf.agent.report_interval)

    def start(self):
        if not self.conf.metadata_proxy_shared_secret:
            LOG.warning("metadata_proxy_shared_secret is empty: the backend must accept unsigned requests")
        self.server.start()
        if self.reporter is not None:
            self.reporter.start()
        LOG.info("Metadata agent on %s serving %s for %s://%s:%d", self.conf.host, self.conf.metadata_proxy_socket,
                 self.conf.nova_metadata_protocol, self.conf.nova_metadata_host, self.conf.nova_metadata_port)

    def stop(self):
        if self.reporter is not None:
            self.reporter.stop(timeout=5)
        self.server.stop()
