"""What metering agents are told (Neutron's MeteringAgentNotifyAPI): fanout casts on topic
``metering_agent`` after a label or rule is committed:

  add_metering_label / remove_metering_label / add_metering_label_rule /
  remove_metering_label_rule (routers=[ids of the routers the change may concern])

Agents also resync every measure_interval, which repairs a lost cast.
"""
import sqlalchemy as sa

from netweave.core.db import api as db_api
from netweave.core.rpc import casts
from netweave.service_plugins.metering import constants as const
from netweave.service_plugins.router import models as router_models

Router = router_models.Router


class MeteringAgentNotifier:
    """Fanout casts to every metering agent; nothing is sent before ``connect``."""

    def __init__(self, cast_client=None):
        self._casts = cast_client or casts.CastClient(const.METERING_AGENT_TOPIC)

    def connect(self, transport):
        self._casts.connect(transport)

    def notify(self, context, method, project_id=None, shared=False):
        if not self._casts.connected:
            return
        with db_api.reader_scope() as session:
            stmt = sa.select(Router.id).where(Router.gw_port_id.is_not(None)).order_by(Router.id)
            if not shared and project_id:
                stmt = stmt.where(Router.project_id == project_id)
            router_ids = list(session.scalars(stmt))
        self._casts.cast(context, method, fanout=True, routers=router_ids)
