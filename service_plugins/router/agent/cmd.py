"""netweave-l3-agent --config-file netweave.conf --config-file l3_agent.ini

Start-up: parse and check the options, load the interface driver, then run
the reconciler of agent.py with

* rpc.L3PluginApi on ``transport_url`` (topic q-l3-plugin),
* a StateReporter sending heartbeats every [agent] report_interval seconds,
* an RPC consumer on Target(topic="l3_agent", server=host) for the server's casts,
* a ProcessMonitor that respawns a router's metadata proxy that died.

Stopping the agent leaves the router namespaces serving; the next start finds
and reconciles them. ``--netns NAME`` makes the interface driver leave the host
side of router ports (the taps the L2 agent wires) in that namespace.
"""
import logging
import signal
import sys

from oslo_config import cfg

from netweave.service_plugins.router.agent import config

LOG = logging.getLogger(__name__)

cli_opts = [
    cfg.StrOpt("netns",
               help="Leave the host side of router ports in this network namespace instead of the "
                    "agent's own; the process (and its broker connection) stays where it was started."),
]


def build(conf, transport=None, remove_stale_namespaces=True):
    """The agent and what must be started and stopped around it. ``transport``: an
    oslo.messaging transport to use instead of transport_url's; ``remove_stale_namespaces``:
    whether the first full sync removes qrouter- namespaces of routers not described."""
    from netweave.core import context
    from netweave.core.agent import external_process, state_reporter
    from netweave.core.agent import rpc as agent_rpc
    from netweave.core.agent.metadata import proxy as metadata_proxy
    from netweave.core.rpc import servers, topics
    from netweave.core.rpc import transport as rpc_transport
    from netweave.service_plugins.router.agent import agent as agent_mod
    from netweave.service_plugins.router.agent import applier as applier_mod
    from netweave.service_plugins.router.agent import interfaces
    from netweave.service_plugins.router.agent import rpc as l3_rpc

    config.check(conf)
    settings = config.dataplane_settings(conf)
    plugging = interfaces.RouterPlugging.from_config(conf.interface_driver, host_namespace=conf.netns,
                                                     integration_bridge=conf.ovs_integration_bridge,
                                                     use_veth=conf.ovs_use_veth)
    monitor = external_process.ProcessMonitor()
    proxy = None
    if conf.enable_metadata_proxy:
        proxy = metadata_proxy.NamespaceProxy(conf.state_path, conf.metadata_proxy_socket,
                                              user=conf.metadata_proxy_user, group=conf.metadata_proxy_group,
                                              monitor=monitor)
    applier = applier_mod.RouterApplier(plugging, settings, metadata_proxy=proxy)
    transport = transport or rpc_transport.get_transport(conf)
    admin = context.get_admin_context()
    agent = agent_mod.L3Agent(
        conf.host, l3_rpc.L3PluginApi(transport, conf.host), admin, applier,
        configurations={"agent_mode": conf.agent_mode, "interface_driver": conf.interface_driver,
                        "external_network_bridge": conf.external_network_bridge,
                        "gateway_external_network_id": ""},
        handle_internal_only_routers=conf.handle_internal_only_routers,
        resync_interval=conf.agent.resync_interval, error_resync_delay=conf.resync_interval,
        availability_zone=conf.agent.availability_zone, remove_stale_namespaces=remove_stale_namespaces)
    consumers = servers.RpcServers(transport, {topics.L3_AGENT: [l3_rpc.L3Notifications(agent)]}, conf.host)
    reporter = state_reporter.StateReporter(agent_rpc.StateReportApi(transport), admin, agent.agent_state,
                                            conf.agent.report_interval, on_resync=agent.request_resync)
    starters = [consumers.start, reporter.start, monitor.start]
    stoppers = [monitor.stop, reporter.stop, consumers.stop, applier.wait_for_helpers, rpc_transport.cleanup]
    return agent, starters, stoppers


def main(argv=None):
    from netweave.core.cmd import common
    from netweave.core.rpc import transport as rpc_transport
    conf = cfg.CONF
    config.register_opts(conf)
    rpc_transport.register_opts(conf)
    conf.register_cli_opts(cli_opts)
    common.parse_config(sys.argv[1:] if argv is None else argv, conf)
    if not rpc_transport.url_configured(conf):
        common.fail("transport_url is not set: the L3 agent needs the message broker the server uses")
    try:
        agent, starters, stoppers = build(conf)
    except ValueError as error:
        common.fail(str(error))
    try:
        for start in starters:
            start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda _signum, _frame: agent.stop())
        LOG.info("L3 agent on %s: %s", conf.host, agent.agent_state()["configurations"])
        agent.run()
        return 0
    finally:
        for stop in stoppers:
            try:
                stop()
            except Exception:  # noqa: BLE001 - stop the rest anyway
                LOG.exception("Error while stopping")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
