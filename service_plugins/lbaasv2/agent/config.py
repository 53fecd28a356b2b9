"""Options of lbaas_agent.ini (Neutron LBaaS's names and defaults, spec A.3)."""
from oslo_config import cfg

from netweave.core.config import agent as common_agent_opts

agent_opts = [
    cfg.StrOpt("interface_driver",
               help="How the VIP port is plugged into qlbaas-<id>: linuxbridge or openvswitch (entry "
                    "points of netweave.interface_drivers), or a full class path. It must match the L2 agent."),
    cfg.StrOpt("device_driver", default="haproxy_ns",
               help="Accepted for Neutron's lbaas_agent.ini (its HaproxyNSDriver path); haproxy in a "
                    "namespace is the only driver."),
    cfg.IntOpt("periodic_interval", default=10, min=1,
               help="Seconds between reads of every haproxy's stats socket (statuses and counters "
                    "reported to the server)."),
    cfg.StrOpt("ovs_integration_bridge", default="br-int", help="Integration bridge (openvswitch driver)."),
    cfg.BoolOpt("ovs_use_veth", default=False, help="Plug through veth pairs (openvswitch driver)."),
]

haproxy_opts = [
    cfg.StrOpt("loadbalancer_state_path", default="$state_path/lbaas",
               help="Where each load balancer's haproxy.conf, pid and stats socket live (<path>/v2/<id>/)."),
    cfg.StrOpt("user_group", default="nogroup", help="The group haproxy runs as."),
    cfg.IntOpt("send_gratuitous_arp", default=3, min=0,
               help="Gratuitous ARPs sent for the VIP when it is plugged; 0: none."),
    cfg.StrOpt("haproxy_binary", default="haproxy", help="The haproxy executable."),
]

NETNS_OPT = cfg.StrOpt("netns", help="Leave the host side of VIP ports in this network namespace.")


def register_opts(conf=cfg.CONF):
    conf.register_opts(agent_opts)
    conf.register_opts(haproxy_opts, group="haproxy")
    common_agent_opts.register(conf)


def list_opts():
    return [("DEFAULT", list(agent_opts)), ("haproxy", list(haproxy_opts))]
