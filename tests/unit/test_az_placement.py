"""Availability-zone aware placement (service_plugins/az/planner.py) and the placement seam."""
import pytest

from netweave.core.services import agent_placement
from netweave.core.services.agent_placement import AgentInfo, Placement, PlacementRequest
from netweave.service_plugins.az import planner


def agent(host, zone, load=0):
    return AgentInfo("id-" + host, host, load, zone)


A1, A2, B1, N1 = agent("a1", "AZ1"), agent("a2", "AZ1", 1), agent("b1", "AZ2", 2), agent("n1", "nova")


def hosts(agents):
    return [a.host for a in agents]


def test_hints_else_default_zones_else_no_preference():
    assert planner.zones_wanted(["AZ1"], ["AZ2"]) == ["AZ1"]
    assert planner.zones_wanted([], ["AZ2"]) == ["AZ2"]
    assert planner.zones_wanted(None, []) == []


def test_without_zones_the_least_loaded_win():
    assert hosts(planner.spread([B1, A2, A1, N1], [], 2)) == ["a1", "n1"]


def test_only_hinted_zones_when_they_have_candidates():
    assert hosts(planner.spread([N1, A2, A1, B1], ["AZ1"], 3)) == ["a1", "a2"]
    assert hosts(planner.spread([N1, B1], ["AZ2"], 1)) == ["b1"]


def test_several_hinted_zones_share_the_agents_of_one_resource():
    # The least loaded agent first, then the other zone although its agent is busier.
    assert hosts(planner.spread([A1, A2, B1, N1], ["AZ1", "AZ2"], 2)) == ["a1", "b1"]
    # Already hosted in AZ1: the next agent comes from AZ2.
    assert hosts(planner.spread([A2, B1], ["AZ1", "AZ2"], 1, hosting=[A1])) == ["b1"]
    # More agents than zones: round robin.
    b2 = agent("b2", "AZ2", 5)
    assert hosts(planner.spread([A1, A2, B1, b2], ["AZ1", "AZ2"], 4)) == ["a1", "b1", "a2", "b2"]


def test_resources_hinted_at_several_zones_spread_across_them():
    # AZ1's agents host more on average, so the next router goes to AZ2 although a1 is idle.
    busy = [agent("a1", "AZ1", 0), agent("a2", "AZ1", 4), agent("b1", "AZ2", 1)]
    assert hosts(planner.spread(busy, ["AZ1", "AZ2"], 1)) == ["b1"]


def test_best_effort_outside_the_hinted_zones_only_when_they_cannot_serve():
    # No candidate in AZ3 and nothing hosted there: served elsewhere rather than not at all.
    assert hosts(planner.spread([B1, N1], ["AZ3"], 1)) == ["n1"]
    # Already hosted in its zone: no agent from elsewhere for the second slot.
    assert planner.spread([N1, B1], ["AZ1"], 1, hosting=[A1]) == []


def test_a_move_off_a_dead_agent_stays_in_its_zone():
    dead = agent("a9", "AZ1")
    # Both zones equally used and AZ2 less loaded, yet the replacement comes from AZ1.
    assert hosts(planner.spread([agent("a1", "AZ1", 5), agent("b1", "AZ2", 0)], ["AZ1", "AZ2"], 1,
                                replacing=[dead])) == ["a1"]
    # Without a live agent left in the zone, another hinted zone takes it.
    assert hosts(planner.spread([B1, N1], ["AZ1", "AZ2"], 1, replacing=[dead])) == ["b1"]
    # Not hinted: no zone preference at all.
    assert hosts(planner.spread([agent("a1", "AZ1", 5), agent("b1", "AZ2", 0)], [], 1,
                                replacing=[dead])) == ["b1"]


def test_an_agent_asking_for_work_takes_what_its_zone_is_hinted_or_nobody_else_can():
    alive = [A1, B1, N1]
    assert planner.may_take(N1, [], alive)
    assert planner.may_take(A1, ["AZ1"], alive)
    assert not planner.may_take(N1, ["AZ1"], alive)
    assert planner.may_take(N1, ["AZ3"], alive)


def test_placement_defaults_to_least_loaded_and_takes_one_policy():
    placement = Placement()
    request = PlacementRequest(agent_placement.NETWORK, "net", candidates=(A1, A2, B1), count=2)
    assert hosts(placement.choose(None, request)) == ["a1", "a2"]
    assert placement.choose(None, PlacementRequest(agent_placement.NETWORK, "net", candidates=(), count=2)) == []
    assert placement.takeable(None, agent_placement.NETWORK, ["n1", "n2"], A1, [A1]) == ["n1", "n2"]

    class Last:
        def choose(self, session, request):
            return list(request.candidates[-request.count:])

        def takeable(self, session, resource, resource_ids, agent, alive_agents):
            return []

    placement.use(Last(), "one")
    assert hosts(placement.choose(None, request)) == ["a2", "b1"]
    assert placement.takeable(None, agent_placement.NETWORK, ["n1"], A1, [A1]) == []
    with pytest.raises(RuntimeError, match="cannot replace"):
        placement.use(Last(), "two")
