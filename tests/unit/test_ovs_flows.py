"""The Open vSwitch agent's desired state is the book's (chapter 5) layout, computed without a switch.

Scenarios are those of the book's compute02: VLAN 42 and 40 and a flat
network on physnet1 -> br-eth2 with local VLANs 1, 2, 3 (section 4.5), and a
VXLAN network, VNI 39, local VLAN 4, whose only remote port is controller01's
DHCP port fa:16:3e:f1:b0:49 / 172.18.90.2 behind 10.20.0.100 (section 4.6).
"""
import pytest

from netweave.mechanism_drivers.openvswitch import config as ovs_config
from netweave.mechanism_drivers.openvswitch import constants as c
from netweave.mechanism_drivers.openvswitch import desired, flows

NET42 = "11111111-4242-4242-4242-424242424242"
NET40 = "22222222-4040-4040-4040-404040404040"
FLAT = "33333333-0000-0000-0000-000000000000"
OVERLAY = "44444444-3939-3939-3939-393939393939"
LOCAL = "55555555-0000-0000-0000-000000000000"

PORT_A = "3de035cc-79a9-4172-bb25-d4a7ea96325e"   # qvo3de035cc-79, VLAN 42
PORT_B = "ce30da31-3a71-4c60-a350-ac0453b24d7d"   # qvoce30da31-3a, VLAN 42
PORT_C = "a943af89-8e21-4b1d-877f-abef946f6e56"   # qvoa943af89-8e, VLAN 40
PORT_D = "d0d0d0d0-0000-4000-8000-000000000001"   # flat
PORT_E = "e0e0e0e0-0000-4000-8000-000000000002"   # overlay


def details(port_id, network_id, network_type, mac, ip, physical_network=None, segmentation_id=None,
            **extra):
    result = {"device": port_id, "port_id": port_id, "network_id": network_id,
              "network_type": network_type, "physical_network": physical_network,
              "segmentation_id": segmentation_id, "mtu": 1500, "mac_address": mac,
              "admin_state_up": True, "device_owner": "compute:nova",
              "fixed_ips": [{"subnet_id": "s", "ip_address": ip}]}
    result.update(extra)
    return result


def qvo(port_id):
    return ("qvo" + port_id)[:14]


def book_lines(text):
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


def assert_table(actual_flows, expected_lines):
    actual = flows.canonical_table(f.render() for f in actual_flows)
    expected = flows.canonical_table(expected_lines)
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    assert not missing and not extra, "missing:\n%s\nextra:\n%s" % (
        "\n".join(map(str, missing)), "\n".join(map(str, extra)))
    assert len(actual) == len(expected)


# -- VLAN and flat (book 4.5, AT-7, AT-8) -------------------------------------

VLAN_CONFIG = ovs_config.AgentConfig(bridge_mappings={"physnet1": "br-eth2"})

VLAN_PORTS = [
    desired.LocalPort(qvo(PORT_A), PORT_A, details(PORT_A, NET42, "vlan", "fa:16:3e:77:60:c5", "192.168.0.6",
                                                   "physnet1", 42)),
    desired.LocalPort(qvo(PORT_B), PORT_B, details(PORT_B, NET42, "vlan", "fa:16:3e:d8:23:0b", "192.168.0.10",
                                                   "physnet1", 42)),
    desired.LocalPort(qvo(PORT_C), PORT_C, details(PORT_C, NET40, "vlan", "fa:16:3e:de:9e:dc", "192.168.1.3",
                                                   "physnet1", 40)),
    desired.LocalPort(qvo(PORT_D), PORT_D, details(PORT_D, FLAT, "flat", "fa:16:3e:00:00:0d", "192.168.200.5",
                                                   "physnet1")),
]

BOOK_BR_ETH2 = """
table=0, priority=4,in_port="phy-br-eth2",dl_vlan=1 actions=mod_vlan_vid:42,NORMAL
table=0, priority=4,in_port="phy-br-eth2",dl_vlan=2 actions=mod_vlan_vid:40,NORMAL
table=0, priority=4,in_port="phy-br-eth2",dl_vlan=3 actions=strip_vlan,NORMAL
table=0, priority=2,in_port="phy-br-eth2" actions=drop
table=0, priority=0 actions=NORMAL
"""


