"""The server's RPC listeners: one oslo.messaging server per topic.

Plugins offer endpoints through ``rpc_endpoints()`` -> {topic: [endpoint]};
every topic gets one RPC server with a thread pool (``executor_thread_pool_size``)
named after this host. Several processes (or hosts) may listen on the same
topics: RabbitMQ hands each message to one of them.
"""
import logging
import threading

import oslo_messaging

from netweave.core.rpc import serializer

LOG = logging.getLogger(__name__)


def collect_endpoints(plugins):
    """Merge the {topic: [endpoint]} maps of every plugin that has RPC endpoints."""
    merged = {}
    for plugin in plugins:
        offer = getattr(plugin, "rpc_endpoints", None)
        if offer is None:
            continue
        for topic, endpoints in offer().items():
            merged.setdefault(topic, []).extend(endpoints)
    return merged


class RpcServers:
    def __init__(self, transport, endpoints_by_topic, host):
        self._servers = []
        for topic, endpoints in sorted(endpoints_by_topic.items()):
            target = oslo_messaging.Target(topic=topic, server=host)
            self._servers.append(oslo_messaging.get_rpc_server(
                transport, target, endpoints, executor="threading",
                serializer=serializer.ContextSerializer()))
        self.topics = sorted(endpoints_by_topic)

    def start(self):
        for server in self._servers:
            server.start()
        LOG.info("RPC servers listening on %s", ", ".join(self.topics))

    def stop(self):
        """Stop taking messages and wait for the ones being handled.

        The servers stop side by side: each takes seconds (its listener and
        thread pool notice the stop only at their next poll timeout).
        """
        stoppers = [threading.Thread(target=_stop_and_wait, args=(server,), name="rpc-server-stop")
                    for server in self._servers]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()


def _stop_and_wait(server):
    try:
        server.stop()
        server.wait()
    except Exception:  # noqa: BLE001 - stopping the others matters more
        LOG.exception("Failed to stop an RPC server")
