"""netweave-metering-agent --config-file netweave.conf --config-file metering_agent.ini

Runs next to the L3 agent of a host (the same ``host``): the reconciler of
agent.py with rpc.MeteringPluginApi on ``transport_url``, a StateReporter
("Metering agent" heartbeats every [agent] report_interval seconds) and an RPC
consumer of the server's fanout casts on topic ``metering_agent``. Stopping it
leaves the chains in place (they keep counting); the next start reconciles them.
"""
import logging
import sys

from netweave.service_plugins.metering.agent import config

LOG = logging.getLogger(__name__)


def runner(conf):
    from netweave.core import context
    from netweave.core.agent import rpc as agent_rpc
    from netweave.core.agent import service, state_reporter
    from netweave.core.rpc import servers
    from netweave.core.rpc import transport as rpc_transport
    from netweave.service_plugins.metering import constants as const
    from netweave.service_plugins.metering.agent import agent as agent_mod
    from netweave.service_plugins.metering.agent import rpc as metering_rpc

    transport = rpc_transport.get_transport(conf)
    admin = context.get_admin_context()
    agent = agent_mod.MeteringAgent(conf.host, metering_rpc.MeteringPluginApi(transport, conf.host), admin,
                                    measure_interval=conf.measure_interval)
    consumers = servers.RpcServers(transport, {const.METERING_AGENT_TOPIC: [metering_rpc.MeteringNotifications(agent)]},
                                   conf.host)
    reporter = state_reporter.StateReporter(agent_rpc.StateReportApi(transport), admin, agent.agent_state,
                                            conf.agent.report_interval, on_resync=agent.request_sync)
    return service.Runner("metering agent", run=agent.run, stop=agent.stop,
                          starters=[consumers.start, reporter.start],
                          stoppers=[reporter.stop, consumers.stop, rpc_transport.cleanup])


def main(argv=None):
    from netweave.core.agent import service
    conf = service.parse_config(argv, config.register_opts, prog="netweave-metering-agent")
    service.require_transport(conf, "the metering agent needs the message broker the server uses",
                              "netweave-metering-agent")
    LOG.info("Metering agent on %s (every %d s)", conf.host, conf.measure_interval)
    return runner(conf).serve()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
