"""What the server tells the agents about security groups, after the change is committed.

Fanout casts on "q-agent-notifier-security_group-update":
  security_groups_rule_updated(security_groups=[sg_id, ...])     the rules of these groups changed
  security_groups_member_updated(security_groups=[sg_id, ...])   their members or members' addresses did
"""
import logging

from netweave.core.rpc import topics

LOG = logging.getLogger(__name__)

# Casts are best effort, as the core notifier's: agents resynchronise on their own.
SEND_RETRIES = 2


class SecurityGroupAgentNotifier:
    """Sends nothing until ``connect`` gives it a transport."""

    def __init__(self):
        self._client = None

    @property
    def connected(self):
        return self._client is not None

    def connect(self, transport):
        # Here, not at import: a server without transport_url never loads oslo.messaging.
        import oslo_messaging

        from netweave.core.rpc import serializer

        self._client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topics.AGENT, version="1.0"),
            serializer=serializer.ContextSerializer())

    def _cast(self, context, method, group_ids):
        if self._client is None or not group_ids:
            return
        topic = topics.notifier_topic(topics.SECURITY_GROUP, topics.UPDATE)
        try:
            cctxt = self._client.prepare(topic=topic, fanout=True, retry=SEND_RETRIES)
            cctxt.cast(context, method, security_groups=sorted(set(group_ids)))
        except Exception:  # noqa: BLE001 - the change is committed; agents resync later
            LOG.exception("Could not send %s to the agents on %s", method, topic)

    def security_groups_rule_updated(self, context, group_ids):
        self._cast(context, "security_groups_rule_updated", group_ids)

    def security_groups_member_updated(self, context, group_ids):
        self._cast(context, "security_groups_member_updated", group_ids)
