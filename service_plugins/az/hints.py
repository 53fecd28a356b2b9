"""Availability zone hints and zones of networks and routers, read in batches.

A network's hints are the core's ``networks.availability_zone_hints`` column,
a router's this plugin's side table; both JSON lists. A resource's
``availability_zones`` are the zones of the agents hosting it (DHCP agents
for a network, L3 agents for a router), whatever the hints asked.
"""
import json

import sqlalchemy as sa

from netweave.core.db.models import agent as agent_models
from netweave.core.db.models import dhcp as dhcp_models
from netweave.core.db.models import network as net_models
from netweave.core.services import agent_placement
from netweave.service_plugins.az import models
from netweave.service_plugins.router import scheduling_models

HINTS = "availability_zone_hints"
ZONES = "availability_zones"

Agent = agent_models.Agent
DhcpBinding = dhcp_models.NetworkDhcpAgentBinding
L3Binding = scheduling_models.RouterL3AgentBinding
RouterHints = models.RouterAvailabilityZoneHints

# Chunks keep a long page within every database's parameter limit.
CHUNK = 500


def _chunks(ids):
    ids = sorted(set(ids))
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def decode(text):
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(zone) for zone in value] if isinstance(value, list) else []


def encode(hints):
    return json.dumps(list(hints or []))


_HINT_COLUMNS = {
    agent_placement.NETWORK: (net_models.Network.id, net_models.Network.availability_zone_hints),
    agent_placement.ROUTER: (RouterHints.router_id, RouterHints.availability_zone_hints),
}

_HOSTING = {
    agent_placement.NETWORK: (DhcpBinding.network_id, DhcpBinding.dhcp_agent_id),
    agent_placement.ROUTER: (L3Binding.router_id, L3Binding.l3_agent_id),
}


def hints_of(session, resource, ids):
    """{id: [hint, ...]} of the networks or routers ``ids`` (an empty list when none)."""
    result = {resource_id: [] for resource_id in ids}
    id_column, hints_column = _HINT_COLUMNS[resource]
    for chunk in _chunks(ids):
        for resource_id, text in session.execute(sa.select(id_column, hints_column).where(id_column.in_(chunk))):
            result[resource_id] = decode(text)
    return result


def zones_of(session, resource, ids):
    """{id: sorted zones of the agents hosting it} of the networks or routers ``ids``."""
    found = {resource_id: set() for resource_id in ids}
    resource_column, agent_column = _HOSTING[resource]
    for chunk in _chunks(ids):
        rows = session.execute(sa.select(resource_column, Agent.availability_zone)
                               .join(Agent, Agent.id == agent_column)
                               .where(resource_column.in_(chunk), Agent.availability_zone.is_not(None)))
        for resource_id, zone in rows:
            found[resource_id].add(zone)
    return {resource_id: sorted(zones) for resource_id, zones in found.items()}


def extend_networks(session, items):
    """Extender of networks: ``availability_zones`` (the hints are the core's own attribute)."""
    zones = zones_of(session, agent_placement.NETWORK, [item["id"] for item in items])
    for item in items:
        item[ZONES] = zones[item["id"]]


def extend_routers(session, items):
    """Extender of routers: ``availability_zone_hints`` and ``availability_zones``."""
    ids = [item["id"] for item in items]
    hints = hints_of(session, agent_placement.ROUTER, ids)
    zones = zones_of(session, agent_placement.ROUTER, ids)
    for item in items:
        item[HINTS] = hints[item["id"]]
        item[ZONES] = zones[item["id"]]


def store_router_hints(session, router_id, hints):
    """Inside the router's creating transaction: its hints, when it has any."""
    if hints:
        session.add(RouterHints(router_id=router_id, availability_zone_hints=encode(hints)))
        session.flush()
