"""dhcp_agent_scheduler: which DHCP agents host which networks, for administrators.

  GET    /v2.0/agents/{agent_id}/dhcp-networks               {"networks": [...]}
  POST   /v2.0/agents/{agent_id}/dhcp-networks               {"network_id": ...} -> 201
  DELETE /v2.0/agents/{agent_id}/dhcp-networks/{network_id}  -> 204
  GET    /v2.0/networks/{network_id}/dhcp-agents             {"agents": [...]}
"""
from netweave.core import exceptions as exc
from netweave.core.api import faults
from netweave.core.api.app import takes_body
from netweave.core.api.extension import Extension
from netweave.core.db import api as db_api

ID = r"[^/]+"

EXTENSION = Extension(
    alias="dhcp_agent_scheduler", name="DHCP Agent Scheduler",
    description="Schedule networks among dhcp agents",
    updated="2013-02-07T10:00:00-00:00",
    requires=("agent",),
)


class DhcpAgentSchedulerController:
    """The four calls, over the plugin's scheduler, DHCP hooks and resource services."""

    def __init__(self, scheduler, hooks, networks, agents, policy):
        self.scheduler = scheduler
        self.hooks = hooks
        self.networks = networks
        self.agents = agents
        self.policy = policy

    def register(self, router):
        router.add_route(r"/v2\.0/agents/(?P<agent_id>%s)/dhcp-networks" % ID,
                         {"GET": self.list_networks, "POST": self.add_network})
        router.add_route(r"/v2\.0/agents/(?P<agent_id>%s)/dhcp-networks/(?P<network_id>%s)" % (ID, ID),
                         {"DELETE": self.remove_network})
        router.add_route(r"/v2\.0/networks/(?P<network_id>%s)/dhcp-agents" % ID, {"GET": self.list_agents})

    def _enforce(self, context, action):
        # Admin only, as Neutron's default policy; a policy file may open it up.
        if self.policy.rule_exists(action):
            self.policy.enforce(context, action, {"project_id": context.project_id,
                                                  "tenant_id": context.project_id})
        elif not context.is_admin:
            raise exc.PolicyNotAuthorized(action=action)

    def list_networks(self, request, context, agent_id):
        self._enforce(context, "get_dhcp-networks")
        with db_api.reader_scope() as session:
            self.scheduler.check_agent(session, agent_id)
            network_ids = self.scheduler.network_ids_on_agent(session, agent_id)
        if not network_ids:
            return {"networks": []}
        return {"networks": self.networks.list(context, filters={"id": network_ids})}

    @takes_body
    def add_network(self, request, context, agent_id, body):
        self._enforce(context, "create_dhcp-network")
        network_id = body.get("network_id") if isinstance(body, dict) else None
        if not isinstance(network_id, str) or not network_id:
            raise faults.bad_request("Invalid input for network_id. Reason: '%s' is not a valid UUID."
                                     % (network_id,))
        host = self.scheduler.add_network(agent_id, network_id)
        self.hooks.network_added(context, host, network_id)
        # A JSON body, even if empty: clients parse the answer.
        return 201, {}

    def remove_network(self, request, context, agent_id, network_id):
        self._enforce(context, "delete_dhcp-network")
        host = self.scheduler.remove_network(agent_id, network_id)
        self.hooks.network_removed(context, host, network_id)

    def list_agents(self, request, context, network_id):
        self._enforce(context, "get_dhcp-agents")
        with db_api.reader_scope() as session:
            self.networks.get_row(session, context, network_id)
            agent_ids = self.scheduler.agent_ids_hosting(session, network_id)
        if not agent_ids:
            return {"agents": []}
        return {"agents": self.agents.list(context, filters={"id": agent_ids})}
