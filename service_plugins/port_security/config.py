"""Options of port_security: the agents' [securitygroup] ones, as Neutron names them,
and the server's [quotas] limits of security groups and rules.

The L2 agents register their own ``firewall_driver`` and
``enable_security_group`` (with the default that fits each agent); this module
adds ``enable_ipset`` (the one the sample generator takes from here).
``register_opts`` leaves an option the agent registered first alone.
"""
from oslo_config import cfg

GROUP = "securitygroup"

securitygroup_opts = [
    cfg.StrOpt("firewall_driver", default="noop",
               help="Firewall driver of the agent, from the netweave.firewall_drivers entry "
                    "points: iptables (Linux bridge), iptables_hybrid (Open vSwitch through a "
                    "qbr bridge) or noop (no filtering)."),
    cfg.BoolOpt("enable_security_group", default=True,
                help="Filter ports by their security groups; when off, the noop driver is "
                     "used whatever firewall_driver says."),
    cfg.BoolOpt("enable_ipset", default=True,
                help="Match remote-group rules with one ipset per group and address family "
                     "instead of one iptables rule per member address; a membership change "
                     "then only edits the set."),
]


def register_opts(conf=cfg.CONF):
    for opt in securitygroup_opts:
        try:
            conf.register_opt(opt, GROUP)
        except cfg.DuplicateOptError:
            pass    # the agent's own definition (its default) stays


def list_opts():
    """Only enable_ipset: the agents' own option lists document the other two with their defaults."""
    return [(GROUP, [opt for opt in securitygroup_opts if opt.dest == "enable_ipset"])]


# [quotas] of the server, registered by the plugin when it is loaded (SecurityGroupService).
QUOTAS_GROUP = "quotas"

quota_opts = [
    cfg.IntOpt("quota_security_group", default=10, help="Number of security groups allowed per project."),
    cfg.IntOpt("quota_security_group_rule", default=100,
               help="Number of security group rules allowed per project."),
]


def register_quota_opts(conf=cfg.CONF):
    """Idempotent: every SecurityGroupService of a process registers them."""
    conf.register_opts(quota_opts, QUOTAS_GROUP)


def list_server_opts():
    """The netweave.port_security namespace of oslo-config-generator (netweave.conf)."""
    return [(QUOTAS_GROUP, quota_opts)]
