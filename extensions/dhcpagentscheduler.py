"""dhcp_agent_scheduler: which DHCP agents host which networks, for administrators.

  GET    /v2.0/agents/{agent_id}/dhcp-networks               {"networks": [...]}
  POST   /v2.0/agents/{agent_id}/dhcp-networks               {"network_id": ...} -> 201
  DELETE /v2.0/agents/{agent_id}/dhcp-networks/{network_id}  -> 204
  GET    /v2.0/networks/{network_id}/dhcp-agents             {"agents": [...]}
"""
from netweave.core.api import agent_scheduler
from netweave.core.api.extension import Extension

EXTENSION = Extension(
    alias="dhcp_agent_scheduler", name="DHCP Agent Scheduler",
    description="Schedule networks among dhcp agents",
    updated="2013-02-07T10:00:00-00:00",
    requires=("agent",),
)


def hosting(scheduler, hooks, networks, agents):
    """DHCP agents hosting networks (core.api.agent_scheduler), over the DHCP scheduler and hooks."""
    def add(context, agent_id, network_id):
        hooks.network_added(context, scheduler.add_network(agent_id, network_id), network_id)

    def remove(context, agent_id, network_id):
        hooks.network_removed(context, scheduler.remove_network(agent_id, network_id), network_id)

    return agent_scheduler.Hosting(
        hosted="network", by_agent="dhcp-networks", by_resource="dhcp-agents",
        check_agent=scheduler.check_agent, resource_ids_on_agent=scheduler.network_ids_on_agent,
        agent_ids_hosting=scheduler.agent_ids_hosting,
        check_resource=lambda context, network_id: networks.get(context, network_id, fields=["id"]),
        list_resources=lambda context, ids: networks.list(context, filters={"id": ids}),
        list_agents=lambda context, ids: agents.list(context, filters={"id": ids}),
        add=add, remove=remove)
