"""What a DHCP agent needs to know about a network: its subnets and ports, as plain dicts.

Read in a fixed number of queries however many networks and ports there are,
so an agent's resync of hundreds of networks is cheap for the server.
"""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.services import extra_dhcp_opts

SUBNET_KEYS = ("id", "network_id", "name", "cidr", "ip_version", "gateway_ip", "enable_dhcp", "dns_nameservers",
               "host_routes", "allocation_pools", "ipv6_ra_mode", "ipv6_address_mode")
PORT_KEYS = ("id", "network_id", "mac_address", "admin_state_up", "device_owner", "device_id", "fixed_ips",
             "extra_dhcp_opts")

Subnet = subnet_models.Subnet
Port = port_models.Port
Allocation = port_models.IPAllocation


def agent_port(port, extension_keys=()):
    """The part of an API port dict the DHCP agent uses (payload of port_*_end);
    ``extension_keys``: the attributes of extension drivers the agents serve too."""
    result = {key: port.get(key) for key in PORT_KEYS}
    result["fixed_ips"] = [{"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]}
                           for ip in port.get("fixed_ips") or ()]
    result["extra_dhcp_opts"] = list(port.get("extra_dhcp_opts") or [])
    for key in extension_keys:
        if key in port:
            result[key] = port[key]
    return result


def agent_subnet(subnet):
    """The part of an API subnet dict the DHCP agent uses."""
    return {key: subnet.get(key) for key in SUBNET_KEYS}


def _chunks(ids, size=500):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def network_infos(session, network_ids, extensions=None):
    """[network info dict] of the existing networks among ``network_ids``, in their order.

    ``extensions`` (the ML2 ExtensionManager) adds to the ports the attributes
    of the extension drivers that the DHCP agents serve (a dns_assignment, say).
    """
    ids = list(dict.fromkeys(network_ids))
    if not ids:
        return []
    networks = {}
    for chunk in _chunks(ids):
        for row in session.execute(sa.select(net_models.Network.__table__).where(
                net_models.Network.id.in_(chunk))):
            networks[row.id] = {"id": row.id, "name": row.name, "project_id": row.project_id,
                                "tenant_id": row.project_id, "admin_state_up": row.admin_state_up,
                                "mtu": row.mtu, "subnets": [], "ports": []}
    present = [i for i in ids if i in networks]
    _add_subnets(session, networks, present)
    _add_ports(session, networks, present, extensions)
    return [networks[i] for i in present]


def _add_subnets(session, networks, ids):
    options = (orm.selectinload(Subnet.allocation_pools), orm.selectinload(Subnet.dns_nameservers),
               orm.selectinload(Subnet.routes))
    for chunk in _chunks(ids):
        rows = session.scalars(sa.select(Subnet).options(*options).where(Subnet.network_id.in_(chunk))
                               .order_by(Subnet.created_at, Subnet.id)).all()
        for row in rows:
            networks[row.network_id]["subnets"].append({
                "id": row.id, "network_id": row.network_id, "name": row.name, "cidr": row.cidr,
                "ip_version": row.ip_version, "gateway_ip": row.gateway_ip, "enable_dhcp": row.enable_dhcp,
                # The order given by the user: the first DNS server is the one clients try first.
                "dns_nameservers": [d.address for d in sorted(row.dns_nameservers, key=lambda d: d.order)],
                "host_routes": [{"destination": r.destination, "nexthop": r.nexthop} for r in row.routes],
                "allocation_pools": [{"start": p.first_ip, "end": p.last_ip} for p in row.allocation_pools],
                "ipv6_ra_mode": row.ipv6_ra_mode, "ipv6_address_mode": row.ipv6_address_mode,
            })


def _add_ports(session, networks, ids, extensions=None):
    columns = (Port.id, Port.network_id, Port.mac_address, Port.admin_state_up, Port.device_owner,
               Port.device_id)
    ports = []
    for chunk in _chunks(ids):
        ports.extend(session.execute(sa.select(*columns).where(Port.network_id.in_(chunk))
                                     .order_by(Port.network_id, Port.id)).all())
    port_ids = [p.id for p in ports]
    fixed_ips = {}
    for chunk in _chunks(port_ids):
        for port_id, subnet_id, address in session.execute(
                sa.select(Allocation.port_id, Allocation.subnet_id, Allocation.ip_address)
                .where(Allocation.port_id.in_(chunk)).order_by(Allocation.port_id, Allocation.position)):
            fixed_ips.setdefault(port_id, []).append({"subnet_id": subnet_id, "ip_address": address})
    options = extra_dhcp_opts.load(session, port_ids)
    infos = {}
    for p in ports:
        infos[p.id] = {
            "id": p.id, "network_id": p.network_id, "mac_address": p.mac_address,
            "admin_state_up": p.admin_state_up, "device_owner": p.device_owner, "device_id": p.device_id,
            "fixed_ips": fixed_ips.get(p.id, []), "extra_dhcp_opts": options.get(p.id, []),
        }
        networks[p.network_id]["ports"].append(infos[p.id])
    extension_keys = extensions.dhcp_attributes() if extensions is not None else frozenset()
    if extension_keys and infos:
        extensions.extend_dhcp_ports(session.connection(), infos)
        # Only what the agents serve: drivers may have added attributes of theirs beside it.
        for info in infos.values():
            for key in [k for k in info if k not in PORT_KEYS and k not in extension_keys]:
                del info[key]
