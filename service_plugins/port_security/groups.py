"""Security groups and their rules: rows, visibility, the per-project default group.

Writes run in one transaction each and tell the agents after commit which
groups changed (through ``notifier``, a SecurityGroupAgentNotifier or None).
"""
import collections

import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.db.models import port as port_models
from netweave.core.services import common, query
from netweave.service_plugins.port_security import config, default_rules, models, sharing
from netweave.service_plugins.port_security import exceptions as sg_exc
from netweave.service_plugins.port_security import rules as rule_values

Group = models.SecurityGroup
Rule = models.SecurityGroupRule

DEFAULT_NAME = "default"
DEFAULT_DESCRIPTION = "Default security group"

GROUP_COLUMNS = {
    "id": Group.id, "name": Group.name, "tenant_id": Group.project_id, "project_id": Group.project_id,
    "description": Group.description, "created_at": Group.created_at, "updated_at": Group.updated_at,
    "revision_number": Group.revision_number, "stateful": Group.stateful,
}
RULE_COLUMNS = {
    "id": Rule.id, "tenant_id": Rule.project_id, "project_id": Rule.project_id, "description": Rule.description,
    "created_at": Rule.created_at, "updated_at": Rule.updated_at, "revision_number": Rule.revision_number,
    "security_group_id": Rule.security_group_id, "remote_group_id": Rule.remote_group_id,
    "direction": Rule.direction, "ethertype": Rule.ethertype, "protocol": Rule.protocol,
    "port_range_min": Rule.port_range_min, "port_range_max": Rule.port_range_max,
    "remote_ip_prefix": Rule.remote_ip_prefix,
}
_RULE_FIELDS = ("security_group_id", "remote_group_id", "direction", "ethertype", "protocol", "port_range_min",
                "port_range_max", "remote_ip_prefix")


def rule_dict(row):
    result = {
        "id": row.id, "tenant_id": row.project_id, "project_id": row.project_id, "description": row.description,
        "created_at": common.format_time(row.created_at), "updated_at": common.format_time(row.updated_at),
        "revision_number": row.revision_number,
        "normalized_cidr": rule_values.normalized_cidr(row.remote_ip_prefix),
    }
    for name in _RULE_FIELDS:
        result[name] = getattr(row, name)
    return result


def group_dict(row, tags=None, shared=False):
    """``shared``: whether rbac-policies share the group with the caller's project."""
    result = common.standard_dict(row, tags)
    result["security_group_rules"] = [rule_dict(r) for r in row.rules]
    result["shared"] = shared
    result["stateful"] = row.stateful
    return result


def _shared_ids(session, context, group_ids):
    """Those of ``group_ids`` shared with the caller's project (security-groups-shared-filtering)."""
    if not group_ids or not context.project_id:
        return set()
    return set(session.scalars(sharing.shared_with(context.project_id).where(
        models.SecurityGroupRBAC.object_id.in_(group_ids))))


