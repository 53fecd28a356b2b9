"""Server options of the az plugin.

The plugin registers them when it is loaded (``register_opts``); ``list_opts``
is the oslo.config.opts entry point for the sample file.
"""
from oslo_config import cfg

az_opts = [
    cfg.ListOpt("default_availability_zones", default=[],
                help="Zones networks and routers without availability_zone_hints are placed in, as if "
                     "they had these hints (comma separated). Empty: no preference."),
]


def register_opts(conf=cfg.CONF):
    try:
        conf.register_opts(az_opts)
    except cfg.DuplicateOptError:
        pass  # registered by an earlier plugin instance in this process


def list_opts():
    return [("DEFAULT", list(az_opts))]