def book_port_rules(name, ip, mac, lla):
    return """
table=0,  priority=10,icmp6,in_port="{p}",icmp_type=136 actions=resubmit(,24)
table=0,  priority=10,arp,in_port="{p}" actions=resubmit(,24)
table=0,  priority=9,in_port="{p}" actions=resubmit(,25)
table=24, priority=2,icmp6,in_port="{p}",icmp_type=136,nd_target={lla} actions=resubmit(,60)
table=24, priority=2,arp,in_port="{p}",arp_spa={ip} actions=resubmit(,25)
table=25, priority=2,in_port="{p}",dl_src={mac} actions=resubmit(,60)
""".format(p=name, ip=ip, mac=mac, lla=lla)


BOOK_BR_INT = """
table=0,  priority=3,in_port="int-br-eth2",dl_vlan=42 actions=mod_vlan_vid:1,resubmit(,60)
table=0,  priority=3,in_port="int-br-eth2",dl_vlan=40 actions=mod_vlan_vid:2,resubmit(,60)
table=0,  priority=3,in_port="int-br-eth2",vlan_tci=0x0000/0x1fff actions=mod_vlan_vid:3,resubmit(,60)
table=60, priority=3 actions=NORMAL
table=0,  priority=2,in_port="int-br-eth2" actions=drop
table=0,  priority=0 actions=resubmit(,60)
table=23, priority=0 actions=drop
table=24, priority=0 actions=drop
""" + book_port_rules("qvo3de035cc-79", "192.168.0.6", "fa:16:3e:77:60:c5", "fe80::f816:3eff:fe77:60c5") \
    + book_port_rules("qvoce30da31-3a", "192.168.0.10", "fa:16:3e:d8:23:0b", "fe80::f816:3eff:fed8:230b") \
    + book_port_rules("qvoa943af89-8e", "192.168.1.3", "fa:16:3e:de:9e:dc", "fe80::f816:3eff:fede:9edc") \
    + book_port_rules(qvo(PORT_D), "192.168.200.5", "fa:16:3e:00:00:0d", "fe80::f816:3eff:fe00:d")


@pytest.fixture
def vlan_state():
    return desired.build(VLAN_CONFIG, VLAN_PORTS, existing_vlans={})


def test_vlan_and_flat_local_vlans_and_tags(vlan_state):
    assert vlan_state.local_vlans == {NET42: 1, NET40: 2, FLAT: 3}
    tags = {name: spec.tag for name, spec in vlan_state.vm_ports.items()}
    assert tags == {"qvo3de035cc-79": 1, "qvoce30da31-3a": 1, "qvoa943af89-8e": 2, qvo(PORT_D): 3}
    other = dict(vlan_state.vm_ports["qvoa943af89-8e"].other_config)
    assert other == {"net_uuid": NET40, "network_type": "vlan", "physical_network": "physnet1",
                     "segmentation_id": "40", "tag": "2"}


def test_provider_bridge_table_is_the_books(vlan_state):
    assert_table(vlan_state.flows["br-eth2"], book_lines(BOOK_BR_ETH2))


def test_integration_bridge_tables_are_the_books(vlan_state):
    assert_table(vlan_state.flows["br-int"], book_lines(BOOK_BR_INT))


def test_bridges_and_patch_ports(vlan_state):
    assert set(vlan_state.bridges) == {"br-int", "br-eth2"}  # no tunnelling, no br-tun
    for bridge in vlan_state.bridges.values():
        assert bridge.fail_mode == "secure"
        assert "OpenFlow14" in bridge.protocols
    assert vlan_state.ports["int-br-eth2"].bridge == "br-int"
    assert vlan_state.ports["int-br-eth2"].options_dict == {"peer": "phy-br-eth2"}
    assert vlan_state.ports["phy-br-eth2"].bridge == "br-eth2"
    assert vlan_state.ports["phy-br-eth2"].options_dict == {"peer": "int-br-eth2"}


def test_rendered_flows_read_like_the_book(vlan_state):
    text = flows.render_table(vlan_state.flows["br-eth2"])
    assert 'table=0, priority=4,in_port="phy-br-eth2",dl_vlan=1 actions=mod_vlan_vid:42,NORMAL\n' in text
    assert text.splitlines()[-1] == "table=0, priority=0 actions=NORMAL"


