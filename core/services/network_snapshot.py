"""The network a port is created on, with what a port create reads of it, in one statement.

Its segments, RBAC entries, external flag and subnets with their allocation pools
and service types come as sides of a page of one network (core/services/page.py),
read as plain rows: through the ORM they cost a port create more than anything else.
"""
import collections
import types

import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db.models import network as net_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.services import page as page_mod
from netweave.core.services import visibility


def _snapshot_page():
    """The page (a template, page_mod.Page) and the sides ``read`` reads, built once
    per process: a network and what a port create reads of it in one statement."""
    networks_t = net_models.Network.__table__
    external_t = net_models.ExternalNetwork.__table__
    rbac_t = net_models.NetworkRBAC.__table__
    segments_t = net_models.NetworkSegment.__table__
    subnets_t = subnet_models.Subnet.__table__
    pools_t = subnet_models.IPAllocationPool.__table__
    types_t = subnet_models.SubnetServiceType.__table__
    network = (sa.select(networks_t, external_t.c.network_id.label("_external_id"),
                         external_t.c.is_default.label("_external_default"))
               .outerjoin(external_t, external_t.c.network_id == networks_t.c.id)
               .where(networks_t.c.id == page_mod.bound("network_id")))

    def others(table, key):
        return [c for c in table.c if c is not key]
    of_subnets = subnets_t.c.network_id
    sides = _SnapshotSides(
        rbac=page_mod.Side(rbac_t.c.object_id, *others(rbac_t, rbac_t.c.object_id)),
        segments=page_mod.Side(segments_t.c.network_id, *others(segments_t, segments_t.c.network_id),
                               order_by=(segments_t.c.segment_index,)),
        subnets=page_mod.Side(of_subnets, *others(subnets_t, of_subnets),
                              order_by=(subnets_t.c.created_at, subnets_t.c.id)),
        pools=page_mod.Side(of_subnets, *pools_t.c, order_by=(pools_t.c.subnet_id, pools_t.c.position),
                            joined=pools_t.join(subnets_t, subnets_t.c.id == pools_t.c.subnet_id)),
        # The subnets' service types (the IPAM chooses subnets by them).
        service_types=page_mod.Side(of_subnets, types_t.c.subnet_id, types_t.c.service_type,
                                    joined=types_t.join(subnets_t, subnets_t.c.id == types_t.c.subnet_id)),
    )
    return page_mod.Page(network, networks_t.c.id, key_param="network_id"), sides


_SnapshotSides = collections.namedtuple("_SnapshotSides", "rbac segments subnets pools service_types")
_SNAPSHOT_PAGE, _SNAPSHOT_SIDES = _snapshot_page()


def _side_rows(page, connection, side):
    """The rows ``page`` read of ``side``, by attribute (the key is left out)."""
    names = [c.name for c in side.columns]
    return [types.SimpleNamespace(**dict(zip(names, row[1:]))) for row in page.rows(connection, side)]


def read(session, context, network_id, check_access=True):
    """The network a port is created on, if the caller may use it (else NetworkNotFound):
    with its segments, RBAC entries, external flag and subnets with their pools, all
    read by one statement instead of through the ORM, which cost a port create more
    than anything else. Without ``check_access`` (the network of a port being
    changed) the caller's access to the network is not checked."""
    connection = session.connection()
    page = _SNAPSHOT_PAGE.bind(network_id=network_id)
    keys, rows = page.read(connection, _SNAPSHOT_SIDES)
    if not rows:
        raise exc.NetworkNotFound(net_id=network_id)
    values = dict(zip(keys, rows[0]))
    sides = _SnapshotSides(*(_side_rows(page, connection, side) for side in _SNAPSHOT_SIDES))
    if check_access and not (context.is_admin or values["project_id"] == context.project_id):
        targets = visibility.rbac_targets(context)
        if not any(e.action == visibility.SHARED and e.target_tenant in targets for e in sides.rbac):
            raise exc.NetworkNotFound(net_id=network_id)
    subnets = {}
    for subnet in sides.subnets:
        subnet.network_id = network_id
        subnet.allocation_pools, subnet.service_types = [], []
        subnets[subnet.id] = subnet
    for pool in sides.pools:
        subnets[pool.subnet_id].allocation_pools.append(pool)
    for entry in sides.service_types:
        subnets[entry.subnet_id].service_types.append(entry)
    external = None
    external_id, external_default = values.pop("_external_id"), values.pop("_external_default")
    if external_id is not None:
        external = types.SimpleNamespace(network_id=external_id, is_default=external_default)
    return types.SimpleNamespace(segments=sides.segments, subnets=list(subnets.values()),
                                 rbac_entries=sides.rbac, external=external, **values)
