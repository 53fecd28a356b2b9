"""Subnet pools: prefixes that subnets are carved from, one default per IP version."""
import sqlalchemy as sa

from netweave.core import events
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import subnet as subnet_models
from netweave.core.db.models import subnetpool as pool_models
from netweave.core.ipam import prefix_allocator, subnet_request
from netweave.core.services import common, query, rbac, visibility
from netweave.core.services import tags as tagging

SubnetPool = pool_models.SubnetPool

COLUMNS = {
    "id": SubnetPool.id, "name": SubnetPool.name, "tenant_id": SubnetPool.project_id,
    "project_id": SubnetPool.project_id, "description": SubnetPool.description,
    "ip_version": SubnetPool.ip_version, "default_prefixlen": SubnetPool.default_prefixlen,
    "min_prefixlen": SubnetPool.min_prefixlen, "max_prefixlen": SubnetPool.max_prefixlen,
    "shared": SubnetPool.shared, "is_default": SubnetPool.is_default,
    "default_quota": SubnetPool.default_quota, "address_scope_id": SubnetPool.address_scope_id,
    "created_at": SubnetPool.created_at, "updated_at": SubnetPool.updated_at,
    "revision_number": SubnetPool.revision_number,
}


def make_dict(row, tags=None):
    result = common.standard_dict(row, tags)
    result.update({
        "prefixes": sorted((p.cidr for p in row.prefixes), key=_cidr_key),
        "ip_version": row.ip_version,
        "default_prefixlen": row.default_prefixlen,
        "min_prefixlen": row.min_prefixlen,
        "max_prefixlen": row.max_prefixlen,
        "shared": row.shared,
        "is_default": row.is_default,
        "default_quota": row.default_quota,
        "address_scope_id": row.address_scope_id,
    })
    return result


def _cidr_key(cidr):
    import netaddr
    net = netaddr.IPNetwork(cidr)
    return (net.version, net.first, net.prefixlen)


# --- rbac-policies on subnet pools --------------------------------------------

RBAC = pool_models.SubnetPoolRBAC


def shared_with(context):
    """SELECT of the ids of pools shared with the caller's project (or every project)."""
    return visibility.granted_ids(RBAC, context.project_id)


def object_type():
    """The rbac-policies registration of subnet pools (access_as_shared only)."""
    return rbac.RbacObjectType(
        name="subnetpool", model=RBAC, actions=(visibility.SHARED,),
        load=lambda session, object_id: session.get(SubnetPool, object_id),
        not_found=lambda object_id: exc.SubnetPoolNotFound(subnetpool_id=object_id),
        check_removable=_check_removable, plural="subnetpools")


def _check_removable(session, pool, entry):
    """Refuse while subnets of a project that only this policy lets in were carved from the pool."""
    lost = None if pool.shared else rbac.access_lost(session, RBAC, pool, entry)
    if lost is None:
        return
    subnets = subnet_models.Subnet
    stmt = sa.select(subnets.id).where(subnets.subnetpool_id == pool.id, lost.of(subnets.project_id))
    if session.scalar(stmt.limit(1)) is not None:
        raise exc.RbacPolicyInUse(object_id=pool.id, details="Subnets of projects that depend on this policy "
                                                             "for access were allocated from the pool.")


def _shared_for(session, context, items):
    """Mark ``shared`` the pools shared with the caller's project through rbac-policies
    (Neutron shows them shared to their targets; the policy's shared_subnetpools rule reads it)."""
    ids = [item["id"] for item in items if not item["shared"]]
    if ids:
        shared = set(session.scalars(shared_with(context).where(RBAC.object_id.in_(ids))))
        for item in items:
            item["shared"] = item["shared"] or item["id"] in shared
    return items


