"""netweave-openvswitch-agent: the Open vSwitch L2 agent's console script.

    netweave-openvswitch-agent --config-file netweave.conf --config-file openvswitch_agent.ini

The agent runs on the reconciler loop of netweave.core.agent.loop, which
talks to the server over RPC (``[DEFAULT] transport_url``; rpc.py puts the
agent on core.agent.service.connect_l2_agent: the server's casts, heartbeats
every [agent] report_interval, the firewall and the agent extensions), or,
with ``--standalone-ports FILE``, to a JSON list of device details (one dict
per port, as get_devices_details_list returns them). ``--once`` makes a single
full pass and exits. ``--netns NAME`` puts the firewall's work (iptables_hybrid)
in that network namespace.

``InProcessAgent`` runs the same agent in a thread of netweave-all-in-one, on
that process's transport (fake:// keeps its messages inside the process).
"""
import json
import logging
import os
import socket
import sys
import threading

# The ovs library imports eventlet (ovs.poller) although the agent never runs on it;
# without eventlet's green DNS resolver that import skips dnspython and takes a
# fraction of the time, which a restarting agent feels. Set before the imports below.
os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")


from netweave.core.agent import service
from netweave.core.config import agent as common_agent_config
from netweave.core.config import common as _common_opts  # noqa: F401 - registers [DEFAULT] host
from netweave.mechanism_drivers.openvswitch import agent as agent_mod
from netweave.mechanism_drivers.openvswitch import client as client_mod
from netweave.mechanism_drivers.openvswitch import config as ovs_config
from netweave.mechanism_drivers.openvswitch import constants as c
from netweave.mechanism_drivers.openvswitch import datapath, ovsdb_state
from netweave.mechanism_drivers.openvswitch import rpc as ovs_rpc

LOG = logging.getLogger(__name__)

cli_opts = service.l2_agent_cli_opts(
    "Network namespace of the hybrid bridges (qbr, qvb) whose iptables the firewall driver programs; "
    "the switch's own bridges are wherever ovs-vswitchd is.")

def _register_agent_opts(conf):
    ovs_config.register_opts(conf)      # [ovs], [agent] (with extensions), the firewall's
    common_agent_config.register(conf)  # [agent] report_interval, polling_interval, resync_interval


def _register(conf):
    _register_agent_opts(conf)
    conf.register_cli_opts(cli_opts)


class AgentConfigError(ValueError):
    """The agent's options cannot work here; the message says why."""


def _agent_config(conf):
    """AgentConfig from the options, with the datapath checked against this host."""
    try:
        agent_config = ovs_config.AgentConfig.from_conf(conf)
        datapath.check(agent_config.datapath_type)
    except (ValueError, datapath.DatapathUnavailable) as exc:
        raise AgentConfigError(str(exc)) from None
    return agent_config


