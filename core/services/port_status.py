"""Changing a port's status the way the API's own updates change ports.

A status change moves the revision and runs the mechanism drivers'
update_port_precommit (inside the caller's transaction) and
update_port_postcommit (after it), with the port before and after: drivers
such as l2population act on a port turning ACTIVE or DOWN.
"""
from netweave.core.services import common


class PortStatusChanger:
    def __init__(self, port_service, mechanism_manager):
        self.ports = port_service
        self.mechanisms = mechanism_manager

    def change(self, context, session, row, status):
        """Set ``status`` on ``row`` in ``session``; returns what ``after_commit`` needs, or None."""
        if row.status == status:
            return None
        original = self.ports.port_context(context, session, row).current
        row.status = status
        common.bump_revision(row)
        session.flush()
        mech_context = self.ports.port_context(context, session, row, original=original)
        self.mechanisms.update_port_precommit(mech_context)
        return mech_context

    def after_commit(self, pending):
        if pending is not None:
            self.mechanisms.update_port_postcommit(pending)
