"""What L3 agents are told, fanout casts on topic "l3_agent" after the change is committed
(Neutron's L3AgentNotifyAPI without a scheduler: every L3 agent hosts every router):

  routers_updated(routers=[router_id, ...])   a router, its interfaces, gateway or floating IPs changed
  router_deleted(router_id=router_id)

A deleted instance port loses its floating IPs inside its own transaction; the routers with an
interface on its subnets are told afterwards.
"""
import sqlalchemy as sa

from netweave.core import events
from netweave.core.db import api as db_api
from netweave.core.rpc import casts, topics
from netweave.service_plugins.router import constants as const
from netweave.service_plugins.router import db_reads, models


class L3AgentNotifier:
    """Sends nothing until ``connect`` gives it a transport."""

    def __init__(self, cast_client=None):
        # cast_client: anything with CastClient's connect/cast (tests record the casts).
        self._casts = cast_client or casts.CastClient(topics.L3_AGENT)

    @property
    def connected(self):
        return self._casts.connected

    def connect(self, transport):
        self._casts.connect(transport)

    def routers_updated(self, context, router_ids):
        ids = sorted({r for r in router_ids if r})
        if ids:
            self._casts.cast(context, "routers_updated", fanout=True, routers=ids)

    def router_deleted(self, context, router_id):
        self._casts.cast(context, "router_deleted", fanout=True, router_id=router_id)

    # --- resource events ------------------------------------------------------------

    def subscribe(self, registry):
        for event in (events.Event.AFTER_CREATE, events.Event.AFTER_UPDATE):
            registry.subscribe(self._router_changed, const.ROUTER, event)
        registry.subscribe(self._router_gone, const.ROUTER, events.Event.AFTER_DELETE)
        for event in (events.Event.AFTER_CREATE, events.Event.AFTER_DELETE):
            registry.subscribe(self._router_changed, const.ROUTER_INTERFACE, event)
        for event in (events.Event.AFTER_CREATE, events.Event.AFTER_UPDATE, events.Event.AFTER_DELETE):
            registry.subscribe(self._floatingip_changed, const.FLOATINGIP, event)
        registry.subscribe(self._port_gone, events.PORT, events.Event.AFTER_DELETE)

    def _router_changed(self, resource, event, payload):
        self.routers_updated(payload.context, [payload.resource_id])

    def _router_gone(self, resource, event, payload):
        self.router_deleted(payload.context, payload.resource_id)

    def _floatingip_changed(self, resource, event, payload):
        # The router it left and the one it joined.
        routers = [(state or {}).get("router_id") for state in (payload.original, payload.current)]
        self.routers_updated(payload.context, routers)

    def _port_gone(self, resource, event, payload):
        port = payload.original or {}
        subnet_ids = [ip["subnet_id"] for ip in port.get("fixed_ips") or ()]
        if not self.connected or not subnet_ids or port.get("device_owner") in const.SERVICE_PORT_OWNERS:
            return
        with db_api.reader_scope() as session:
            router_ids = session.scalars(
                sa.select(models.RouterPort.router_id).distinct()
                .join(db_reads.IPAllocation, db_reads.IPAllocation.port_id == models.RouterPort.port_id)
                .where(models.RouterPort.port_type.in_(const.ROUTER_INTERFACE_OWNERS),
                       db_reads.IPAllocation.subnet_id.in_(subnet_ids))).all()
        self.routers_updated(payload.context, router_ids)