class SecurityGroupService:
    def __init__(self, quotas, notifier=None):
        config.register_quota_opts(quotas.conf)
        self.quotas = quotas
        self.notifier = notifier

    # --- visibility ------------------------------------------------------------

    @staticmethod
    def _visible_groups(context, stmt):
        """The caller's groups and those shared with its project (rbac-policies)."""
        if context.is_admin:
            return stmt
        return stmt.where(sa.or_(Group.project_id == context.project_id,
                                 Group.id.in_(sharing.shared_with(context.project_id))))

    @staticmethod
    def _visible_rules(context, stmt):
        if context.is_admin:
            return stmt
        # Rules of the caller's groups and of groups shared with it too, whoever created them.
        visible_groups = sa.select(Group.id).where(sa.or_(
            Group.project_id == context.project_id, Group.id.in_(sharing.shared_with(context.project_id))))
        return stmt.where(sa.or_(Rule.project_id == context.project_id,
                                 Rule.security_group_id.in_(visible_groups)))

    def _group_row(self, session, context, group_id, with_rules=True):
        stmt = sa.select(Group).where(Group.id == group_id)
        if not with_rules:
            # Loaded only if asked for: adding one rule need not read the group's others.
            stmt = stmt.options(orm.lazyload(Group.rules))
        row = session.scalar(self._visible_groups(context, stmt))
        if row is None:
            raise sg_exc.SecurityGroupNotFound(id=group_id)
        return row

    def _owned_group_row(self, session, context, group_id, with_rules=True):
        """A group the caller may change: its own (a shared group is only seen and used)."""
        row = self._group_row(session, context, group_id, with_rules)
        if not context.is_admin and row.project_id != context.project_id:
            raise sg_exc.SecurityGroupNotFound(id=group_id)
        return row

    def _rule_row(self, session, context, rule_id):
        row = session.scalar(self._visible_rules(context, sa.select(Rule).where(Rule.id == rule_id)))
        if row is None:
            raise sg_exc.SecurityGroupRuleNotFound(id=rule_id)
        return row

    def _owned_rule_row(self, session, context, rule_id):
        """A rule the caller may change: one of its own groups' (a rule belongs to its group's project)."""
        row = self._rule_row(session, context, rule_id)
        if not context.is_admin and row.project_id != context.project_id:
            raise sg_exc.SecurityGroupRuleNotFound(id=rule_id)
        return row

    @staticmethod
    def _bound_port(session, group_id):
        """Whether a port uses the group."""
        return session.scalar(sa.select(models.SecurityGroupPortBinding.port_id).where(
            models.SecurityGroupPortBinding.security_group_id == group_id).limit(1)) is not None

    @staticmethod
    def _is_default(session, group_id):
        return session.scalar(sa.select(models.DefaultSecurityGroup.project_id).where(
            models.DefaultSecurityGroup.security_group_id == group_id)) is not None

    # --- the default group -----------------------------------------------------

    def ensure_default(self, session, project_id):
        """The id of the project's ``default`` group, created with its rules if missing.

        Two transactions creating it at once both insert the project's row of
        default_security_group; the primary key fails the later one, whose retry
        then finds the group the other made.
        """
        # Read each time, not remembered: an admin may delete a project's default
        # group (in any server process), and the next port or list makes a new one.
        found = session.scalar(_DEFAULT_ID_OF_PROJECT, {"project_id": project_id})
        if found is not None:
            return found
        group = Group(id=model_base.new_uuid(), project_id=project_id, name=DEFAULT_NAME,
                      description=DEFAULT_DESCRIPTION)
        session.add(group)
        session.flush()
        session.add(models.DefaultSecurityGroup(project_id=project_id, security_group_id=group.id))
        session.flush()
        self._add_initial_rules(session, group, is_default=True)
        return group.id

    @staticmethod
    def _add_initial_rules(session, group, is_default):
        """The rules of the default-security-group-rules templates that apply to the group."""
        for values in default_rules.initial_rules(session, group.id, is_default):
            session.add(Rule(project_id=group.project_id, security_group_id=group.id, **values))
        session.flush()

    def ensure_default_committed(self, project_id):
        """ensure_default in a transaction of its own; reads only when the group exists."""
        if not project_id:
            return None
        with db_api.reader_scope() as session:
            found = session.scalar(_DEFAULT_ID_OF_PROJECT, {"project_id": project_id})
        if found is not None:
            return found
        return db_api.retry_db_errors(self._ensure_default_in_transaction)(project_id)

    def _ensure_default_in_transaction(self, project_id):
        with db_api.session_scope() as session:
            return self.ensure_default(session, project_id)

    # --- groups ------------------------------------------------------------------

    def get_group(self, context, group_id, fields=None):
        with db_api.reader_scope() as session:
            row = self._group_row(session, context, group_id)
            shared = row.id in _shared_ids(session, context, [row.id])
            return query.select_fields(group_dict(row, common.load_tags(session, [row.id])[row.id], shared),
                                       fields)

    def list_groups(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
                    page_reverse=False, tag_filters=None):
        # Like Neutron, a project sees its default group from its first look on.
        self.ensure_default_committed(context.project_id)
        with db_api.reader_scope() as session:
            stmt = self._visible_groups(context, sa.select(Group))
            rows, leftover = query.fetch_page(session, stmt, Group, GROUP_COLUMNS, dict(filters or {}), sorts,
                                              limit, marker, page_reverse, tag_filters)
            tags = common.load_tags(session, [r.id for r in rows])
            shared = _shared_ids(session, context, [r.id for r in rows])
            items = [group_dict(r, tags[r.id], r.id in shared) for r in rows]
        return query.finish_page(items, leftover, page_reverse, fields)

    def create_group(self, context, data):
        return db_api.retry_db_errors(self._create_group)(context, data)

    def _create_group(self, context, data):
        project_id = data["project_id"]
        with db_api.session_scope() as session:
            self.ensure_default(session, project_id)
            self.quotas.check(session, project_id, "security_group")
            group = Group(id=model_base.new_uuid(), project_id=project_id, name=data.get("name") or "",
                          description=data.get("description") or "", stateful=data.get("stateful", True))
            session.add(group)
            session.flush()
            self._add_initial_rules(session, group, is_default=False)
            session.refresh(group)
            return group_dict(group)

    def update_group(self, context, group_id, data):
        return db_api.retry_db_errors(self._update_group)(context, group_id, data)

    def _update_group(self, context, group_id, data):
        with db_api.session_scope() as session:
            group = self._owned_group_row(session, context, group_id)
            if "name" in data and data["name"] != group.name and self._is_default(session, group_id):
                raise sg_exc.SecurityGroupCannotUpdateDefault()
            if "stateful" in data and data["stateful"] != group.stateful and self._bound_port(session, group_id):
                # Neutron's rule: the agents would have to re-plumb the ports' connection tracking.
                raise sg_exc.SecurityGroupInUse(id=group_id)
            for key in ("name", "description", "stateful"):
                if key in data:
                    setattr(group, key, data[key])
            common.bump_revision(group)
            session.flush()
            return group_dict(group, common.load_tags(session, [group.id])[group.id],
                              group.id in _shared_ids(session, context, [group.id]))

    def delete_group(self, context, group_id):
        remote_of = db_api.retry_db_errors(self._delete_group)(context, group_id)
        if remote_of:
            self._rules_changed(context, remote_of)

    def _delete_group(self, context, group_id):
        with db_api.session_scope() as session:
            group = self._owned_group_row(session, context, group_id)
            # Only an admin removes a project's default group (the project's next
            # port or group list makes a new one).
            is_default = self._is_default(session, group_id)
            if is_default and not context.is_admin:
                raise sg_exc.SecurityGroupCannotRemoveDefault()
            if self._bound_port(session, group_id):
                raise sg_exc.SecurityGroupInUse(id=group_id)
            # Rules of other groups naming this one as remote go with it (foreign key cascade).
            remote_of = sorted(set(session.scalars(sa.select(Rule.security_group_id).where(
                Rule.remote_group_id == group_id, Rule.security_group_id != group_id))))
            if is_default:
                session.execute(sa.delete(models.DefaultSecurityGroup).where(
                    models.DefaultSecurityGroup.security_group_id == group_id))
            common.delete_tags(session, group_id)
            session.delete(group)
            return remote_of

    # --- rules ---------------------------------------------------------------------

    def get_rule(self, context, rule_id, fields=None):
        with db_api.reader_scope() as session:
            return query.select_fields(rule_dict(self._rule_row(session, context, rule_id)), fields)

    def list_rules(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
                   page_reverse=False, tag_filters=None):
        with db_api.reader_scope() as session:
            stmt = self._visible_rules(context, sa.select(Rule))
            rows, leftover = query.fetch_page(session, stmt, Rule, RULE_COLUMNS, dict(filters or {}), sorts, limit,
                                              marker, page_reverse, tag_filters)
            items = [rule_dict(r) for r in rows]
        return query.finish_page(items, leftover, page_reverse, fields)

    def create_rules(self, context, items):
        """Create rules (one, or a bulk request: all or nothing) and tell the agents."""
        created = db_api.retry_db_errors(self._create_rules)(context, items)
        self._rules_changed(context, sorted({r["security_group_id"] for r in created}))
        return created

    def _create_rules(self, context, items):
        checked = [rule_values.validate_rule(item) for item in items]
        with db_api.session_scope() as session:
            rows = [self._insert_rule(session, context, rule) for rule in checked]
            return [rule_dict(row) for row in rows]

    def _insert_rule(self, session, context, rule):
        group = self._owned_group_row(session, context, rule["security_group_id"], with_rules=False)
        if rule.get("remote_group_id"):
            self._group_row(session, context, rule["remote_group_id"])
        # A rule belongs to its group's project, whoever (an admin) created it.
        project_id = group.project_id
        self.quotas.check(session, project_id, "security_group_rule")
        key = rule_values.duplicate_key(rule)
        # Only rules equal on the fields compared as stored can be duplicates: the database
        # narrows to those, so a create does not build every rule of a large group.
        same = [getattr(Rule, name).is_not_distinct_from(rule.get(name))
                for name in ("direction", "ethertype", "port_range_min", "port_range_max", "remote_group_id")]
        for existing in session.scalars(sa.select(Rule).where(Rule.security_group_id == group.id, *same)):
            if rule_values.duplicate_key(rule_dict(existing)) == key:
                raise sg_exc.SecurityGroupRuleExists(rule_id=existing.id)
        row = Rule(id=model_base.new_uuid(), project_id=project_id, description=rule.get("description") or "",
                   **{name: rule.get(name) for name in _RULE_FIELDS})
        session.add(row)
        common.bump_revision(group)
        session.flush()
        session.refresh(row)
        return row

    def update_rule(self, context, rule_id, data):
        """Only a rule's description changes; what it matches is fixed at creation."""
        return db_api.retry_db_errors(self._update_rule)(context, rule_id, data)

    def _update_rule(self, context, rule_id, data):
        with db_api.session_scope() as session:
            row = self._owned_rule_row(session, context, rule_id)
            if "description" in data:
                row.description = data["description"]
            common.bump_revision(row)
            session.flush()
            return rule_dict(row)

    def delete_rule(self, context, rule_id):
        group_id = db_api.retry_db_errors(self._delete_rule)(context, rule_id)
        self._rules_changed(context, [group_id])

    def _delete_rule(self, context, rule_id):
        with db_api.session_scope() as session:
            row = self._owned_rule_row(session, context, rule_id)
            group = session.get(Group, row.security_group_id)
            session.delete(row)
            if group is not None:
                common.bump_revision(group)
            return row.security_group_id

    def _rules_changed(self, context, group_ids):
        if self.notifier is not None and group_ids:
            self.notifier.security_groups_rule_updated(context, list(group_ids))

    # --- ports ---------------------------------------------------------------------

    @staticmethod
    def check_port_groups(session, context, project_id, group_ids):
        """The sorted, distinct ids of groups a port of ``project_id`` may use; SecurityGroupNotFound
        names those it may not (absent, or another project's not shared with it, unless the caller
        is admin)."""
        wanted = sorted(set(group_ids))
        if not wanted:
            return []
        stmt = sa.select(Group.id, Group.stateful).where(Group.id.in_(wanted))
        if not context.is_admin:
            stmt = stmt.where(sa.or_(Group.project_id == project_id,
                                     Group.id.in_(sharing.shared_with(project_id))))
        found = dict(session.execute(stmt).all())
        missing = [g for g in wanted if g not in found]
        if missing:
            raise sg_exc.SecurityGroupNotFound(id=", ".join(missing))
        if len(set(found.values())) > 1:
            raise sg_exc.SecurityGroupConflict(reason="Cannot apply both stateful and stateless security "
                                                      "groups on the same port at the same time while "
                                                      "attempting the operation")
        return wanted

    # --- what the agents ask -------------------------------------------------------

    def info_for_devices(self, port_ids):
        """The firewall's view of these ports: see rpc.SecurityGroupServerRpcEndpoint."""
        port_ids = sorted({p for p in port_ids or [] if isinstance(p, str)})
        devices, groups = {}, set()
        with db_api.reader_scope() as session:
            for chunk in _chunks(port_ids):
                for port in session.scalars(sa.select(port_models.Port).where(port_models.Port.id.in_(chunk))):
                    device = _device(port)
                    devices[port.id] = device
                    groups.update(device["security_groups"])
            rules = collections.defaultdict(list)
            remote_groups = set()
            for chunk in _chunks(sorted(groups)):
                for row in session.scalars(sa.select(Rule).where(Rule.security_group_id.in_(chunk))
                                           .order_by(Rule.created_at, Rule.id)):
                    rules[row.security_group_id].append(_agent_rule(row))
                    if row.remote_group_id:
                        remote_groups.add(row.remote_group_id)
            members = _member_ips(session, sorted(remote_groups))
            stateless = set()
            for chunk in _chunks(sorted(groups)):
                stateless.update(session.scalars(sa.select(Group.id).where(Group.id.in_(chunk),
                                                                           Group.stateful.is_(False))))
        for device in devices.values():
            # A port's groups are all stateful or all stateless (SecurityGroupConflict otherwise).
            device["stateful"] = not any(g in stateless for g in device["security_groups"])
        return {"devices": devices, "security_groups": {g: rules.get(g, []) for g in sorted(groups)},
                "sg_member_ips": members}


