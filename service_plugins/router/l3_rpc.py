"""L3 agents over RPC, server side: what they ask (topic "q-l3-plugin"); l3_notifier.py says
what they are told.

Asked, Neutron's L3RpcCallback names:
  sync_routers(host, router_ids=None) -> [router description, ...] (agent_view.py); every router
      when router_ids is None. Routers are not scheduled to agents yet: each L3 agent hosts all.
  get_router_ids(host) -> [router_id, ...] the agent hosts (every router, for now).
  update_floatingip_statuses(router_id, fip_statuses={fip_id: "ACTIVE"|"DOWN"|"ERROR"})
      -> None; floating IPs of other routers, unknown ids and unknown statuses are ignored.
"""
import oslo_messaging
import sqlalchemy as sa

from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.service_plugins.router import agent_view, models
from netweave.service_plugins.router import constants as const

L3_PLUGIN_TOPIC = "q-l3-plugin"


class L3RpcEndpoint:
    target = oslo_messaging.Target(version="1.10")

    def sync_routers(self, context, host=None, router_ids=None, **_kwargs):
        with db_api.reader_scope() as session:
            return agent_view.describe(agent_view.read(session, router_ids))

    def get_router_ids(self, context, host=None, **_kwargs):
        with db_api.reader_scope() as session:
            return list(session.scalars(sa.select(models.Router.id).order_by(models.Router.id)))

    @db_api.retry_db_errors
    def update_floatingip_statuses(self, context, router_id=None, fip_statuses=None, **_kwargs):
        with db_api.session_scope() as session:
            for fip_id, status in sorted((fip_statuses or {}).items()):
                if status not in const.FLOATINGIP_STATUSES:
                    continue
                session.execute(sa.update(models.FloatingIP)
                                .where(models.FloatingIP.id == fip_id, models.FloatingIP.router_id == router_id,
                                       models.FloatingIP.status != status)
                                .values(status=status, updated_at=model_base.utcnow(),
                                        revision_number=models.FloatingIP.revision_number + 1)
                                .execution_options(synchronize_session=False))
