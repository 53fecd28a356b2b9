"""The server's casts to the agents, sent after the change is committed.

Each goes as a fanout cast on ``q-agent-notifier-<resource>-<event>``, the
topics and payloads of Neutron's agent notifier, so every agent listening on
that topic receives it:

  port_update(port, network_type, segmentation_id, physical_network)
  port_delete(port_id)
  network_update(network)
  network_delete(network_id)
  tunnel_update(tunnel_ip, tunnel_type)
  tunnel_delete(tunnel_ip, tunnel_type)

Sending is best effort: an API change is never failed or slowed down for long
because the broker is away. Agents resynchronise periodically and after a
reconnection, which repairs a lost notification.
"""
import logging

from netweave.core.rpc import topics

LOG = logging.getLogger(__name__)

VERSION = "1.0"
# Connection attempts per cast before giving up on it (oslo.messaging's retry).
SEND_RETRIES = 2


class AgentNotifier:
    """Casts nothing until ``connect`` gives it a transport."""

    def __init__(self, transport=None):
        self._client = None
        if transport is not None:
            self.connect(transport)

    @property
    def connected(self):
        return self._client is not None

    def connect(self, transport):
        # Here, not at import: a server without transport_url never loads oslo.messaging.
        import oslo_messaging

        from netweave.core.rpc import serializer

        self._client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topics.AGENT, version=VERSION),
            serializer=serializer.ContextSerializer())

    def _cast(self, context, resource, event, method, host=None, **payload):
        if self._client is None:
            return
        topic = topics.notifier_topic(resource, event)
        try:
            if host:
                # Queue "<topic>.<host>" on RabbitMQ: only that host's agent gets it.
                cctxt = self._client.prepare(topic=topic, server=host, retry=SEND_RETRIES)
            else:
                cctxt = self._client.prepare(topic=topic, fanout=True, retry=SEND_RETRIES)
            cctxt.cast(context, method, **payload)
        except Exception:  # noqa: BLE001 - the change is committed; agents resync later
            LOG.exception("Could not send %s to the agents on %s", method, topic)

    def port_update(self, context, port, network_type, segmentation_id, physical_network):
        self._cast(context, topics.PORT, topics.UPDATE, "port_update", port=port, network_type=network_type,
                   segmentation_id=segmentation_id, physical_network=physical_network)

    def port_delete(self, context, port_id):
        self._cast(context, topics.PORT, topics.DELETE, "port_delete", port_id=port_id)

    def network_update(self, context, network):
        self._cast(context, topics.NETWORK, topics.UPDATE, "network_update", network=network)

    def network_delete(self, context, network_id):
        self._cast(context, topics.NETWORK, topics.DELETE, "network_delete", network_id=network_id)

    def tunnel_update(self, context, tunnel_ip, tunnel_type):
        self._cast(context, topics.TUNNEL, topics.UPDATE, "tunnel_update", tunnel_ip=tunnel_ip,
                   tunnel_type=tunnel_type)

    def tunnel_delete(self, context, tunnel_ip, tunnel_type):
        self._cast(context, topics.TUNNEL, topics.DELETE, "tunnel_delete", tunnel_ip=tunnel_ip,
                   tunnel_type=tunnel_type)
