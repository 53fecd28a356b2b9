"""RBAC policies: sharing objects with chosen projects (or '*').

The rbac-policies API serves every registered object type. Each type keeps its
policies in its own table and says, through an ``RbacObjectType``, how to find
the object a policy names and when a policy may not go. The core registers
``network``; a plugin registers its own types from ``initialize`` with
``core_plugin.rbac.register(RbacObjectType(...))``.
"""
import dataclasses
import typing

import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.services import common, query, visibility

# Owners whose ports never count as "another project uses this network".
_NETWORK_OWNED_PREFIX = "network:"


class InvalidActionForType(exc.InvalidInput):
    message = "Invalid action '%(action)s' for object type '%(object_type)s'. Valid actions: %(valid_actions)s"


def _no_op(session, obj, entry):
    return None


@dataclasses.dataclass(frozen=True)
class RbacObjectType:
    """What the rbac-policies API needs to know about one kind of shareable object.

    name: the API's ``object_type`` (``network``, ``subnetpool``...).
    model: the ORM model of this type's policy table, with the columns id, project_id,
        object_id (a foreign key to the object, ON DELETE CASCADE), target_tenant, action.
    actions: the actions a policy on this type may grant.
    load(session, object_id): the object's row (with ``id`` and ``project_id``) or None.
    not_found(object_id): the NeutronException a missing object answers (a 404).
    check_removable(session, obj, entry): raise (RbacPolicyInUse) when removing the policy
        ``entry``, or changing its target, would take access from something that uses it.
    after_create(session, obj, entry) / after_delete(session, obj, entry): the object's own
        bookkeeping (a revision bump, a flag), in the policy's transaction.
    plural: how errors name these objects ("Only admins can manipulate policies on <plural> ...").
    """
    name: str
    model: type
    actions: typing.Tuple[str, ...]
    load: typing.Callable
    not_found: typing.Callable
    check_removable: typing.Callable = _no_op
    after_create: typing.Callable = _no_op
    after_delete: typing.Callable = _no_op
    plural: str = "objects"


@dataclasses.dataclass(frozen=True)
class AccessLost:
    """The projects that lose access to an object when one of its policies goes (or
    changes its target): any project but those ``keeping`` it (the owner and the other
    policies' targets), and only ``target`` unless the policy was for every project."""
    keeping: frozenset
    target: str

    def of(self, project_column):
        """The SQL condition that ``project_column`` names a project losing access."""
        condition = project_column.not_in(self.keeping)
        if self.target != "*":
            condition = sa.and_(condition, project_column == self.target)
        return condition


def access_lost(session, model, obj, entry):
    """What removing the policy ``entry`` (a row of ``model``) on ``obj`` takes away: None
    when no project loses access (another policy of its action grants it to every
    project, or to the one project it names), else an AccessLost."""
    remaining = set(session.scalars(sa.select(model.target_tenant).where(
        model.object_id == obj.id, model.action == entry.action, model.id != entry.id)))
    keeping = frozenset(remaining | {obj.project_id})
    if "*" in remaining or entry.target_tenant in keeping:
        return None
    return AccessLost(keeping, entry.target_tenant)


