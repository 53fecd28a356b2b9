"""Pure parts of the Linux bridge agent: desired layouts, plans against kernel states, FDB plans.

``simulate`` below plays the kernel: it applies operations to a KernelState
value the way the kernel would, so "plan, apply, plan again" can be checked
without root. The functional tests do the same against the real kernel.
"""
import dataclasses
import socket

import pytest

from netweave.core import naming
from netweave.mechanism_drivers.linuxbridge import capabilities, config, constants, desired, fdb, planner
from netweave.mechanism_drivers.linuxbridge import operations as ops
from netweave.mechanism_drivers.linuxbridge.kernel_state import Address, KernelState, Link, VxlanInfo

NET_FLAT = "9a1c4f0e-1111-4c3b-8d2e-0f3f5b1e7a01"
NET_VLAN = "9a1c4f0e-2222-4c3b-8d2e-0f3f5b1e7a02"
NET_VX = "9a1c4f0e-3333-4c3b-8d2e-0f3f5b1e7a03"
NET_VX2 = "9a1c4f0e-4444-4c3b-8d2e-0f3f5b1e7a04"
NET_LOCAL = "9a1c4f0e-5555-4c3b-8d2e-0f3f5b1e7a05"
LOCAL_IP = "192.0.2.1"
FLOOD = constants.FLOODING_MAC

SETTINGS = config.make_settings(interface_mappings={"physnet1": "eth1"}, local_ip=LOCAL_IP,
                                l2_population=True, arp_responder=True)
HOST = (Link("eth0", index=2, up=True), Link("eth1", index=3, up=True))
HOST_ADDRESSES = {"eth0": [Address(LOCAL_IP, 24)]}


def port_id(n):
    return "%08x-aaaa-4bbb-8ccc-%012x" % (n, n)


def details(n, network_id, network_type, physnet=None, segment=None, mtu=1500, owner="network:dhcp",
            admin=True):
    pid = port_id(n)
    return {"device": naming.tap_device(pid), "port_id": pid, "network_id": network_id,
            "network_type": network_type, "physical_network": physnet, "segmentation_id": segment,
            "mtu": mtu, "mac_address": "fa:16:3e:00:00:%02x" % n, "admin_state_up": admin,
            "device_owner": owner}


def tap(n, **fields):
    return Link(naming.tap_device(port_id(n)), kind="tun", index=100 + n, **fields)


def state_with(*extra, addresses=None, fdb_entries=None, neighbours=None):
    merged = dict(HOST_ADDRESSES)
    merged.update(addresses or {})
    return KernelState.of(HOST + tuple(extra), addresses=merged, fdb=fdb_entries, neighbours=neighbours)


def compute(details_list, settings=SETTINGS, caps=None, vtep="eth0"):
    return desired.compute(details_list, settings, caps, vtep)


# --- a model of the kernel ------------------------------------------------------------


