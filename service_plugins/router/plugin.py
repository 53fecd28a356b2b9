"""Service plugin ``router``: Neutron's L3 API (routers, interfaces, gateways, extra routes,
floating IPs) over the core's networks, subnets and ports.

It keeps its own tables (models.py, the Alembic branch ``router``), counts the
quotas ``router`` and ``floatingip``, and hooks the core's resource events
(port_guards.py). The member actions are routed in ``register_routes``.

Routers are scheduled to L3 agents (l3_scheduler.py; the l3_agent_scheduler
API in l3_agent_scheduler_api.py); the notifier tells the hosting agents.
With ``allow_automatic_l3agent_failover`` a server connected to the agents
moves routers off dead agents every agent_down_time / 2 seconds.
"""
import logging
import threading

from oslo_config import cfg

from netweave.core.api import agent_scheduler
from netweave.core.plugins import service_base
from netweave.service_plugins.router import (
    config,
    floatingips,
    gateway,
    interfaces,
    l3_agent_scheduler_api,
    l3_notifier,
    l3_scheduler,
    models,
    port_guards,
    routers,
    rules,
)
from netweave.service_plugins.router import constants as const

LOG = logging.getLogger(__name__)

SUPPORTED_ALIASES = ("router", "ext-gw-mode", "extraroute", "extraroute-atomic", "fip-port-details", "dvr",
                     "l3-ha", "l3_agent_scheduler")


class RouterPlugin(service_base.ServicePlugin):
    supported_extension_aliases = list(SUPPORTED_ALIASES)

    def __init__(self, conf=None):
        self.conf = conf or cfg.CONF
        config.register_opts(self.conf)
        self.routers = None
        self.interfaces = None
        self.floatingips = None
        self.scheduler = None
        self.ports = None
        self.agents = None
        self.notifier = l3_notifier.L3AgentNotifier()
        self._failover_stop = threading.Event()

    def initialize(self, core):
        core.quotas.register(const.ROUTER, models.Router)
        core.quotas.register(const.FLOATINGIP, models.FloatingIP)
        core.register_tagged_model("routers", models.Router)
        core.register_tagged_model("floatingips", models.FloatingIP)
        registry = core.events
        gateways = gateway.GatewayService(self.conf, core.networks, core.ports)
        self.routers = routers.RouterService(self.conf, core.quotas, gateways, registry, extenders=core.extenders)
        self.interfaces = interfaces.InterfaceService(self.routers, core.subnets, core.ports, registry)
        self.floatingips = floatingips.FloatingIPService(self.conf, core.quotas, core.networks, core.ports, registry)
        port_guards.PortGuards(self.floatingips).subscribe(registry)
        self.ports = core.ports
        self.agents = core.agents
        self.scheduler = l3_scheduler.L3AgentScheduler(self.conf, clock=lambda: core.agents.clock(),
                                                       placement=core.placement)
        self.notifier.scheduler = self.scheduler
        self.notifier.auto_schedule = self.conf.router_auto_schedule
        self.notifier.subscribe(registry)

    def connect_agents(self, transport):
        self.notifier.connect(transport)
        self.notifier.send_in_background()
        if self.conf.allow_automatic_l3agent_failover:
            threading.Thread(target=self._failover_loop, name="l3-agent-failover", daemon=True).start()

    def stop_failover(self):
        self._failover_stop.set()

    def _failover_loop(self):
        interval = max(1.0, self.conf.agent_down_time / 2.0)
        while not self._failover_stop.wait(interval):
            self.reschedule_from_dead_agents()

    def reschedule_from_dead_agents(self):
        """Move routers off dead L3 agents (when failover is allowed) and tell both agents."""
        from netweave.core import context as context_mod
        try:
            moves = self.scheduler.reschedule_from_dead_agents()
        except Exception:  # noqa: BLE001 - the next round tries again
            LOG.exception("Rescheduling routers off dead L3 agents failed")
            return []
        if moves:
            self.notifier.routers_moved(context_mod.get_admin_context(), moves)
        return moves

    def rpc_endpoints(self):
        # Here, not at import: only RPC servers load oslo.messaging.
        from netweave.service_plugins.router import l3_rpc

        return {l3_rpc.L3_PLUGIN_TOPIC: [l3_rpc.L3RpcEndpoint(self.scheduler, self.ports,
                                                              auto_schedule=self.conf.router_auto_schedule,
                                                              bind_in_background=True)]}

    def register_routes(self, router, policy):
        # The member actions (interfaces, extra routes) come from the API definitions.
        hosting = l3_agent_scheduler_api.hosting(self.scheduler, self, self.agents, self.notifier)
        agent_scheduler.AgentSchedulerController(hosting, policy).register(router)

    # --- routers ---------------------------------------------------------------
    def create_router(self, context, body):
        return self.routers.create(context, body["router"])

    def update_router(self, context, router_id, body):
        return self.routers.update(context, router_id, body["router"])

    def delete_router(self, context, router_id):
        return self.routers.delete(context, router_id)

    def get_router(self, context, router_id, fields=None):
        return self.routers.get(context, router_id, fields)

    def get_routers(self, context, **kwargs):
        return self.routers.list(context, **kwargs)

    def add_router_interface(self, context, router_id, body):
        return self.interfaces.add(context, router_id, body)

    def remove_router_interface(self, context, router_id, body):
        return self.interfaces.remove(context, router_id, body)

    def add_extraroutes(self, context, router_id, body):
        return {"router": self.routers.change_routes(context, router_id, body, rules.merge_routes)}

    def remove_extraroutes(self, context, router_id, body):
        return {"router": self.routers.change_routes(context, router_id, body, rules.remove_routes)}

    # --- floating IPs ------------------------------------------------------------
    def create_floatingip(self, context, body):
        return self.floatingips.create(context, body["floatingip"])

    def update_floatingip(self, context, fip_id, body):
        return self.floatingips.update(context, fip_id, body["floatingip"])

    def delete_floatingip(self, context, fip_id):
        return self.floatingips.delete(context, fip_id)

    def get_floatingip(self, context, fip_id, fields=None):
        return self.floatingips.get(context, fip_id, fields)

    def get_floatingips(self, context, **kwargs):
        return self.floatingips.list(context, **kwargs)
