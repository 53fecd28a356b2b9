"""The extension driver contract: the plugin context handed to process_* hooks, and which
port-list hook (batch or per port) the manager calls for each driver."""
import pytest

from netweave.core import context as context_mod
from netweave.core.plugins.ml2 import driver_api, managers


class RecordingSession:
    """Stands for a database session: only its identity matters here."""


def test_plugin_context_carries_the_session_and_the_callers_identity():
    request = context_mod.Context(project_id="p-7", user_id="u-1", roles=["member"])
    session = RecordingSession()
    plugin_context = driver_api.PluginContext(request, session)
    assert plugin_context.session is session
    assert plugin_context.request_context is request
    assert plugin_context.project_id == "p-7"
    assert plugin_context.is_admin is False
    admin = driver_api.PluginContext(request.elevated(), session)
    assert admin.is_admin is True
    # Nothing else reads through: the rest of the request is request_context's.
    with pytest.raises(AttributeError):
        _ = plugin_context.user_id


class BatchDriver(driver_api.ExtensionDriver):
    extension_alias = "batch"
    extends_port_pages = True

    def __init__(self):
        self.calls = []

    def process_create_port(self, plugin_context, data, result):
        self.calls.append(("create", plugin_context.session, plugin_context.project_id, data["name"]))
        result["batch"] = True

    def extend_port_dicts(self, session, results, page=None):
        self.calls.append(("page", session, sorted(results), page))
        for result in results.values():
            result["batch"] = True


class PerPortDriver(driver_api.ExtensionDriver):
    extension_alias = "per-port"


def _manager(*drivers):
    manager = managers.ExtensionManager([])
    manager.drivers = [(d.extension_alias, d) for d in drivers]
    return manager


def test_process_hooks_get_the_writing_session():
    batch = BatchDriver()
    session = RecordingSession()
    result = {}
    _manager(batch).process_create_port(context_mod.Context(project_id="p-1"), session, {"name": "a"}, result)
    assert batch.calls == [("create", session, "p-1", "a")] and result == {"batch": True}


def test_only_drivers_declaring_the_batch_hook_get_it():
    batch = BatchDriver()
    assert batch.extends_port_pages and not PerPortDriver().extends_port_pages
    session = RecordingSession()
    results = {"p2": {}, "p1": {}}
    _manager(batch).extend_port_dicts(session, results, page="stmt")
    assert batch.calls == [("page", session, ["p1", "p2"], "stmt")]
    assert results == {"p1": {"batch": True}, "p2": {"batch": True}}
    # An empty page calls no driver.
    _manager(batch).extend_port_dicts(session, {})
    assert len(batch.calls) == 1


class Recorder(driver_api.ExtensionDriver):
    extension_alias = "recorder"

    def __init__(self, log):
        self.log = log

    def process_create_network(self, plugin_context, data, result):
        self.log.append(("process_create_network", plugin_context.session, data, result))

    def process_update_network(self, plugin_context, data, result):
        self.log.append(("process_update_network", plugin_context.session, data, result))

    def process_create_subnet(self, plugin_context, data, result):
        self.log.append(("process_create_subnet", plugin_context.session, data, result))

    def process_update_subnet(self, plugin_context, data, result):
        self.log.append(("process_update_subnet", plugin_context.session, data, result))

    def process_create_port(self, plugin_context, data, result):
        self.log.append(("process_create_port", plugin_context.session, data, result))

    def process_update_port(self, plugin_context, data, result):
        self.log.append(("process_update_port", plugin_context.session, data, result))

    def extend_network_dict(self, session, db_obj, result):
        self.log.append(("extend_network_dict", session, db_obj, result))

    def extend_subnet_dict(self, session, db_obj, result):
        self.log.append(("extend_subnet_dict", session, db_obj, result))

    def extend_port_dict(self, session, db_obj, result):
        self.log.append(("extend_port_dict", session, db_obj, result))

    def extend_device_details(self, port, details):
        self.log.append(("extend_device_details", port, details))