class EarlyOvsdb:
    """The OVSDB connection opened in a thread of its own while the RPC side starts,
    so the initial dump of the switch and the broker handshakes overlap."""

    def __init__(self, config):
        self._api = self._error = None
        self._taken = False
        self._thread = threading.Thread(target=self._connect, args=(config,), name="ovsdb-connect", daemon=True)
        self._thread.start()

    def _connect(self, config):
        try:
            self._api = ovsdb_state.connect(config.ovsdb_connection, config.ovsdb_timeout)
        except Exception as exc:  # noqa: BLE001 - raised again by take()
            self._error = exc

    def take(self):
        """The connection, now the caller's to close; raises what connecting raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._taken = True
        return self._api

    def discard(self):
        """Close the connection unless someone took it."""
        self._thread.join()
        if self._api is not None and not self._taken:
            ovsdb_state.disconnect(self._api)


def _connect(conf, agent_config, ovsdb, host, netns=None, own_transport=True):
    """The agent on RPC: (agent, core.agent.service.L2Connection)."""
    try:
        api = ovsdb.take()
    except Exception as exc:  # noqa: BLE001 - ovsdbapp raises plain exceptions
        raise AgentConfigError("cannot use Open vSwitch at [ovs] ovsdb_connection = %s: %s"
                               % (agent_config.ovsdb_connection, exc)) from None
    agent = agent_mod.OVSAgent(agent_config, ovs_rpc.plugin_client(conf, host), api=api, host=host, own_api=True)
    try:
        return agent, ovs_rpc.connect(conf, agent, netns=netns, own_transport=own_transport)
    except BaseException:
        agent.close()
        raise


class InProcessAgent:
    """The agent in a thread of another process (netweave-all-in-one), over that
    process's transport, which it leaves open at stop.

    ``netns``: the network namespace the firewall driver works in (OVS ports are
    found through OVSDB wherever their devices are). Raises AgentConfigError for
    options that cannot work, e.g. a system datapath without the kernel module.
    """

    def __init__(self, conf, netns=None):
        from netweave.core.rpc import transport as rpc_transport
        _register_agent_opts(conf)
        rpc_transport.register_opts(conf)
        self.config = _agent_config(conf)
        self.host = conf.host or socket.gethostname()
        self.netns = netns
        ovsdb = EarlyOvsdb(self.config)
        try:
            self.agent, connection = _connect(conf, self.config, ovsdb, self.host, netns=netns,
                                              own_transport=False)
        except BaseException:
            ovsdb.discard()
            raise
        self.loop = connection.loop
        self.runner = connection.runner("openvswitch agent", close=self.agent.close)

    def start(self):
        LOG.info("Open vSwitch agent on %s running in this process: %s", self.host,
                 self.config.agent_configurations())
        self.runner.start_thread()
        return self

    def stop(self, timeout=30):
        self.runner.stop_thread(timeout)


def _standalone_loop(conf, agent_config, ovsdb, host):
    with open(conf.standalone_ports) as f:
        ports = json.load(f)
    extensions = service.load_extensions(conf)
    server = client_mod.InMemoryPluginClient({p["device"]: p for p in ports}, host=host)
    agent = agent_mod.OVSAgent(agent_config, client_mod.local_client(server, host), api=ovsdb.take(), host=host,
                               own_api=True)
    loop = client_mod.make_loop(agent, server, host, polling_interval=conf.agent.polling_interval,
                                resync_interval=conf.agent.resync_interval, extensions=extensions)
    service.initialize_extensions(extensions, loop, c.AGENT_DRIVER_TYPE, netns=conf.netns, bridges=agent.bridges(),
                                  ovsdb_connection=agent_config.ovsdb_connection)
    return agent, loop


def main(argv=None):
    prog = "netweave-openvswitch-agent"
    conf = service.parse_config(argv, _register, prog=prog, default_config_files=None)
    try:
        agent_config = _agent_config(conf)
    except AgentConfigError as exc:
        raise SystemExit("%s: %s" % (prog, exc)) from exc
    if not conf.standalone_ports:
        from netweave.core.rpc import transport as rpc_transport
        if not rpc_transport.url_configured(conf):
            raise SystemExit("%s: transport_url is not set: the agent needs the message broker the server "
                             "uses (or --standalone-ports FILE to run without one)" % prog)
    host = conf.host or socket.gethostname()
    ovsdb = EarlyOvsdb(agent_config)
    try:
        if conf.standalone_ports:
            agent, loop = _standalone_loop(conf, agent_config, ovsdb, host)
            starters, stoppers = [], []
        else:
            agent, connection = _connect(conf, agent_config, ovsdb, host, netns=conf.netns)
            loop, starters, stoppers = connection.loop, connection.starters, connection.stoppers
    except (AgentConfigError, ValueError) as exc:   # ValueError: an unknown agent extension
        ovsdb.discard()
        raise SystemExit("%s: %s" % (prog, exc)) from exc
    except BaseException:
        ovsdb.discard()
        raise
    runner = service.Runner.for_loop("openvswitch agent", loop, starters, stoppers, close=agent.close)
    if conf.once:
        def one_pass():
            ok = loop.run_once(full=True)
            LOG.info("One pass: %s", agent.last_result)
            return ok
        return runner.serve_once(one_pass)
    LOG.info("Open vSwitch agent on %s: %s", host, agent_config.agent_configurations())
    return runner.serve()


if __name__ == "__main__":
    sys.exit(main())
