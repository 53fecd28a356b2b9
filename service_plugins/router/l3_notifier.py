"""What L3 agents are told, casts on topic "l3_agent" after the change is committed
(Neutron's L3AgentNotifyAPI):

  routers_updated(routers=[router_id, ...])   a router, its interfaces, gateway or floating IPs changed
  router_deleted(router_id=router_id)
  router_added_to_agent(payload=[router_id])           an administrator bound it to that agent
  router_removed_from_agent(payload={"router_id": id}) an administrator unbound it

With a scheduler (l3_scheduler.L3AgentScheduler) each cast goes to the hosts of
the agents hosting the router (server=<host>), and a changed router that needs
an agent (it got a gateway or an interface) is first scheduled when
``router_auto_schedule`` allows; without one, casts are fanned out to every L3
agent.

A deleted instance port loses its floating IPs inside its own transaction; when it had any
(port_guards.py notes it in the payload's metadata), the routers with an interface on its
subnets are told afterwards.

Once ``send_in_background`` was called (the server does, when connected), changed
routers are told from a thread of the process, coalesced (update_batches.py): the
request only schedules a router its change made routable (so it has its agent when
the call returns) and queues the id.
"""
import sqlalchemy as sa

from netweave.core import context as context_mod
from netweave.core import events
from netweave.core.db import api as db_api
from netweave.core.rpc import casts, topics
from netweave.service_plugins.router import constants as const
from netweave.service_plugins.router import db_reads, models, update_batches


