"""Availability-zone aware placement, as pure functions of agents and hints.

Neutron's AZAwareWeightScheduler and AZLeastRoutersScheduler, with the book's
"best effort" reading of hints ("more of a scheduler hint than an outright
requirement"):

* ``zones_wanted``: a resource's hints, else ``default_availability_zones``;
  no zones means no preference at all.
* ``eligible``: the candidates in the wanted zones; when none of those zones
  has a candidate left and none hosts the resource already, every candidate
  (best effort: served elsewhere rather than not at all).
* ``spread``: agents for the resource one at a time, each from the zone that
  hosts the fewest of its agents so far, so several hinted zones share it;
  between zones equally used, first a zone it is being moved off (failover
  stays in the zone), then the zone whose agents are least loaded on
  average (routers and networks hinted at several zones spread across them),
  then the zone of the least loaded agent. Within a zone, the least loaded
  agent. Agents are AgentInfo(id, host, load, availability_zone).
"""
import collections


def zones_wanted(hints, default_zones):
    return list(hints or default_zones or ())


def eligible(candidates, zones, hosting=()):
    """The candidates a resource wanting ``zones`` may go to (all when ``zones`` is empty)."""
    if not zones:
        return list(candidates)
    inside = [agent for agent in candidates if agent.availability_zone in zones]
    if inside or any(agent.availability_zone in zones for agent in hosting):
        return inside
    return list(candidates)


def _ordered(agents):
    return sorted(agents, key=lambda a: (a.load, a.host))


def spread(candidates, zones, count, hosting=(), replacing=()):
    """Up to ``count`` of ``candidates`` for a resource wanting ``zones``, best first."""
    if count <= 0:
        return []
    pool = _ordered(eligible(candidates, zones, hosting))
    if not zones:
        return pool[:count]
    by_zone = collections.OrderedDict()
    for agent in pool:
        by_zone.setdefault(agent.availability_zone, []).append(agent)
    used = collections.Counter(agent.availability_zone for agent in hosting)
    average = {zone: sum(a.load for a in agents) / len(agents) for zone, agents in by_zone.items()}
    left_zones = {agent.availability_zone for agent in replacing}
    chosen = []
    while len(chosen) < count and by_zone:
        zone = min(by_zone, key=lambda z: (used[z], z not in left_zones, average[z],
                                           by_zone[z][0].load, by_zone[z][0].host))
        agent = by_zone[zone].pop(0)
        chosen.append(agent)
        used[zone] += 1
        if not by_zone[zone]:
            del by_zone[zone]
    return chosen


def may_take(agent, zones, alive_agents):
    """Whether ``agent``, asking for work, may take a resource wanting ``zones`` that no
    agent hosts: yes when it is in one of them, or when no alive agent is (best effort)."""
    if not zones or agent.availability_zone in zones:
        return True
    return not any(other.availability_zone in zones for other in alive_agents)
