"""Server options of the lbaasv2 plugin and its quotas (Neutron LBaaS names and defaults)."""
from oslo_config import cfg

lbaas_opts = [
    cfg.StrOpt("driver", default="haproxy_agent", choices=["haproxy_agent", "noop"],
               help="How load balancers are provisioned: 'haproxy_agent' schedules each to an alive "
                    "Loadbalancerv2 agent (haproxy in a namespace); 'noop' marks every change ACTIVE "
                    "at once with no data plane (API-only deployments and tests)."),
]

quota_opts = [
    cfg.IntOpt("quota_loadbalancer", default=10, help="Number of load balancers allowed per project."),
    cfg.IntOpt("quota_listener", default=-1, help="Number of listeners allowed per project."),
    cfg.IntOpt("quota_pool", default=10, help="Number of pools allowed per project."),
    cfg.IntOpt("quota_member", default=-1, help="Number of pool members allowed per project."),
    cfg.IntOpt("quota_healthmonitor", default=-1, help="Number of health monitors allowed per project."),
]

GROUP = "lbaasv2"


def register_opts(conf=cfg.CONF):
    for group, opts in ((GROUP, lbaas_opts), ("quotas", quota_opts)):
        for opt in opts:
            try:
                conf.register_opt(opt, group=group)
            except cfg.DuplicateOptError:
                pass  # registered by an earlier plugin instance in this process


def list_opts():
    return [(GROUP, list(lbaas_opts)), ("quotas", list(quota_opts))]
