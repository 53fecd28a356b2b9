"""LinuxbridgeMechanismDriver.bind_port against PortContexts with stated agents."""
import pytest
from stevedore import driver as stevedore_driver

from netweave.core.plugins.ml2 import driver_context
from netweave.mechanism_drivers.linuxbridge import mech_driver

HOST = "compute01"
SEGMENTS = {
    "local": {"id": "seg-local", "network_type": "local", "physical_network": None, "segmentation_id": None},
    "flat": {"id": "seg-flat", "network_type": "flat", "physical_network": "physnet1", "segmentation_id": None},
    "vlan": {"id": "seg-vlan", "network_type": "vlan", "physical_network": "physnet2", "segmentation_id": 42},
    "vxlan": {"id": "seg-vxlan", "network_type": "vxlan", "physical_network": None, "segmentation_id": 1001},
    "gre": {"id": "seg-gre", "network_type": "gre", "physical_network": None, "segmentation_id": 7},
    "geneve": {"id": "seg-geneve", "network_type": "geneve", "physical_network": None, "segmentation_id": 8},
    "vlan9": {"id": "seg-vlan9", "network_type": "vlan", "physical_network": "physnet9", "segmentation_id": 9},
}


def agent(alive=True, admin_state_up=True, interfaces=None, bridges=None, tunnel_types=("vxlan",)):
    return {"agent_type": "Linux bridge agent", "host": HOST, "alive": alive, "admin_state_up": admin_state_up,
            "configurations": {"interface_mappings": interfaces if interfaces is not None else {"physnet1": "eth1"},
                               "bridge_mappings": bridges if bridges is not None else {"physnet2": "br-prov"},
                               "tunnel_types": list(tunnel_types), "tunneling_ip": "10.20.0.101",
                               "l2_population": True}}


def bind(segment_names, agents, vnic_type="normal"):
    seen = []

    def lookup(agent_type, host):
        seen.append((agent_type, host))
        return agents

    network = driver_context.NetworkContext(None, None, {"id": "net"},
                                            segments=[SEGMENTS[name] for name in segment_names])
    port = {"id": "port-1", "binding:host_id": HOST, "binding:vnic_type": vnic_type}
    context = driver_context.PortContext(None, None, port, network, agents_lookup=lookup)
    mech_driver.LinuxbridgeMechanismDriver().bind_port(context)
    assert seen in ([], [("Linux bridge agent", HOST)])
    return context


@pytest.mark.parametrize("name", ["local", "flat", "vlan", "vxlan"])
def test_binds_supported_types(name):
    context = bind([name], [agent()])
    assert context.bound_segment == SEGMENTS[name]
    assert context.vif_type == "bridge" and context.vif_details == {"port_filter": True}


@pytest.mark.parametrize("name", ["gre", "geneve", "vlan9"])
def test_refuses_what_the_agent_cannot_carry(name):
    assert bind([name], [agent()]).vif_type is None


def test_vxlan_needs_the_tunnel_type():
    assert bind(["vxlan"], [agent(tunnel_types=())]).vif_type is None


def test_physnet_from_either_mapping():
    assert bind(["flat"], [agent(interfaces={}, bridges={"physnet1": "br-x"})]).vif_type == "bridge"
    assert bind(["flat"], [agent(interfaces={}, bridges={})]).vif_type is None


def test_first_carriable_segment_wins():
    context = bind(["gre", "vlan9", "vxlan", "local"], [agent()])
    assert context.bound_segment["id"] == "seg-vxlan"


def test_dead_agents_and_no_agents_bind_nothing():
    assert bind(["local"], [agent(alive=False)]).vif_type is None
    assert bind(["local"], []).vif_type is None
    # A live agent next to a dead one is enough.
    assert bind(["local"], [agent(alive=False), agent()]).vif_type == "bridge"


def test_admin_state_does_not_matter_for_binding():
    assert bind(["local"], [agent(admin_state_up=False)]).vif_type == "bridge"


def test_only_normal_vnics():
    assert bind(["local"], [agent()], vnic_type="direct").vif_type is None


def test_registered_under_its_entry_point():
    loaded = stevedore_driver.DriverManager("netweave.ml2.mechanism_drivers", "linuxbridge", invoke_on_load=True)
    assert isinstance(loaded.driver, mech_driver.LinuxbridgeMechanismDriver)


def bind_parent(agents, trunk_details):
    network = driver_context.NetworkContext(None, None, {"id": "net"}, segments=[SEGMENTS["vxlan"]])
    port = {"id": "parent0", "binding:host_id": HOST, "binding:vnic_type": "normal", "trunk_details": trunk_details}
    context = driver_context.PortContext(None, None, port, network, agents_lookup=lambda _type, _host: agents)
    mech_driver.LinuxbridgeMechanismDriver().bind_port(context)
    return context


def without_vlan_devices(**kwargs):
    stated = agent(**kwargs)
    stated["configurations"]["trunk_vlan_devices"] = False
    return stated


def test_trunk_parent_is_not_bound_where_the_kernel_has_no_vlan_devices(caplog):
    trunk = {"trunk_id": "82597947-6e0a-40f3-b4ff-ccedd8c74ff8", "sub_ports": []}
    assert bind_parent([without_vlan_devices()], trunk).vif_type is None
    assert "parent of trunk 82597947-6e0a-40f3-b4ff-ccedd8c74ff8" in caplog.text and "8021q" in caplog.text
    # Plain ports bind there; a parent binds where the agent has them (or says nothing, as older agents).
    assert bind_parent([without_vlan_devices()], None).vif_type == "bridge"
    assert bind_parent([agent()], trunk).vif_type == "bridge"
    capable = agent()
    capable["configurations"]["trunk_vlan_devices"] = True
    assert bind_parent([without_vlan_devices(), capable], trunk).vif_type == "bridge"
