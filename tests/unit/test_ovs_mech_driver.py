"""The openvswitch mechanism driver binds a segment when an alive agent on the host can carry it."""
import pytest

from netweave.core.plugins.ml2 import driver_context, loading
from netweave.mechanism_drivers.openvswitch import mech_driver

SEGMENTS = {
    "local": {"id": "seg-local", "network_type": "local", "physical_network": None, "segmentation_id": None},
    "flat": {"id": "seg-flat", "network_type": "flat", "physical_network": "physnet1", "segmentation_id": None},
    "vlan": {"id": "seg-vlan", "network_type": "vlan", "physical_network": "physnet1", "segmentation_id": 42},
    "vlan2": {"id": "seg-vlan2", "network_type": "vlan", "physical_network": "physnet2", "segmentation_id": 7},
    "vxlan": {"id": "seg-vxlan", "network_type": "vxlan", "physical_network": None, "segmentation_id": 39},
    "gre": {"id": "seg-gre", "network_type": "gre", "physical_network": None, "segmentation_id": 5},
    "geneve": {"id": "seg-geneve", "network_type": "geneve", "physical_network": None, "segmentation_id": 9},
}


def agent(alive=True, admin_state_up=True, **conf):
    configurations = {"bridge_mappings": {"physnet1": "br-eth2"}, "tunnel_types": ["vxlan"],
                      "tunneling_ip": "10.20.0.102", "l2_population": True, "datapath_type": "system",
                      "ovs_hybrid_plug": True}
    configurations.update(conf)
    return {"agent_type": "Open vSwitch agent", "host": "compute02", "alive": alive,
            "admin_state_up": admin_state_up, "configurations": configurations}


def port_context(segment_names, agents, vnic_type="normal"):
    seen = []

    def lookup(agent_type, host):
        seen.append((agent_type, host))
        return agents

    network = driver_context.NetworkContext(None, None, {"id": "net"},
                                            segments=[SEGMENTS[n] for n in segment_names])
    port = {"id": "port", "binding:host_id": "compute02", "binding:vnic_type": vnic_type}
    context = driver_context.PortContext(None, None, port, network, agents_lookup=lookup)
    context.lookups = seen
    return context


@pytest.fixture
def driver():
    drv = mech_driver.OpenvswitchMechanismDriver()
    drv.initialize()
    return drv


@pytest.mark.parametrize("segment", ["local", "flat", "vlan", "vxlan"])
def test_binds_segments_the_agent_carries(driver, segment):
    context = port_context([segment], [agent()])
    driver.bind_port(context)
    assert context.lookups == [("Open vSwitch agent", "compute02")]
    assert context.bound_segment == SEGMENTS[segment]
    assert context.vif_type == "ovs"
    assert context.vif_details == {"port_filter": True, "ovs_hybrid_plug": True,
                                   "datapath_type": "system", "bridge_name": "br-int"}


@pytest.mark.parametrize("segment", ["vlan2", "gre", "geneve"])
def test_refuses_segments_the_agent_cannot_carry(driver, segment):
    context = port_context([segment], [agent()])
    driver.bind_port(context)
    assert context.vif_type is None and context.bound_segment is None


def test_first_bindable_segment_wins(driver):
    context = port_context(["gre", "vlan2", "vxlan", "vlan"], [agent()])
    driver.bind_port(context)
    assert context.bound_segment["id"] == "seg-vxlan"


@pytest.mark.parametrize("kwargs", [{"alive": False}, {"admin_state_up": False}])
def test_dead_or_disabled_agents_do_not_bind(driver, kwargs):
    context = port_context(["vlan"], [agent(**kwargs)])
    driver.bind_port(context)
    assert context.vif_type is None


def test_a_second_agent_can_bind_when_the_first_cannot(driver):
    context = port_context(["gre"], [agent(alive=False, tunnel_types=["gre"]),
                                     agent(tunnel_types=["gre", "vxlan"], datapath_type="netdev",
                                           ovs_hybrid_plug=False, integration_bridge="br-int2")])
    driver.bind_port(context)
    assert context.bound_segment["id"] == "seg-gre"
    assert context.vif_details == {"port_filter": True, "ovs_hybrid_plug": False,
                                   "datapath_type": "netdev", "bridge_name": "br-int2"}


def test_no_agent_no_binding(driver):
    context = port_context(["local"], [])
    driver.bind_port(context)
    assert context.vif_type is None


def test_only_normal_vnic_type(driver):
    context = port_context(["vlan"], [agent()], vnic_type="direct")
    driver.bind_port(context)
    assert context.vif_type is None


def test_loaded_by_name_through_the_entry_point():
    ((name, driver),) = loading.load_named("netweave.ml2.mechanism_drivers", ["openvswitch"],
                                          "mechanism driver")
    assert name == "openvswitch"
    assert isinstance(driver, mech_driver.OpenvswitchMechanismDriver)