def test_flows_of_a_network_go_with_its_last_port():
    state = desired.build(VLAN_CONFIG, [p for p in VLAN_PORTS if p.device != PORT_C],
                          existing_vlans={NET42: 1, NET40: 2, FLAT: 3})
    assert NET40 not in state.local_vlans
    text = flows.render_table(state.flows["br-eth2"]) + flows.render_table(state.flows["br-int"])
    assert "dl_vlan=40" not in text and "mod_vlan_vid:40" not in text and "dl_vlan=2 " not in text


# -- VXLAN with l2population and ARP responder (book 4.6, AT-9) ---------------

VXLAN_CONFIG = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan",),
                                      l2_population=True, arp_responder=True)
VXLAN_PORTS = [desired.LocalPort("tap" + PORT_E[:11], PORT_E,
                                 details(PORT_E, OVERLAY, "vxlan", "fa:16:3e:aa:bb:cc", "172.18.90.5",
                                         segmentation_id=39))]
FDB = {OVERLAY: {"ports": {"10.20.0.100": [["00:00:00:00:00:00", "0.0.0.0"],
                                          ["fa:16:3e:f1:b0:49", "172.18.90.2"]],
                           "10.20.0.102": [["00:00:00:00:00:00", "0.0.0.0"],
                                           ["fa:16:3e:aa:bb:cc", "172.18.90.5"]]}}}

LEARN = ("learn(table=20,hard_timeout=300,priority=1,cookie=%#x,NXM_OF_VLAN_TCI[0..11],"
         "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],"
         "output:NXM_OF_IN_PORT[]),output:\"patch-int\"" % c.LEARNED_FLOW_COOKIE)

BOOK_BR_TUN = """
table=20, priority=2,dl_vlan=4,dl_dst=fa:16:3e:f1:b0:49 actions=strip_vlan,load:0x27->NXM_NX_TUN_ID[],output:"vxlan-0a140064"
table=0,  priority=1,in_port="patch-int" actions=resubmit(,2)
table=0,  priority=1,in_port="vxlan-0a140064" actions=resubmit(,4)
table=2,  priority=1,arp,dl_dst=ff:ff:ff:ff:ff:ff actions=resubmit(,21)
table=4,  priority=1,tun_id=0x27 actions=mod_vlan_vid:4,resubmit(,10)
table=10, priority=1 actions=%s
table=21, priority=1,arp,dl_vlan=4,arp_tpa=172.18.90.2 actions=load:0x2->NXM_OF_ARP_OP[],move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],load:0xfa163ef1b049->NXM_NX_ARP_SHA[],load:0xac125a02->NXM_OF_ARP_SPA[],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:fa:16:3e:f1:b0:49,IN_PORT
table=22, priority=1,dl_vlan=4 actions=strip_vlan,load:0x27->NXM_NX_TUN_ID[],output:"vxlan-0a140064"
table=0,  priority=0 actions=drop
table=2,  priority=0,dl_dst=00:00:00:00:00:00/01:00:00:00:00:00 actions=resubmit(,20)
table=2,  priority=0,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=resubmit(,22)
table=3,  priority=0 actions=drop
table=4,  priority=0 actions=drop
table=6,  priority=0 actions=drop
table=20, priority=0 actions=resubmit(,22)
table=21, priority=0 actions=resubmit(,22)
table=22, priority=0 actions=drop
""" % LEARN


@pytest.fixture
def vxlan_state():
    return desired.build(VXLAN_CONFIG, VXLAN_PORTS, existing_vlans={OVERLAY: 4}, fdb=FDB)


def test_tunnel_bridge_tables_are_the_books(vxlan_state):
    assert vxlan_state.local_vlans == {OVERLAY: 4}
    assert_table(vxlan_state.flows["br-tun"], book_lines(BOOK_BR_TUN))


def test_tunnel_port_is_the_books(vxlan_state):
    port = vxlan_state.ports["vxlan-0a140064"]
    assert port.bridge == "br-tun" and port.type == "vxlan"
    assert port.options_dict == {"df_default": "true", "in_key": "flow", "local_ip": "10.20.0.102",
                                 "out_key": "flow", "remote_ip": "10.20.0.100"}
    # Our own endpoint's entries never make a tunnel to ourselves.
    assert "vxlan-0a140066" not in vxlan_state.ports