def simulate(state, operations):
    """The KernelState after ``operations``, as the kernel would leave it."""
    links = dict(state.links)
    addresses = {name: list(values) for name, values in state.addresses.items()}
    fdb_entries = {name: set(values) for name, values in state.fdb.items()}
    neighbours = {name: dict(values) for name, values in state.neighbours.items()}
    next_index = max([link.index for link in links.values()] + [1000]) + 1

    def change(name, **fields):
        links[name] = dataclasses.replace(links[name], **fields)

    for op in operations:
        args = op.args
        if op.action == ops.CREATE_BRIDGE:
            assert op.device not in links, op
            links[op.device] = Link(op.device, kind="bridge", index=next_index, stp_state=0, forward_delay=0)
        elif op.action == ops.SET_BRIDGE_OPTIONS:
            change(op.device, stp_state=0, forward_delay=0)
        elif op.action == ops.CREATE_VLAN:
            assert op.device not in links and args["parent"] in links, op
            links[op.device] = Link(op.device, kind="vlan", index=next_index, vlan_id=args["vlan_id"],
                                    parent=args["parent"], mtu=args.get("mtu") or links[args["parent"]].mtu)
        elif op.action == ops.CREATE_VXLAN:
            assert op.device not in links, op
            info = VxlanInfo(vni=args["vni"], local=args["local"], dev=args["dev"], port=args["port"] or 8472,
                             ttl=args["ttl"] or 0, tos=args["tos"] or 0, learning=args["learning"],
                             proxy=args["proxy"], group=args["group"], srcport_min=args["srcport_min"],
                             srcport_max=args["srcport_max"])
            links[op.device] = Link(op.device, kind="vxlan", index=next_index, vxlan=info,
                                    mtu=args.get("mtu") or 1450)
        elif op.action == ops.DELETE_LINK:
            assert op.device in links, op
            del links[op.device]
            for name, link in list(links.items()):
                if link.master == op.device:
                    change(name, master=None)
            fdb_entries.pop(op.device, None)
            neighbours.pop(op.device, None)
        elif op.action == ops.SET_MTU:
            change(op.device, mtu=args["mtu"])
        elif op.action == ops.ENSLAVE:
            assert links[args["bridge"]].kind == "bridge", op
            change(op.device, master=args["bridge"])
        elif op.action == ops.RELEASE:
            change(op.device, master=None)
        elif op.action == ops.SET_UP:
            change(op.device, up=True)
        elif op.action == ops.MOVE_ADDRESSES:
            moved = [a for a in addresses.get(op.device, []) if (a.address, a.prefixlen) in args["addresses"]]
            addresses[op.device] = [a for a in addresses.get(op.device, []) if a not in moved]
            addresses.setdefault(args["target"], []).extend(moved)
        elif op.action == ops.FDB_APPEND:
            fdb_entries.setdefault(op.device, set()).add((args["mac"], args["dst"]))
        elif op.action == ops.FDB_REPLACE:
            entries = fdb_entries.setdefault(op.device, set())
            entries -= {entry for entry in entries if entry[0] == args["mac"]}
            entries.add((args["mac"], args["dst"]))
        elif op.action == ops.FDB_DELETE:
            fdb_entries[op.device].discard((args["mac"], args["dst"]))
        elif op.action == ops.NEIGH_REPLACE:
            neighbours.setdefault(op.device, {})[args["ip"]] = args["mac"]
        elif op.action == ops.NEIGH_DELETE:
            neighbours[op.device].pop(args["ip"])
        else:
            raise AssertionError("unknown operation %s" % op)
        next_index += 1
    return KernelState.of(links.values(), addresses=addresses, fdb=fdb_entries, neighbours=neighbours)


def converge(layout, state, doomed=()):
    """Plan, apply to the model, and check that planning again gives nothing."""
    plan = planner.plan(layout, state, doomed)
    after = simulate(state, plan.operations)
    again = planner.plan(layout, after, doomed)
    assert list(again.operations) == [], "resync planned %s" % [str(op) for op in again.operations]
    return plan, after


def actions(plan):
    return [(op.action, op.device) for op in plan.operations]


# --- desired layouts ---------------------------------------------------------------------


def test_flat_layout_puts_the_nic_in_the_network_bridge():
    layout = compute([details(1, NET_FLAT, "flat", "physnet1"), details(2, NET_FLAT, "flat", "physnet1")])
    net = layout.networks[NET_FLAT]
    assert net.bridge == naming.network_bridge(NET_FLAT) == "brq9a1c4f0e-11"
    assert net.bridge_managed
    assert net.uplink == desired.Uplink(kind=desired.PHYSICAL, name="eth1")
    assert [t.name for t in net.taps] == [naming.tap_device(port_id(1)), naming.tap_device(port_id(2))]
    assert all(t.attach and t.mtu == 1500 for t in net.taps)
    assert not layout.errors


def test_vlan_layout_uses_a_vlan_device_on_the_mapped_nic():
    layout = compute([details(1, NET_VLAN, "vlan", "physnet1", 42)])
    uplink = layout.networks[NET_VLAN].uplink
    assert uplink == desired.Uplink(kind=desired.VLAN, name="eth1.42", parent="eth1", vlan_id=42, mtu=1500)