class SubnetPoolService:
    """Subnet pools, publishing every write to ``registry`` (events.SUBNETPOOL);
    ``via_api`` as for networks."""

    def __init__(self, conf, quotas, registry, address_scopes=None):
        self.conf = conf
        self.quotas = quotas
        self.events = registry
        # Checks a pool joining an address scope (None: scopes are not checked).
        self.address_scopes = address_scopes

    def _visible(self, context, stmt):
        if context.is_admin:
            return stmt
        return stmt.where(sa.or_(SubnetPool.project_id == context.project_id, SubnetPool.shared.is_(True),
                                 SubnetPool.id.in_(shared_with(context))))

    def get_row(self, session, context, pool_id):
        row = session.scalar(self._visible(context, sa.select(SubnetPool).where(SubnetPool.id == pool_id)))
        if row is None:
            raise exc.SubnetPoolNotFound(subnetpool_id=pool_id)
        return row

    def pool_for_subnet(self, session, context, source):
        """The pool a subnet request names, or the default pool of its IP version."""
        if source.subnetpool_id:
            return self.get_row(session, context, source.subnetpool_id)
        row = session.scalar(self._visible(context, sa.select(SubnetPool).where(
            SubnetPool.is_default.is_(True), SubnetPool.ip_version == source.ip_version)))
        if row is None:
            raise subnet_request.no_default_subnetpool(source.ip_version)
        return row

    def get(self, context, pool_id, fields=None):
        with db_api.reader_scope() as session:
            row = self.get_row(session, context, pool_id)
            result = _shared_for(session, context, [make_dict(row, common.load_tags(session, [row.id])[row.id])])
            return query.select_fields(result[0], fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None):
        with db_api.reader_scope() as session:
            stmt = self._visible(context, sa.select(SubnetPool))
            rows, leftover = query.fetch_page(session, stmt, SubnetPool, COLUMNS, filters, sorts, limit, marker,
                                              page_reverse, tag_filters)
            tags = common.load_tags(session, [r.id for r in rows])
            items = _shared_for(session, context, [make_dict(r, tags[r.id]) for r in rows])
        return query.finish_page(items, leftover, page_reverse, fields)

    def _check_single_default(self, session, ip_version, exclude_id=None):
        stmt = sa.select(SubnetPool.id).where(SubnetPool.is_default.is_(True),
                                              SubnetPool.ip_version == ip_version)
        if exclude_id:
            stmt = stmt.where(SubnetPool.id != exclude_id)
        if session.scalar(stmt) is not None:
            raise exc.InvalidInput(error_message="A default subnetpool for this IP family has already been "
                                                 "set. Only one default may exist per IP family")

    def create(self, context, data, *, via_api=False):
        self.events.publish(events.SUBNETPOOL, events.Event.BEFORE_CREATE,
                            events.Payload(context, current=data, request=data, via_api=via_api))
        result = self._create_committed(context, data, via_api)
        self.events.publish(events.SUBNETPOOL, events.Event.AFTER_CREATE,
                            events.Payload(context, result["id"], current=result, request=data, via_api=via_api))
        return result

    @db_api.retry_db_errors
    def _create_committed(self, context, data, via_api):
        values = prefix_allocator.validate_pool_request(
            data["prefixes"], data.get("min_prefixlen"), data.get("max_prefixlen"), data.get("default_prefixlen"))
        with db_api.session_scope() as session:
            if data.get("is_default"):
                self._check_single_default(session, values["ip_version"])
            self.quotas.check(session, data["project_id"], "subnetpool")
            if self.address_scopes is not None:
                self.address_scopes.check_pool_in_scope(session, context, None, data.get("address_scope_id"),
                                                        values["ip_version"], values["prefixes"])
            row = SubnetPool(project_id=data["project_id"], name=data.get("name", ""),
                             description=data.get("description", ""), ip_version=values["ip_version"],
                             default_prefixlen=values["default_prefixlen"],
                             min_prefixlen=values["min_prefixlen"], max_prefixlen=values["max_prefixlen"],
                             shared=bool(data.get("shared")), is_default=bool(data.get("is_default")),
                             default_quota=data.get("default_quota"),
                             address_scope_id=data.get("address_scope_id"))
            row.prefixes = [pool_models.SubnetPoolPrefix(cidr=c) for c in values["prefixes"]]
            session.add(row)
            session.flush()
            result = make_dict(row, tagging.write_on_create(session, "subnetpool", row.id, data.get("tags")))
            self.events.publish(events.SUBNETPOOL, events.Event.PRECOMMIT_CREATE, events.Payload(
                context, row.id, current=result, request=data, session=session, via_api=via_api))
        return result

    def update(self, context, pool_id, data, *, via_api=False):
        if self.events.has_subscribers(events.SUBNETPOOL, events.Event.BEFORE_UPDATE):
            self.events.publish(events.SUBNETPOOL, events.Event.BEFORE_UPDATE, events.Payload(
                context, pool_id, original=self.get(context, pool_id), request=data, via_api=via_api))
        original, result = self._update_committed(context, pool_id, data, via_api)
        self.events.publish(events.SUBNETPOOL, events.Event.AFTER_UPDATE, events.Payload(
            context, pool_id, original=original, current=result, request=data, via_api=via_api))
        return result

    @db_api.retry_db_errors
    def _update_committed(self, context, pool_id, data, via_api):
        with db_api.session_scope() as session:
            row = self.get_row(session, context, pool_id)
            original = make_dict(row, common.load_tags(session, [row.id])[row.id])
            used = prefix_allocator.used_cidrs_of_pool(session, row.id)
            changes = prefix_allocator.validate_pool_update(prefix_allocator.PoolSpec.of_row(row), data, used)
            for key in ("name", "description", "default_quota", "address_scope_id"):
                if key in data:
                    setattr(row, key, data[key])
            for key in ("min_prefixlen", "max_prefixlen", "default_prefixlen"):
                if key in changes:
                    setattr(row, key, changes[key])
            if self.address_scopes is not None and ("address_scope_id" in data or "prefixes" in changes):
                self.address_scopes.check_pool_in_scope(
                    session, context, row.id, row.address_scope_id, row.ip_version,
                    changes.get("prefixes") or [p.cidr for p in row.prefixes])
            if "is_default" in data and data["is_default"] != row.is_default:
                if data["is_default"]:
                    self._check_single_default(session, row.ip_version, exclude_id=row.id)
                row.is_default = data["is_default"]
            if "prefixes" in changes:
                row.prefixes = []
                session.flush()
                row.prefixes = [pool_models.SubnetPoolPrefix(cidr=c) for c in changes["prefixes"]]
            common.bump_revision(row)
            session.flush()
            result = make_dict(row, list(original["tags"]))
            self.events.publish(events.SUBNETPOOL, events.Event.PRECOMMIT_UPDATE, events.Payload(
                context, pool_id, original=original, current=result, request=data, session=session,
                via_api=via_api))
        return original, result

    def delete(self, context, pool_id, *, via_api=False):
        if self.events.has_subscribers(events.SUBNETPOOL, events.Event.BEFORE_DELETE):
            self.events.publish(events.SUBNETPOOL, events.Event.BEFORE_DELETE, events.Payload(
                context, pool_id, original=self.get(context, pool_id), via_api=via_api))
        result = self._delete_committed(context, pool_id, via_api)
        self.events.publish(events.SUBNETPOOL, events.Event.AFTER_DELETE,
                            events.Payload(context, pool_id, original=result, via_api=via_api))

    @db_api.retry_db_errors
    def _delete_committed(self, context, pool_id, via_api):
        with db_api.session_scope() as session:
            row = self.get_row(session, context, pool_id)
            in_use = session.scalar(sa.select(sa.func.count()).select_from(subnet_models.Subnet)
                                    .where(subnet_models.Subnet.subnetpool_id == pool_id))
            if in_use:
                raise exc.SubnetPoolInUse(subnet_pool_id=pool_id, reason="Subnet pool has existing allocations")
            result = make_dict(row, common.load_tags(session, [row.id])[row.id])
            self.events.publish(events.SUBNETPOOL, events.Event.PRECOMMIT_DELETE, events.Payload(
                context, pool_id, original=result, session=session, via_api=via_api))
            common.delete_tags(session, pool_id)
            session.delete(row)
        return result
