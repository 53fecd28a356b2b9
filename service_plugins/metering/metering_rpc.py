"""Metering agents over RPC, server side (Neutron's MeteringRpcCallbacks and MeteringAgentNotifyAPI).

Asked on topic ``q-metering-plugin``:
  get_sync_data_metering(host, router_ids=None) -> [router, ...]: the routers the L3 agent of
      ``host`` hosts that have an external gateway (metering counts on the qg- device), each
      {"id", "name", "tenant_id", "project_id", "admin_state_up", "gw_port_id",
       "_metering_labels": [{"id", "name", "shared", "rules": [rule dict, ...]}, ...]}
      with the labels of the router's project and every shared label.

What agents are told is notifier.py's.
"""
import oslo_messaging
import sqlalchemy as sa

from netweave.core.db import api as db_api
from netweave.core.db.models import agent as agent_models
from netweave.core.rpc import topics
from netweave.service_plugins.router import models as router_models
from netweave.service_plugins.router import scheduling_models

Router = router_models.Router
Binding = scheduling_models.RouterL3AgentBinding
Agent = agent_models.Agent


def routers_with_labels(session, service, host, router_ids=None):
    stmt = (sa.select(Router).join(Binding, Binding.router_id == Router.id)
            .join(Agent, Agent.id == Binding.l3_agent_id)
            .where(Agent.agent_type == topics.AGENT_TYPE_L3, Agent.host == host, Router.gw_port_id.is_not(None))
            .order_by(Router.id))
    if router_ids is not None:
        stmt = stmt.where(Router.id.in_(list(router_ids)))
    routers = list(session.scalars(stmt))
    labels = service.labels_for_projects(session, {r.project_id for r in routers})
    return [{"id": r.id, "name": r.name, "tenant_id": r.project_id, "project_id": r.project_id,
             "admin_state_up": r.admin_state_up, "gw_port_id": r.gw_port_id,
             "_metering_labels": [{"id": label["id"], "name": label["name"], "shared": label["shared"],
                                   "rules": label["rules"]} for label in labels[r.project_id]]}
            for r in routers]


class MeteringRpcEndpoint:
    target = oslo_messaging.Target(version="1.0")

    def __init__(self, service):
        self.service = service

    def get_sync_data_metering(self, context, host=None, router_ids=None, **_kwargs):
        if not host:
            return []
        with db_api.reader_scope() as session:
            return routers_with_labels(session, self.service, host, router_ids)