def test_vlan_without_8021q_is_refused_with_a_clear_message():
    caps = capabilities.Capabilities(vlan=False)
    layout = compute([details(1, NET_VLAN, "vlan", "physnet1", 42), details(2, NET_LOCAL, "local")], caps=caps)
    assert NET_VLAN not in layout.networks and NET_LOCAL in layout.networks
    message = layout.errors[naming.tap_device(port_id(1))]
    assert "VLAN networks need the 8021q kernel module, which this kernel does not have" in message
    assert capabilities.VLAN_UNSUPPORTED in str(capabilities.VlanUnsupported())


def test_vxlan_layout_with_l2population_is_unicast_without_learning():
    layout = compute([details(1, NET_VX, "vxlan", segment=1001, mtu=1450)])
    uplink = layout.networks[NET_VX].uplink
    assert uplink.name == "vxlan-1001" and uplink.mtu == 1450
    assert uplink.vxlan == desired.VxlanSpec(vni=1001, local=LOCAL_IP, dev="eth0", port=4789,
                                             learning=False, proxy=True, group=None)


def test_vxlan_without_l2population_uses_the_multicast_group():
    settings = config.make_settings(local_ip=LOCAL_IP, vxlan_group="239.1.0.0/16", udp_dstport=0, ttl=8)
    spec = compute([details(1, NET_VX, "vxlan", segment=0x10203)], settings).networks[NET_VX].uplink.vxlan
    assert spec.group == "239.1.2.3" and spec.learning and not spec.proxy
    assert spec.port is None and spec.ttl == 8


def test_vxlan_falls_back_to_multicast_when_fdb_append_is_missing():
    caps = capabilities.Capabilities(fdb_append=False)
    spec = compute([details(1, NET_VX, "vxlan", segment=7)], caps=caps).networks[NET_VX].uplink.vxlan
    assert spec.group == "224.0.0.1" and spec.learning


@pytest.mark.parametrize("settings, vtep, expected", [
    (config.make_settings(local_ip=LOCAL_IP, enable_vxlan=False), "eth0", "not enabled"),
    (config.make_settings(), "eth0", "not enabled"),
    (SETTINGS, None, "not configured on any interface"),
    (config.make_settings(local_ip=LOCAL_IP, vxlan_group=None), "eth0", "l2_population or a vxlan_group"),
])
def test_vxlan_refusals(settings, vtep, expected):
    layout = desired.compute([details(1, NET_VX, "vxlan", segment=5)], settings, None, vtep)
    assert not layout.networks
    assert expected in layout.errors[naming.tap_device(port_id(1))]


def test_local_layout_is_taps_only():
    net = compute([details(1, NET_LOCAL, "local"), details(2, NET_LOCAL, "local")]).networks[NET_LOCAL]
    assert net.uplink is None and net.bridge_managed and len(net.taps) == 2


@pytest.mark.parametrize("network_type", ["gre", "geneve"])
def test_unsupported_types_are_errors(network_type):
    layout = compute([details(1, NET_VX, network_type, segment=5)])
    assert "not supported by the Linux bridge agent" in layout.errors[naming.tap_device(port_id(1))]


def test_missing_mapping_is_an_error():
    layout = compute([details(1, NET_FLAT, "flat", "physnet9")])
    assert "physnet9" in layout.errors[naming.tap_device(port_id(1))]


def test_unknown_admin_down_and_hypervisor_owned_ports():
    layout = compute([
        {"device": "tapdeadbeef-00"},
        details(1, NET_LOCAL, "local", admin=False),
        details(2, NET_LOCAL, "local", owner="compute:nova"),
    ])
    assert layout.unknown == {"tapdeadbeef-00"}
    assert layout.released == {naming.tap_device(port_id(1))}
    (only,) = layout.networks[NET_LOCAL].taps
    assert only.name == naming.tap_device(port_id(2)) and only.attach is False


def test_one_flat_network_per_interface():
    other = "0b2d5e1f-9999-4c3b-8d2e-0f3f5b1e7a99"
    layout = compute([details(1, NET_FLAT, "flat", "physnet1"), details(2, other, "flat", "physnet1")])
    assert set(layout.networks) == {other}
    assert "already carries flat network" in layout.errors[naming.tap_device(port_id(1))]


