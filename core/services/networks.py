"""Networks: rows, segments through the TypeManager, shared/external through RBAC."""
import collections
import functools
import json
import logging
import types

import sqlalchemy as sa

from netweave.core import events
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.db.models import subnetpool as pool_models
from netweave.core.db.models import tag as tag_model
from netweave.core.services import common, query, resource_extenders, visibility
from netweave.core.services import page as page_mod
from netweave.core.services import tags as tagging

LOG = logging.getLogger(__name__)

PROVIDER_ATTRS = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")

Network = net_models.Network

COLUMNS = {
    "id": Network.id, "name": Network.name, "tenant_id": Network.project_id,
    "project_id": Network.project_id, "description": Network.description,
    "admin_state_up": Network.admin_state_up, "status": Network.status, "mtu": Network.mtu,
    "created_at": Network.created_at, "updated_at": Network.updated_at,
    "revision_number": Network.revision_number,
}


# The smallest MTU each IP version works over (RFC 791, RFC 8200).
IP_MIN_MTU = {4: 68, 6: 1280}


def check_mtu_carries(mtu, ip_versions):
    """Refuse an MTU too small for a subnet of the network (Neutron refuses an IPv4
    subnet below 68 and an IPv6 one below 1280, on subnet create and MTU update)."""
    if mtu is None:
        return
    for version in sorted(set(ip_versions)):
        if mtu < IP_MIN_MTU[version]:
            raise exc.InvalidInput(error_message="Network MTU %d is too small for IPv%d subnets: the minimum "
                                                 "is %d" % (mtu, version, IP_MIN_MTU[version]))



def add_address_scopes(session, items):
    """Set the read-only ``ipv4_address_scope`` / ``ipv6_address_scope`` of network dicts
    (address-scope): the scope of the subnet pools their subnets of that version came
    from, None when there is none. One query for all of ``items``."""
    by_id = {item["id"]: item for item in items}
    for item in items:
        item["ipv4_address_scope"] = item["ipv6_address_scope"] = None
    if not by_id:
        return items
    subnets, pools = subnet_models.Subnet, pool_models.SubnetPool
    rows = session.execute(sa.select(subnets.network_id, subnets.ip_version, pools.address_scope_id)
                           .join(pools, pools.id == subnets.subnetpool_id)
                           .where(subnets.network_id.in_(list(by_id)), pools.address_scope_id.is_not(None)))
    for network_id, ip_version, scope_id in rows:
        by_id[network_id]["ipv%d_address_scope" % ip_version] = scope_id
    return items

_NETWORKS = Network.__table__
_EXTERNAL = net_models.ExternalNetwork.__table__
# What every page read of networks selects: the network's row and whether it is external.
_NETWORK_ROWS = sa.select(*_NETWORKS.columns, _EXTERNAL.c.network_id.label("external_id")).outerjoin(
    _EXTERNAL, _EXTERNAL.c.network_id == _NETWORKS.c.id)
# One network by id, as a page of one (bind network_id); its sides are read by network_id.
_ONE_NETWORK = page_mod.Page(_NETWORK_ROWS.where(_NETWORKS.c.id == page_mod.bound("network_id")), _NETWORKS.c.id,
                             key_param="network_id")


def _visible_to(project_id):
    """visibility.networks_visible_to with the project as a bound parameter (templates)."""
    rbac = net_models.NetworkRBAC.__table__
    return sa.or_(_NETWORKS.c.project_id == project_id, _NETWORKS.c.id.in_(
        sa.select(rbac.c.object_id).where(rbac.c.target_tenant.in_((sa.literal("*"), project_id)),
                                          rbac.c.action.in_((visibility.SHARED, visibility.EXTERNAL)))))


# ... and bind project_id too for a caller who is not an admin.
_ONE_VISIBLE_NETWORK = page_mod.Page(_ONE_NETWORK.statement.where(_visible_to(page_mod.bound("project_id"))),
                                     _NETWORKS.c.id, key_param="network_id")

# The owners of some networks (bind network_ids), and of those a caller who is not an
# admin sees (bind project_id too): every request of a project member on a port asks.
_OWNERS = sa.select(_NETWORKS.c.id, _NETWORKS.c.project_id).where(
    _NETWORKS.c.id.in_(sa.bindparam("network_ids", expanding=True)))
_VISIBLE_OWNERS = _OWNERS.where(_visible_to(page_mod.bound("project_id")))