_DEFAULT_ID_OF_PROJECT = sa.select(models.DefaultSecurityGroup.security_group_id).where(
    models.DefaultSecurityGroup.project_id == sa.bindparam("project_id"))


def _chunks(ids, size=500):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _device(port):
    binding = port.port_security
    enabled = True if binding is None else binding.port_security_enabled
    return {
        "id": port.id, "device": port.id, "network_id": port.network_id, "mac_address": port.mac_address,
        "fixed_ips": [a.ip_address for a in port.fixed_ips],
        "allowed_address_pairs": [{"ip_address": p.ip_address, "mac_address": p.mac_address}
                                  for p in port.allowed_address_pairs],
        "port_security_enabled": enabled,
        "security_groups": [b.security_group_id for b in port.security_group_bindings],
        "device_owner": port.device_owner,
    }


def _agent_rule(row):
    prefix = row.remote_ip_prefix
    return {
        "id": row.id, "security_group_id": row.security_group_id, "direction": row.direction,
        "ethertype": row.ethertype, "protocol": rule_values.canonical_protocol(row.protocol, row.ethertype),
        "port_range_min": row.port_range_min, "port_range_max": row.port_range_max,
        "remote_ip_prefix": rule_values.normalized_cidr(prefix) if prefix else None,
        "remote_group_id": row.remote_group_id,
    }


def _member_ips(session, group_ids):
    """{group: {"IPv4": [...], "IPv6": [...]}}: fixed IPs and allowed pair addresses of every member port."""
    members = {g: {"IPv4": set(), "IPv6": set()} for g in group_ids}
    bindings = models.SecurityGroupPortBinding
    allocations = port_models.IPAllocation
    pairs = models.AllowedAddressPair
    for chunk in _chunks(group_ids):
        for column, table, port_column in ((allocations.ip_address, allocations, allocations.port_id),
                                           (pairs.ip_address, pairs, pairs.port_id)):
            stmt = (sa.select(bindings.security_group_id, column)
                    .join(table, port_column == bindings.port_id)
                    .where(bindings.security_group_id.in_(chunk)))
            for group_id, address in session.execute(stmt):
                members[group_id]["IPv6" if ":" in address else "IPv4"].add(address)
    return {g: {family: sorted(addresses) for family, addresses in by_family.items()}
            for g, by_family in members.items()}