def test_bridge_mappings_flat_uses_the_existing_bridge_and_vlan_stacks_on_it():
    settings = config.make_settings(bridge_mappings={"physnet2": "br-prov"})
    layout = desired.compute([details(1, NET_FLAT, "flat", "physnet2"),
                              details(2, NET_VLAN, "vlan", "physnet2", 300)], settings)
    flat = layout.networks[NET_FLAT]
    assert flat.bridge == "br-prov" and not flat.bridge_managed and flat.uplink is None
    vlan = layout.networks[NET_VLAN]
    assert vlan.bridge == naming.network_bridge(NET_VLAN)
    assert vlan.uplink.name == "br-prov.300" and vlan.uplink.parent == "br-prov"


def test_settings_validation():
    with pytest.raises(config.ConfigError, match="both"):
        config.make_settings(interface_mappings={"physnet1": "eth1"}, bridge_mappings={"physnet1": "br1"})
    with pytest.raises(config.ConfigError, match="mapped twice"):
        config.parse_mappings(["physnet1:eth1", "physnet1:eth2"], "opt")
    with pytest.raises(config.ConfigError, match="more than one"):
        config.parse_mappings(["physnet1:eth1", "physnet2:eth1"], "opt")
    with pytest.raises(config.ConfigError, match="not <physical_network>"):
        config.parse_mappings(["physnet1"], "opt")
    assert config.parse_mappings(["physnet1:eth2", " physnet2 : bond2 "], "opt") == {
        "physnet1": "eth2", "physnet2": "bond2"}
    with pytest.raises(config.ConfigError, match="multicast"):
        config.make_settings(vxlan_group="10.0.0.1")


# --- plans -------------------------------------------------------------------------------


def test_vxlan_plan_from_scratch_in_order_then_nothing():
    layout = compute([details(1, NET_VX, "vxlan", segment=1001, mtu=1450),
                      details(2, NET_VX, "vxlan", segment=1001, mtu=1450)])
    state = state_with(tap(1), tap(2))
    plan, after = converge(layout, state)
    bridge, t1, t2 = naming.network_bridge(NET_VX), tap(1).name, tap(2).name
    assert actions(plan) == [
        (ops.CREATE_BRIDGE, bridge), (ops.CREATE_VXLAN, "vxlan-1001"),
        (ops.SET_MTU, t1), (ops.SET_MTU, t2),
        (ops.ENSLAVE, "vxlan-1001"), (ops.ENSLAVE, t1), (ops.ENSLAVE, t2),
        (ops.SET_UP, "vxlan-1001"), (ops.SET_UP, t1), (ops.SET_UP, t2), (ops.SET_UP, bridge),
    ]
    create = plan.operations[1]
    assert create.args == {"vni": 1001, "local": LOCAL_IP, "dev": "eth0", "port": 4789, "ttl": None,
                           "tos": None, "learning": False, "proxy": True, "group": None,
                           "srcport_min": 0, "srcport_max": 0, "mtu": 1450}
    assert all(op.network_id == NET_VX for op in plan.operations)
    assert after.members(bridge) == sorted([t1, t2, "vxlan-1001"])


def test_flat_vlan_local_plans_converge():
    layout = compute([details(1, NET_FLAT, "flat", "physnet1"), details(2, NET_LOCAL, "local"),
                      details(3, NET_VLAN, "vlan", "physnet1", 42, mtu=1400)])
    plan, after = converge(layout, state_with(tap(1), tap(2), tap(3)))
    assert after.members(naming.network_bridge(NET_FLAT)) == sorted(["eth1", tap(1).name])
    assert after.members(naming.network_bridge(NET_LOCAL)) == [tap(2).name]
    assert after.members(naming.network_bridge(NET_VLAN)) == sorted(["eth1.42", tap(3).name])
    assert after.link("eth1.42").mtu == 1400 and after.link("eth1").mtu == 1500
    # The NIC is neither created nor deleted, only enslaved.
    assert (ops.ENSLAVE, "eth1") in actions(plan)
    assert not [op for op in plan.operations if op.device == "eth1" and op.action != ops.ENSLAVE]