def test_every_hook_reaches_each_drivers_own_method():
    log = []
    manager = _manager(Recorder(log), PerPortDriver())
    session = RecordingSession()
    request = context_mod.Context(project_id="p-1")
    for hook in ("process_create_network", "process_update_network", "process_create_subnet",
                 "process_update_subnet", "process_create_port", "process_update_port"):
        getattr(manager, hook)(request, session, {"hook": hook}, {})
        assert log.pop() == (hook, session, {"hook": hook}, {})
    for hook in ("extend_network_dict", "extend_subnet_dict", "extend_port_dict"):
        getattr(manager, hook)(session, "row", {})
        assert log.pop() == (hook, session, "row", {})
    manager.extend_device_details({"id": "p"}, {})
    assert log.pop() == ("extend_device_details", {"id": "p"}, {})
    assert log == []


class NarrowDriver(driver_api.ExtensionDriver):
    extension_alias = "narrow"


class WideDriver(driver_api.ExtensionDriver):
    extension_alias = "wide"
    dhcp_attributes = frozenset(("served_by_dhcp",))

    extends_port_pages = True

    @property
    def extension_aliases(self):
        return ("narrow", "wide")

    def extend_port_dicts(self, session, results, page=None):
        for result in results.values():
            result["served_by_dhcp"] = "yes"


def test_a_driver_serves_its_alias_unless_it_names_several():
    assert NarrowDriver().extension_aliases == ("narrow",)
    assert _manager(PerPortDriver(), WideDriver()).extension_aliases() == ["per-port", "narrow", "wide"]


def test_a_driver_whose_extensions_another_serves_too_is_not_used():
    narrow, wide, other = NarrowDriver(), WideDriver(), PerPortDriver()
    for order in ([("a", narrow), ("b", wide), ("c", other)], [("b", wide), ("a", narrow), ("c", other)]):
        assert managers._without_redundant(order) == [("b", wide), ("c", other)]
    # Two serving exactly the same: the first named stays.
    twin = NarrowDriver()
    assert managers._without_redundant([("x", narrow), ("y", twin)]) == [("x", narrow)]


def test_dhcp_attributes_come_from_the_drivers_declaring_them():
    manager = _manager(PerPortDriver(), WideDriver())
    assert manager.dhcp_attributes() == {"served_by_dhcp"}
    assert _manager(PerPortDriver()).dhcp_attributes() == frozenset()
    # Only those drivers extend a DHCP network info's ports (the others are never asked).
    batch, wide = BatchDriver(), WideDriver()
    ports = {"p1": {"id": "p1"}}
    _manager(batch, wide).extend_dhcp_ports(RecordingSession(), ports)
    assert ports == {"p1": {"id": "p1", "served_by_dhcp": "yes"}} and batch.calls == []


class NetworkPageDriver(driver_api.ExtensionDriver):
    extension_alias = "network-page"
    extends_network_pages = True
    network_page_sides = ("side",)

    def __init__(self):
        self.calls = []

    def extend_network_dicts(self, session, results, page):
        self.calls.append((session, sorted(results), page))
        for result in results.values():
            result["paged"] = True


def test_network_pages_reach_the_batch_drivers_and_skip_those_adding_nothing():
    paged = NetworkPageDriver()
    # PerPortDriver adds nothing to networks: no Network objects are loaded for it (the
    # session here could not load any).
    manager = _manager(paged, PerPortDriver())
    assert manager.network_page_sides == ["side"]
    session, page = RecordingSession(), object()
    results = {"n2": {}, "n1": {}}
    manager.extend_network_dicts(session, results, page)
    assert paged.calls == [(session, ["n1", "n2"], page)]
    assert results == {"n1": {"paged": True}, "n2": {"paged": True}}
    manager.extend_network_dicts(session, {}, page)
    assert len(paged.calls) == 1