def owner_of(network_id, visible_to=None):
    """The owner of network ``network_id`` (a column of the enclosing statement), as a
    scalar subquery of another read; with ``visible_to`` (a project id, a value or bound
    parameter) NULL unless that project sees the network, as owners() answers."""
    stmt = sa.select(_NETWORKS.c.project_id).where(_NETWORKS.c.id == network_id)
    if visible_to is not None:
        stmt = stmt.where(_visible_to(visible_to))
    return stmt.scalar_subquery()

_SEGMENTS_T = net_models.NetworkSegment.__table__
_PAGE_SEGMENTS = page_mod.Side(_SEGMENTS_T.c.network_id, _SEGMENTS_T.c.id, _SEGMENTS_T.c.network_type,
                               _SEGMENTS_T.c.physical_network, _SEGMENTS_T.c.segmentation_id,
                               order_by=(_SEGMENTS_T.c.network_id, _SEGMENTS_T.c.segment_index))
_RBAC_T = net_models.NetworkRBAC.__table__
_PAGE_RBAC = page_mod.Side(_RBAC_T.c.object_id, _RBAC_T.c.action, _RBAC_T.c.target_tenant)
_SUBNETS_T = subnet_models.Subnet.__table__
_POOLS_T = pool_models.SubnetPool.__table__
# Each subnet with the address scope of the pool it came from (NULL: none): the network's
# ``subnets`` and its ``ipv4/ipv6_address_scope`` from one side.
_SUBNET_SCOPE = sa.select(_POOLS_T.c.address_scope_id).where(
    _POOLS_T.c.id == _SUBNETS_T.c.subnetpool_id).correlate(_SUBNETS_T).scalar_subquery().label("address_scope_id")
_PAGE_SUBNETS = page_mod.Side(_SUBNETS_T.c.network_id, _SUBNETS_T.c.id, _SUBNETS_T.c.ip_version, _SUBNET_SCOPE,
                              order_by=(_SUBNETS_T.c.network_id, _SUBNETS_T.c.created_at, _SUBNETS_T.c.id))
_TAGS_T = tag_model.Tag.__table__
_PAGE_TAGS = page_mod.Side(_TAGS_T.c.resource_id, _TAGS_T.c.tag)
_SIDES = (_PAGE_SEGMENTS, _PAGE_RBAC, _PAGE_SUBNETS, _PAGE_TAGS)


@functools.lru_cache(maxsize=16)
def _named_row_type(keys):
    return collections.namedtuple("NetworkRow", keys)


def _grouped(rows):
    """{key: [the rest of each row, as a tuple]} of side rows (key first), in their order."""
    result = {}
    for row in rows:
        result.setdefault(row[0], []).append(tuple(row[1:]))
    return result


def network_dict(context, row, tags, subnet_ids, rbac_entries, external):
    """A network's API dict but for its provider attributes and the extension drivers'
    and extenders' ones: ``rbac_entries`` are (action, target_tenant) pairs."""
    result = common.standard_dict(row, tags)
    targets = ("*", context.project_id) if context is not None else ("*",)
    result.update({
        "admin_state_up": row.admin_state_up,
        "status": row.status,
        "mtu": row.mtu,
        "subnets": subnet_ids,
        "shared": any(action == visibility.SHARED and target in targets for action, target in rbac_entries),
        "router:external": external,
        "availability_zone_hints": _zone_hints(row.availability_zone_hints),
    })
    return result


def _zone_hints(stored):
    # Nearly every network has none: a list of them need not decode "[]" each time.
    return [] if stored in (None, "", "[]") else json.loads(stored)


