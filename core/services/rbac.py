"""RBAC policies on networks: shared and external access for chosen projects (or '*')."""
import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.services import common, query, visibility

RBAC = net_models.NetworkRBAC
COLUMNS = {"id": RBAC.id, "tenant_id": RBAC.project_id, "project_id": RBAC.project_id,
           "object_id": RBAC.object_id, "target_tenant": RBAC.target_tenant, "action": RBAC.action}
# Owners whose ports never count as "another project uses this network".
_NETWORK_OWNED_PREFIX = "network:"


class RbacService:
    def __init__(self, quotas):
        self.quotas = quotas

    @staticmethod
    def make_dict(row):
        return {"id": row.id, "tenant_id": row.project_id, "project_id": row.project_id,
                "object_type": "network", "object_id": row.object_id,
                "target_tenant": row.target_tenant, "action": row.action}

    # --- used by the network service ---------------------------------------

    def add_wildcard(self, session, network, action):
        exists = session.scalar(sa.select(RBAC.id).where(RBAC.object_id == network.id, RBAC.action == action,
                                                         RBAC.target_tenant == "*"))
        if exists is None:
            session.add(RBAC(project_id=network.project_id, object_id=network.id, target_tenant="*",
                             action=action))

    def remove_wildcard_shared(self, session, network):
        entry = session.scalar(sa.select(RBAC).where(RBAC.object_id == network.id,
                                                     RBAC.action == visibility.SHARED,
                                                     RBAC.target_tenant == "*"))
        if entry is None:
            return
        if self._shared_users_left(session, network, entry):
            raise exc.InvalidSharedSetting(network=network.name or network.id)
        session.delete(entry)

    def make_internal(self, session, network):
        gateways = session.scalar(sa.select(sa.func.count()).select_from(port_models.Port).where(
            port_models.Port.network_id == network.id,
            port_models.Port.device_owner == "network:router_gateway"))
        if gateways:
            raise exc.ExternalNetworkInUse(net_id=network.id)
        session.execute(sa.delete(net_models.ExternalNetwork).where(
            net_models.ExternalNetwork.network_id == network.id))
        session.execute(sa.delete(RBAC).where(RBAC.object_id == network.id,
                                              RBAC.action == visibility.EXTERNAL))

    def _shared_users_left(self, session, network, entry):
        """Projects other than the owner using the network that would lose access."""
        remaining = session.execute(sa.select(RBAC.target_tenant).where(
            RBAC.object_id == network.id, RBAC.action == visibility.SHARED, RBAC.id != entry.id)).scalars().all()
        if "*" in remaining:
            return False
        allowed = set(remaining) | {network.project_id}
        if entry.target_tenant != "*":
            affected = {entry.target_tenant} - allowed
            if not affected:
                return False
        ports = port_models.Port
        stmt = sa.select(sa.func.count()).select_from(ports).where(
            ports.network_id == network.id, ports.project_id.not_in(allowed),
            sa.not_(ports.device_owner.startswith(_NETWORK_OWNED_PREFIX)))
        subnets = subnet_models.Subnet
        sub_stmt = sa.select(sa.func.count()).select_from(subnets).where(
            subnets.network_id == network.id, subnets.project_id.not_in(allowed))
        if entry.target_tenant != "*":
            stmt = stmt.where(ports.project_id == entry.target_tenant)
            sub_stmt = sub_stmt.where(subnets.project_id == entry.target_tenant)
        return bool(session.scalar(stmt) or session.scalar(sub_stmt))

    def _external_users_left(self, session, network, entry):
        remaining = session.execute(sa.select(RBAC.target_tenant).where(
            RBAC.object_id == network.id, RBAC.action == visibility.EXTERNAL, RBAC.id != entry.id)).scalars().all()
        if "*" in remaining:
            return False
        allowed = set(remaining) | {network.project_id}
        ports = port_models.Port
        stmt = sa.select(sa.func.count()).select_from(ports).where(
            ports.network_id == network.id, ports.device_owner == "network:router_gateway",
            ports.project_id.not_in(allowed))
        if entry.target_tenant != "*":
            stmt = stmt.where(ports.project_id == entry.target_tenant)
        return bool(session.scalar(stmt))

    # --- the rbac-policies resource ---------------------------------------

    def _visible(self, context, stmt):
        if context.is_admin:
            return stmt
        return stmt.where(RBAC.project_id == context.project_id)

    def _get_row(self, session, context, policy_id):
        row = session.scalar(self._visible(context, sa.select(RBAC).where(RBAC.id == policy_id)))
        if row is None:
            raise exc.RbacPolicyNotFound(object_type="network", id=policy_id)
        return row

    def get(self, context, policy_id, fields=None):
        with db_api.reader_scope() as session:
            return query.select_fields(self.make_dict(self._get_row(session, context, policy_id)), fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None):
        filters = dict(filters or {})
        object_types = filters.pop("object_type", None)
        if object_types is not None and "network" not in object_types:
            return []
        with db_api.reader_scope() as session:
            stmt = self._visible(context, sa.select(RBAC))
            rows, leftover = query.fetch_page(session, stmt, RBAC, COLUMNS, filters, sorts, limit, marker,
                                              page_reverse)
            items = [self.make_dict(r) for r in rows]
        return query.finish_page(items, leftover, page_reverse, fields)

    @db_api.retry_db_errors
    def create(self, context, data):
        with db_api.session_scope() as session:
            network = session.get(net_models.Network, data["object_id"])
            if network is None or not (context.is_admin or network.project_id == context.project_id or
                                       self._target_visible(session, context, network)):
                raise exc.NetworkNotFound(net_id=data["object_id"])
            if not context.is_admin and network.project_id != context.project_id:
                raise exc.InvalidInput(error_message="Only admins can manipulate policies on networks "
                                                     "they do not own")
            duplicate = session.scalar(sa.select(RBAC.id).where(
                RBAC.object_id == network.id, RBAC.action == data["action"],
                RBAC.target_tenant == data["target_tenant"]))
            if duplicate is not None:
                raise exc.DuplicateRbacPolicy()
            self.quotas.check(session, data["project_id"], "rbac_policy")
            row = RBAC(project_id=data["project_id"], object_id=network.id,
                       target_tenant=data["target_tenant"], action=data["action"])
            session.add(row)
            if data["action"] == visibility.EXTERNAL and network.external is None:
                # Granting external access turns the network external without opening it to all.
                session.add(net_models.ExternalNetwork(network_id=network.id))
            common.bump_revision(network)
            session.flush()
            return self.make_dict(row)

    @staticmethod
    def _target_visible(session, context, network):
        return session.scalar(sa.select(RBAC.id).where(
            RBAC.object_id == network.id, RBAC.target_tenant.in_(("*", context.project_id)))) is not None

    @db_api.retry_db_errors
    def update(self, context, policy_id, data):
        with db_api.session_scope() as session:
            row = self._get_row(session, context, policy_id)
            if "target_tenant" in data and data["target_tenant"] != row.target_tenant:
                self._check_removable(session, row)
                duplicate = session.scalar(sa.select(RBAC.id).where(
                    RBAC.object_id == row.object_id, RBAC.action == row.action,
                    RBAC.target_tenant == data["target_tenant"]))
                if duplicate is not None:
                    raise exc.DuplicateRbacPolicy()
                row.target_tenant = data["target_tenant"]
            session.flush()
            return self.make_dict(row)

    @db_api.retry_db_errors
    def delete(self, context, policy_id):
        with db_api.session_scope() as session:
            row = self._get_row(session, context, policy_id)
            self._check_removable(session, row)
            network = session.get(net_models.Network, row.object_id)
            session.delete(row)
            if network is not None:
                common.bump_revision(network)

    def _check_removable(self, session, row):
        network = session.get(net_models.Network, row.object_id)
        if network is None:
            return
        if row.action == visibility.SHARED and self._shared_users_left(session, network, row):
            raise exc.RbacPolicyInUse(object_id=row.object_id,
                                      details="There are ports or subnets of other projects on this network "
                                              "that depend on this policy for access.")
        if row.action == visibility.EXTERNAL:
            if self._external_users_left(session, network, row):
                raise exc.RbacPolicyInUse(object_id=row.object_id,
                                          details="There are routers attached to this network that depend "
                                                  "on this policy for access.")
            if row.target_tenant == "*" and network.external is not None and network.external.is_default:
                raise exc.InvalidInput(error_message="Default external networks must be shared to everyone.")
