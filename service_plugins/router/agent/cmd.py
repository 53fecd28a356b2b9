"""netweave-l3-agent --config-file netweave.conf --config-file l3_agent.ini

Start-up: parse and check the options, load the interface driver, then run
the reconciler of agent.py with

* rpc.L3PluginApi on ``transport_url`` (topic q-l3-plugin),
* a StateReporter sending heartbeats every [agent] report_interval seconds,
* an RPC consumer on Target(topic="l3_agent", server=host) for the server's casts,
* a ProcessMonitor that respawns a router's metadata proxy or radvd that died.

Stopping the agent leaves the router namespaces serving; the next start finds
and reconciles them. ``--netns NAME`` makes the interface driver leave the host
side of router ports (the taps the L2 agent wires) in that namespace.
"""
import logging
import sys

from oslo_config import cfg

from netweave.service_plugins.router.agent import config

LOG = logging.getLogger(__name__)

cli_opts = [
    cfg.StrOpt("netns",
               help="Leave the host side of router ports in this network namespace instead of the "
                    "agent's own; the process (and its broker connection) stays where it was started."),
]


def register_opts(conf):
    config.register_opts(conf)
    conf.register_cli_opts(cli_opts)


def build(conf, transport=None, remove_stale_namespaces=True, netns=None):
    """The agent and what must be started and stopped around it. ``transport``: an
    oslo.messaging transport to use instead of transport_url's (its owner cleans it up);
    ``remove_stale_namespaces``: whether the first full sync removes qrouter- namespaces
    of routers not described; ``netns``: the namespace standing for the host (--netns)."""
    from netweave.core import context
    from netweave.core.agent import external_process, state_reporter
    from netweave.core.agent import rpc as agent_rpc
    from netweave.core.agent.metadata import proxy as metadata_proxy
    from netweave.core.rpc import servers, topics
    from netweave.core.rpc import transport as rpc_transport
    from netweave.service_plugins.router.agent import agent as agent_mod
    from netweave.service_plugins.router.agent import applier as applier_mod
    from netweave.service_plugins.router.agent import interfaces, radvd_process
    from netweave.service_plugins.router.agent import rpc as l3_rpc

    config.check(conf)
    settings = config.dataplane_settings(conf)
    plugging = interfaces.RouterPlugging.from_config(conf.interface_driver, host_namespace=netns,
                                                     integration_bridge=conf.ovs_integration_bridge,
                                                     use_veth=conf.ovs_use_veth)
    monitor = external_process.ProcessMonitor()
    proxy = None
    if conf.enable_metadata_proxy:
        proxy = metadata_proxy.NamespaceProxy(conf.state_path, conf.metadata_proxy_socket,
                                              user=conf.metadata_proxy_user, group=conf.metadata_proxy_group,
                                              monitor=monitor)
    applier = applier_mod.RouterApplier(plugging, settings, metadata_proxy=proxy,
                                        radvd_processes=radvd_process.RadvdProcesses(conf.state_path, monitor))
    own_transport = transport is None
    transport = transport or rpc_transport.get_transport(conf)
    admin = context.get_admin_context()
    agent = agent_mod.L3Agent(
        conf.host, l3_rpc.L3PluginApi(transport, conf.host), admin, applier,
        configurations={"agent_mode": conf.agent_mode, "interface_driver": conf.interface_driver,
                        "external_network_bridge": conf.external_network_bridge,
                        "gateway_external_network_id": ""},
        handle_internal_only_routers=conf.handle_internal_only_routers,
        resync_interval=conf.agent.resync_interval, error_resync_delay=conf.resync_interval,
        availability_zone=conf.agent.availability_zone, remove_stale_namespaces=remove_stale_namespaces,
        report_in_background=True)
    consumers = servers.RpcServers(transport, {topics.L3_AGENT: [l3_rpc.L3Notifications(agent)]}, conf.host)
    reporter = state_reporter.StateReporter(agent_rpc.StateReportApi(transport), admin, agent.agent_state,
                                            conf.agent.report_interval, on_resync=agent.request_resync)
    starters = [consumers.start, reporter.start, monitor.start]
    stoppers = [monitor.stop, reporter.stop, consumers.stop, applier.wait_for_helpers, agent.wait_reported]
    if own_transport:
        stoppers.append(rpc_transport.cleanup)
    return agent, starters, stoppers


def runner(conf, transport=None, remove_stale_namespaces=True, netns=None):
    """The core.agent.service.Runner of the L3 agent (ValueError when the options cannot work)."""
    from netweave.core.agent import service
    agent, starters, stoppers = build(conf, transport, remove_stale_namespaces, netns)
    return service.Runner("L3 agent", run=agent.run, stop=agent.stop, starters=starters, stoppers=stoppers)


class InProcessAgent:
    """The L3 agent in a thread of another process (netweave-all-in-one), on that process's
    transport. ``interface_driver`` is used when l3_agent.ini options set none (it must
    match the L2 agent of the process); ``netns`` as --netns. ValueError for bad options."""

    def __init__(self, conf, interface_driver, netns=None):
        from netweave.core.rpc import transport as rpc_transport
        config.register_opts(conf)
        if not conf.interface_driver:
            conf.set_override("interface_driver", interface_driver)
        self.host = conf.host
        self.runner = runner(conf, transport=rpc_transport.get_transport(conf), netns=netns)

    def start(self):
        LOG.info("L3 agent on %s running in this process", self.host)
        self.runner.start_thread()
        return self

    def stop(self, timeout=30):
        self.runner.stop_thread(timeout)


def main(argv=None):
    from netweave.core.agent import service
    conf = service.parse_config(argv, register_opts, prog="netweave-l3-agent")
    service.require_transport(conf, "the L3 agent needs the message broker the server uses", "netweave-l3-agent")
    try:
        agent_runner = runner(conf, netns=conf.netns)
    except ValueError as error:
        service.fail(str(error), "netweave-l3-agent")
    LOG.info("L3 agent on %s (interface driver %s)", conf.host, conf.interface_driver)
    return agent_runner.serve()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
