"""Server options of the trunk plugin.

The plugin registers them when it is loaded (``register_opts``); ``list_opts``
is the oslo.config.opts entry point for the sample file.
"""
from oslo_config import cfg

quota_opts = [
    cfg.IntOpt("quota_trunk", default=-1,
               help="Number of trunks allowed per project. A negative value means unlimited."),
]


def register_opts(conf=cfg.CONF):
    try:
        conf.register_opts(quota_opts, "quotas")
    except cfg.DuplicateOptError:
        pass  # registered by an earlier plugin instance in this process


def list_opts():
    return [("quotas", list(quota_opts))]
