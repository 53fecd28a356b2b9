"""[example_service] options; the plugin registers them when it is loaded."""
from oslo_config import cfg

GROUP = "example_service"

opts = [
    cfg.StrOpt("port_name_prefix", default="widget-",
               help="Prefix of the name of the port each widget owns (the rest is the widget's name)."),
]


def register_opts(conf):
    conf.register_opts(opts, GROUP)


def list_opts():
    return [(GROUP, opts)]