def test_overlay_ports_and_patches(vxlan_state):
    assert vxlan_state.ports["patch-tun"].bridge == "br-int"
    assert vxlan_state.ports["patch-tun"].options_dict == {"peer": "patch-int"}
    assert vxlan_state.ports["patch-int"].bridge == "br-tun"
    assert vxlan_state.ports["patch-int"].options_dict == {"peer": "patch-tun"}
    assert vxlan_state.vm_ports["tap" + PORT_E[:11]].tag == 4
    # br-int needs no per-network flow for overlays: br-tun hands frames over already tagged.
    assert not [f for f in vxlan_state.flows["br-int"] if "dl_vlan" in f.render()]


def test_vxlan_udp_port_for_linuxbridge_neighbours():
    config = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan",), l2_population=True,
                                    vxlan_udp_port=8472)
    state = desired.build(config, VXLAN_PORTS, fdb=FDB)
    assert state.ports["vxlan-0a140064"].options_dict["dst_port"] == "8472"


def test_l2population_without_arp_responder_has_no_table_21():
    config = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan",), l2_population=True)
    state = desired.build(config, VXLAN_PORTS, existing_vlans={OVERLAY: 4}, fdb=FDB)
    text = flows.render_table(state.flows["br-tun"])
    assert "table=21" not in text and "resubmit(,21)" not in text
    assert 'table=20, priority=2,dl_vlan=4,dl_dst=fa:16:3e:f1:b0:49' in text


def test_l2population_flood_list_and_unicast_entries():
    other = "44444444-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
    fdb = {OVERLAY: {"ports": {
        "10.20.0.100": [["00:00:00:00:00:00", "0.0.0.0"], ["fa:16:3e:f1:b0:49", "172.18.90.2"]],
        "10.20.0.103": [["00:00:00:00:00:00", "0.0.0.0"], ["fa:16:3e:00:00:03", "172.18.90.3"]],
        "10.20.0.104": [["fa:16:3e:00:00:04", "172.18.90.4"]],  # no flood entry: unicast only
    }}, other: {"ports": {"10.20.0.101": [["00:00:00:00:00:00", "0.0.0.0"]]}}}
    state = desired.build(VXLAN_CONFIG, VXLAN_PORTS, existing_vlans={OVERLAY: 4}, fdb=fdb)
    # No local port on the other network: no tunnel towards its only host.
    assert sorted(n for n in state.ports if n.startswith("vxlan-")) == [
        "vxlan-0a140064", "vxlan-0a140067", "vxlan-0a140068"]
    text = flows.render_table(state.flows["br-tun"])
    assert ('table=22, priority=1,dl_vlan=4 actions=strip_vlan,load:0x27->NXM_NX_TUN_ID[],'
            'output:"vxlan-0a140064",output:"vxlan-0a140067"\n') in text
    assert 'dl_dst=fa:16:3e:00:00:04 actions=strip_vlan,load:0x27->NXM_NX_TUN_ID[],output:"vxlan-0a140068"' in text
    assert "arp_tpa=172.18.90.4" in text
    assert "tun_id=0x27 actions=mod_vlan_vid:4,resubmit(,10)" in text


def test_without_l2population_a_full_mesh_floods_everywhere():
    config = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan",))
    state = desired.build(config, VXLAN_PORTS, existing_vlans={OVERLAY: 4},
                          tunnel_endpoints={"vxlan": ["10.20.0.100", "10.20.0.101", "10.20.0.102"]})
    assert sorted(n for n in state.ports if n.startswith("vxlan-")) == ["vxlan-0a140064", "vxlan-0a140065"]
    text = flows.render_table(state.flows["br-tun"])
    assert ('table=22, priority=1,dl_vlan=4 actions=strip_vlan,load:0x27->NXM_NX_TUN_ID[],'
            'output:"vxlan-0a140064",output:"vxlan-0a140065"') in text
    assert "table=20, priority=2" not in text  # unicast is learned (table 10), not pushed