class RbacService:
    def __init__(self, quotas):
        self.quotas = quotas
        self.object_types = {}  # name -> RbacObjectType

    def register(self, object_type):
        if object_type.name in self.object_types:
            raise ValueError("RBAC object type %s registered twice" % object_type.name)
        self.object_types[object_type.name] = object_type

    @staticmethod
    def make_dict(object_type, row):
        return {"id": row.id, "tenant_id": row.project_id, "project_id": row.project_id,
                "object_type": object_type, "object_id": row.object_id,
                "target_tenant": row.target_tenant, "action": row.action}

    # --- used by the network service ---------------------------------------

    def add_wildcard(self, session, network, action):
        rbac = net_models.NetworkRBAC
        exists = session.scalar(sa.select(rbac.id).where(rbac.object_id == network.id, rbac.action == action,
                                                         rbac.target_tenant == "*"))
        if exists is None:
            session.add(rbac(project_id=network.project_id, object_id=network.id, target_tenant="*",
                             action=action))

    def remove_wildcard_shared(self, session, network):
        rbac = net_models.NetworkRBAC
        entry = session.scalar(sa.select(rbac).where(rbac.object_id == network.id,
                                                     rbac.action == visibility.SHARED,
                                                     rbac.target_tenant == "*"))
        if entry is None:
            return
        if _network_shared_users_left(session, network, entry):
            raise exc.InvalidSharedSetting(network=network.name or network.id)
        session.delete(entry)

    def make_internal(self, session, network):
        rbac = net_models.NetworkRBAC
        gateways = session.scalar(sa.select(sa.func.count()).select_from(port_models.Port).where(
            port_models.Port.network_id == network.id,
            port_models.Port.device_owner == "network:router_gateway"))
        if gateways:
            raise exc.ExternalNetworkInUse(net_id=network.id)
        session.execute(sa.delete(net_models.ExternalNetwork).where(
            net_models.ExternalNetwork.network_id == network.id))
        session.execute(sa.delete(rbac).where(rbac.object_id == network.id,
                                              rbac.action == visibility.EXTERNAL))

    # --- the rbac-policies resource ---------------------------------------

    def _object_type(self, name):
        found = self.object_types.get(name)
        if found is None:
            raise exc.InvalidInput(error_message="Invalid input for object_type. Reason: '%s' is not in %s."
                                   % (name, sorted(self.object_types)))
        return found

    @staticmethod
    def _visible(context, model, stmt):
        if context.is_admin:
            return stmt
        return stmt.where(model.project_id == context.project_id)

    def _find(self, session, context, policy_id):
        """(object type, policy row) of a policy the caller may see, whatever its type."""
        for object_type in self.object_types.values():
            model = object_type.model
            row = session.scalar(self._visible(context, model, sa.select(model).where(model.id == policy_id)))
            if row is not None:
                return object_type, row
        raise exc.RbacPolicyNotFound(object_type="unknown", id=policy_id)

    def get(self, context, policy_id, fields=None):
        with db_api.reader_scope() as session:
            object_type, row = self._find(session, context, policy_id)
            return query.select_fields(self.make_dict(object_type.name, row), fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None):
        filters = dict(filters or {})
        wanted = filters.pop("object_type", None)
        types = [t for name, t in sorted(self.object_types.items()) if wanted is None or name in wanted]
        if not types:
            return []
        # One UNION ALL over the types' tables: sorting and marker paging work across types.
        selects = []
        for object_type in types:
            model = object_type.model
            selects.append(self._visible(context, model, sa.select(
                model.id, model.project_id, model.object_id, model.target_tenant, model.action,
                sa.literal(object_type.name).label("object_type"))))
        union = sa.union_all(*selects).subquery("rbac_policies")
        columns = {"id": union.c.id, "tenant_id": union.c.project_id, "project_id": union.c.project_id,
                   "object_id": union.c.object_id, "target_tenant": union.c.target_tenant,
                   "action": union.c.action, "object_type": union.c.object_type}
        with db_api.reader_scope() as session:
            stmt, leftover = query.page_statement(session, sa.select(union), _Selectable(union.c.id), columns,
                                                  filters, sorts, limit, marker, page_reverse)
            items = [self.make_dict(row.object_type, row) for row in session.execute(stmt)]
        return query.finish_page(items, leftover, page_reverse, fields)

    @db_api.retry_db_errors
    def create(self, context, data):
        object_type = self._object_type(data["object_type"])
        if data["action"] not in object_type.actions:
            raise InvalidActionForType(action=data["action"], object_type=object_type.name,
                                       valid_actions=list(object_type.actions))
        model = object_type.model
        with db_api.session_scope() as session:
            obj = object_type.load(session, data["object_id"])
            if obj is None or not (context.is_admin or obj.project_id == context.project_id or
                                   self._target_visible(session, context, model, obj)):
                raise object_type.not_found(data["object_id"])
            if not context.is_admin and obj.project_id != context.project_id:
                raise exc.InvalidInput(error_message="Only admins can manipulate policies on %s "
                                                     "they do not own" % object_type.plural)
            duplicate = session.scalar(sa.select(model.id).where(
                model.object_id == obj.id, model.action == data["action"],
                model.target_tenant == data["target_tenant"]))
            if duplicate is not None:
                raise exc.DuplicateRbacPolicy()
            self.quotas.check(session, data["project_id"], "rbac_policy")
            row = model(project_id=data["project_id"], object_id=obj.id,
                        target_tenant=data["target_tenant"], action=data["action"])
            session.add(row)
            object_type.after_create(session, obj, row)
            session.flush()
            return self.make_dict(object_type.name, row)

    @staticmethod
    def _target_visible(session, context, model, obj):
        return session.scalar(sa.select(model.id).where(
            model.object_id == obj.id, model.target_tenant.in_(visibility.rbac_targets(context)))) is not None

    @db_api.retry_db_errors
    def update(self, context, policy_id, data):
        with db_api.session_scope() as session:
            object_type, row = self._find(session, context, policy_id)
            model = object_type.model
            if "target_tenant" in data and data["target_tenant"] != row.target_tenant:
                self._check_removable(session, object_type, row)
                duplicate = session.scalar(sa.select(model.id).where(
                    model.object_id == row.object_id, model.action == row.action,
                    model.target_tenant == data["target_tenant"]))
                if duplicate is not None:
                    raise exc.DuplicateRbacPolicy()
                row.target_tenant = data["target_tenant"]
            session.flush()
            return self.make_dict(object_type.name, row)

    @db_api.retry_db_errors
    def delete(self, context, policy_id):
        with db_api.session_scope() as session:
            object_type, row = self._find(session, context, policy_id)
            self._check_removable(session, object_type, row)
            obj = object_type.load(session, row.object_id)
            session.delete(row)
            if obj is not None:
                object_type.after_delete(session, obj, row)

    @staticmethod
    def _check_removable(session, object_type, row):
        obj = object_type.load(session, row.object_id)
        if obj is not None:
            object_type.check_removable(session, obj, row)


