"""Device and namespace names match the book's examples."""
from netweave.core import naming

PORT = "1f48a8f5-10d5-4985-9ff2-91fd82cce7c1"
NETWORK = "03327707-c369-4d6f-a0b8-6ac2d8b0e84e"


def test_port_and_network_devices():
    assert naming.tap_device("6c15d7b8-87aa-4fd5-9b9c-0c4c3a7b3c1e") == "tap6c15d7b8-87"
    assert naming.network_bridge(NETWORK) == "brq03327707-c3"
    assert naming.dhcp_device(PORT) == "ns-1f48a8f5-10"
    assert naming.hybrid_ovs_veth("ce30da31-3a71-4c60-a350-ac0453b24d7d") == "qvoce30da31-3a"
    assert all(len(n) <= 15 for n in (naming.tap_device(PORT), naming.hybrid_bridge(PORT),
                                      naming.hybrid_bridge_veth(PORT)))


def test_overlay_and_vlan_devices():
    assert naming.vxlan_device(36) == "vxlan-36"
    assert naming.vlan_device("eth1", 100) == "eth1.100"
    long_name = naming.vlan_device("enp0s31f6verylong", 4094)
    assert len(long_name) == 15 and long_name.endswith(".4094")


def test_namespaces_and_tunnel_ports():
    assert naming.dhcp_namespace(NETWORK) == "qdhcp-" + NETWORK
    assert naming.router_namespace("r1") == "qrouter-r1"
    assert naming.ovs_tunnel_port("vxlan", "10.20.0.100") == "vxlan-0a140064"
    assert naming.int_peer_port("br-eth2") == "int-br-eth2"
    assert naming.phy_peer_port("br-eth2") == "phy-br-eth2"
