"""The Linux bridge trunk planner on the book's compute01 (B.8): tapcd6850a0-18, VLAN 42 of
the parent tap tapa6546d52-bc, in RED_NET's bridge brq3f05db4d-c4."""
from netweave.service_plugins.trunk.agent import lb_plan

PARENT_TAP = "tapa6546d52-bc"
RED = "3f05db4d-c4ee-4cee-a616-2cfffbcd296e"
BLUE = "d8428f56-ba13-4aa7-97bb-76a6feb308bf"
CHILD = "cd6850a0-186d-47ac-8981-6fa52088088e"
CHILD2 = "0b0e4a43-1c2d-4e5f-9a8b-7c6d5e4f3a2b"
TRUNK = {"port_id": "a6546d52-bc8b-4ca0-bd3a-bda1afcde6bb",
         "sub_ports": [{"port_id": CHILD, "segmentation_type": "vlan", "segmentation_id": 42}]}

BOOK_LINKS = """\
32: tapa6546d52-bc: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast master brqdb527151-20 state UNKNOWN
    link/ether fe:16:3e:1c:3d:d3 brd ff:ff:ff:ff:ff:ff promiscuity 1
    tun type tap pi off vnet_hdr on persist off
33: tapcd6850a0-18@tapa6546d52-bc: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master brq3f05db4d-c4
    link/ether fe:16:3e:1c:3d:d3 brd ff:ff:ff:ff:ff:ff promiscuity 1
    vlan protocol 802.1Q id 42 <REORDER_HDR>
    bridge_slave state forwarding priority 32 cost 100 hairpin off guard off root_block off fastleave off learning
34: ens224.42@ens224: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master brq3f05db4d-c4
    vlan protocol 802.1Q id 42 <REORDER_HDR>
"""


def test_parse_the_books_ip_d_link_output():
    assert lb_plan.parse_vlan_children(BOOK_LINKS, PARENT_TAP) == {
        "tapcd6850a0-18": lb_plan.VlanChild("tapcd6850a0-18", 42, "brq3f05db4d-c4")}


def test_book_layout_is_planned_and_then_nothing():
    wanted = lb_plan.wanted_children(TRUNK, {CHILD: RED})
    assert lb_plan.plan(PARENT_TAP, wanted, {}) == [
        lb_plan.CreateVlan("tapcd6850a0-18", PARENT_TAP, 42), lb_plan.DisableIpv6("tapcd6850a0-18"),
        lb_plan.Enslave("tapcd6850a0-18", "brq3f05db4d-c4"), lb_plan.SetUp("tapcd6850a0-18")]
    found = lb_plan.parse_vlan_children(BOOK_LINKS, PARENT_TAP)
    assert lb_plan.plan(PARENT_TAP, wanted, found) == []


def test_stale_and_changed_children():
    found = lb_plan.parse_vlan_children(BOOK_LINKS, PARENT_TAP)
    two = dict(TRUNK, sub_ports=[dict(TRUNK["sub_ports"][0], segmentation_id=43),
                                 {"port_id": CHILD2, "segmentation_type": "vlan", "segmentation_id": 41}])
    ops = lb_plan.plan(PARENT_TAP, lb_plan.wanted_children(two, {CHILD: RED, CHILD2: BLUE}), found)
    assert ops[0] == lb_plan.DeleteDevice("tapcd6850a0-18")           # VLAN 42 -> 43: recreated
    assert lb_plan.CreateVlan("tapcd6850a0-18", PARENT_TAP, 43) in ops
    assert lb_plan.Enslave("tap0b0e4a43-1c", "brqd8428f56-ba") in ops
    # The subport removed: its child goes; a subport whose network is unknown waits.
    assert lb_plan.plan(PARENT_TAP, lb_plan.wanted_children(dict(TRUNK, sub_ports=[]), {}), found) == [
        lb_plan.DeleteDevice("tapcd6850a0-18")]
    assert lb_plan.wanted_children(TRUNK, {}) == {}


def test_a_child_in_the_wrong_bridge_is_moved():
    found = {"tapcd6850a0-18": lb_plan.VlanChild("tapcd6850a0-18", 42, "brqother")}
    assert lb_plan.plan(PARENT_TAP, lb_plan.wanted_children(TRUNK, {CHILD: RED}), found) == [
        lb_plan.Enslave("tapcd6850a0-18", "brq3f05db4d-c4")]
