"""Loading the configured core plugin and service plugins (stevedore entry points)."""
import logging

from netweave.core.plugins import service_base
from netweave.core.plugins.ml2 import loading

LOG = logging.getLogger(__name__)

CORE_PLUGIN_NAMESPACE = "netweave.core_plugins"
SERVICE_PLUGIN_NAMESPACE = "netweave.service_plugins"


def load_plugins(conf, sync=False):
    """Return (core_plugin, [service plugins]), initialised against the configured database.

    ``sync`` also brings allocation tables in step with the configuration; one
    process does it before workers start.
    """
    (_name, core_plugin), = loading.load_named(CORE_PLUGIN_NAMESPACE, [conf.core_plugin], "core plugin")
    core_plugin.initialize(sync=sync)
    services = []
    for name, plugin in loading.load_named(SERVICE_PLUGIN_NAMESPACE, conf.service_plugins, "service plugin"):
        check_service_plugin(name, plugin)
        LOG.info("Loaded service plugin %s", name)
        plugin.initialize(core_plugin)
        services.append(plugin)
    return core_plugin, services


class NotAServicePlugin(RuntimeError):
    pass


def check_service_plugin(name, plugin):
    """Refuse a configured service plugin that does not follow the contract."""
    if not isinstance(plugin, service_base.ServicePlugin):
        raise NotAServicePlugin(
            "service plugin %r (%s.%s) does not subclass netweave.core.plugins.service_base.ServicePlugin, "
            "the contract every service plugin follows" % (name, type(plugin).__module__, type(plugin).__qualname__))
