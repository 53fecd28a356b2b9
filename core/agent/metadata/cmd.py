"""netweave-metadata-agent --config-file netweave.conf --config-file metadata_agent.ini

Needs ``transport_url`` (the broker the server's RPC listens on) to find
ports, and a metadata backend to forward to. Runs until SIGTERM or SIGINT.
"""
import logging
import sys
import threading

from netweave.core.agent.metadata import config as metadata_config

LOG = logging.getLogger(__name__)


def main(argv=None):
    from netweave.core import context
    from netweave.core.agent import rpc as agent_rpc
    from netweave.core.agent import service
    from netweave.core.agent.metadata import agent as agent_mod
    from netweave.core.agent.metadata import rpc as metadata_rpc
    from netweave.core.rpc import transport as rpc_transport

    conf = service.parse_config(argv, metadata_config.register_agent_opts)
    service.require_transport(conf, "the metadata agent asks the server for ports over the message broker")
    transport = rpc_transport.get_transport(conf)
    admin = context.get_admin_context()
    agent = agent_mod.MetadataAgent(conf, metadata_rpc.MetadataPluginApi(transport), admin,
                                    state_api=agent_rpc.StateReportApi(transport))
    stopping = threading.Event()

    def serve():
        while not stopping.wait(3600):
            pass
        LOG.info("Stopping the metadata agent")

    runner = service.Runner("metadata agent", run=serve, stop=stopping.set,
                            stoppers=[agent.stop, rpc_transport.cleanup])
    try:
        agent.start()
    except OSError as error:
        service.fail("cannot listen on %s: %s" % (conf.metadata_proxy_socket, error))
    print("netweave-metadata-agent serving %s" % conf.metadata_proxy_socket, flush=True)
    return runner.serve()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