def test_only_what_differs_is_planned():
    layout = compute([details(1, NET_VX, "vxlan", segment=9, mtu=1450)])
    _plan, wired = converge(layout, state_with(tap(1)))
    drifted = simulate(wired, [ops.Operation.make(ops.SET_MTU, tap(1).name, mtu=1500)])
    assert actions(planner.plan(layout, drifted)) == [(ops.SET_MTU, tap(1).name)]
    out = simulate(wired, [ops.Operation.make(ops.RELEASE, tap(1).name)])
    assert actions(planner.plan(layout, out)) == [(ops.ENSLAVE, tap(1).name)]
    stp = KernelState.of([dataclasses.replace(link, stp_state=1) if link.kind == "bridge" else link
                          for link in wired.links.values()], wired.addresses)
    assert actions(planner.plan(layout, stp)) == [(ops.SET_BRIDGE_OPTIONS, naming.network_bridge(NET_VX))]


def test_vxlan_device_with_other_parameters_is_recreated():
    layout = compute([details(1, NET_VX, "vxlan", segment=9, mtu=1450)])
    _plan, wired = converge(layout, state_with(tap(1)))
    old = wired.link("vxlan-9")
    wrong = KernelState.of([dataclasses.replace(old, vxlan=dataclasses.replace(old.vxlan, port=8472))]
                           + [link for link in wired.links.values() if link.name != "vxlan-9"], wired.addresses)
    plan, _after = converge(layout, wrong)
    assert actions(plan) == [(ops.DELETE_LINK, "vxlan-9"), (ops.CREATE_VXLAN, "vxlan-9"),
                             (ops.ENSLAVE, "vxlan-9"), (ops.SET_UP, "vxlan-9")]
    assert planner.vxlan_differences(layout.networks[NET_VX].uplink.vxlan, wrong.link("vxlan-9").vxlan) == ["port"]


def test_removing_the_last_tap_deletes_bridge_and_vxlan_device():
    layout = compute([details(1, NET_VX, "vxlan", segment=9), details(2, NET_VX2, "vxlan", segment=10)])
    _plan, wired = converge(layout, state_with(tap(1), tap(2)))
    gone = KernelState.of([link for link in wired.links.values() if link.name != tap(1).name], wired.addresses)
    layout_after = compute([details(2, NET_VX2, "vxlan", segment=10)])
    plan, after = converge(layout_after, gone)
    assert actions(plan) == [(ops.DELETE_LINK, naming.network_bridge(NET_VX)), (ops.DELETE_LINK, "vxlan-9")]
    assert "vxlan-10" in after.links and naming.network_bridge(NET_VX2) in after.links


def test_removing_the_last_flat_tap_keeps_the_nic_and_gives_its_addresses_back():
    addresses = {"eth1": [Address("203.0.113.5", 24), Address("fe80::1", 64, socket.AF_INET6, 253)]}
    layout = compute([details(1, NET_FLAT, "flat", "physnet1")])
    plan, wired = converge(layout, state_with(tap(1), addresses=addresses))
    move = plan.operations[actions(plan).index((ops.MOVE_ADDRESSES, "eth1"))]
    assert move.args["target"] == naming.network_bridge(NET_FLAT)
    assert move.args["addresses"] == (("203.0.113.5", 24),)     # link-local stays
    assert actions(plan).index((ops.MOVE_ADDRESSES, "eth1")) < actions(plan).index((ops.ENSLAVE, "eth1"))
    assert wired.device_with_address("203.0.113.5") == naming.network_bridge(NET_FLAT)
    gone = KernelState.of([link for link in wired.links.values() if link.name != tap(1).name], wired.addresses)
    plan, after = converge(compute([]), gone)
    assert actions(plan) == [(ops.MOVE_ADDRESSES, naming.network_bridge(NET_FLAT)),
                             (ops.DELETE_LINK, naming.network_bridge(NET_FLAT))]
    assert "eth1" in after.links and after.device_with_address("203.0.113.5") == "eth1"


