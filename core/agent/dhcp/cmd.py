"""netweave-dhcp-agent --config-file netweave.conf --config-file dhcp_agent.ini

Start-up: parse and check the options, load the interface driver, then run
the reconciler of core.agent.dhcp.agent with

* core.agent.dhcp.rpc.DhcpPluginApi on ``transport_url``,
* a StateReporter sending heartbeats every [agent] report_interval seconds,
* an RPC consumer on Target(topic="dhcp_agent", server=host) for the
  server's casts,
* a ProcessMonitor that respawns a dnsmasq (or metadata proxy) that died.

Stopping the agent leaves dnsmasq serving; the next start finds it by its
pid file. ``--netns NAME`` makes the interface driver leave the host side of
DHCP ports (the taps the L2 agent wires) in that namespace, while the agent
itself talks to the broker from where it was started.
"""
import logging
import sys

from oslo_config import cfg

from netweave.core.agent.dhcp import config

LOG = logging.getLogger(__name__)

cli_opts = [
    cfg.StrOpt("netns",
               help="Leave the host side of DHCP ports in this network namespace instead of the "
                    "agent's own; the process (and its broker connection) stays where it was started."),
]


def build(conf):
    """The agent and what must be started and stopped around it."""
    from netweave.core import context
    from netweave.core.agent import external_process, interface, state_reporter
    from netweave.core.agent import rpc as agent_rpc
    from netweave.core.agent.dhcp import agent as agent_mod
    from netweave.core.agent.dhcp import driver as driver_mod
    from netweave.core.agent.dhcp import rpc as dhcp_rpc
    from netweave.core.rpc import servers, topics
    from netweave.core.rpc import transport as rpc_transport

    settings = config.DhcpSettings.from_conf(conf)
    interface_driver = interface.load_driver(conf.interface_driver, host_namespace=conf.netns,
                                             integration_bridge=conf.ovs_integration_bridge,
                                             use_veth=conf.ovs_use_veth)
    monitor = external_process.ProcessMonitor()
    driver = driver_mod.DnsmasqDriver(settings, interface_driver, monitor=monitor,
                                      metadata_proxy_socket=conf.metadata_proxy_socket,
                                      proxy_user=conf.metadata_proxy_user, proxy_group=conf.metadata_proxy_group)
    transport = rpc_transport.get_transport(conf)
    admin = context.get_admin_context()
    agent = agent_mod.DhcpAgent(settings, conf.host, dhcp_rpc.DhcpPluginApi(transport), admin, driver,
                                num_sync_threads=conf.num_sync_threads,
                                resync_interval=conf.agent.resync_interval,
                                error_resync_delay=conf.resync_interval,
                                availability_zone=conf.agent.availability_zone)
    consumers = servers.RpcServers(transport, {topics.DHCP_AGENT: [agent_mod.DhcpNotifications(agent)]},
                                   conf.host)
    reporter = state_reporter.StateReporter(agent_rpc.StateReportApi(transport), admin, agent.agent_state,
                                            conf.agent.report_interval, on_resync=agent.request_resync)
    starters = [consumers.start, reporter.start, monitor.start]
    stoppers = [monitor.stop, reporter.stop, consumers.stop, rpc_transport.cleanup]
    return agent, starters, stoppers


def _register(conf):
    config.register_opts(conf)
    conf.register_cli_opts(cli_opts)


def main(argv=None):
    from netweave.core.agent import service
    conf = service.parse_config(argv, _register)
    service.require_transport(conf, "the DHCP agent needs the message broker the server uses")
    try:
        agent, starters, stoppers = build(conf)
    except ValueError as error:
        service.fail(str(error))
    LOG.info("DHCP agent on %s: %s", conf.host, agent.agent_state()["configurations"])
    return service.Runner("DHCP agent", run=agent.run, stop=agent.stop, starters=starters,
                          stoppers=stoppers).serve()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
