"""L3 agents over RPC, server side: what they ask (topic "q-l3-plugin"); l3_notifier.py says
what they are told.

Asked, Neutron's L3RpcCallback names:
  sync_routers(host, router_ids=None) -> [router description, ...] (agent_view.py) of the routers
      scheduled to the L3 agent of ``host`` (those of router_ids only, when given). With
      ``router_auto_schedule`` the agent first takes the routers no agent hosts. The routers'
      ports (interfaces, gateway) are bound to ``host`` (binding:host_id), so the host's L2
      agent wires them and they turn ACTIVE: in the call, or, as the RPC server runs it, from
      a thread of the process right after the answer (a first sync of many routers waited
      seconds for them before the agent could apply anything). The ports of a host are bound
      together in one transaction (PortService.bind_to_host); if that fails, one by one, each
      a port update and a binding. The L2 agent wires a port once told of its binding.
  get_router_ids(host) -> [router_id, ...] the agent hosts (after the same auto-scheduling).
  update_floatingip_statuses(router_id, fip_statuses={fip_id: "ACTIVE"|"DOWN"|"ERROR"})
      -> None; floating IPs of other routers, unknown ids and unknown statuses are ignored.
"""
import logging

import oslo_messaging
import sqlalchemy as sa

from netweave.core import context as context_mod
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.db.models import port as port_models
from netweave.service_plugins.router import agent_view, models, update_batches
from netweave.service_plugins.router import constants as const

LOG = logging.getLogger(__name__)

L3_PLUGIN_TOPIC = "q-l3-plugin"

PortBinding = port_models.PortBinding


class L3RpcEndpoint:
    """``scheduler``: l3_scheduler.L3AgentScheduler; ``ports``: the core's port service
    (binds router ports to the agent's host); ``auto_schedule``: router_auto_schedule;
    ``bind_in_background``: bind router ports from a thread after answering (see above)."""

    target = oslo_messaging.Target(version="1.10")

    def __init__(self, scheduler, ports, auto_schedule=True, bind_in_background=False):
        self.scheduler = scheduler
        self.ports = ports
        self.auto_schedule = auto_schedule
        # (port id, host) pairs to bind, gathered while the thread binds; None: bound in the call.
        self._bindings = update_batches.UpdateBatches(self._bind_each, name="l3-port-binding") \
            if bind_in_background else None

    def _hosted(self, session, host, router_ids=None):
        return self.scheduler.router_ids_for_host(session, host, router_ids)

    def sync_routers(self, context, host=None, router_ids=None, **_kwargs):
        if self.auto_schedule and host:
            self.scheduler.auto_schedule(host)
        with db_api.reader_scope() as session:
            hosted = self._hosted(session, host, router_ids)
            described = agent_view.describe(agent_view.read(session, hosted)) if hosted else []
            unbound = self._ports_bound_elsewhere(session, described, host)
        if self._bindings is not None and unbound:
            self._bindings.add((port_id, host) for port_id in unbound)
        else:
            self._bind_ports(unbound, host)
        return described

    def wait_bound(self, timeout=None):
        """True once every binding asked for so far was done (at once when bound in the call)."""
        return self._bindings is None or self._bindings.wait_idle(timeout)

    def get_router_ids(self, context, host=None, **_kwargs):
        if self.auto_schedule and host:
            self.scheduler.auto_schedule(host)
        with db_api.reader_scope() as session:
            return self._hosted(session, host)

    # --- router ports on the agent's host ------------------------------------------------

    @staticmethod
    def _ports_bound_elsewhere(session, described, host):
        port_ids = []
        for router in described:
            port_ids += [port["id"] for port in router["_interfaces"]]
            if router.get("gw_port"):
                port_ids.append(router["gw_port"]["id"])
        if not port_ids or not host:
            return []
        bound = dict(session.execute(sa.select(PortBinding.port_id, PortBinding.host)
                                     .where(PortBinding.port_id.in_(port_ids))).all())
        return [port_id for port_id in port_ids if bound.get(port_id) != host]

    def _bind_ports(self, port_ids, host):
        self._bind_pairs([(port_id, host) for port_id in port_ids])

    def _bind_each(self, pairs):
        """In the binding thread: one port's failure leaves the others to be bound (the agent's
        next sync of its router asks again)."""
        for host, port_ids in _by_host(pairs):
            if self._bind_together(port_ids, host):
                continue
            for port_id in port_ids:
                try:
                    self._bind_one(port_id, host)
                except Exception:  # noqa: BLE001 - logged; the next sync_routers of the router retries
                    LOG.exception("Could not bind router port %s to host %s", port_id, host)

    def _bind_pairs(self, pairs):
        for host, port_ids in _by_host(pairs):
            if not self._bind_together(port_ids, host):
                for port_id in port_ids:
                    self._bind_one(port_id, host)

    def _bind_together(self, port_ids, host):
        """Bind the ports in one transaction; False when that failed (then one by one)."""
        try:
            self.ports.bind_to_host(context_mod.get_admin_context(), port_ids, host)
        except Exception:  # noqa: BLE001 - each port is then bound alone, where its own error shows
            LOG.warning("Could not bind %d router ports to host %s together; binding them one by one",
                        len(port_ids), host, exc_info=True)
            return False
        return True

    def _bind_one(self, port_id, host):
        try:
            self.ports.update(context_mod.get_admin_context(), port_id, {"binding:host_id": host})
        except exc.NotFound:
            pass    # gone meanwhile: the router's next change tells the agent

    @db_api.retry_db_errors
    def update_floatingip_statuses(self, context, router_id=None, fip_statuses=None, **_kwargs):
        # One statement per status, whatever the number of floating IPs reported.
        by_status = {}
        for fip_id, status in sorted((fip_statuses or {}).items()):
            if status in const.FLOATINGIP_STATUSES:
                by_status.setdefault(status, []).append(fip_id)
        if not by_status:
            return
        fips = models.FloatingIP.__table__
        with db_api.session_scope() as session:
            now = model_base.utcnow()
            for status, fip_ids in sorted(by_status.items()):
                session.execute(sa.update(fips)
                                .where(fips.c.id.in_(fip_ids), fips.c.router_id == router_id,
                                       fips.c.status != status)
                                .values(status=status, updated_at=now, revision_number=fips.c.revision_number + 1))


def _by_host(pairs):
    """(host, [port id, ...]) of (port id, host) pairs, in the order first met."""
    hosts = {}
    for port_id, host in pairs:
        hosts.setdefault(host, []).append(port_id)
    return list(hosts.items())
