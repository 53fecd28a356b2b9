"""netweave-lbaas-agent --config-file netweave.conf --config-file lbaas_agent.ini

Start-up: parse and check the options, load the interface driver, then run
agent.py's loop with

* rpc.LbaasPluginApi on ``transport_url`` (topic n-lbaasv2-plugin),
* a StateReporter sending heartbeats every [agent] report_interval seconds
  (agent type ``Loadbalancerv2 agent``),
* an RPC consumer on Target(topic="lbaasv2_agent", server=host) for the server's casts,
* a ProcessMonitor that respawns a haproxy that died.

Stopping the agent leaves every haproxy serving; the next start finds them by
their pid files and resyncs. ``--netns NAME`` makes the interface driver leave
the host side of VIP ports in that namespace.
"""
import logging
import sys

from netweave.service_plugins.lbaasv2.agent import config

LOG = logging.getLogger(__name__)


def build(conf, transport=None):
    """The agent and what must be started and stopped around it."""
    from netweave.core import context
    from netweave.core.agent import external_process, interface, state_reporter
    from netweave.core.agent import rpc as agent_rpc
    from netweave.core.rpc import servers
    from netweave.core.rpc import transport as rpc_transport
    from netweave.service_plugins.lbaasv2.agent import agent as agent_mod
    from netweave.service_plugins.lbaasv2.agent import driver as driver_mod
    from netweave.service_plugins.lbaasv2.agent import rpc as lbaas_rpc

    if not conf.interface_driver:
        raise ValueError("interface_driver is not set: it must name the L2 mechanism's (linuxbridge or "
                         "openvswitch)")
    interface_driver = interface.load_driver(conf.interface_driver, host_namespace=conf.netns,
                                             integration_bridge=conf.ovs_integration_bridge,
                                             use_veth=conf.ovs_use_veth)
    monitor = external_process.ProcessMonitor()
    driver = driver_mod.HaproxyNamespaceDriver(
        interface_driver, conf.state_path, conf.haproxy.loadbalancer_state_path,
        user_group=conf.haproxy.user_group, send_gratuitous_arp=conf.haproxy.send_gratuitous_arp,
        haproxy_binary=conf.haproxy.haproxy_binary, monitor=monitor)
    transport = transport or rpc_transport.get_transport(conf)
    admin = context.get_admin_context()
    agent = agent_mod.LbaasAgent(conf.host, lbaas_rpc.LbaasPluginApi(transport, conf.host), admin, driver,
                                 periodic_interval=conf.periodic_interval,
                                 resync_interval=conf.agent.resync_interval)
    consumers = servers.RpcServers(transport, {lbaas_rpc.AGENT_TOPIC: [lbaas_rpc.LbaasNotifications(agent)]},
                                   conf.host)
    reporter = state_reporter.StateReporter(agent_rpc.StateReportApi(transport), admin, agent.agent_state,
                                            conf.agent.report_interval, on_resync=agent.request_resync)
    starters = [consumers.start, reporter.start, monitor.start]
    stoppers = [monitor.stop, reporter.stop, consumers.stop, rpc_transport.cleanup]
    return agent, starters, stoppers


def _register(conf):
    config.register_opts(conf)
    conf.register_cli_opt(config.NETNS_OPT)


def main(argv=None):
    from netweave.core.agent import service
    conf = service.parse_config(argv, _register, prog="netweave-lbaas-agent")
    service.require_transport(conf, "the LBaaS agent needs the message broker the server uses",
                              prog="netweave-lbaas-agent")
    try:
        agent, starters, stoppers = build(conf)
    except ValueError as error:
        service.fail(str(error), prog="netweave-lbaas-agent")
    LOG.info("LBaaS agent on %s: %s", conf.host, agent.agent_state()["configurations"])
    return service.Runner("LBaaS agent", run=agent.run, stop=agent.stop, starters=starters,
                          stoppers=stoppers).serve()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
