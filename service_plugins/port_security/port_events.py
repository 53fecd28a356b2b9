"""Telling the agents when a port joins or leaves groups, or its addresses change.

Subscribed to the AFTER events of ports, so the casts go out once the port's
change is committed.
"""
from netweave.core import events

# Port attributes the members of a group (as remote group) are computed from.
MEMBERSHIP_ATTRIBUTES = ("security_groups", "fixed_ips", "allowed_address_pairs", "port_security_enabled")


def changed_groups(original, current):
    """Groups whose membership or member addresses differ between two dicts of one port."""
    before = set((original or {}).get("security_groups") or [])
    after = set((current or {}).get("security_groups") or [])
    if original is None or current is None:
        return sorted(before | after)
    if any(original.get(key) != current.get(key) for key in MEMBERSHIP_ATTRIBUTES):
        return sorted(before | after)
    return []


class PortMembershipNotifier:
    def __init__(self, notifier):
        self.notifier = notifier

    def subscribe(self, registry):
        registry.subscribe(self.port_created, events.PORT, events.Event.AFTER_CREATE)
        registry.subscribe(self.port_updated, events.PORT, events.Event.AFTER_UPDATE)
        registry.subscribe(self.port_deleted, events.PORT, events.Event.AFTER_DELETE)

    def _notify(self, context, original, current):
        groups = changed_groups(original, current)
        if groups:
            self.notifier.security_groups_member_updated(context, groups)

    def port_created(self, resource, event, payload):
        self._notify(payload.context, None, payload.current)

    def port_updated(self, resource, event, payload):
        self._notify(payload.context, payload.original, payload.current)

    def port_deleted(self, resource, event, payload):
        self._notify(payload.context, payload.original, None)
