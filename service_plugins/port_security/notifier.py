"""What the server tells the agents about security groups, after the change is committed.

Fanout casts on "q-agent-notifier-security_group-update":
  security_groups_rule_updated(security_groups=[sg_id, ...])     the rules of these groups changed
  security_groups_member_updated(security_groups=[sg_id, ...])   their members or members' addresses did
"""
from netweave.core.rpc import casts, topics
from netweave.service_plugins.port_security import topics as sg_topics


class SecurityGroupAgentNotifier:
    """Sends nothing until ``connect`` gives it a transport."""

    def __init__(self):
        self._casts = casts.CastClient(topics.AGENT)

    @property
    def connected(self):
        return self._casts.connected

    def connect(self, transport):
        self._casts.connect(transport)

    def _cast(self, context, method, group_ids):
        if group_ids:
            self._casts.cast(context, method, topic=topics.notifier_topic(sg_topics.SECURITY_GROUP, topics.UPDATE),
                             fanout=True, security_groups=sorted(set(group_ids)))

    def security_groups_rule_updated(self, context, group_ids):
        self._cast(context, "security_groups_rule_updated", group_ids)

    def security_groups_member_updated(self, context, group_ids):
        self._cast(context, "security_groups_member_updated", group_ids)
