"""The server's RPC listeners: one oslo.messaging server per topic.

Plugins offer endpoints through ``rpc_endpoints()`` -> {topic: [endpoint]};
every topic gets one RPC server with a thread pool (``executor_thread_pool_size``)
named after this host. Several processes (or hosts) may listen on the same
topics: RabbitMQ hands each message to one of them.
"""
import logging
import threading
import time

import oslo_messaging

from netweave.core.rpc import serializer

LOG = logging.getLogger(__name__)

# Seconds a stopping process waits for its RPC servers: enough for the messages
# being handled (agents only note what to do), far less than a RabbitMQ poll.
STOP_GRACE = 1.5


def collect_endpoints(plugins):
    """Merge the {topic: [endpoint]} maps of the plugins' ``rpc_endpoints()``."""
    merged = {}
    for plugin in plugins:
        for topic, endpoints in plugin.rpc_endpoints().items():
            merged.setdefault(topic, []).extend(endpoints)
    return merged


class RpcServers:
    def __init__(self, transport, endpoints_by_topic, host):
        self._servers = []
        for topic, endpoints in sorted(endpoints_by_topic.items()):
            target = oslo_messaging.Target(topic=topic, server=host)
            # oslo.messaging picks its threading executor in a process eventlet has not
            # patched (naming it is deprecated).
            self._servers.append(oslo_messaging.get_rpc_server(
                transport, target, endpoints, serializer=serializer.ContextSerializer()))
        self.topics = sorted(endpoints_by_topic)

    def start(self):
        for server in self._servers:
            server.start()
        LOG.info("RPC servers listening on %s", ", ".join(self.topics))

    def stop(self, grace=STOP_GRACE):
        """Stop taking messages and wait for the ones being handled: see stop_together."""
        stop_together(self, grace=grace)


def stop_together(*groups, grace=STOP_GRACE):
    """Stop the servers of several RpcServers side by side, waiting ``grace`` seconds at most.

    A listener notices the stop only when its current poll ends, which with
    RabbitMQ takes up to 5 s. A server still stopping after ``grace`` (None: no
    limit) is left to the process's exit: its threads are daemons, and the broker
    requeues what was not acknowledged.
    """
    deadline = None if grace is None else time.monotonic() + grace
    stoppers = [threading.Thread(target=_stop_and_wait, args=(server,), name="rpc-server-stop", daemon=True)
                for group in groups for server in group._servers]
    for thread in stoppers:
        thread.start()
    for thread in stoppers:
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    lagging = sum(thread.is_alive() for thread in stoppers)
    if lagging:
        LOG.info("%d of %d RPC servers were still stopping after %.1f s; not waiting longer",
                 lagging, len(stoppers), grace)


def _stop_and_wait(server):
    try:
        server.stop()
        server.wait()
    except Exception:  # noqa: BLE001 - stopping the others matters more
        LOG.exception("Failed to stop an RPC server")