@dataclasses.dataclass(frozen=True)
class _Selectable:
    """The one thing query.apply_sorting needs of a model: its id column (here a union's)."""
    id: object


# --- the network object type ---------------------------------------------------

def network_object_type():
    return RbacObjectType(
        name="network", model=net_models.NetworkRBAC, actions=(visibility.SHARED, visibility.EXTERNAL),
        load=lambda session, object_id: session.get(net_models.Network, object_id),
        not_found=lambda object_id: exc.NetworkNotFound(net_id=object_id),
        check_removable=_check_network_removable, after_create=_network_policy_created,
        after_delete=lambda session, network, entry: common.bump_revision(network), plural="networks")


def _network_policy_created(session, network, entry):
    if entry.action == visibility.EXTERNAL and network.external is None:
        # Granting external access turns the network external without opening it to all.
        session.add(net_models.ExternalNetwork(network_id=network.id))
    common.bump_revision(network)


def _check_network_removable(session, network, row):
    if row.action == visibility.SHARED and _network_shared_users_left(session, network, row):
        raise exc.RbacPolicyInUse(object_id=row.object_id,
                                  details="There are ports or subnets of other projects on this network "
                                          "that depend on this policy for access.")
    if row.action == visibility.EXTERNAL:
        if _network_external_users_left(session, network, row):
            raise exc.RbacPolicyInUse(object_id=row.object_id,
                                      details="There are routers attached to this network that depend "
                                              "on this policy for access.")
        if row.target_tenant == "*" and network.external is not None and network.external.is_default:
            raise exc.InvalidInput(error_message="Default external networks must be shared to everyone.")


def _network_shared_users_left(session, network, entry):
    """Whether ports or subnets of projects other than the owner would lose access."""
    lost = access_lost(session, net_models.NetworkRBAC, network, entry)
    if lost is None:
        return False
    ports = port_models.Port
    subnets = subnet_models.Subnet
    return _any(session, sa.select(ports.id).where(
        ports.network_id == network.id, lost.of(ports.project_id),
        sa.not_(ports.device_owner.startswith(_NETWORK_OWNED_PREFIX)))) or _any(
        session, sa.select(subnets.id).where(subnets.network_id == network.id, lost.of(subnets.project_id)))


def _network_external_users_left(session, network, entry):
    """Whether routers of projects other than the owner have their gateway on the network."""
    lost = access_lost(session, net_models.NetworkRBAC, network, entry)
    if lost is None:
        return False
    ports = port_models.Port
    return _any(session, sa.select(ports.id).where(
        ports.network_id == network.id, ports.device_owner == "network:router_gateway",
        lost.of(ports.project_id)))


def _any(session, select):
    return session.scalar(select.limit(1)) is not None
