"""Options of the agents' side of RPC: [agent] in every agent's configuration file."""
from oslo_config import cfg

agent_opts = [
    cfg.FloatOpt("report_interval", default=30,
                 help="Seconds between state reports to the server; it should be less than "
                      "the server's agent_down_time, best half of it or less. 0 disables reporting."),
    cfg.IntOpt("polling_interval", default=2, min=1,
               help="Seconds the agent waits between two passes over its devices when "
                    "nothing asks for one sooner."),
    cfg.IntOpt("resync_interval", default=300, min=0,
               help="Seconds between two full resynchronisations with the server, which catch "
                    "whatever an event-driven pass missed; 0 disables the periodic resync."),
]


def register(conf):
    conf.register_opts(agent_opts, "agent")


register(cfg.CONF)
