"""The routers as the L3 agent sees them: Neutron's sync_routers shape.

One dict per router (the contract the L3 agent parses, written down in
agent/router_info.py on the agent's side)::

    {"id", "name", "admin_state_up", "status", "project_id", "tenant_id", "distributed", "ha",
     "routes": [{"destination", "nexthop"}],
     "external_gateway_info": {"network_id", "enable_snat", "external_fixed_ips"} | None,
     "enable_snat": bool,
     "gw_port": PORT (only with a gateway),
     "_interfaces": [PORT, ...],
     "_floatingips": [{"id", "floating_ip_address", "fixed_ip_address", "port_id", "router_id",
                       "status", "floating_network_id"}, ...]}
    PORT = {"id", "mac_address", "network_id", "device_owner", "device_id", "admin_state_up", "mtu",
            "fixed_ips": [{"subnet_id", "ip_address", "prefixlen"}],
            "subnets": [{"id", "cidr", "gateway_ip", "ip_version", "ipv6_ra_mode", "ipv6_address_mode",
                         "dns_nameservers"}]}

``describe`` builds them from plain rows (pure); ``read`` does the few queries.
"""
import collections

import netaddr
import sqlalchemy as sa

from netweave.core.db.models import network as net_models
from netweave.core.db.models import subnet as subnet_models
from netweave.service_plugins.router import constants as const
from netweave.service_plugins.router import db_reads, floatingips, gateway, models, routers

# The rows describe() needs, each a plain dict.
Rows = collections.namedtuple("Rows", ["routers", "ports", "addresses", "subnets", "floatingips"])


def _port(port, addresses, subnets):
    fixed_ips, port_subnets = [], []
    for address in addresses:
        subnet = subnets.get(address["subnet_id"])
        if subnet is None:
            continue
        fixed_ips.append({"subnet_id": address["subnet_id"], "ip_address": address["ip_address"],
                          "prefixlen": netaddr.IPNetwork(subnet["cidr"]).prefixlen})
        if subnet not in port_subnets:
            port_subnets.append(subnet)
    return {"id": port["id"], "mac_address": port["mac_address"], "network_id": port["network_id"],
            "device_owner": port["device_owner"], "device_id": port["device_id"],
            "admin_state_up": port["admin_state_up"], "mtu": port["mtu"], "fixed_ips": fixed_ips,
            "subnets": port_subnets}


def describe(rows):
    """The sync_routers list from Rows: routers (dicts of the API shape plus gw_port_id), ports
    ({"router_id", "port_type", ...port columns}), addresses ({port_id: [{"subnet_id", "ip_address"}]}),
    subnets ({subnet_id: subnet dict}), floating IPs (API-shaped dicts with router_id)."""
    ports_by_router = collections.defaultdict(list)
    for port in rows.ports:
        ports_by_router[port["router_id"]].append(port)
    fips_by_router = collections.defaultdict(list)
    for fip in rows.floatingips:
        fips_by_router[fip["router_id"]].append(fip)
    result = []
    for router in rows.routers:
        described = {key: router[key] for key in ("id", "name", "admin_state_up", "status", "project_id",
                                                  "tenant_id", "distributed", "ha", "routes",
                                                  "external_gateway_info")}
        info = router["external_gateway_info"]
        described["enable_snat"] = info["enable_snat"] if info else router["enable_snat"]
        interfaces = []
        for port in ports_by_router[router["id"]]:
            shaped = _port(port, rows.addresses.get(port["id"], []), rows.subnets)
            if port["port_type"] == const.DEVICE_OWNER_ROUTER_GW:
                if port["id"] == router["gw_port_id"]:
                    described["gw_port"] = shaped
            elif port["port_type"] in const.ROUTER_INTERFACE_OWNERS:
                interfaces.append(shaped)
        described["_interfaces"] = interfaces
        described["_floatingips"] = [
            {key: fip[key] for key in ("id", "floating_ip_address", "fixed_ip_address", "port_id", "router_id",
                                       "status", "floating_network_id")}
            for fip in sorted(fips_by_router[router["id"]], key=lambda f: f["id"])]
        if "gw_port" not in described:
            # The contract: gw_port exactly when external_gateway_info.
            described["external_gateway_info"] = None
        result.append(described)
    return result


def read(session, router_ids=None):
    """Rows for the given routers (every router when None)."""
    stmt = sa.select(models.Router).order_by(models.Router.id)
    if router_ids is not None:
        stmt = stmt.where(models.Router.id.in_(list(router_ids)))
    router_rows = session.scalars(stmt).all()
    ids = [r.id for r in router_rows]
    gateways = gateway.current_gateways(session, router_rows)
    router_dicts = []
    for row in router_rows:
        shaped = routers.make_dict(row, gateways.get(row.id), [])
        shaped.update(gw_port_id=row.gw_port_id, enable_snat=row.enable_snat)
        router_dicts.append(shaped)
    port = db_reads.Port
    ports = [dict(r._mapping) for r in session.execute(
        sa.select(models.RouterPort.router_id, models.RouterPort.port_type, port.id, port.mac_address,
                  port.network_id, port.device_owner, port.device_id, port.admin_state_up,
                  net_models.Network.mtu)
        .join(port, port.id == models.RouterPort.port_id)
        .join(net_models.Network, net_models.Network.id == port.network_id)
        .where(models.RouterPort.router_id.in_(ids)).order_by(port.created_at, port.id))] if ids else []
    addresses = db_reads.fixed_ips_of(session, [p["id"] for p in ports])
    subnet_ids = {a["subnet_id"] for values in addresses.values() for a in values}
    subnets = _subnets(session, subnet_ids)
    fips = []
    if ids:
        fips = [floatingips.make_dict(r, []) for r in session.scalars(
            sa.select(models.FloatingIP).where(models.FloatingIP.router_id.in_(ids)))]
    return Rows(router_dicts, ports, addresses, subnets, fips)


def _subnets(session, subnet_ids):
    if not subnet_ids:
        return {}
    subnet = subnet_models.Subnet
    result = {}
    for row in session.execute(sa.select(subnet.id, subnet.cidr, subnet.gateway_ip, subnet.ip_version,
                                         subnet.ipv6_ra_mode, subnet.ipv6_address_mode)
                               .where(subnet.id.in_(list(subnet_ids)))):
        result[row.id] = {"id": row.id, "cidr": row.cidr, "gateway_ip": row.gateway_ip,
                          "ip_version": row.ip_version, "ipv6_ra_mode": row.ipv6_ra_mode,
                          "ipv6_address_mode": row.ipv6_address_mode, "dns_nameservers": []}
    dns = subnet_models.DNSNameServer
    for subnet_id, address in session.execute(sa.select(dns.subnet_id, dns.address)
                                              .where(dns.subnet_id.in_(list(subnet_ids)))
                                              .order_by(dns.subnet_id, dns.order)):
        result[subnet_id]["dns_nameservers"].append(address)
    return result
