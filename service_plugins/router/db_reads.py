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


def networks_and_fixed_ips_of(session, port_ids):
    """({port_id: network_id}, fixed_ips_of) of the ports, one statement per 500 ports."""
    networks, addresses = {}, collections.defaultdict(list)
    for chunk in _chunks(port_ids):
        rows = session.execute(sa.select(Port.id, Port.network_id, IPAllocation.subnet_id, IPAllocation.ip_address)
                               .outerjoin(IPAllocation, IPAllocation.port_id == Port.id)
                               .where(Port.id.in_(chunk))
                               .order_by(Port.id, IPAllocation.position))
        for port_id, network_id, subnet_id, ip_address in rows:
            networks[port_id] = network_id
            if subnet_id is not None:
                addresses[port_id].append({"subnet_id": subnet_id, "ip_address": ip_address})
    return networks, addresses


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


_INTERFACE_SUBNET = sa.select(Subnet.id, Subnet.project_id, Subnet.network_id, Subnet.cidr, Subnet.ip_version,
                              Subnet.gateway_ip, Subnet.ipv6_ra_mode, Subnet.ipv6_address_mode).where(
    Subnet.id == sa.bindparam("subnet_id"))


def interface_subnet(session, subnet_id):
    """What a router interface needs of a subnet, whoever may see it, in one statement:
    {"id", "project_id", "tenant_id", "network_id", "cidr", "ip_version", "gateway_ip",
    "ipv6_ra_mode", "ipv6_address_mode"}; None when there is no such subnet."""
    row = session.execute(_INTERFACE_SUBNET, {"subnet_id": subnet_id}).first()
    if row is None:
        return None
    subnet = dict(row._mapping)
    subnet["tenant_id"] = subnet["project_id"]
    return subnet


def subnets_by_id(session, subnet_ids):
    rows = session.execute(sa.select(Subnet.id, Subnet.cidr, Subnet.ip_version, Subnet.gateway_ip,
                                     Subnet.network_id).where(Subnet.id.in_(list(subnet_ids))))
    return {i: {"id": i, "cidr": c, "ip_version": v, "gateway_ip": g, "network_id": n} for i, c, v, g, n in rows}


_NETWORKS = net_models.Network.__table__
_EXTERNAL = net_models.ExternalNetwork.__table__
_SUBNETS = Subnet.__table__
# A network, whether it is external and its subnets (oldest first), in one statement built once:
# one row per subnet, or one row with subnet columns of None.
_EXTERNAL_NETWORK_SUBNETS = (
    sa.select(_NETWORKS.c.id, _EXTERNAL.c.network_id.label("external_id"), _SUBNETS.c.id.label("subnet_id"),
              _SUBNETS.c.cidr, _SUBNETS.c.ip_version, _SUBNETS.c.gateway_ip)
    .select_from(_NETWORKS)
    .outerjoin(_EXTERNAL, _EXTERNAL.c.network_id == _NETWORKS.c.id)
    .outerjoin(_SUBNETS, _SUBNETS.c.network_id == _NETWORKS.c.id)
    .where(_NETWORKS.c.id == sa.bindparam("network_id"))
    .order_by(_SUBNETS.c.created_at, _SUBNETS.c.id))


def external_network_subnets(session, network_id):
    """subnets_of_network of an external network; None when the network is not external.

    Raises NetworkNotFound when there is no such network. One statement, where
    reading the network as the API shows it took a dozen.
    """
    rows = session.execute(_EXTERNAL_NETWORK_SUBNETS, {"network_id": network_id}).all()
    if not rows:
        raise exc.NetworkNotFound(net_id=network_id)
    if rows[0].external_id is None:
        return None
    return [{"id": r.subnet_id, "cidr": r.cidr, "ip_version": r.ip_version, "gateway_ip": r.gateway_ip}
            for r in rows if r.subnet_id is not None]


_PORTS = Port.__table__
_ALLOCATIONS = IPAllocation.__table__
# The columns of a port fixed_port reads besides its addresses (floating IPs' port_details among them).
FIXED_PORT_COLUMNS = ("id", "project_id", "name", "network_id", "mac_address", "admin_state_up", "status",
                      "device_id", "device_owner")
_FIXED_PORT = (
    sa.select(*[_PORTS.c[name] for name in FIXED_PORT_COLUMNS], _ALLOCATIONS.c.subnet_id, _ALLOCATIONS.c.ip_address)
    .select_from(_PORTS)
    .outerjoin(_ALLOCATIONS, _ALLOCATIONS.c.port_id == _PORTS.c.id)
    .where(_PORTS.c.id == sa.bindparam("port_id"))
    .order_by(_ALLOCATIONS.c.position))


def fixed_port(session, port_id):
    """A port as a floating IP checks it, whoever may see it, in one statement: {FIXED_PORT_COLUMNS...,
    "tenant_id", "fixed_ips": [{"subnet_id", "ip_address"}]}; None when there is no such port."""
    rows = session.execute(_FIXED_PORT, {"port_id": port_id}).all()
    if not rows:
        return None
    port = {name: rows[0]._mapping[name] for name in FIXED_PORT_COLUMNS}
    port["tenant_id"] = port["project_id"]
    port["fixed_ips"] = [{"subnet_id": r.subnet_id, "ip_address": r.ip_address} for r in rows
                         if r.subnet_id is not None]
    return port