class NetworkService:
    """Networks, publishing every write to ``registry`` (events.NETWORK).

    The public writes take ``via_api``: true when the REST API asked for the
    change, false (the default) when a plugin changes a network for itself.
    """

    def __init__(self, conf, type_manager, mechanism_manager, extension_manager, quotas, rbac, registry,
                 notifier=None, extenders=None):
        self.conf = conf
        self.types = type_manager
        self.mechanisms = mechanism_manager
        self.extensions = extension_manager
        self.quotas = quotas
        self.rbac = rbac
        self.events = registry
        # Tells the agents about changes after commit (None: nobody to tell).
        self.notifier = notifier
        # Attributes service plugins add to networks read back (resource_extenders.py).
        self.extenders = extenders if extenders is not None else resource_extenders.ResourceExtenders()
        # Device owners whose ports go with their network (Neutron's AUTO_DELETE_PORT_OWNERS),
        # declared by the code that owns such ports.
        self._auto_delete_owners = set()

    # --- ports that go with their network -------------------------------

    def declare_auto_delete_port_owner(self, device_owner):
        """Ports of ``device_owner`` are deleted with their network (and give up their
        addresses when their subnet is deleted) instead of keeping it in use."""
        if not device_owner:
            raise ValueError("an auto-delete port owner needs a device_owner")
        self._auto_delete_owners.add(device_owner)

    @property
    def auto_delete_port_owners(self):
        """The declared owners, sorted (the delete queries' parameter)."""
        return tuple(sorted(self._auto_delete_owners))

    # --- dicts -----------------------------------------------------------

    def make_dict(self, context, row, tags=None):
        """The API dict of a Network object, or of a network snapshot (network_snapshot.py)."""
        result = network_dict(context, row, tags, [s.id for s in row.subnets],
                              [(e.action, e.target_tenant) for e in row.rbac_entries], row.external is not None)
        self.types.extend_network_dict_provider(result, [segment_dict(s) for s in row.segments])
        if self.extensions is not None:
            self.extensions.extend_network_dict(None, row, result)
        return result

    # --- reads -----------------------------------------------------------

    def _visible(self, context, stmt):
        if context.is_admin:
            return stmt
        return stmt.where(visibility.networks_visible_to(context))

    def get_row(self, session, context, network_id):
        stmt = self._visible(context, sa.select(Network).where(Network.id == network_id))
        row = session.scalar(stmt)
        if row is None:
            raise exc.NetworkNotFound(net_id=network_id)
        return row

    def _read(self, connection, context, page, segments_out=None):
        """The API dicts of the networks of ``page`` (a page_mod.Page of a _NETWORK_ROWS
        statement) read on ``connection`` (a Core Connection): one statement reads the
        networks, one more every side table of
        the page (segments, RBAC entries, subnets with their address scopes, tags and
        the extension drivers' tables), however many networks the page holds.
        ``segments_out``, when given, receives {network_id: its segment dicts}."""
        sides = list(_SIDES)
        if self.extensions is not None:
            sides += self.extensions.network_page_sides
        # The networks, then their sides (a single network's in the same statement).
        keys, found = page.read(connection, sides)
        if not found:
            return []
        row_type = _named_row_type(keys)
        rows = [row_type._make(r) for r in found]
        segments = _grouped(page.rows(connection, _PAGE_SEGMENTS))
        rbac = _grouped(page.rows(connection, _PAGE_RBAC))
        subnets = _grouped(page.rows(connection, _PAGE_SUBNETS))
        tags = _grouped(page.rows(connection, _PAGE_TAGS))
        items = []
        for row in rows:
            own_subnets = subnets.get(row.id, ())
            # Sorted here, not by the database, whose collation may order differently.
            result = network_dict(context, row, sorted(tag for (tag,) in tags.get(row.id, ())),
                                  [subnet_id for subnet_id, _version, _scope in own_subnets],
                                  rbac.get(row.id, ()), row.external_id is not None)
            own_segments = [{"id": segment_id, "network_type": network_type, "physical_network": physnet,
                             "segmentation_id": segmentation_id}
                            for segment_id, network_type, physnet, segmentation_id in segments.get(row.id, ())]
            self.types.extend_network_dict_provider(result, own_segments)
            if segments_out is not None:
                segments_out[row.id] = own_segments
            result["ipv4_address_scope"] = result["ipv6_address_scope"] = None
            for _subnet_id, version, scope in own_subnets:
                if scope is not None:
                    result["ipv%d_address_scope" % version] = scope
            items.append(result)
        if self.extensions is not None:
            self.extensions.extend_network_dicts(connection, {item["id"]: item for item in items}, page)
        self.extenders.extend(events.NETWORK, connection, items)
        return items

    def read_one(self, connection, context, network_id, segments_out=None):
        """The API dict of a network the caller may see (else NetworkNotFound), read on
        ``connection`` (a Core Connection)."""
        if context.is_admin:
            page = _ONE_NETWORK.bind(network_id=network_id)
        else:
            page = _ONE_VISIBLE_NETWORK.bind(network_id=network_id, project_id=context.project_id)
        found = self._read(connection, context, page, segments_out)
        if not found:
            raise exc.NetworkNotFound(net_id=network_id)
        return found[0]

    def get(self, context, network_id, fields=None):
        with db_api.reader_connection() as connection:
            return query.select_fields(self.read_one(connection, context, network_id), fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None):
        with db_api.reader_connection() as connection:
            stmt = self._visible(context, _NETWORK_ROWS)
            filters = dict(filters or {})
            stmt = self._filter_special(context, stmt, filters)
            stmt, leftover = query.page_statement(connection, stmt, Network, COLUMNS, filters, sorts, limit,
                                                  marker, page_reverse, tag_filters)
            items = self._read(connection, context, page_mod.Page(stmt, _NETWORKS.c.id))
        return query.finish_page(items, leftover, page_reverse, fields)

    def _filter_special(self, context, stmt, filters):
        """Filters on derived attributes (shared, router:external, provider:*) as SQL."""
        rbac = net_models.NetworkRBAC
        if "shared" in filters:
            wanted = filters.pop("shared")
            shared_ids = sa.select(rbac.object_id).where(
                rbac.action == visibility.SHARED, rbac.target_tenant.in_(("*", context.project_id)))
            clauses = []
            if True in wanted:
                clauses.append(Network.id.in_(shared_ids))
            if False in wanted:
                clauses.append(Network.id.not_in(shared_ids))
            stmt = stmt.where(sa.or_(*clauses))
        if "router:external" in filters:
            wanted = filters.pop("router:external")
            ext_ids = sa.select(net_models.ExternalNetwork.network_id)
            clauses = []
            if True in wanted:
                clauses.append(Network.id.in_(ext_ids))
            if False in wanted:
                clauses.append(Network.id.not_in(ext_ids))
            stmt = stmt.where(sa.or_(*clauses))
        seg = net_models.NetworkSegment
        for attr, column in (("provider:network_type", seg.network_type),
                             ("provider:physical_network", seg.physical_network),
                             ("provider:segmentation_id", seg.segmentation_id)):
            if attr in filters:
                values = filters.pop(attr)
                stmt = stmt.where(Network.id.in_(sa.select(seg.network_id).where(column.in_(values))))
        if "subnets" in filters:
            from netweave.core.db.models import subnet as subnet_models
            values = filters.pop("subnets")
            stmt = stmt.where(Network.id.in_(sa.select(subnet_models.Subnet.network_id)
                                             .where(subnet_models.Subnet.id.in_(values))))
        return stmt

    def owners(self, context, network_ids):
        """{network_id: owner project} for the networks the caller can see."""
        if not network_ids:
            return {}
        params = {"network_ids": list(network_ids)}
        if context.is_admin:
            stmt = _OWNERS
        else:
            stmt = _VISIBLE_OWNERS
            params["project_id"] = context.project_id
        with db_api.reader_connection() as connection:
            return dict(connection.execute(stmt, params).all())

    # --- writes ----------------------------------------------------------
    # Each write: BEFORE_<op> (a veto stops it), the transaction with the mechanism
    # drivers' precommit then PRECOMMIT_<op>, commit, the drivers' postcommit then
    # AFTER_<op>. Only the transaction is retried when it lost a race.

    def create(self, context, data, *, via_api=False):
        self.events.publish(events.NETWORK, events.Event.BEFORE_CREATE,
                            events.Payload(context, current=data, request=data, via_api=via_api))
        result, mech_context = self._create_committed(context, data, via_api)
        self.mechanisms.create_network_postcommit(mech_context)
        self.events.publish(events.NETWORK, events.Event.AFTER_CREATE,
                            events.Payload(context, result["id"], current=result, request=data, via_api=via_api))
        return result

    @db_api.retry_db_errors
    def _create_committed(self, context, data, via_api):
        from netweave.core.plugins.ml2 import driver_context
        with db_api.session_scope() as session:
            self.quotas.check(session, data["project_id"], "network")
            # Segments first: the network's row is then inserted with its MTU, not updated for it.
            segments = self.types.create_network_segments(session, data, data["project_id"])
            # Plain inserts of what the ORM would store: its unit of work cost a network
            # create more than the statements did.
            values = common.new_standard_values(data)
            values.update(admin_state_up=common.or_default(data.get("admin_state_up"), True), status="ACTIVE",
                          mtu=self._mtu(segments, data.get("mtu")), vlan_transparent=None,
                          availability_zone_hints=json.dumps(data.get("availability_zone_hints") or []))
            session.execute(sa.insert(Network.__table__), values)
            row = types.SimpleNamespace(**values)  # read by attribute, as a row
            segment_rows = [types.SimpleNamespace(**{
                "id": model_base.new_uuid(), "network_id": row.id, "network_type": segment["network_type"],
                "physical_network": segment.get("physical_network"),
                "segmentation_id": segment.get("segmentation_id"), "is_dynamic": False, "segment_index": index})
                for index, segment in enumerate(segments)]
            if segment_rows:
                session.execute(sa.insert(net_models.NetworkSegment.__table__),
                                [vars(segment) for segment in segment_rows])
            entries = []
            if data.get("shared"):
                self.rbac.add_wildcard(session, row, visibility.SHARED)
                entries.append((visibility.SHARED, "*"))
            if data.get("router:external"):
                session.add(net_models.ExternalNetwork(network_id=row.id))
                self.rbac.add_wildcard(session, row, visibility.EXTERNAL)
            # The RBAC and external rows above are ORM objects: written before the hooks
            # below read (a flush with none pending returns at once).
            session.flush()
            # The answer is what was written (a new network has no subnets yet), not read back.
            result = network_dict(context, row, tagging.write_on_create(session, "network", row.id,
                                                                        data.get("tags")),
                                  [], entries, bool(data.get("router:external")))
            self.types.extend_network_dict_provider(result, [segment_dict(s) for s in segment_rows])
            result["ipv4_address_scope"] = result["ipv6_address_scope"] = None
            self.extenders.extend(events.NETWORK, session, [result])
            if self.extensions is not None:
                self.extensions.process_create_network(context, session, data, result)
            mech_context = driver_context.NetworkContext(context, session, result, segments=segments)
            self.mechanisms.create_network_precommit(mech_context)
            self.events.publish(events.NETWORK, events.Event.PRECOMMIT_CREATE, events.Payload(
                context, row.id, current=result, request=data, session=session, via_api=via_api))
        return result, mech_context

    def _mtu(self, segments, requested):
        maximum = self.types.get_network_mtu(segments)
        if requested is None:
            return maximum
        if maximum and requested > maximum:
            raise exc.InvalidInput(error_message="Requested MTU is too big, maximum is %d" % maximum)
        return requested

    def update(self, context, network_id, data, *, via_api=False):
        if self.events.has_subscribers(events.NETWORK, events.Event.BEFORE_UPDATE):
            self.events.publish(events.NETWORK, events.Event.BEFORE_UPDATE, events.Payload(
                context, network_id, original=self.get(context, network_id), request=data, via_api=via_api))
        original, result, mech_context = self._update_committed(context, network_id, data, via_api)
        self.mechanisms.update_network_postcommit(mech_context)
        # Agents act on a network's state and MTU only, so only those changes are sent.
        changed = any(original.get(key) != result.get(key) for key in ("admin_state_up", "mtu"))
        if self.notifier is not None and changed:
            self.notifier.network_update(context, result)
        self.events.publish(events.NETWORK, events.Event.AFTER_UPDATE, events.Payload(
            context, network_id, original=original, current=result, request=data, via_api=via_api))
        return result

    @db_api.retry_db_errors
    def _update_committed(self, context, network_id, data, via_api):
        from netweave.core.plugins.ml2 import driver_context
        with db_api.session_scope() as session:
            row = self.get_row(session, context, network_id)
            original = self.make_dict(context, row)
            self._check_provider_update(original, data)
            for key in ("name", "description", "admin_state_up"):
                if key in data:
                    setattr(row, key, data[key])
            if "mtu" in data:
                row.mtu = self._mtu([segment_dict(s) for s in row.segments], data["mtu"])
                check_mtu_carries(row.mtu, [s.ip_version for s in row.subnets])
            if "shared" in data and data["shared"] != original["shared"]:
                if data["shared"]:
                    self.rbac.add_wildcard(session, row, visibility.SHARED)
                else:
                    self.rbac.remove_wildcard_shared(session, row)
            if "router:external" in data and data["router:external"] != original["router:external"]:
                if data["router:external"]:
                    session.add(net_models.ExternalNetwork(network_id=row.id))
                    self.rbac.add_wildcard(session, row, visibility.EXTERNAL)
                else:
                    self.rbac.make_internal(session, row)
            common.bump_revision(row)
            session.flush()
            session.expire(row)
            result = self.make_dict(context, row, common.load_tags(session, [row.id])[row.id])
            add_address_scopes(session, [result])
            self.extenders.extend(events.NETWORK, session, [result])
            if self.extensions is not None:
                self.extensions.process_update_network(context, session, data, result)
            mech_context = driver_context.NetworkContext(context, session, result, original=original,
                                                         segments=[segment_dict(s) for s in row.segments])
            self.mechanisms.update_network_precommit(mech_context)
            self.events.publish(events.NETWORK, events.Event.PRECOMMIT_UPDATE, events.Payload(
                context, network_id, original=original, current=result, request=data, session=session,
                via_api=via_api))
        return original, result, mech_context

    @staticmethod
    def _check_provider_update(original, data):
        for attr in PROVIDER_ATTRS:
            if attr in data and data[attr] != original.get(attr):
                raise exc.InvalidInput(error_message="Plugin does not support updating provider attributes")

    def delete(self, context, network_id, *, via_api=False):
        result, mech_context = self._delete_committed(context, network_id, via_api)
        self.mechanisms.delete_network_postcommit(mech_context)
        if self.notifier is not None:
            self.notifier.network_delete(context, network_id)
        self.events.publish(events.NETWORK, events.Event.AFTER_DELETE,
                            events.Payload(context, network_id, original=result, via_api=via_api))

    @db_api.retry_db_errors
    def _delete_committed(self, context, network_id, via_api):
        """Read the network once (outside the write lock on SQLite) for the hooks and
        the answer, then delete it with one statement matching the revision read: the
        database removes its segments, subnets and side rows (ON DELETE CASCADE)."""
        try:
            return self._delete_once(context, network_id, via_api)
        except sa.exc.IntegrityError as error:
            if db_api.is_foreign_key_violation(error):
                # A port arrived after the count: the retry counts again (NetworkInUse).
                raise db_api.RetryRequest() from error
            raise

    def _delete_once(self, context, network_id, via_api):
        from netweave.core.plugins.ml2 import driver_context
        segments = {}
        with db_api.reader_connection() as connection:
            original = self.read_one(connection, context, network_id, segments_out=segments)
        segments = segments.get(network_id, [])
        if self.events.has_subscribers(events.NETWORK, events.Event.BEFORE_DELETE):
            self.events.publish(events.NETWORK, events.Event.BEFORE_DELETE, events.Payload(
                context, network_id, original=original, via_api=via_api))
        owners = list(self.auto_delete_port_owners)
        with db_api.session_scope() as session:
            common.check_revision_precondition(session, network_id, original["revision_number"])
            total, going = session.execute(_COUNT_PORTS, {"network_id": network_id, "owners": owners}).one()
            if total != going:
                raise exc.NetworkInUse(net_id=network_id)
            if going:
                # Ports of the declared owners go with the network (their bindings and
                # addresses by cascade); ports themselves do not cascade from networks.
                session.execute(_DELETE_OWNED_PORTS, {"network_id": network_id, "owners": owners})
            mech_context = driver_context.NetworkContext(context, session, original, segments=segments)
            self.mechanisms.delete_network_precommit(mech_context)
            self.events.publish(events.NETWORK, events.Event.PRECOMMIT_DELETE, events.Payload(
                context, network_id, original=original, session=session, via_api=via_api))
            self.types.release_network_segments(session, segments)
            if original["tags"] or original["subnets"]:
                # Tags name their resource without a foreign key: nothing cascades to them.
                # (A subnet made since the read moved the revision: the DELETE below misses.)
                session.execute(sa.delete(_TAGS_T).where(_TAGS_T.c.resource_id.in_(
                    [network_id] + original["subnets"])))
            deleted = session.execute(_DELETE_NETWORK, {"network_id": network_id,
                                                        "revision": original["revision_number"]})
            if deleted.rowcount != 1:
                # Changed or deleted since it was read: the retry reads it again.
                raise db_api.RetryRequest()
        return original, mech_context


_PORTS_T = port_models.Port.__table__
# A network's ports, and how many of them are of owners whose ports go with it.
_COUNT_PORTS = sa.select(sa.func.count(), sa.func.count(sa.case(
    (_PORTS_T.c.device_owner.in_(sa.bindparam("owners", expanding=True)), 1)))).where(
    _PORTS_T.c.network_id == sa.bindparam("network_id"))
_DELETE_OWNED_PORTS = sa.delete(_PORTS_T).where(_PORTS_T.c.network_id == sa.bindparam("network_id"),
                                                _PORTS_T.c.device_owner.in_(sa.bindparam("owners", expanding=True)))
_DELETE_NETWORK = sa.delete(_NETWORKS).where(_NETWORKS.c.id == sa.bindparam("network_id"),
                                             _NETWORKS.c.revision_number == sa.bindparam("revision"))


def segment_dict(segment):
    return {"id": segment.id, "network_type": segment.network_type,
            "physical_network": segment.physical_network, "segmentation_id": segment.segmentation_id}
