"""The availability zones agents report, as ``/v2.0/availability_zones`` lists them.

A zone exists for a kind of resource while some enabled agent serving that
kind reports it: DHCP agents give zones of networks, L3 agents zones of
routers (the only agents that carry a zone, as in Neutron). It is
``available`` while one of those agents is alive, ``unavailable`` otherwise.
Hints are checked against these zones, alive or not.
"""
import sqlalchemy as sa

from netweave.core.db import api as db_api
from netweave.core.db.models import agent as agent_models
from netweave.core.rpc import topics
from netweave.core.services import agent_placement, query
from netweave.service_plugins.az import exceptions as az_exc

Agent = agent_models.Agent

# The kind of resource each agent type serves zones for.
RESOURCE_OF_AGENT = {topics.AGENT_TYPE_DHCP: agent_placement.NETWORK, topics.AGENT_TYPE_L3: agent_placement.ROUTER}
AGENT_OF_RESOURCE = {resource: agent_type for agent_type, resource in RESOURCE_OF_AGENT.items()}

AVAILABLE = "available"
UNAVAILABLE = "unavailable"

DEFAULT_SORT = [("resource", True), ("name", True)]


def zone_states(rows, is_alive):
    """{(zone, resource): alive} from (agent_type, availability_zone, heartbeat) rows of enabled agents."""
    states = {}
    for agent_type, zone, heartbeat in rows:
        resource = RESOURCE_OF_AGENT.get(agent_type)
        if resource is None or not zone:
            continue
        key = (zone, resource)
        states[key] = states.get(key, False) or is_alive(heartbeat)
    return states


class ZoneService:
    """Lists zones and checks hints; ``agents`` is the core's AgentService (liveness, clock)."""

    def __init__(self, agents):
        self.agents = agents

    def _states(self, session, resources=None):
        agent_types = [AGENT_OF_RESOURCE[r] for r in (resources or AGENT_OF_RESOURCE)]
        rows = session.execute(sa.select(Agent.agent_type, Agent.availability_zone, Agent.heartbeat_timestamp)
                               .where(Agent.agent_type.in_(agent_types), Agent.admin_state_up.is_(True),
                                      Agent.availability_zone.is_not(None)))
        now = self.agents.clock()
        return zone_states(rows, lambda heartbeat: self.agents.is_alive(heartbeat, now))

    def zone_dicts(self):
        with db_api.reader_scope() as session:
            states = self._states(session)
        return [{"name": name, "resource": resource, "state": AVAILABLE if alive else UNAVAILABLE}
                for (name, resource), alive in states.items()]

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None, page_reverse=False):
        items = query.filter_dicts(self.zone_dicts(), dict(filters or {}))
        for key, ascending in reversed(list(sorts or []) + DEFAULT_SORT):
            items.sort(key=lambda z: z[key], reverse=not ascending)
        if page_reverse:
            items.reverse()
        if marker is not None:
            names = [z["name"] for z in items]
            items = items[names.index(marker) + 1:] if marker in names else []
        if limit:
            items = items[:limit]
        return query.finish_page(items, {}, page_reverse, fields)

    def get(self, context, name, fields=None):
        for zone in sorted(self.zone_dicts(), key=lambda z: z["resource"]):
            if zone["name"] == name:
                return query.select_fields(zone, fields)
        raise az_exc.AvailabilityZoneNotFound(availability_zone=name)

    def check_hints(self, resource, hints):
        """AvailabilityZoneNotFound (404, as Neutron) naming a hint no enabled agent of the
        resource's kind reports."""
        if not hints:
            return
        with db_api.reader_scope() as session:
            known = {name for name, _resource in self._states(session, [resource])}
        for hint in hints:
            if hint not in known:
                raise az_exc.AvailabilityZoneNotFound(availability_zone=hint)
