"""Metering labels and rules: rows, Neutron's validation of rules, reads.

A rule names one prefix way or the other: ``remote_ip_prefix`` (the original
form, deprecated in Neutron) or ``source_ip_prefix`` and/or
``destination_ip_prefix``, never both ways. Two rules of one label with the
same direction and ``excluded`` must not have overlapping remote_ip_prefix
(MeteringLabelRuleOverlaps). The overlap check and the insert run in one
transaction that first writes the label's row, so concurrent creates on one
label are serialised (a row lock on PostgreSQL, the write lock on SQLite) and
each sees the others.
"""
import ipaddress
import logging

import netaddr
import sqlalchemy as sa

from netweave.core.db import api as db_api
from netweave.core.services import query
from netweave.service_plugins.metering import constants as const
from netweave.service_plugins.metering import exceptions as mexc
from netweave.service_plugins.metering import models

LOG = logging.getLogger(__name__)

Label = models.MeteringLabel
Rule = models.MeteringLabelRule

LABEL_COLUMNS = {"id": Label.id, "name": Label.name, "description": Label.description,
                 "tenant_id": Label.project_id, "project_id": Label.project_id, "shared": Label.shared}
RULE_COLUMNS = {"id": Rule.id, "metering_label_id": Rule.metering_label_id, "direction": Rule.direction,
                "excluded": Rule.excluded, "remote_ip_prefix": Rule.remote_ip_prefix,
                "source_ip_prefix": Rule.source_ip_prefix, "destination_ip_prefix": Rule.destination_ip_prefix}


def label_dict(row):
    return {"id": row.id, "name": row.name, "description": row.description, "tenant_id": row.project_id,
            "project_id": row.project_id, "shared": row.shared}


def rule_dict(row):
    return {"id": row.id, "metering_label_id": row.metering_label_id, "direction": row.direction,
            "excluded": row.excluded, "remote_ip_prefix": row.remote_ip_prefix,
            "source_ip_prefix": row.source_ip_prefix, "destination_ip_prefix": row.destination_ip_prefix}


# --- the rules' checks (pure) ----------------------------------------------------------------

def check_prefixes(rule):
    """Neutron's validate_metering_label_rule: each prefix parses; one way of naming them."""
    for field in const.PREFIX_FIELDS:
        value = rule.get(field)
        if value:
            try:
                ipaddress.ip_interface(value)
            except ValueError as error:
                raise mexc.Invalid(message="%s: %s is invalid [%s]." % (field, value, error)) from None
    if rule.get("remote_ip_prefix") and (rule.get("source_ip_prefix") or rule.get("destination_ip_prefix")):
        raise mexc.Invalid(message="Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' or "
                                   "'destination-ip-prefix'.")
    if not any(rule.get(field) for field in const.PREFIX_FIELDS):
        raise mexc.Invalid(message="You must define at least one of the following parameters "
                                   "'remote_ip_prefix', or 'source_ip_prefix' or 'destination_ip_prefix'.")


def overlapping(rule, existing):
    """The first of ``existing`` (rule dicts of the same label) whose remote_ip_prefix overlaps the
    new rule's with the same direction and ``excluded``; None when there is none."""
    prefix = rule.get("remote_ip_prefix")
    if not prefix:
        return None
    wanted = netaddr.IPSet([prefix])
    for other in existing:
        if other["direction"] != rule["direction"] or bool(other["excluded"]) != bool(rule["excluded"]):
            continue
        if other.get("remote_ip_prefix") and netaddr.IPSet([other["remote_ip_prefix"]]) & wanted:
            return other
    return None