@pytest.mark.parametrize("kind,table", [("gre", 3), ("vxlan", 4), ("geneve", 6)])
def test_each_tunnel_type_has_its_table(kind, table):
    config = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=(kind,))
    port = desired.LocalPort("tap" + PORT_E[:11], PORT_E,
                             details(PORT_E, OVERLAY, kind, "fa:16:3e:aa:bb:cc", "172.18.90.5",
                                     segmentation_id=1000))
    state = desired.build(config, [port], tunnel_endpoints={kind: ["10.20.0.103"]})
    name = "%s-0a140067" % kind
    assert state.ports[name].type == kind
    text = flows.render_table(state.flows["br-tun"])
    assert 'table=0, priority=1,in_port="%s" actions=resubmit(,%d)' % (name, table) in text
    assert "table=%d, priority=1,tun_id=0x3e8 actions=mod_vlan_vid:1,resubmit(,10)" % table in text


def test_tunnel_type_not_enabled_leaves_the_port_dead():
    config = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan",))
    port = desired.LocalPort("tapgre", PORT_E, details(PORT_E, OVERLAY, "gre", "fa:16:3e:aa:bb:cc",
                                                       "172.18.90.5", segmentation_id=7))
    state = desired.build(config, [port])
    spec = state.vm_ports["tapgre"]
    assert spec.tag == c.DEAD_VLAN and spec.status == "down"
    assert 'table=0, priority=2,in_port="tapgre" actions=drop' in flows.render_table(state.flows["br-int"])


# -- local networks (book 4.7, AT-10) ------------------------------------------

def test_local_network_gets_a_tag_and_no_flows():
    config = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan",),
                                    bridge_mappings={"physnet1": "br-eth2"})
    ports = [desired.LocalPort("tapl1", "l1", details("l1", LOCAL, "local", "fa:16:3e:00:00:01", "10.0.0.1")),
             desired.LocalPort("tapl2", "l2", details("l2", LOCAL, "local", "fa:16:3e:00:00:02", "10.0.0.2"))]
    state = desired.build(config, ports)
    assert state.vm_ports["tapl1"].tag == state.vm_ports["tapl2"].tag == 1
    assert "dl_vlan" not in flows.render_table(state.flows["br-tun"])
    assert "dl_vlan=1" not in flows.render_table(state.flows["br-eth2"])
    assert not [n for n in state.ports if n.startswith("vxlan-")]


# -- local VLAN bookkeeping ------------------------------------------------------

def test_local_vlans_are_stable_and_reuse_the_lowest_free():
    existing = {"net-b": 1, "net-c": 7}
    assert desired.allocate_local_vlans({"net-a", "net-b", "net-c"}, existing) == {
        "net-a": 2, "net-b": 1, "net-c": 7}
    # A network gone frees its VLAN for the next new one.
    assert desired.allocate_local_vlans({"net-c", "net-d"}, {"net-b": 1, "net-c": 7}) == {
        "net-c": 7, "net-d": 1}


def test_local_vlans_are_recovered_from_port_other_config():
    rows = [({"net_uuid": "net-a", "tag": "5"}, 5), ({"net_uuid": "net-a"}, 5),
            ({"net_uuid": "net-b"}, 9), ({"net_uuid": "net-c"}, 9),  # a clash: net-b keeps 9
            ({"net_uuid": "net-d"}, c.DEAD_VLAN), ({}, 3), ({"net_uuid": "net-e", "tag": "6"}, [])]
    assert desired.recover_local_vlans(rows) == {"net-a": 5, "net-b": 9, "net-e": 6}


def test_existing_assignment_survives_rebuild():
    first = desired.build(VLAN_CONFIG, VLAN_PORTS, existing_vlans={NET40: 17})
    assert first.local_vlans == {NET40: 17, NET42: 1, FLAT: 2}
    assert 'in_port="int-br-eth2",dl_vlan=40 actions=mod_vlan_vid:17,resubmit(,60)' in \
        flows.render_table(first.flows["br-int"])


