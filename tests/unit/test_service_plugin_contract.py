"""The server loads only service plugins that subclass ServicePlugin, and calls their hooks directly."""
import types

import pytest

from netweave.core import service
from netweave.core.plugins import service_base
from netweave.core.rpc import servers as rpc_servers
from netweave.service_plugins.port_security import plugin as port_security


class LegacyPlugin:
    """Has the hooks' names, not the contract."""

    supported_extension_aliases = []

    def initialize(self, core):
        raise AssertionError("a refused plugin is never initialised")


class CorePlugin:
    def __init__(self):
        self.initialized = False

    def initialize(self, sync=False):
        self.initialized = True


class Echo(service_base.ServicePlugin):
    def __init__(self):
        self.core = None

    def initialize(self, core):
        self.core = core

    def rpc_endpoints(self):
        return {"echo": ["endpoint"]}


def _conf(*service_plugins):
    return types.SimpleNamespace(core_plugin="ml2", service_plugins=list(service_plugins))


def _loader(monkeypatch, plugins):
    core = CorePlugin()

    def load_named(namespace, names, kind):
        if namespace == service.CORE_PLUGIN_NAMESPACE:
            return [("ml2", core)]
        return [(name, plugins[name]) for name in names]

    monkeypatch.setattr(service.loading, "load_named", load_named)
    return core


def test_a_plugin_that_is_not_a_service_plugin_is_refused_by_name(monkeypatch):
    _loader(monkeypatch, {"echo": Echo(), "legacy": LegacyPlugin()})
    with pytest.raises(service.NotAServicePlugin) as raised:
        service.load_plugins(_conf("echo", "legacy"))
    message = str(raised.value)
    assert "'legacy'" in message and "test_service_plugin_contract.LegacyPlugin" in message
    assert "netweave.core.plugins.service_base.ServicePlugin" in message
    # The server reports it as it reports unknown plug-ins.
    assert isinstance(raised.value, RuntimeError)


def test_service_plugins_are_initialised_with_the_core_in_order(monkeypatch):
    echo = Echo()
    core = _loader(monkeypatch, {"echo": echo})
    loaded_core, services = service.load_plugins(_conf("echo"))
    assert loaded_core is core and core.initialized and services == [echo] and echo.core is core


def test_the_base_hooks_do_nothing_and_rpc_endpoints_merge():
    plain = service_base.ServicePlugin()
    assert plain.supported_extension_aliases == () and plain.rpc_endpoints() == {}
    assert plain.initialize(object()) is None and plain.connect_agents(object()) is None
    assert plain.register_routes(object(), object()) is None
    assert rpc_servers.collect_endpoints([plain, Echo(), Echo()]) == {"echo": ["endpoint", "endpoint"]}


def test_port_security_is_a_service_plugin():
    assert isinstance(port_security.PortSecurityPlugin(), service_base.ServicePlugin)
