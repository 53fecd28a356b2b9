"""netweave-openvswitch-agent: the Open vSwitch L2 agent's console script.

    netweave-openvswitch-agent --config-file netweave.conf --config-file openvswitch_agent.ini

The agent talks to the server through a ``client.PluginClient``: over RPC
(``[DEFAULT] transport_url``; rpc.py adapts netweave.core.agent.rpc, listens to
the server's casts and sends heartbeats every [agent] report_interval), or,
with ``--standalone-ports FILE``, from a JSON list of device details (one dict
per port, as get_devices_details_list returns them). ``--once`` makes a single
full pass and exits.
"""
import json
import logging
import signal
import socket
import sys

from oslo_config import cfg
from oslo_log import log as oslo_log

from netweave.core.config import agent as common_agent_config
from netweave.core.config import common as _common_opts  # noqa: F401 - registers [DEFAULT] host
from netweave.mechanism_drivers.openvswitch import agent as agent_mod
from netweave.mechanism_drivers.openvswitch import client as client_mod
from netweave.mechanism_drivers.openvswitch import config as ovs_config
from netweave.mechanism_drivers.openvswitch import rpc as ovs_rpc

LOG = logging.getLogger(__name__)

cli_opts = [
    cfg.StrOpt("standalone-ports", dest="standalone_ports",
               help="Run without a server: JSON file with the device details of the ports."),
    cfg.BoolOpt("once", default=False, help="Make one pass over the switch and exit."),
]

def _register(conf):
    ovs_config.register_opts(conf)
    common_agent_config.register(conf)  # [agent] report_interval, polling_interval, resync_interval
    conf.register_cli_opts(cli_opts)
    oslo_log.register_options(conf)


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
        agent_config = ovs_config.AgentConfig.from_conf(conf)
    except ValueError as exc:
        raise SystemExit("netweave-openvswitch-agent: %s" % exc) from exc
    if not conf.standalone_ports and not rpc_transport.url_configured(conf):
        raise SystemExit("netweave-openvswitch-agent: transport_url is not set: the agent needs the "
                         "message broker the server uses (or --standalone-ports FILE to run without one)")
    host = conf.host or socket.gethostname()

    def make_agent(client):
        return agent_mod.OVSAgent(agent_config, client, host=host)

    stoppers = []
    if conf.standalone_ports:
        agent = make_agent(_standalone_client(conf, host))
    else:
        agent, stoppers = ovs_rpc.start(conf, host, make_agent)
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