class L3AgentNotifier:
    """Sends nothing until ``connect`` gives it a transport."""

    def __init__(self, cast_client=None, scheduler=None, auto_schedule=True):
        # cast_client: anything with CastClient's connect/cast (tests record the casts).
        self._casts = cast_client or casts.CastClient(topics.L3_AGENT)
        self.scheduler = scheduler
        self.auto_schedule = auto_schedule
        # {router_id: hosts to tell}, read inside a router delete's transaction (the
        # bindings go with the router) and taken once it committed.
        self._deleted_router_hosts = {}
        # update_batches.UpdateBatches once send_in_background was called; None: sent in the request.
        self._batches = None

    @property
    def connected(self):
        return self._casts.connected

    def connect(self, transport):
        self._casts.connect(transport)

    def send_in_background(self):
        """From now on tell changed routers from a sender thread, coalesced."""
        if self._batches is None:
            self._batches = update_batches.UpdateBatches(self._send_batch)

    def wait_sent(self, timeout=None):
        """True once every change queued so far was sent (at once when not sending in background)."""
        return self._batches is None or self._batches.wait_idle(timeout)

    def _send_batch(self, router_ids):
        self.routers_updated(context_mod.get_admin_context(), router_ids, now=True)

    def routers_updated(self, context, router_ids, schedule=True, now=False):
        """Tell the routers' agents, scheduling those that need one first (with
        ``auto_schedule``). In background mode it only queues them, unless ``now``;
        ``schedule`` then says whether to schedule them in the caller first."""
        ids = sorted({r for r in router_ids if r})
        if not ids:
            return
        if self._batches is not None and not now:
            if schedule and self.scheduler is not None and self.auto_schedule:
                self.scheduler.schedule_routers(ids)
            self._batches.add(ids)
            return
        if self.scheduler is None:
            self._casts.cast(context, "routers_updated", fanout=True, routers=ids)
            return
        if not self.connected:
            if self.auto_schedule:
                self.scheduler.schedule_routers(ids)
            return
        # Whom to tell first: most changed routers have their agent already, and only the
        # others need the scheduler's look (one read less for every change of a hosted router).
        with db_api.reader_scope() as session:
            hosts_of = self.scheduler.hosts_of(session, ids)
        homeless = [router_id for router_id in ids if router_id not in hosts_of]
        if homeless and self.auto_schedule:
            for router_id, agent in self.scheduler.schedule_routers(homeless).items():
                hosts_of.setdefault(router_id, []).append(agent.host)
        by_host = {}
        for router_id, hosts in hosts_of.items():
            for host in hosts:
                by_host.setdefault(host, []).append(router_id)
        for host, routers in sorted(by_host.items()):
            self._casts.cast(context, "routers_updated", server=host, routers=routers)

    def router_deleted(self, context, router_id, hosts=None):
        if self.scheduler is None:
            self._casts.cast(context, "router_deleted", fanout=True, router_id=router_id)
            return
        for host in hosts or ():
            self._casts.cast(context, "router_deleted", server=host, router_id=router_id)

    def router_added_to_agent(self, context, host, router_id):
        if self.connected:
            self._casts.cast(context, "router_added_to_agent", server=host, payload=[router_id])

    def router_removed_from_agent(self, context, host, router_id):
        if self.connected:
            self._casts.cast(context, "router_removed_from_agent", server=host, payload={"router_id": router_id})

    def routers_moved(self, context, moves):
        """After failover: [(router_id, old host, new AgentInfo or None)]."""
        for router_id, old_host, new_agent in moves:
            self.router_removed_from_agent(context, old_host, router_id)
            if new_agent is not None:
                self.router_added_to_agent(context, new_agent.host, router_id)

    # --- resource events ------------------------------------------------------------

    def subscribe(self, registry):
        for event in (events.Event.AFTER_CREATE, events.Event.AFTER_UPDATE):
            registry.subscribe(self._router_changed, const.ROUTER, event)
        registry.subscribe(self._router_deleting, const.ROUTER, events.Event.PRECOMMIT_DELETE)
        registry.subscribe(self._router_gone, const.ROUTER, events.Event.AFTER_DELETE)
        for event in (events.Event.AFTER_CREATE, events.Event.AFTER_DELETE):
            registry.subscribe(self._router_changed, const.ROUTER_INTERFACE, event)
        for event in (events.Event.AFTER_CREATE, events.Event.AFTER_UPDATE, events.Event.AFTER_DELETE):
            registry.subscribe(self._floatingip_changed, const.FLOATINGIP, event)
        registry.subscribe(self._port_gone, events.PORT, events.Event.AFTER_DELETE)

    def _router_changed(self, resource, event, payload):
        self.routers_updated(payload.context, [payload.resource_id])

    def _router_deleting(self, resource, event, payload):
        # The bindings go with the router: read whom to tell while they still exist.
        # A delete that then rolls back leaves its entry, replaced by the next try.
        if self.scheduler is not None:
            hosts = self.scheduler.hosts_of(payload.session, [payload.resource_id])
            self._deleted_router_hosts[payload.resource_id] = hosts.get(payload.resource_id, [])

    def _router_gone(self, resource, event, payload):
        hosts = self._deleted_router_hosts.pop(payload.resource_id, None)
        if self.connected:
            self.router_deleted(payload.context, payload.resource_id, hosts)

    def _floatingip_changed(self, resource, event, payload):
        # The router it left and the one it joined. Their gateway and interface already
        # made them routable: the sender schedules them if that has not happened yet.
        routers = [(state or {}).get("router_id") for state in (payload.original, payload.current)]
        self.routers_updated(payload.context, routers, schedule=False)

    def _port_gone(self, resource, event, payload):
        port = payload.original or {}
        subnet_ids = [ip["subnet_id"] for ip in port.get("fixed_ips") or ()]
        if not (self.connected and subnet_ids and payload.metadata.get(const.FLOATINGIPS_DISASSOCIATED)):
            return
        with db_api.reader_connection() as connection:
            router_ids = connection.scalars(_ROUTERS_ON_SUBNETS, {"subnet_ids": subnet_ids}).all()
        self.routers_updated(payload.context, router_ids, schedule=False)


# The routers with an interface on any of some subnets (bind subnet_ids): built once,
# as every port delete asks it.
_ROUTERS_ON_SUBNETS = (
    sa.select(models.RouterPort.router_id).distinct()
    .join(db_reads.IPAllocation, db_reads.IPAllocation.port_id == models.RouterPort.port_id)
    .where(models.RouterPort.port_type.in_(const.ROUTER_INTERFACE_OWNERS),
           db_reads.IPAllocation.subnet_id.in_(sa.bindparam("subnet_ids", expanding=True))))
