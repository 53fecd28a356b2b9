"""Service plugin ``az``: network availability zones (book chapter 14).

DHCP and L3 agents report the zone of their host (``[agent]
availability_zone``, ``nova`` by default); ``/v2.0/availability_zones`` lists
them per kind of resource (zones.py). Networks and routers take
``availability_zone_hints`` when created, checked against the zones agents
report, and show ``availability_zones``, the zones of the agents hosting them
(hints.py, through the core's resource extenders). The plugin installs the
availability-zone aware placement policy (placement.py, planner.py) that the
DHCP and L3 schedulers choose agents through: hinted zones first, spread
across them, other zones only when none of them can serve (the book's "best
effort"); ``[DEFAULT] default_availability_zones`` stands for missing hints.
Router hints live in this plugin's table (Alembic branch ``az``).
"""
from oslo_config import cfg

from netweave.core import events
from netweave.core.plugins import service_base
from netweave.core.services import agent_placement
from netweave.service_plugins.az import config, hints, placement, zones

PLUGIN_NAME = "az"
ROUTER = agent_placement.ROUTER


class AvailabilityZonePlugin(service_base.ServicePlugin):
    supported_extension_aliases = ["availability_zone", "network_availability_zone", "router_availability_zone"]

    def __init__(self, conf=None):
        self.conf = conf or cfg.CONF
        config.register_opts(self.conf)
        self.zones = None

    def initialize(self, core):
        self.zones = zones.ZoneService(core.agents)
        core.extenders.register(events.NETWORK, hints.extend_networks)
        core.extenders.register(ROUTER, hints.extend_routers)
        core.placement.use(placement.AvailabilityZonePlacement(self.conf), PLUGIN_NAME)
        registry = core.events
        registry.subscribe(self._check_network_hints, events.NETWORK, events.Event.BEFORE_CREATE)
        registry.subscribe(self._check_router_hints, ROUTER, events.Event.BEFORE_CREATE)
        registry.subscribe(self._store_router_hints, ROUTER, events.Event.PRECOMMIT_CREATE)

    # --- hints -------------------------------------------------------------------

    def _check_network_hints(self, resource, event, payload):
        self.zones.check_hints(agent_placement.NETWORK, (payload.current or {}).get(hints.HINTS))

    def _check_router_hints(self, resource, event, payload):
        self.zones.check_hints(ROUTER, (payload.current or {}).get(hints.HINTS))

    @staticmethod
    def _store_router_hints(resource, event, payload):
        hints.store_router_hints(payload.session, payload.resource_id, (payload.request or {}).get(hints.HINTS))

    # --- /v2.0/availability_zones ------------------------------------------------

    def get_availability_zones(self, context, **kwargs):
        return self.zones.list(context, **kwargs)

    def get_availability_zone(self, context, name, fields=None):
        return self.zones.get(context, name, fields)
