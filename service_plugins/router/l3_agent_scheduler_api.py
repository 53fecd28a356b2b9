"""l3_agent_scheduler: which L3 agents host which routers, for administrators.

  GET    /v2.0/agents/{agent_id}/l3-routers               {"routers": [...]}
  POST   /v2.0/agents/{agent_id}/l3-routers               {"router_id": ...} -> 201
  DELETE /v2.0/agents/{agent_id}/l3-routers/{router_id}   -> 204
  GET    /v2.0/routers/{router_id}/l3-agents              {"agents": [...]}

(``openstack network agent add router --l3``, ``network agent remove router --l3``,
``network agent list --router``, ``router list --agent``.)
"""
from netweave.core.api import agent_scheduler
from netweave.core.api.extension import Extension

L3_AGENT_SCHEDULER = Extension(
    alias="l3_agent_scheduler", name="L3 Agent Scheduler",
    description="Schedule routers among l3 agents",
    updated="2013-02-07T10:00:00-00:00",
    requires=("agent", "router"),
)


def hosting(scheduler, plugin, agents, notify):
    """L3 agents hosting routers (core.api.agent_scheduler). ``notify``: l3_notifier.L3AgentNotifier."""
    def add(context, agent_id, router_id):
        notify.router_added_to_agent(context, scheduler.add_router(agent_id, router_id), router_id)

    def remove(context, agent_id, router_id):
        notify.router_removed_from_agent(context, scheduler.remove_router(agent_id, router_id), router_id)

    return agent_scheduler.Hosting(
        hosted="router", by_agent="l3-routers", by_resource="l3-agents",
        check_agent=scheduler.check_agent, resource_ids_on_agent=scheduler.router_ids_on_agent,
        agent_ids_hosting=scheduler.agent_ids_hosting,
        check_resource=plugin.get_router,
        list_resources=lambda context, ids: plugin.get_routers(context, filters={"id": ids}),
        list_agents=lambda context, ids: agents.list(context, filters={"id": ids}),
        add=add, remove=remove)