def test_bridge_with_a_foreign_tap_stays_unless_the_network_was_deleted():
    layout = compute([details(1, NET_LOCAL, "local")])
    _plan, wired = converge(layout, state_with(tap(1)))
    # The server no longer knows the port, but the tap is still in the bridge.
    assert list(planner.plan(compute([{"device": tap(1).name}]), wired)) == []
    plan, after = converge(compute([]), wired, doomed=[NET_LOCAL])
    assert actions(plan) == [(ops.DELETE_LINK, naming.network_bridge(NET_LOCAL))]
    assert after.link(tap(1).name).master is None


def test_admin_down_port_is_released_and_its_empty_bridge_goes():
    layout = compute([details(1, NET_VX, "vxlan", segment=9)])
    _plan, wired = converge(layout, state_with(tap(1)))
    down = compute([details(1, NET_VX, "vxlan", segment=9, admin=False)])
    plan, _after = converge(down, wired)
    assert actions(plan) == [(ops.RELEASE, tap(1).name), (ops.DELETE_LINK, naming.network_bridge(NET_VX)),
                             (ops.DELETE_LINK, "vxlan-9")]


def test_hypervisor_owned_tap_gets_mtu_but_is_not_enslaved():
    layout = compute([details(1, NET_VX, "vxlan", segment=9, mtu=1450, owner="compute:nova")])
    plan, after = converge(layout, state_with(tap(1)))
    assert (ops.SET_MTU, tap(1).name) in actions(plan)
    assert (ops.ENSLAVE, tap(1).name) not in actions(plan)
    assert after.link(tap(1).name).master is None


def test_leftover_vxlan_device_is_deleted_and_name_clashes_are_errors():
    stray = Link("vxlan-77", kind="vxlan", index=50, vxlan=VxlanInfo(vni=77))
    assert actions(planner.plan(compute([]), state_with(stray))) == [(ops.DELETE_LINK, "vxlan-77")]
    squatter = Link(naming.network_bridge(NET_LOCAL), kind="veth", index=51)
    plan = planner.plan(compute([details(1, NET_LOCAL, "local")]), state_with(tap(1), squatter))
    assert list(plan) == [] and "is not a bridge" in plan.errors[tap(1).name]
    missing_nic = config.make_settings(interface_mappings={"physnet1": "eth7"})
    plan = planner.plan(desired.compute([details(1, NET_FLAT, "flat", "physnet1")], missing_nic), state_with(tap(1)))
    assert "eth7" in plan.errors[tap(1).name] and list(plan) == []


def test_a_tap_that_vanished_after_the_scan_is_skipped():
    layout = compute([details(1, NET_LOCAL, "local"), details(2, NET_LOCAL, "local")])
    plan, _after = converge(layout, state_with(tap(1)))
    assert tap(2).name not in {op.device for op in plan.operations}


# --- l2population ---------------------------------------------------------------------------


def fdb_payload(ports, network_id=NET_VX, vni=9):
    return {network_id: {"network_type": "vxlan", "segment_id": vni, "ports": ports}}


def wired_vxlan(vni=9):
    layout = compute([details(1, NET_VX, "vxlan", segment=vni)])
    return converge(layout, state_with(tap(1)))[1]


def test_fdb_add_plans_flood_unicast_and_arp_entries_skipping_own_vtep():
    payload = fdb_payload({
        "192.0.2.2": [[FLOOD, "0.0.0.0"], ["FA:16:3E:AA:00:01", "10.0.0.5"]],
        "192.0.2.3": [[FLOOD, "0.0.0.0"], ["fa:16:3e:aa:00:02", "10.0.0.6"]],
        LOCAL_IP: [[FLOOD, "0.0.0.0"], ["fa:16:3e:aa:00:03", "10.0.0.7"]],
    })
    state = wired_vxlan()
    planned = fdb.plan_add(payload, LOCAL_IP, True, state)
    assert [(op.action, op.get("mac"), op.get("dst") or op.get("ip")) for op in planned] == [
        (ops.FDB_APPEND, "00:00:00:00:00:00", "192.0.2.2"),
        (ops.FDB_APPEND, "00:00:00:00:00:00", "192.0.2.3"),
        (ops.FDB_REPLACE, "fa:16:3e:aa:00:01", "192.0.2.2"),
        (ops.FDB_REPLACE, "fa:16:3e:aa:00:02", "192.0.2.3"),
        (ops.NEIGH_REPLACE, "fa:16:3e:aa:00:01", "10.0.0.5"),
        (ops.NEIGH_REPLACE, "fa:16:3e:aa:00:02", "10.0.0.6"),
    ]
    assert {op.device for op in planned} == {"vxlan-9"} and {op.network_id for op in planned} == {NET_VX}
    programmed = simulate(state, planned)
    assert fdb.plan_add(payload, LOCAL_IP, True, programmed) == ()
    without_arp = fdb.plan_add(payload, LOCAL_IP, False, state)
    assert not [op for op in without_arp if op.action == ops.NEIGH_REPLACE]


