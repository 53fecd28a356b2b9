"""l3_agent_scheduler: which L3 agents host which routers, for administrators.

  GET    /v2.0/agents/{agent_id}/l3-routers               {"routers": [...]}
  POST   /v2.0/agents/{agent_id}/l3-routers               {"router_id": ...} -> 201
  DELETE /v2.0/agents/{agent_id}/l3-routers/{router_id}   -> 204
  GET    /v2.0/routers/{router_id}/l3-agents              {"agents": [...]}

(``openstack network agent add router --l3``, ``network agent remove router --l3``,
``network agent list --router``, ``router list --agent``.)
"""
from netweave.core import exceptions as exc
from netweave.core.api import faults
from netweave.core.api.app import takes_body
from netweave.core.api.extension import Extension
from netweave.core.db import api as db_api

ID = r"[^/]+"

L3_AGENT_SCHEDULER = Extension(
    alias="l3_agent_scheduler", name="L3 Agent Scheduler",
    description="Schedule routers among l3 agents",
    updated="2013-02-07T10:00:00-00:00",
    requires=("agent", "router"),
)


class L3AgentSchedulerController:
    """The four calls, over the scheduler, the router plugin and the core's agents.

    ``notify``: l3_notifier.L3AgentNotifier (router_added_to_agent / router_removed_from_agent).
    """

    def __init__(self, scheduler, plugin, agents, notify, policy):
        self.scheduler = scheduler
        self.plugin = plugin
        self.agents = agents
        self.notify = notify
        self.policy = policy

    def register(self, router):
        router.add_route(r"/v2\.0/agents/(?P<agent_id>%s)/l3-routers" % ID,
                         {"GET": self.list_routers, "POST": self.add_router})
        router.add_route(r"/v2\.0/agents/(?P<agent_id>%s)/l3-routers/(?P<router_id>%s)" % (ID, ID),
                         {"DELETE": self.remove_router})
        router.add_route(r"/v2\.0/routers/(?P<router_id>%s)/l3-agents" % ID, {"GET": self.list_agents})

    def _enforce(self, context, action):
        # Admin only, as Neutron's default policy; a policy file may open it up.
        if self.policy.rule_exists(action):
            self.policy.enforce(context, action, {"project_id": context.project_id,
                                                  "tenant_id": context.project_id})
        elif not context.is_admin:
            raise exc.PolicyNotAuthorized(action=action)

    def list_routers(self, request, context, agent_id):
        self._enforce(context, "get_l3-routers")
        with db_api.reader_scope() as session:
            self.scheduler.check_agent(session, agent_id)
            router_ids = self.scheduler.router_ids_on_agent(session, agent_id)
        if not router_ids:
            return {"routers": []}
        return {"routers": self.plugin.get_routers(context, filters={"id": router_ids})}

    @takes_body
    def add_router(self, request, context, agent_id, body):
        self._enforce(context, "create_l3-router")
        router_id = body.get("router_id") if isinstance(body, dict) else None
        if not isinstance(router_id, str) or not router_id:
            raise faults.bad_request("Invalid input for router_id. Reason: '%s' is not a valid UUID."
                                     % (router_id,))
        host = self.scheduler.add_router(agent_id, router_id)
        self.notify.router_added_to_agent(context, host, router_id)
        return 201, {}

    def remove_router(self, request, context, agent_id, router_id):
        self._enforce(context, "delete_l3-router")
        host = self.scheduler.remove_router(agent_id, router_id)
        self.notify.router_removed_from_agent(context, host, router_id)

    def list_agents(self, request, context, router_id):
        self._enforce(context, "get_l3-agents")
        self.plugin.get_router(context, router_id)
        with db_api.reader_scope() as session:
            agent_ids = self.scheduler.agent_ids_hosting(session, router_id)
        if not agent_ids:
            return {"agents": []}
        return {"agents": self.agents.list(context, filters={"id": agent_ids})}
