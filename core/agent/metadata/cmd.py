"""netweave-metadata-agent --config-file netweave.conf --config-file metadata_agent.ini

Needs ``transport_url`` (the broker the server's RPC listens on) to find
ports, and a metadata backend to forward to. Runs until SIGTERM or SIGINT.
"""
import logging
import signal
import sys
import threading

from oslo_config import cfg

from netweave.core.agent.metadata import config as metadata_config

LOG = logging.getLogger(__name__)


def main(argv=None):
    from netweave.core import context
    from netweave.core.agent import rpc as agent_rpc
    from netweave.core.agent.metadata import agent as agent_mod
    from netweave.core.agent.metadata import rpc as metadata_rpc
    from netweave.core.cmd import common
    from netweave.core.rpc import transport as rpc_transport

    conf = cfg.CONF
    metadata_config.register_agent_opts(conf)
    rpc_transport.register_opts(conf)
    common.parse_config(sys.argv[1:] if argv is None else argv, conf)
    if not rpc_transport.url_configured(conf):
        common.fail("transport_url is not set: the metadata agent asks the server for ports over the "
                    "message broker")
    transport = rpc_transport.get_transport(conf)
    admin = context.get_admin_context()
    agent = agent_mod.MetadataAgent(conf, metadata_rpc.MetadataPluginApi(transport), admin,
                                    state_api=agent_rpc.StateReportApi(transport))
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stopping.set())
    try:
        agent.start()
    except OSError as error:
        common.fail("cannot listen on %s: %s" % (conf.metadata_proxy_socket, error))
    print("netweave-metadata-agent serving %s" % conf.metadata_proxy_socket, flush=True)
    try:
        while not stopping.wait(3600):
            pass
    finally:
        LOG.info("Stopping the metadata agent")
        agent.stop()
        rpc_transport.cleanup()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
