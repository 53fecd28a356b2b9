"""The administrators' view of which agents host which resources, for any kind of agent.

Neutron's agent scheduler extensions (dhcp_agent_scheduler, l3_agent_scheduler)
share one shape; with ``hosted = "network"``, ``by_agent = "dhcp-networks"`` and
``by_resource = "dhcp-agents"``:

  GET    /v2.0/agents/{agent_id}/dhcp-networks               {"networks": [...]}
  POST   /v2.0/agents/{agent_id}/dhcp-networks               {"network_id": ...} -> 201
  DELETE /v2.0/agents/{agent_id}/dhcp-networks/{network_id}  -> 204
  GET    /v2.0/networks/{network_id}/dhcp-agents             {"agents": [...]}

Policy actions are named the same way: get_dhcp-networks, create_dhcp-network,
delete_dhcp-network, get_dhcp-agents; without a rule for one, only admins pass.
What differs per kind of agent is the ``Hosting`` given to the controller.
"""
import dataclasses
from typing import Any, Callable

from netweave.core import exceptions as exc
from netweave.core.api import faults
from netweave.core.db import api as db_api

ID = r"[^/]+"


@dataclasses.dataclass(frozen=True)
class Hosting:
    """One kind of agent hosting one kind of resource.

    ``hosted``: the resource's member name ("network"); ``by_agent`` and
    ``by_resource``: the URL segments under an agent and under a resource.
    The callables:
      check_agent(session, agent_id)            raises the agent's 404
      resource_ids_on_agent(session, agent_id)  -> ids
      agent_ids_hosting(session, resource_id)   -> ids
      check_resource(context, resource_id)      raises the resource's 404 if the caller cannot see it
      list_resources(context, ids)              -> resource dicts
      list_agents(context, ids)                 -> agent dicts
      add(context, agent_id, resource_id)       schedules it there and tells the agent
      remove(context, agent_id, resource_id)    unschedules it and tells the agent
    """
    hosted: str
    by_agent: str
    by_resource: str
    check_agent: Callable[[Any, str], None]
    resource_ids_on_agent: Callable[[Any, str], list]
    agent_ids_hosting: Callable[[Any, str], list]
    check_resource: Callable[[Any, str], None]
    list_resources: Callable[[Any, list], list]
    list_agents: Callable[[Any, list], list]
    add: Callable[[Any, str, str], None]
    remove: Callable[[Any, str, str], None]

    @property
    def collection(self):
        return self.hosted + "s"


class AgentSchedulerController:
    def __init__(self, hosting, policy):
        self.hosting = hosting
        self.policy = policy
        singular = hosting.by_agent[:-1]
        self._actions = {"list": "get_" + hosting.by_agent, "add": "create_" + singular,
                         "remove": "delete_" + singular, "agents": "get_" + hosting.by_resource}

    def register(self, router):
        hosting = self.hosting
        router.add_route(r"/v2\.0/agents/(?P<agent_id>%s)/%s" % (ID, hosting.by_agent),
                         {"GET": self.list_hosted, "POST": self.add}, body_methods={"POST"})
        router.add_route(r"/v2\.0/agents/(?P<agent_id>%s)/%s/(?P<resource_id>%s)" % (ID, hosting.by_agent, ID),
                         {"DELETE": self.remove})
        router.add_route(r"/v2\.0/%s/(?P<resource_id>%s)/%s" % (hosting.collection, ID, hosting.by_resource),
                         {"GET": self.list_agents})

    def _enforce(self, context, which):
        action = self._actions[which]
        # Admin only, as Neutron's default policy; a policy file may open it up.
        if self.policy.rule_exists(action):
            self.policy.enforce(context, action, {"project_id": context.project_id,
                                                  "tenant_id": context.project_id})
        elif not context.is_admin:
            raise exc.PolicyNotAuthorized(action=action)

    def list_hosted(self, request, context, agent_id):
        self._enforce(context, "list")
        with db_api.reader_scope() as session:
            self.hosting.check_agent(session, agent_id)
            ids = self.hosting.resource_ids_on_agent(session, agent_id)
        return {self.hosting.collection: self.hosting.list_resources(context, ids) if ids else []}

    def add(self, request, context, agent_id, body):
        self._enforce(context, "add")
        key = self.hosting.hosted + "_id"
        resource_id = body.get(key) if isinstance(body, dict) else None
        if not isinstance(resource_id, str) or not resource_id:
            raise faults.bad_request("Invalid input for %s. Reason: '%s' is not a valid UUID." % (key, resource_id))
        self.hosting.add(context, agent_id, resource_id)
        # A JSON body, even if empty: clients parse the answer.
        return 201, {}

    def remove(self, request, context, agent_id, resource_id):
        self._enforce(context, "remove")
        self.hosting.remove(context, agent_id, resource_id)

    def list_agents(self, request, context, resource_id):
        self._enforce(context, "agents")
        self.hosting.check_resource(context, resource_id)
        with db_api.reader_scope() as session:
            ids = self.hosting.agent_ids_hosting(session, resource_id)
        return {"agents": self.hosting.list_agents(context, ids) if ids else []}
