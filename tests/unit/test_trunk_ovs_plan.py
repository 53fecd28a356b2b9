"""The Open vSwitch trunk planner: the book's trunk0 (parent0 + child-p0c1 on VLAN 42)."""
from netweave.service_plugins.trunk.agent import ovs_plan

TRUNK = {"id": "82597947-6e0a-40f3-b4ff-ccedd8c74ff8", "port_id": "a6546d52-bc8b-4ca0-bd3a-bda1afcde6bb",
         "sub_ports": [{"port_id": "cd6850a0-186d-47ac-8981-6fa52088088e", "segmentation_type": "vlan",
                        "segmentation_id": 42}]}
MACS = {"cd6850a0-186d-47ac-8981-6fa52088088e": "fa:16:3e:a9:48:cc"}
PARENT_MAC = "fa:16:3e:1c:3d:d3"
TBR = "tbr-82597947-6"


def wanted(trunk=TRUNK):
    return ovs_plan.desired_ports(trunk, PARENT_MAC, MACS, "br-int")


def test_trunk_bridge_and_patch_pairs():
    ports = wanted()
    assert sorted(ports) == [("br-int", "spi-cd6850a0-18"), ("br-int", "tpi-a6546d52-bc"),
                             (TBR, "spt-cd6850a0-18"), (TBR, "tpt-a6546d52-bc")]
    tpt, spt = ports[(TBR, "tpt-a6546d52-bc")], ports[(TBR, "spt-cd6850a0-18")]
    assert (tpt.peer, tpt.tag) == ("tpi-a6546d52-bc", None)      # parent traffic untagged
    assert (spt.peer, spt.tag) == ("spi-cd6850a0-18", 42)        # the guest's VLAN 42
    spi = dict(ports[("br-int", "spi-cd6850a0-18")].external_ids)
    assert spi == {"iface-id": "cd6850a0-186d-47ac-8981-6fa52088088e", "attached-mac": "fa:16:3e:a9:48:cc",
                   "iface-status": "active"}
    assert dict(ports[("br-int", "tpi-a6546d52-bc")].external_ids)["attached-mac"] == PARENT_MAC


def test_plan_adds_then_is_idempotent():
    ops = ovs_plan.plan(wanted(), {}, {"br-int", TBR})
    assert [type(op).__name__ for op in ops] == ["AddPatchPort"] * 4
    assert ovs_plan.plan(wanted(), wanted(), {"br-int", TBR}) == []


def test_removing_a_subport_removes_only_its_pair_and_foreign_ports_stay():
    current = dict(wanted())
    current[("br-int", "tap-someone-els")] = ovs_plan.PatchPort("br-int", "tap-someone-els", "x")
    fewer = dict(TRUNK, sub_ports=[])
    ops = ovs_plan.plan(wanted(fewer), current, {"br-int", TBR})
    assert ops == [ovs_plan.DelPort("br-int", "spi-cd6850a0-18"), ovs_plan.DelPort(TBR, "spt-cd6850a0-18")]


def test_a_changed_segmentation_id_replaces_the_port():
    moved = dict(TRUNK, sub_ports=[dict(TRUNK["sub_ports"][0], segmentation_id=43)])
    ops = ovs_plan.plan(wanted(moved), wanted(), {"br-int", TBR})
    assert ops == [ovs_plan.DelPort(TBR, "spt-cd6850a0-18"),
                   ovs_plan.AddPatchPort(ovs_plan.PatchPort(TBR, "spt-cd6850a0-18", "spi-cd6850a0-18", 43))]


def test_the_agents_local_vlan_on_br_int_is_not_a_difference():
    current = dict(wanted())
    key = ("br-int", "spi-cd6850a0-18")
    current[key] = ovs_plan.PatchPort(*key, current[key].peer, 7, current[key].external_ids)
    assert ovs_plan.plan(wanted(), current, {"br-int", TBR}) == []
    tagged_parent = dict(wanted())
    key = (TBR, "tpt-a6546d52-bc")
    tagged_parent[key] = ovs_plan.PatchPort(*key, "tpi-a6546d52-bc", 5)   # the trunk side stays untagged
    assert ovs_plan.plan(wanted(), tagged_parent, {"br-int", TBR}) == [
        ovs_plan.DelPort(*key), ovs_plan.AddPatchPort(wanted()[key])]
