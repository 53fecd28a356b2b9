"""default-security-group-rules: the admin-managed templates of the rules new groups start with.

``used_in_default_sg`` templates go into each project's ``default`` group,
``used_in_non_default_sg`` ones into every other new group; a template whose
``remote_group_id`` is "PARENT" names the new group itself. Existing groups keep
their rules when templates change, as in Neutron.
"""
import sqlalchemy as sa

from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.services import query
from netweave.service_plugins.port_security import exceptions as sg_exc
from netweave.service_plugins.port_security import models
from netweave.service_plugins.port_security import rules as rule_values

Template = models.DefaultSecurityGroupRule
PARENT = models.PARENT
_MATCH_FIELDS = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix",
                 "remote_group_id")
COLUMNS = {name: getattr(Template, name) for name in _MATCH_FIELDS + (
    "id", "description", "used_in_default_sg", "used_in_non_default_sg")}


def template_dict(row):
    result = {name: getattr(row, name) for name in COLUMNS}
    result["remote_address_group_id"] = None
    return result


def initial_rules(session, group_id, is_default):
    """Rule values (as Rule columns) for a new group from the templates that apply to it."""
    flag = Template.used_in_default_sg if is_default else Template.used_in_non_default_sg
    values = []
    for row in session.scalars(sa.select(Template).where(flag.is_(True)).order_by(Template.id)):
        rule = {name: getattr(row, name) for name in _MATCH_FIELDS}
        if rule["remote_group_id"] == PARENT:
            rule["remote_group_id"] = group_id
        values.append(rule)
    return values


class DefaultRuleService:
    def get(self, context, template_id, fields=None):
        with db_api.reader_scope() as session:
            row = session.get(Template, template_id)
            if row is None:
                raise sg_exc.DefaultSecurityGroupRuleNotFound(id=template_id)
            return query.select_fields(template_dict(row), fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None):
        with db_api.reader_scope() as session:
            rows, leftover = query.fetch_page(session, sa.select(Template), Template, COLUMNS, dict(filters or {}),
                                              sorts, limit, marker, page_reverse)
            items = [template_dict(r) for r in rows]
        return query.finish_page(items, leftover, page_reverse, fields)

    def create(self, context, data):
        return db_api.retry_db_errors(self._create)(context, data)

    def _create(self, context, data):
        remote = data.get("remote_group_id")
        # The whole-rule checks of a rule; "PARENT" stands in for a group id there.
        checked = rule_values.validate_rule(dict(data, remote_group_id=remote))
        key = _key(checked)
        with db_api.session_scope() as session:
            for existing in session.scalars(sa.select(Template)):
                if _key(template_dict(existing)) == key:
                    raise sg_exc.DefaultSecurityGroupRuleExists(rule_id=existing.id)
            row = Template(id=model_base.new_uuid(), description=data.get("description") or "",
                           used_in_default_sg=data.get("used_in_default_sg", True),
                           used_in_non_default_sg=data.get("used_in_non_default_sg", True),
                           **{name: checked.get(name) for name in _MATCH_FIELDS})
            session.add(row)
            session.flush()
            return template_dict(row)

    def delete(self, context, template_id):
        with db_api.session_scope() as session:
            row = session.get(Template, template_id)
            if row is None:
                raise sg_exc.DefaultSecurityGroupRuleNotFound(id=template_id)
            session.delete(row)


def _key(rule):
    return rule_values.duplicate_key(dict(rule, security_group_id=None)) + (
        rule.get("used_in_default_sg"), rule.get("used_in_non_default_sg"))
