"""Server options of the router plugin, with Neutron's names and defaults.

The plugin registers them when it is loaded (``register_opts``); ``list_opts``
is the oslo.config.opts entry point for the sample file.
"""
from oslo_config import cfg

router_opts = [
    cfg.BoolOpt("router_distributed", default=False,
                help="System-wide flag to determine the type of router that tenants can create. "
                     "Only admin can override."),
    cfg.BoolOpt("l3_ha", default=False,
                help="Enable HA mode for virtual routers: the default router type of projects."),
    cfg.IntOpt("max_l3_agents_per_router", default=3, min=0,
               help="Maximum number of L3 agents which a HA router will be scheduled on. "
                    "If it is set to 0 then the router will be scheduled on every agent."),
    cfg.StrOpt("l3_ha_net_cidr", default="169.254.192.0/18",
               help="Subnet used for the l3 HA admin network."),
    cfg.StrOpt("l3_ha_network_type", default="",
               help="The network type to use when creating the HA network for an HA router. "
                    "By default or if empty, the first 'tenant_network_types' is used."),
    cfg.StrOpt("l3_ha_network_physical_name", default="",
               help="The physical network name with which the HA network can be created."),
    cfg.BoolOpt("enable_snat_by_default", default=True,
                help="Define the default value of enable_snat if not provided in external_gateway_info."),
    cfg.IntOpt("max_routes", default=30, min=0, help="Maximum number of routes per router."),
    cfg.BoolOpt("router_auto_schedule", default=True,
                help="Allow auto scheduling of routers to L3 agents."),
    cfg.BoolOpt("allow_automatic_l3agent_failover", default=False,
                help="Automatically reschedule routers from offline L3 agents to online L3 agents."),
]


def register_opts(conf=cfg.CONF):
    for opt in router_opts:
        try:
            conf.register_opt(opt)
        except cfg.DuplicateOptError:
            pass  # registered by an earlier plugin instance in this process


def list_opts():
    return [("DEFAULT", list(router_opts))]
