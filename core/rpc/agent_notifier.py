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
from netweave.core.rpc import casts, topics

VERSION = casts.VERSION


class AgentNotifier:
    """Casts nothing until ``connect`` gives it a transport."""

    def __init__(self, transport=None):
        self._casts = casts.CastClient(topics.AGENT, VERSION, transport)

    @property
    def connected(self):
        return self._casts.connected

    def connect(self, transport):
        self._casts.connect(transport)

    def _cast(self, context, resource, event, method, host=None, **payload):
        # With a host: queue "<topic>.<host>" on RabbitMQ, only that host's agent gets it.
        self._casts.cast(context, method, topic=topics.notifier_topic(resource, event), server=host,
                         fanout=not host, **payload)

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
