"""netweave-openvswitch-agent: the Open vSwitch L2 agent's console script.

    netweave-openvswitch-agent --config-file netweave.conf --config-file openvswitch_agent.ini

The agent talks to the server through a ``client.PluginClient``: over RPC
(``[DEFAULT] transport_url``; rpc.py adapts netweave.core.agent.rpc, listens to
the server's casts and sends heartbeats every [agent] report_interval), or,
with ``--standalone-ports FILE``, from a JSON list of device details (one dict
per port, as get_devices_details_list returns them). ``--once`` makes a single
full pass and exits. ``--netns NAME`` puts the firewall's work (iptables_hybrid)
in that network namespace.

``InProcessAgent`` runs the same agent in a thread of netweave-all-in-one, on
that process's transport (fake:// keeps its messages inside the process).
"""
import json
import logging
import os
import signal
import socket
import sys
import threading

# The ovs library imports eventlet (ovs.poller) although the agent never runs on it;
# without eventlet's green DNS resolver that import skips dnspython and takes a
# fraction of the time, which a restarting agent feels. Set before the imports below.
os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")

from oslo_config import cfg
from oslo_log import log as oslo_log

from netweave.core.config import agent as common_agent_config
from netweave.core.config import common as _common_opts  # noqa: F401 - registers [DEFAULT] host
from netweave.mechanism_drivers.openvswitch import agent as agent_mod
from netweave.mechanism_drivers.openvswitch import client as client_mod
from netweave.mechanism_drivers.openvswitch import config as ovs_config
from netweave.mechanism_drivers.openvswitch import datapath, ovsdb_state
from netweave.mechanism_drivers.openvswitch import rpc as ovs_rpc

LOG = logging.getLogger(__name__)

cli_opts = [
    cfg.StrOpt("standalone-ports", dest="standalone_ports",
               help="Run without a server: JSON file with the device details of the ports."),
    cfg.BoolOpt("once", default=False, help="Make one pass over the switch and exit."),
    cfg.StrOpt("netns",
               help="Network namespace of the hybrid bridges (qbr, qvb) whose iptables the firewall "
                    "driver programs; the switch's own bridges are wherever ovs-vswitchd is."),
]

def _register(conf):
    ovs_config.register_opts(conf)
    common_agent_config.register(conf)  # [agent] report_interval, polling_interval, resync_interval
    conf.register_cli_opts(cli_opts)
    oslo_log.register_options(conf)


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


class InProcessAgent:
    """The agent in a thread of another process (netweave-all-in-one), over that
    process's transport, which it leaves open at stop.

    ``netns``: the network namespace the firewall driver works in (OVS ports are
    found through OVSDB wherever their devices are). Raises AgentConfigError for
    options that cannot work, e.g. a system datapath without the kernel module.
    """

    def __init__(self, conf, netns=None):
        from netweave.core.rpc import transport as rpc_transport
        ovs_config.register_opts(conf)
        common_agent_config.register(conf)
        rpc_transport.register_opts(conf)
        self.config = _agent_config(conf)
        self.host = conf.host or socket.gethostname()
        self.netns = netns
        self.polling_interval = conf.agent.polling_interval
        self.resync_interval = conf.agent.resync_interval
        ovsdb = EarlyOvsdb(self.config)
        made = []

        def make_agent(client):
            try:
                api = ovsdb.take()
            except Exception as exc:  # noqa: BLE001 - ovsdbapp raises plain exceptions
                raise AgentConfigError("cannot use Open vSwitch at [ovs] ovsdb_connection = %s: %s"
                                       % (self.config.ovsdb_connection, exc)) from None
            made.append(agent_mod.OVSAgent(self.config, client, api=api, host=self.host, own_api=True))
            return made[-1]

        try:
            self.agent, self._stoppers = ovs_rpc.start(conf, self.host, make_agent, netns=netns,
                                                       own_transport=False)
        except BaseException:
            for agent in made:
                agent.close()
            ovsdb.discard()
            raise
        self._thread = threading.Thread(target=self._run, name="openvswitch-agent", daemon=True)

    def _run(self):
        self.agent.run(polling_interval=self.polling_interval, resync_interval=self.resync_interval)

    def start(self):
        LOG.info("Open vSwitch agent on %s running in this process: %s", self.host,
                 self.config.agent_configurations())
        self._thread.start()
        return self

    def stop(self, timeout=30):
        self.agent.stop()
        self._thread.join(timeout)
        for stop in self._stoppers:
            try:
                stop()
            except Exception:  # noqa: BLE001 - stop the rest anyway
                LOG.exception("Error while stopping the Open vSwitch agent")
        self.agent.close()


def _standalone_client(conf, host):
    with open(conf.standalone_ports) as f:
        ports = json.load(f)
    return client_mod.InMemoryPluginClient({p["device"]: p for p in ports}, host=host)


def main(argv=None):
    from netweave.core.rpc import transport as rpc_transport
    conf = cfg.CONF
    _register(conf)
    rpc_transport.register_opts(conf)
    conf(sys.argv[1:] if argv is None else argv, project="netweave",
         prog="netweave-openvswitch-agent")
    oslo_log.setup(conf, "netweave")
    try:
        agent_config = _agent_config(conf)
    except AgentConfigError as exc:
        raise SystemExit("netweave-openvswitch-agent: %s" % exc) from exc
    if not conf.standalone_ports and not rpc_transport.url_configured(conf):
        raise SystemExit("netweave-openvswitch-agent: transport_url is not set: the agent needs the "
                         "message broker the server uses (or --standalone-ports FILE to run without one)")
    host = conf.host or socket.gethostname()

    ovsdb = EarlyOvsdb(agent_config)

    def make_agent(client):
        return agent_mod.OVSAgent(agent_config, client, api=ovsdb.take(), host=host, own_api=True)

    stoppers = []
    try:
        if conf.standalone_ports:
            agent = make_agent(_standalone_client(conf, host))
        else:
            agent, stoppers = ovs_rpc.start(conf, host, make_agent, netns=conf.netns)
    except BaseException:
        ovsdb.discard()
        raise
    try:
        if conf.once:
            result = agent.sync(full=True)
            LOG.info("One pass: %s", result)
            return 0
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: agent.stop())
        LOG.info("Open vSwitch agent on %s: %s", host, agent_config.agent_configurations())
        agent.run(polling_interval=conf.agent.polling_interval, resync_interval=conf.agent.resync_interval)
        return 0
    finally:
        for stop in stoppers:
            try:
                stop()
            except Exception:  # noqa: BLE001 - stop the rest anyway
                LOG.exception("Error while stopping")
        agent.close()

if __name__ == "__main__":
    sys.exit(main())
