"""Receiving the server's notifications on an agent.

An agent subscribes to (resource, event) pairs, e.g. (topics.PORT,
topics.UPDATE); each becomes an RPC server on ``q-agent-notifier-port-update``
named after the agent's host. It receives

* the server's fanout casts on that topic (every agent gets a copy), and
* casts addressed to this host alone (queue ``<topic>.<host>`` on RabbitMQ).

The agent's ``endpoints`` are plain objects whose methods carry the cast's
name and take ``(context, **payload)``; see core/rpc/agent_notifier.py for
the payloads:

    class Notifications:
        def port_update(self, context, port=None, network_type=None,
                        segmentation_id=None, physical_network=None, **kwargs): ...
        def network_delete(self, context, network_id=None, **kwargs): ...

Methods run in the RPC servers' threads: they should only queue work for the
agent's loop (loop.mark_dirty, loop.request_resync) and return. Each topic
has its own consumer, so casts on different topics (a port_delete and the
network_delete after it) may arrive in either order.
A fanout queue lives as long as the agent's connection: what the server sends
while the broker connection is down is lost, which the state reporter notices
and answers with a full resync.
"""
from netweave.core.rpc import servers, topics

# What an L2 agent usually listens to.
L2_AGENT_SUBSCRIPTIONS = (
    (topics.PORT, topics.UPDATE),
    (topics.PORT, topics.DELETE),
    (topics.NETWORK, topics.UPDATE),
    (topics.NETWORK, topics.DELETE),
)


def create_consumers(transport, host, endpoints, subscriptions=L2_AGENT_SUBSCRIPTIONS, extra_topics=()):
    """RPC servers for ``subscriptions`` plus any plain ``extra_topics`` (like "dhcp_agent");
    call ``start()`` on the result to begin receiving, ``stop()`` to end."""
    endpoints = list(endpoints)
    wanted = [topics.notifier_topic(resource, event) for resource, event in subscriptions] + list(extra_topics)
    return servers.RpcServers(transport, {topic: endpoints for topic in wanted}, host)