def test_unknown_and_admin_down_ports_sit_on_the_dead_vlan():
    ports = list(VLAN_PORTS[:1]) + [
        desired.LocalPort("tapunknown", "unknown", None),
        desired.LocalPort("tapdown", "down", details("down", NET42, "vlan", "fa:16:3e:00:00:99", "192.168.0.99",
                                                     "physnet1", 42, admin_state_up=False))]
    state = desired.build(VLAN_CONFIG, ports)
    assert state.vm_ports["tapunknown"].tag == c.DEAD_VLAN and state.vm_ports["tapunknown"].status == "dead"
    assert state.vm_ports["tapdown"].tag == c.DEAD_VLAN and state.vm_ports["tapdown"].status == "down"
    assert state.devices_with_status("up") == {PORT_A}


def test_trusted_and_unsecured_ports_skip_spoofing_rules():
    ports = [desired.LocalPort("tapdhcp", "dhcp", details("dhcp", NET42, "vlan", "fa:16:3e:00:00:02", "192.168.0.2",
                                                          "physnet1", 42, device_owner="network:dhcp")),
             desired.LocalPort("tapopen", "open", details("open", NET42, "vlan", "fa:16:3e:00:00:03", "192.168.0.3",
                                                          "physnet1", 42, port_security_enabled=False))]
    text = flows.render_table(desired.build(VLAN_CONFIG, ports).flows["br-int"])
    assert "tapdhcp" not in text and "tapopen" not in text


def test_allowed_address_pairs_extend_spoofing_rules():
    port = desired.LocalPort("tappair", "pair", details(
        "pair", NET42, "vlan", "fa:16:3e:00:00:05", "192.168.0.5", "physnet1", 42,
        allowed_address_pairs=[{"ip_address": "192.168.0.128/25", "mac_address": "fa:16:3e:00:00:06"}]))
    text = flows.render_table(desired.build(VLAN_CONFIG, [port]).flows["br-int"])
    assert 'arp,in_port="tappair",arp_spa=192.168.0.128/25 actions=resubmit(,25)' in text
    assert 'in_port="tappair",dl_src=fa:16:3e:00:00:06 actions=resubmit(,60)' in text


# -- comparing with what ovs-ofctl prints ----------------------------------------

# Lines as ovs-ofctl 3.1 "dump-flows --names" prints them.
DUMP = """\
 cookie=0x0, duration=0.006s, table=0, n_packets=0, n_bytes=0, priority=10,icmp6,in_port="tap6c15d7b8-87",icmp_type=136 actions=resubmit(,24)
 cookie=0x0, duration=5.1s, table=0, n_packets=3, n_bytes=180, idle_age=2, priority=3,in_port="int-br-eth2",vlan_tci=0x0000/0x1fff actions=mod_vlan_vid:3,resubmit(,60)
 cookie=0x6e770010, duration=1.2s, table=20, n_packets=0, n_bytes=0, hard_timeout=300, idle_age=1, priority=1,vlan_tci=0x0004/0x0fff,dl_dst=fa:16:3e:00:00:01 actions=load:0->NXM_OF_VLAN_TCI[],load:0x27->NXM_NX_TUN_ID[],output:"vxlan-0a140064"
"""


def test_dump_lines_compare_equal_to_rendered_flows():
    rendered = [
        flows.Flow(0, 10, ("icmp6", flows.in_port("tap6c15d7b8-87"), "icmp_type=136"), "resubmit(,24)"),
        flows.Flow(0, 3, (flows.in_port("int-br-eth2"), "vlan_tci=0x0000/0x1fff"), "mod_vlan_vid:3,resubmit(,60)"),
    ]
    # The learned table-20 flow is the switch's own and is left out.
    assert flows.tables_equal(rendered, DUMP.splitlines())
    assert not flows.tables_equal(rendered[:1], DUMP.splitlines())
    changed = [rendered[0], flows.Flow(0, 3, rendered[1].match, "mod_vlan_vid:4,resubmit(,60)")]
    assert not flows.tables_equal(changed, DUMP.splitlines())


def test_canonical_ignores_field_order_and_quoting():
    a = flows.canonical('table=24, priority=2,arp,in_port="qvo1",arp_spa=10.0.0.1 actions=resubmit(,25)')
    b = flows.canonical(' cookie=0x0, duration=9s, table=24, n_packets=1, n_bytes=42, priority=2,'
                        'arp_spa=10.0.0.1,in_port=qvo1,arp actions=resubmit(,25)')
    assert a == b
    assert flows.canonical("NXST_FLOW reply (xid=0x4):") is None
