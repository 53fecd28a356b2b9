"""The trunk plugin's RPC endpoint (what the Open vSwitch agent's trunk extension asks) over
the real ML2 plugin on SQLite and PostgreSQL: the trunk of a parent port, subport bindings
following the parent's host, and statuses reported by the agent."""
import pytest
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.db import api as db_api
from netweave.service_plugins.trunk import exceptions as texc
from netweave.service_plugins.trunk import plugin as plugin_mod
from netweave.service_plugins.trunk import trunk_rpc

ADMIN = context_mod.get_admin_context()


@pytest.fixture(params=ml2_plugin.BACKENDS)
def plugins(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    with ml2_plugin.plugin_overrides():
        core = ml2_plugin.in_process_plugin(url)
        trunks = plugin_mod.TrunkPlugin(cfg.CONF)
        trunks.initialize(core)
        try:
            yield core, trunks
        finally:
            db_api.DATABASE.engine.dispose()


def _port(core, network, **extra):
    body = {"project_id": "p1", "network_id": network["id"], "name": "", "admin_state_up": True,
            "device_id": "", "device_owner": ""}
    body.update(extra)
    return core.create_port(ADMIN, {"port": body})


def test_endpoint_binds_subports_and_takes_statuses(plugins):
    core, trunks = plugins
    green = core.create_network(ADMIN, {"network": {"project_id": "p1", "name": "GREEN", "admin_state_up": True}})
    red = core.create_network(ADMIN, {"network": {"project_id": "p1", "name": "RED", "admin_state_up": True}})
    parent, child = _port(core, green), _port(core, red)
    trunk = trunks.create_trunk(ADMIN, {"trunk": {"project_id": "p1", "port_id": parent["id"], "sub_ports": [
        {"port_id": child["id"], "segmentation_type": "vlan", "segmentation_id": 42}]}})
    [endpoint] = trunks.rpc_endpoints()[trunk_rpc.TRUNK_TOPIC]

    assert endpoint.get_trunk_by_port(ADMIN, port_id=parent["id"])["id"] == trunk["id"]
    assert endpoint.get_trunk_by_port(ADMIN, port_id=child["id"]) is None

    core.update_port(ADMIN, parent["id"], {"port": {"binding:host_id": "compute01"}})
    bound = endpoint.update_subport_bindings(ADMIN, subports=[{"port_id": child["id"]}])
    assert bound == {trunk["id"]: [{"port_id": child["id"], "segmentation_type": "vlan", "segmentation_id": 42,
                                    "mac_address": child["mac_address"], "network_id": red["id"]}]}
    assert core.get_port(ADMIN, child["id"])["binding:host_id"] == "compute01"
    assert trunks.get_trunk(ADMIN, trunk["id"])["status"] == "BUILD"

    for status in ("ACTIVE", "DEGRADED", "ERROR"):
        endpoint.update_trunk_status(ADMIN, trunk_id=trunk["id"], status=status)
        assert trunks.get_trunk(ADMIN, trunk["id"])["status"] == status
    # A trunk in ERROR takes no new subports until it is fixed.
    other = _port(core, red)
    with pytest.raises(texc.TrunkInErrorState):
        trunks.add_subports(ADMIN, trunk["id"], {"sub_ports": [
            {"port_id": other["id"], "segmentation_type": "vlan", "segmentation_id": 43}]})
    endpoint.update_trunk_status(ADMIN, trunk_id=trunk["id"], status="ACTIVE")
    # The instance goes away (the parent loses its host): the trunk is DOWN, its subports unbound.
    core.update_port(ADMIN, parent["id"], {"port": {"binding:host_id": ""}})
    assert trunks.get_trunk(ADMIN, trunk["id"])["status"] == "DOWN"
    assert core.get_port(ADMIN, child["id"])["binding:host_id"] == ""
    # Unknown statuses and trunks are ignored, not raised back to the agent.
    endpoint.update_trunk_status(ADMIN, trunk_id=trunk["id"], status="BOGUS")
    endpoint.update_trunk_status(ADMIN, trunk_id="0" * 36, status="ACTIVE")
    assert trunks.get_trunk(ADMIN, trunk["id"])["status"] == "DOWN"