def test_fdb_add_ignores_other_types_and_absent_devices():
    state = wired_vxlan()
    assert fdb.plan_add(fdb_payload({"192.0.2.2": [["fa:16:3e:aa:00:01", "10.0.0.5"]]}, vni=10),
                        LOCAL_IP, True, state) == ()
    vlan = {NET_VLAN: {"network_type": "vlan", "segment_id": 9,
                       "ports": {"192.0.2.2": [["fa:16:3e:aa:00:01", "10.0.0.5"]]}}}
    assert fdb.plan_add(vlan, LOCAL_IP, True, state) == ()
    # Without type and segment in the payload, the agent's own knowledge decides.
    bare = {NET_VX: {"ports": {"192.0.2.2": [["fa:16:3e:aa:00:01", "10.0.0.5"]]}}}
    known = {NET_VX: {"network_type": "vxlan", "segment_id": 9}}
    assert len(fdb.plan_add(bare, LOCAL_IP, False, state, known)) == 1


def test_fdb_remove_and_update():
    payload = fdb_payload({"192.0.2.2": [[FLOOD, "0.0.0.0"], ["fa:16:3e:aa:00:01", "10.0.0.5"]]})
    state = simulate(wired_vxlan(), fdb.plan_add(payload, LOCAL_IP, True, wired_vxlan()))
    removed = fdb.plan_remove(payload, LOCAL_IP, state)
    assert [op.action for op in removed] == [ops.NEIGH_DELETE, ops.FDB_DELETE, ops.FDB_DELETE]
    cleared = simulate(state, removed)
    assert not cleared.fdb.get("vxlan-9") and not cleared.neighbours.get("vxlan-9")
    assert fdb.plan_remove(payload, LOCAL_IP, cleared) == ()

    change = {"chg_ip": {NET_VX: {"192.0.2.2": {"before": [["fa:16:3e:aa:00:01", "10.0.0.5"]],
                                                "after": [["fa:16:3e:aa:00:01", "10.0.0.9"]]}}}}
    known = {NET_VX: {"network_type": "vxlan", "segment_id": 9}}
    updated = fdb.plan_update(change, LOCAL_IP, True, state, known)
    assert [(op.action, op.get("ip")) for op in updated] == [(ops.NEIGH_DELETE, "10.0.0.5"),
                                                             (ops.NEIGH_REPLACE, "10.0.0.9")]
    assert fdb.plan_update(change, LOCAL_IP, False, state, known) == ()


def test_fdb_table_keeps_what_the_server_sent():
    table = fdb.FdbTable()
    table.add(fdb_payload({"192.0.2.2": [[FLOOD, "0.0.0.0"], ["fa:16:3e:aa:00:01", "10.0.0.5"]]}))
    table.add(fdb_payload({"192.0.2.2": [["fa:16:3e:aa:00:02", None]]}))
    assert len(table) == 3
    table.remove(fdb_payload({"192.0.2.2": [["fa:16:3e:aa:00:01", "10.0.0.5"]]}))
    assert table.payload()[NET_VX] == {"network_type": "vxlan", "segment_id": 9, "ports": {
        "192.0.2.2": [("00:00:00:00:00:00", "0.0.0.0"), ("fa:16:3e:aa:00:02", None)]}}
    # A recreated device gets the whole table again.
    replay = fdb.plan_add(table.payload(), LOCAL_IP, True, wired_vxlan())
    assert [op.action for op in replay] == [ops.FDB_APPEND, ops.FDB_REPLACE]
    table.drop_network(NET_VX)
    assert len(table) == 0
