"""What the port_security extension driver adds to the agents' view of a port.

The core's device details carry no port_security keys of their own: the
extension driver adds ``allowed_address_pairs`` and ``port_security_enabled``
(extend_device_details) and declares them, with ``security_groups``, as
attributes whose change the agents wiring the port must hear about.
"""
import pytest
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import naming
from netweave.core.rpc import outbox

CTX = context_mod.get_admin_context()
HOST = "compute1"
AGENT_ID = "lb0000000001"


class RecordingNotifier:
    connected = True

    def __init__(self):
        self.updates = []

    def port_update(self, context, port, network_type, segmentation_id, physical_network):
        self.updates.append(port["id"])


@pytest.fixture(params=ml2_plugin.BACKENDS)
def plugin(request, tmp_path):
    cfg.CONF.set_override("extension_drivers", ["port_security"], "ml2")
    try:
        with ml2_plugin.running_plugin(ml2_plugin.database_url(request, tmp_path)) as plugin:
            plugin.ports.notifier = RecordingNotifier()
            plugin.agents.report_state(CTX, ml2_plugin.linuxbridge_state(HOST))
            yield plugin
    finally:
        cfg.CONF.clear_override("extension_drivers", "ml2")


def _bound_port(plugin, network_body=None, **extra):
    network = plugin.create_network(CTX, {"network": dict({"project_id": "p1", "name": "net"},
                                                          **(network_body or {}))})
    body = {"project_id": "p1", "network_id": network["id"], "binding:host_id": HOST}
    body.update(extra)
    return plugin.create_port(CTX, {"port": body})


def _details(plugin, port):
    (details,) = plugin.devices.get_devices_details_list(CTX, [naming.tap_device(port["id"])], AGENT_ID, HOST)
    return details


def test_details_carry_the_address_pairs_and_port_security(plugin):
    pairs = [{"ip_address": "10.0.0.200"}]
    port = _bound_port(plugin, allowed_address_pairs=pairs)
    details = _details(plugin, port)
    assert details["allowed_address_pairs"] == [{"ip_address": "10.0.0.200", "mac_address": port["mac_address"]}]
    assert details["port_security_enabled"] is True

    unfiltered = _bound_port(plugin, network_body={"port_security_enabled": False})
    assert _details(plugin, unfiltered)["port_security_enabled"] is False


def test_changing_an_extension_wiring_attribute_tells_the_agents(plugin):
    port = _bound_port(plugin)
    notifier = plugin.ports.notifier
    plugin.update_port(CTX, port["id"], {"port": {"name": "renamed"}})
    assert outbox.OUTBOX.flush(10) and notifier.updates == []  # not something an agent wires
    plugin.update_port(CTX, port["id"], {"port": {"allowed_address_pairs": [{"ip_address": "10.0.0.9"}]}})
    # Sent by the outbox's thread, after the update answered.
    assert outbox.OUTBOX.flush(10) and notifier.updates == [port["id"]]
    assert plugin.extension_manager.wiring_attributes() == {"security_groups", "allowed_address_pairs",
                                                            "port_security_enabled"}
