"""network-ip-availability: how many addresses each network's subnets have and use."""
import collections

import netaddr
import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.services import query

Network = net_models.Network

# The list's attributes that are network columns (filters and sort keys).
COLUMNS = {"network_id": Network.id, "network_name": Network.name, "tenant_id": Network.project_id,
           "project_id": Network.project_id}


def _pool_size(subnet):
    return sum(netaddr.IPRange(p.first_ip, p.last_ip).size for p in subnet.allocation_pools)


class IpAvailabilityService:
    def _build(self, session, networks):
        ids = [n.id for n in networks]
        used = collections.Counter()
        if ids:
            allocs = port_models.IPAllocation
            for subnet_id, count in session.execute(
                    sa.select(allocs.subnet_id, sa.func.count()).where(allocs.network_id.in_(ids))
                    .group_by(allocs.subnet_id)):
                used[subnet_id] = count
        result = []
        for network in networks:
            subnets = []
            for subnet in network.subnets:
                subnets.append({"subnet_id": subnet.id, "subnet_name": subnet.name, "cidr": subnet.cidr,
                                "ip_version": subnet.ip_version, "total_ips": _pool_size(subnet),
                                "used_ips": used[subnet.id]})
            result.append({"network_id": network.id, "network_name": network.name,
                           "tenant_id": network.project_id, "project_id": network.project_id,
                           "total_ips": sum(s["total_ips"] for s in subnets),
                           "used_ips": sum(s["used_ips"] for s in subnets),
                           "subnet_ip_availability": subnets})
        return result

    def get(self, context, network_id, fields=None):
        with db_api.reader_scope() as session:
            network = session.get(net_models.Network, network_id)
            if network is None:
                raise exc.NetworkNotFound(net_id=network_id)
            return query.select_fields(self._build(session, [network])[0], fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None):
        filters = dict(filters or {})
        stmt = sa.select(Network)
        if "ip_version" in filters:
            versions = filters.pop("ip_version")
            stmt = stmt.where(Network.id.in_(
                sa.select(subnet_models.Subnet.network_id).where(subnet_models.Subnet.ip_version.in_(versions))))
        with db_api.reader_scope() as session:
            # Pages are pages of networks: the network's id is the marker.
            rows, leftover = query.fetch_page(session, stmt, Network, COLUMNS, filters, sorts, limit, marker,
                                              page_reverse)
            items = self._build(session, rows)
        return query.finish_page(items, leftover, page_reverse, fields)
