"""The availability-zone aware placement policy the az plugin installs.

It reads each resource's hints (or ``default_availability_zones``) inside the
scheduler's transaction and leaves the choice to planner.py.
"""
from netweave.service_plugins.az import hints as hints_mod
from netweave.service_plugins.az import planner


class AvailabilityZonePlacement:
    def __init__(self, conf):
        self.conf = conf

    def _zones(self, session, resource, ids):
        found = hints_mod.hints_of(session, resource, ids)
        return {resource_id: planner.zones_wanted(found[resource_id], self.conf.default_availability_zones)
                for resource_id in ids}

    def choose(self, session, request):
        zones = self._zones(session, request.resource, [request.resource_id])[request.resource_id]
        return planner.spread(request.candidates, zones, request.count, request.hosting, request.replacing)

    def takeable(self, session, resource, resource_ids, agent, alive_agents):
        zones = self._zones(session, resource, resource_ids)
        return [resource_id for resource_id in resource_ids
                if planner.may_take(agent, zones[resource_id], alive_agents)]
