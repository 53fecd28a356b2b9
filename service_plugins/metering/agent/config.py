"""Options of metering_agent.ini (Neutron's names and defaults where they exist)."""
from oslo_config import cfg

from netweave.core.config import agent as common_agent_opts
from netweave.core.config import common as common_config

metering_opts = [
    cfg.StrOpt("driver", default="iptables", choices=["iptables"],
               help="How traffic is counted: iptables chains in each router's namespace."),
    cfg.IntOpt("measure_interval", default=30, min=1,
               help="Seconds between two passes over the routers (the server's casts start one at once)."),
]


def _shared_opts():
    return [opt for opt in common_config.core_opts if opt.dest in ("state_path", "host")]


def register_opts(conf=cfg.CONF):
    conf.register_opts(_shared_opts())
    conf.register_opts(metering_opts)
    common_agent_opts.register(conf)


def list_opts():
    """For oslo-config-generator (namespace netweave.metering_agent)."""
    return [("DEFAULT", _shared_opts() + list(metering_opts)),
            ("agent", list(common_agent_opts.agent_opts))]
