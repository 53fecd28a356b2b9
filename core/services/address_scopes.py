"""Address scopes (address-scope): the subnet pools in one scope share an address
space, so their prefixes may not overlap and their IP version is the scope's."""
import netaddr
import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import address_scope as scope_models
from netweave.core.db.models import subnetpool as pool_models
from netweave.core.services import query, rbac, visibility

AddressScope = scope_models.AddressScope
SubnetPool = pool_models.SubnetPool

COLUMNS = {
    "id": AddressScope.id, "name": AddressScope.name, "tenant_id": AddressScope.project_id,
    "project_id": AddressScope.project_id, "shared": AddressScope.shared, "ip_version": AddressScope.ip_version,
}


def make_dict(row):
    return {"id": row.id, "name": row.name, "tenant_id": row.project_id, "project_id": row.project_id,
            "shared": row.shared, "ip_version": row.ip_version}


def overlapping(prefixes, other_prefixes):
    """Whether any CIDR of ``prefixes`` overlaps one of ``other_prefixes`` (pure)."""
    mine = netaddr.IPSet(prefixes)
    return any(mine & netaddr.IPSet([cidr]) for cidr in other_prefixes)


# --- rbac-policies on address scopes -------------------------------------------

RBAC = scope_models.AddressScopeRBAC


def shared_with(context):
    """SELECT of the ids of scopes shared with the caller's project (or every project)."""
    return visibility.granted_ids(RBAC, context.project_id)


def object_type():
    """The rbac-policies registration of address scopes (access_as_shared only)."""
    return rbac.RbacObjectType(
        name="address_scope", model=RBAC, actions=(visibility.SHARED,),
        load=lambda session, object_id: session.get(AddressScope, object_id),
        not_found=lambda object_id: exc.AddressScopeNotFound(address_scope_id=object_id),
        check_removable=_check_removable, plural="address scopes")


def _check_removable(session, scope, entry):
    """Refuse while pools of a project that only this policy lets in are in the scope."""
    lost = None if scope.shared else rbac.access_lost(session, RBAC, scope, entry)
    if lost is None:
        return
    stmt = sa.select(SubnetPool.id).where(SubnetPool.address_scope_id == scope.id, lost.of(SubnetPool.project_id))
    if session.scalar(stmt.limit(1)) is not None:
        raise exc.RbacPolicyInUse(object_id=scope.id, details="Subnet pools of projects that depend on this "
                                                              "policy for access are in the address scope.")


def _shared_for(session, context, items):
    """Mark ``shared`` the scopes shared with the caller's project through rbac-policies."""
    ids = [item["id"] for item in items if not item["shared"]]
    if ids:
        shared = set(session.scalars(shared_with(context).where(RBAC.object_id.in_(ids))))
        for item in items:
            item["shared"] = item["shared"] or item["id"] in shared
    return items


class AddressScopeService:
    def _visible(self, context, stmt):
        if context.is_admin:
            return stmt
        return stmt.where(sa.or_(AddressScope.project_id == context.project_id, AddressScope.shared.is_(True),
                                 AddressScope.id.in_(shared_with(context))))

    def get_row(self, session, context, scope_id):
        row = session.scalar(self._visible(context, sa.select(AddressScope).where(AddressScope.id == scope_id)))
        if row is None:
            raise exc.AddressScopeNotFound(address_scope_id=scope_id)
        return row

    def get(self, context, scope_id, fields=None):
        with db_api.reader_scope() as session:
            result = _shared_for(session, context, [make_dict(self.get_row(session, context, scope_id))])
            return query.select_fields(result[0], fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None, page_reverse=False):
        with db_api.reader_scope() as session:
            stmt = self._visible(context, sa.select(AddressScope))
            rows, leftover = query.fetch_page(session, stmt, AddressScope, COLUMNS, filters, sorts, limit, marker,
                                              page_reverse)
            items = _shared_for(session, context, [make_dict(r) for r in rows])
        return query.finish_page(items, leftover, page_reverse, fields)

    @db_api.retry_db_errors
    def create(self, context, data):
        with db_api.session_scope() as session:
            row = AddressScope(name=data.get("name", ""), project_id=data["project_id"],
                               shared=bool(data.get("shared")), ip_version=data["ip_version"])
            session.add(row)
            session.flush()
            return make_dict(row)

    @db_api.retry_db_errors
    def update(self, context, scope_id, data):
        with db_api.session_scope() as session:
            row = self.get_row(session, context, scope_id)
            if "shared" in data and row.shared and not data["shared"]:
                raise exc.AddressScopeUpdateError(address_scope_id=scope_id,
                                                  reason="Shared address scope can't be unshared")
            for key in ("name", "shared"):
                if key in data:
                    setattr(row, key, data[key])
            session.flush()
            return make_dict(row)

    @db_api.retry_db_errors
    def delete(self, context, scope_id):
        with db_api.session_scope() as session:
            row = self.get_row(session, context, scope_id)
            if session.scalar(sa.select(sa.func.count()).select_from(SubnetPool)
                              .where(SubnetPool.address_scope_id == scope_id)):
                raise exc.AddressScopeInUse(address_scope_id=scope_id)
            session.delete(row)

    # --- subnet pools joining a scope --------------------------------------------

    def check_pool_in_scope(self, session, context, pool_id, scope_id, ip_version, prefixes):
        """Raise unless a pool (``pool_id``: None for a new one) of ``ip_version`` and
        ``prefixes`` may be in scope ``scope_id``: the caller sees the scope and owns it
        or it is shared, the versions match, and no other pool of it overlaps."""
        if scope_id is None:
            return
        row = session.scalar(sa.select(AddressScope).where(AddressScope.id == scope_id))
        allowed = row is not None and (
            context.is_admin or row.shared or row.project_id == context.project_id
            or session.scalar(shared_with(context).where(RBAC.object_id == scope_id).limit(1)) is not None)
        if not allowed:
            raise exc.IllegalSubnetPoolAssociationToAddressScope(subnetpool_id=pool_id, address_scope_id=scope_id)
        if row.ip_version != ip_version:
            raise exc.IllegalSubnetPoolIpVersionAssociationToAddressScope(
                subnetpool_id=pool_id, address_scope_id=scope_id, ip_version=row.ip_version)
        others = sa.select(pool_models.SubnetPoolPrefix.cidr).join(
            SubnetPool, SubnetPool.id == pool_models.SubnetPoolPrefix.subnetpool_id).where(
            SubnetPool.address_scope_id == scope_id)
        if pool_id is not None:
            others = others.where(SubnetPool.id != pool_id)
        if overlapping(prefixes, session.scalars(others).all()):
            raise exc.AddressScopePrefixConflict()
