"""Which agents a scheduler gives a resource: the seam placement policies plug into.

The DHCP scheduler (networks) and the L3 scheduler (routers) find the agents
that may host a resource (alive, enabled, of the right kind and mode, least
loaded first) and then ask the process's ``Placement`` which of them to take.
The default policy takes the least loaded ones. A service plugin installs
another policy once, in its ``initialize``, through ``Placement.use`` (the
``az`` plugin installs availability-zone aware placement); the schedulers hold
the ``Placement``, not the policy, so the order plugins initialize in does not
matter.

A policy is called inside the scheduler's transaction and may read there
(``session``); it returns, never writes.
"""
import collections
import dataclasses

# One agent as the schedulers see it: enough to order, place and notify.
AgentInfo = collections.namedtuple("AgentInfo", ["id", "host", "load", "availability_zone"])

NETWORK = "network"
ROUTER = "router"


@dataclasses.dataclass(frozen=True)
class PlacementRequest:
    """A resource that needs ``count`` more agents.

    ``candidates`` may host it (least loaded first, none of them hosting it yet);
    ``hosting`` are the agents already hosting it; ``replacing`` the agents it is
    being moved off (dead ones, for failover), if any.
    """
    resource: str
    resource_id: str
    candidates: tuple
    count: int
    hosting: tuple = ()
    replacing: tuple = ()


class LeastLoadedPolicy:
    """The default: the least loaded candidates; any agent may take any resource."""

    def choose(self, session, request):
        return list(request.candidates[:max(request.count, 0)])

    def takeable(self, session, resource, resource_ids, agent, alive_agents):
        """Of ``resource_ids`` (lacking agents), those ``agent`` may take when it asks for
        its resources (auto-scheduling); ``alive_agents`` are the AgentInfos that could."""
        return list(resource_ids)


class Placement:
    """The policy the schedulers place through."""

    def __init__(self):
        self.policy = LeastLoadedPolicy()
        self._installed_by = None

    def use(self, policy, owner):
        """Place through ``policy`` from now on; ``owner`` names who installs it. Only one
        plugin may replace the default: two would silently undo each other."""
        if self._installed_by is not None and self._installed_by != owner:
            raise RuntimeError("placement policy of %s cannot replace the one of %s"
                               % (owner, self._installed_by))
        self.policy = policy
        self._installed_by = owner

    def choose(self, session, request):
        if request.count <= 0 or not request.candidates:
            return []
        return self.policy.choose(session, request)

    def takeable(self, session, resource, resource_ids, agent, alive_agents):
        if not resource_ids:
            return []
        return self.policy.takeable(session, resource, list(resource_ids), agent, list(alive_agents))