class MeteringService:
    # --- labels ------------------------------------------------------------------------------

    @staticmethod
    def _visible_labels(context, stmt):
        if context.is_admin:
            return stmt
        return stmt.where(Label.project_id == context.project_id)

    def _label_row(self, session, context, label_id):
        row = session.scalar(self._visible_labels(context, sa.select(Label).where(Label.id == label_id)))
        if row is None:
            raise mexc.MeteringLabelNotFound(label_id=label_id)
        return row

    def create_label(self, context, data):
        with db_api.session_scope() as session:
            row = Label(project_id=data["project_id"], name=data.get("name") or "",
                        description=data.get("description") or "", shared=bool(data.get("shared")))
            session.add(row)
            session.flush()
            return label_dict(row)

    def get_label(self, context, label_id, fields=None):
        with db_api.reader_scope() as session:
            return query.select_fields(label_dict(self._label_row(session, context, label_id)), fields)

    def list_labels(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
                    page_reverse=False, **_ignored):
        with db_api.reader_scope() as session:
            stmt = self._visible_labels(context, sa.select(Label))
            rows, leftover = query.fetch_page(session, stmt, Label, LABEL_COLUMNS, dict(filters or {}), sorts,
                                              limit, marker, page_reverse)
            items = [label_dict(r) for r in rows]
        return query.finish_page(items, leftover, page_reverse, fields)

    def delete_label(self, context, label_id):
        """Deletes the label and its rules; returns the label's dict as it was."""
        with db_api.session_scope() as session:
            row = self._label_row(session, context, label_id)
            gone = label_dict(row)
            session.delete(row)
        return gone

    # --- rules -------------------------------------------------------------------------------

    def _visible_rules(self, context, stmt):
        if context.is_admin:
            return stmt
        return stmt.join(Label, Label.id == Rule.metering_label_id).where(Label.project_id == context.project_id)

    def _rule_row(self, session, context, rule_id):
        row = session.scalar(self._visible_rules(context, sa.select(Rule).where(Rule.id == rule_id)))
        if row is None:
            raise mexc.MeteringLabelRuleNotFound(rule_id=rule_id)
        return row

    @db_api.retry_db_errors
    def create_rule(self, context, data):
        check_prefixes(data)
        with db_api.session_scope() as session:
            label = self._label_row(session, context, data["metering_label_id"])
            # Write the label's row first: concurrent rule creates on it wait here.
            session.execute(sa.update(Label).where(Label.id == label.id).values(shared=Label.shared))
            existing = [rule_dict(r) for r in session.scalars(
                sa.select(Rule).where(Rule.metering_label_id == label.id))]
            other = overlapping(data, existing)
            if other is not None:
                LOG.warning("Metering rule %s overlaps rule %s of label %s", data, other["id"], label.id)
                raise mexc.MeteringLabelRuleOverlaps(remote_ip_prefix=data["remote_ip_prefix"])
            row = Rule(metering_label_id=label.id, direction=data["direction"], excluded=bool(data.get("excluded")),
                       remote_ip_prefix=data.get("remote_ip_prefix") or None,
                       source_ip_prefix=data.get("source_ip_prefix") or None,
                       destination_ip_prefix=data.get("destination_ip_prefix") or None)
            session.add(row)
            session.flush()
            return rule_dict(row)

    def get_rule(self, context, rule_id, fields=None):
        with db_api.reader_scope() as session:
            return query.select_fields(rule_dict(self._rule_row(session, context, rule_id)), fields)

    def list_rules(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
                   page_reverse=False, **_ignored):
        with db_api.reader_scope() as session:
            stmt = self._visible_rules(context, sa.select(Rule))
            rows, leftover = query.fetch_page(session, stmt, Rule, RULE_COLUMNS, dict(filters or {}), sorts,
                                              limit, marker, page_reverse)
            items = [rule_dict(r) for r in rows]
        return query.finish_page(items, leftover, page_reverse, fields)

    def delete_rule(self, context, rule_id):
        with db_api.session_scope() as session:
            row = self._rule_row(session, context, rule_id)
            gone = rule_dict(row)
            session.delete(row)
        return gone

    # --- what agents need --------------------------------------------------------------------

    @staticmethod
    def labels_for_projects(session, project_ids):
        """{project id: [label dict with "rules"]}: each project's labels and every shared label."""
        rows = list(session.scalars(sa.select(Label).where(
            sa.or_(Label.project_id.in_(sorted(project_ids)), Label.shared.is_(True))).order_by(Label.id)))
        result = {}
        for project_id in project_ids:
            result[project_id] = [dict(label_dict(r), rules=[rule_dict(rule) for rule in r.rules])
                                  for r in rows if r.shared or r.project_id == project_id]
        return result
