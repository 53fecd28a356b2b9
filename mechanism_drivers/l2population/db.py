"""What the l2population driver reads: bound ports per host and the hosts' tunnel IPs.

Every function takes a SQLAlchemy session; the driver opens a reader session
after the change is committed, so it sees the port as the API now shows it.
"""
import json

import sqlalchemy as sa

from netweave.core.db.models import agent as agent_models
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models

Agent = agent_models.Agent
Port = port_models.Port
Binding = port_models.PortBinding
Segment = net_models.NetworkSegment
IPAllocation = port_models.IPAllocation

STATUS_ACTIVE = "ACTIVE"
STATUS_BUILD = "BUILD"


def tunnel_ips(session, hosts):
    """{host: tunneling_ip} of the hosts whose agent reports a tunneling_ip and l2_population."""
    hosts = sorted(set(h for h in hosts if h))
    if not hosts:
        return {}
    result = {}
    rows = session.execute(sa.select(Agent.host, Agent.configurations).where(Agent.host.in_(hosts))
                           .order_by(Agent.host, Agent.agent_type)).all()
    for host, text in rows:
        try:
            config = json.loads(text or "{}")
        except ValueError:
            continue
        if host not in result and config.get("l2_population") and config.get("tunneling_ip"):
            result[host] = config["tunneling_ip"]
    return result


def agent_started_at(session, host):
    """When the l2population agent of ``host`` last (re)started, or None."""
    rows = session.execute(sa.select(Agent.started_at, Agent.configurations).where(Agent.host == host)
                           .order_by(Agent.agent_type)).all()
    for started_at, text in rows:
        try:
            config = json.loads(text or "{}")
        except ValueError:
            continue
        if config.get("l2_population") and config.get("tunneling_ip"):
            return started_at
    return None


def bound_segment(session, port_id):
    """{"network_type", "segmentation_id"} of the segment the port is bound to, or None."""
    row = session.execute(sa.select(Segment.network_type, Segment.segmentation_id)
                          .join(Binding, Binding.segment_id == Segment.id)
                          .where(Binding.port_id == port_id)).first()
    if row is None:
        return None
    return {"network_type": row.network_type, "segmentation_id": row.segmentation_id}


def count_ports_on_host(session, network_id, host, statuses, exclude=None):
    """Ports of the network bound to ``host`` whose status is one of ``statuses``,
    leaving out ``exclude`` (a port id, or a collection of them)."""
    stmt = (sa.select(sa.func.count()).select_from(Port).join(Binding, Binding.port_id == Port.id)
            .where(Port.network_id == network_id, Binding.host == host, Port.status.in_(tuple(statuses))))
    if isinstance(exclude, str):
        stmt = stmt.where(Port.id != exclude)
    elif exclude:
        stmt = stmt.where(Port.id.not_in(sorted(exclude)))
    return session.scalar(stmt) or 0


def active_ports_by_host(session, network_id, exclude_host=None):
    """{host: [(mac, [ip, ...]), ...]} of the network's ACTIVE bound ports, minus ``exclude_host``."""
    stmt = (sa.select(Port.id, Port.mac_address, Binding.host).join(Binding, Binding.port_id == Port.id)
            .where(Port.network_id == network_id, Port.status == STATUS_ACTIVE, Binding.host != ""))
    if exclude_host:
        stmt = stmt.where(Binding.host != exclude_host)
    ports = session.execute(stmt.order_by(Binding.host, Port.mac_address)).all()
    if not ports:
        return {}
    ips = {}
    for port_id, address in session.execute(
            sa.select(IPAllocation.port_id, IPAllocation.ip_address)
            .where(IPAllocation.network_id == network_id).order_by(IPAllocation.port_id, IPAllocation.position)):
        ips.setdefault(port_id, []).append(address)
    result = {}
    for port_id, mac, host in ports:
        result.setdefault(host, []).append((mac, ips.get(port_id, [])))
    return result
