"""Telling the agents when a port joins or leaves groups, or its addresses change.

A mechanism driver by shape only: it binds nothing and watches the postcommit
hooks of ports, so the casts go out once the port's change is committed.
"""
from netweave.core.plugins.ml2 import driver_api

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


class PortMembershipNotifier(driver_api.MechanismDriver):
    def __init__(self, notifier):
        self.notifier = notifier

    def initialize(self):
        pass

    def _notify(self, context, original, current):
        groups = changed_groups(original, current)
        if groups:
            self.notifier.security_groups_member_updated(context.plugin_context, groups)

    def create_port_postcommit(self, context):
        self._notify(context, None, context.current)

    def update_port_postcommit(self, context):
        self._notify(context, context.original, context.current)

    def delete_port_postcommit(self, context):
        self._notify(context, context.current, None)

    def bind_port(self, context):
        """Binding is the other drivers' business."""
