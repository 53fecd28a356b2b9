"""netweave-rpc-server: serves what the agents send to the server.

Where RPC runs. The API and the agents' RPC are separate processes, as in
Neutron's split of neutron-api and neutron-rpc-server:

* netweave-server (gunicorn workers) serves HTTP and only *sends* to agents:
  fanout casts after each commit. Its workers consume nothing, so gunicorn
  may restart or time out a worker without dropping a message half handled,
  and API latency does not depend on how busy the agents keep the server.
* netweave-rpc-server consumes the topics agents send to: PLUGIN
  ("q-plugin": device details, device up/down, tunnel_sync) and REPORTS
  ("q-reports-plugin": heartbeats), each with its own thread pool
  (``executor_thread_pool_size``), so a burst of device calls cannot delay
  heartbeats into false "agent down" verdicts. Run it once per controller;
  more instances share the work (RabbitMQ gives each message to one of them).
  Everything lives in the database, so any instance can answer any agent.
* netweave-all-in-one runs the API and these RPC servers in one process, on
  the in-process transport unless a transport_url is configured.
"""
import logging
import signal
import sys
import threading

from netweave.core import memory
from netweave.core.cmd import common, server
from netweave.core.rpc import servers as rpc_servers
from netweave.core.rpc import transport as rpc_transport

LOG = logging.getLogger(__name__)


def start_servers(conf, core_plugin, service_plugins=()):
    """Start the RPC servers of these plugins on the configured transport; returns them."""
    transport = rpc_transport.get_transport(conf)
    plugins = [core_plugin] + list(service_plugins)
    servers = rpc_servers.RpcServers(transport, rpc_servers.collect_endpoints(plugins), conf.host)
    servers.start()
    return servers


def main(argv=None):
    conf = common.parse_config(sys.argv[1:] if argv is None else argv)
    rpc_transport.register_opts(conf)
    if not rpc_transport.url_configured(conf):
        common.fail("transport_url is not set: netweave-rpc-server needs the message broker the agents use")
    try:
        common.require_current_schema(conf)
        core_plugin, service_plugins = server.load_plugins(conf)
    except (common.SchemaOutOfDate, RuntimeError) as error:
        common.fail(str(error))
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stopping.set())
    servers = start_servers(conf, core_plugin, service_plugins)
    memory.prepare_for_serving()
    print("netweave-rpc-server serving %s as host %s" % (", ".join(servers.topics), conf.host), flush=True)
    while not stopping.wait(3600):
        pass
    LOG.info("Stopping the RPC servers")
    servers.stop()
    rpc_transport.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
