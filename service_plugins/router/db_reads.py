"""Reads the router services share: a router's ports with their addresses and subnets."""
import collections

import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core import exceptions as exc
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.service_plugins.router import models

Port = port_models.Port
IPAllocation = port_models.IPAllocation
Subnet = subnet_models.Subnet

# session.get option for rows read only to be written or checked: their relationships
# (a port's addresses, binding and side tables, a router's routes) load only if touched,
# instead of a query apiece up front.
ROW_ONLY = (orm.lazyload("*"),)

# One address of one port of a router, with the subnet it is on.
RouterAddress = collections.namedtuple(
    "RouterAddress", ["router_id", "port_id", "port_type", "network_id", "subnet_id", "ip_address", "cidr",
                      "ip_version", "gateway_ip"])


def _chunks(ids, size=500):
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def fixed_ips_of(session, port_ids):
    """{port_id: [{"subnet_id", "ip_address"}, ...]} in the ports' own order."""
    result = collections.defaultdict(list)
    for chunk in _chunks(port_ids):
        rows = session.execute(sa.select(IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address)
                               .where(IPAllocation.port_id.in_(chunk))
                               .order_by(IPAllocation.port_id, IPAllocation.position))
        for port_id, subnet_id, ip_address in rows:
            result[port_id].append({"subnet_id": subnet_id, "ip_address": ip_address})
    return result


def router_addresses(session, router_ids, port_types=None):
    """Every address of the routers' ports (interfaces and gateways), ordered by port then position.

    A port without addresses appears once with subnet fields of None.
    """
    stmt = (sa.select(models.RouterPort.router_id, models.RouterPort.port_id, models.RouterPort.port_type,
                      Port.network_id, IPAllocation.subnet_id, IPAllocation.ip_address, Subnet.cidr,
                      Subnet.ip_version, Subnet.gateway_ip)
            .join(Port, Port.id == models.RouterPort.port_id)
            .outerjoin(IPAllocation, IPAllocation.port_id == Port.id)
            .outerjoin(Subnet, Subnet.id == IPAllocation.subnet_id)
            .where(models.RouterPort.router_id.in_(list(router_ids)))
            .order_by(models.RouterPort.router_id, Port.created_at, Port.id, IPAllocation.position))
    if port_types is not None:
        stmt = stmt.where(models.RouterPort.port_type.in_(list(port_types)))
    return [RouterAddress(*row) for row in session.execute(stmt)]


def subnets_of_network(session, network_id):
    """[{"id", "cidr", "ip_version", "gateway_ip"}] of a network, oldest first."""
    rows = session.execute(sa.select(Subnet.id, Subnet.cidr, Subnet.ip_version, Subnet.gateway_ip)
                           .where(Subnet.network_id == network_id).order_by(Subnet.created_at, Subnet.id))
    return [{"id": i, "cidr": c, "ip_version": v, "gateway_ip": g} for i, c, v, g in rows]


def subnets_by_id(session, subnet_ids):
    rows = session.execute(sa.select(Subnet.id, Subnet.cidr, Subnet.ip_version, Subnet.gateway_ip,
                                     Subnet.network_id).where(Subnet.id.in_(list(subnet_ids))))
    return {i: {"id": i, "cidr": c, "ip_version": v, "gateway_ip": g, "network_id": n} for i, c, v, g, n in rows}


_NETWORKS = net_models.Network.__table__
_EXTERNAL = net_models.ExternalNetwork.__table__
# Whether a network exists and is external, in one statement built once.
_NETWORK_IS_EXTERNAL = (sa.select(_NETWORKS.c.id, _EXTERNAL.c.network_id.label("external_id"))
                        .outerjoin(_EXTERNAL, _EXTERNAL.c.network_id == _NETWORKS.c.id)
                        .where(_NETWORKS.c.id == sa.bindparam("network_id")))


def external_network_subnets(session, network_id):
    """subnets_of_network of an external network; None when the network is not external.

    Raises NetworkNotFound when there is no such network. Two statements, where
    reading the network as the API shows it took a dozen.
    """
    found = session.execute(_NETWORK_IS_EXTERNAL, {"network_id": network_id}).first()
    if found is None:
        raise exc.NetworkNotFound(net_id=network_id)
    if found.external_id is None:
        return None
    return subnets_of_network(session, network_id)
