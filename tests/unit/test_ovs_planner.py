"""The planner turns (desired state, OVSDB snapshot, flow dumps) into the smallest set of changes."""
import pytest
from oslo_config import cfg

from netweave.mechanism_drivers.openvswitch import config as ovs_config
from netweave.mechanism_drivers.openvswitch import constants as c
from netweave.mechanism_drivers.openvswitch import desired, flows, planner
from netweave.mechanism_drivers.openvswitch.ovsdb_state import BridgeRow, InterfaceRow, PortRow, Snapshot

CONFIG = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan",),
                                bridge_mappings={"physnet1": "br-eth2"})
NET = "aaaaaaaa-0000-0000-0000-000000000001"
COOKIES = {bridge: flows.agent_cookie("host1", bridge) for bridge in ("br-int", "br-tun", "br-eth2")}


def port(device, name, network_type="vxlan", segmentation_id=39, physical_network=None):
    return desired.LocalPort(name, device, {
        "device": device, "port_id": device, "network_id": NET, "network_type": network_type,
        "physical_network": physical_network, "segmentation_id": segmentation_id, "mtu": 1450,
        "mac_address": "fa:16:3e:00:00:01", "admin_state_up": True, "device_owner": "compute:nova",
        "fixed_ips": [{"ip_address": "10.0.0.5"}]})


def want(**kwargs):
    return desired.build(CONFIG, [port("p1", "tapp1")], tunnel_endpoints={"vxlan": ["10.20.0.100"]}, **kwargs)


def snapshot_of(state, extra_ports=()):
    """The snapshot of a switch that already holds ``state`` (plus ``extra_ports``: (bridge, name, type, options))."""
    bridges, ports, ifaces = {}, {}, {}

    def add(bridge, name, kind="", options=None, tag=None, other_config=None, external_ids=None):
        ports[name] = PortRow(name, bridge, tag, dict(other_config or {}), (name,))
        ifaces[name] = InterfaceRow(name, kind, dict(options or {}), dict(external_ids or {}), 1)

    for name in state.bridges:
        add(name, name, "internal")
    for spec in state.ports.values():
        add(spec.bridge, spec.name, spec.type, spec.options_dict)
    for spec in state.vm_ports.values():
        add(CONFIG.integration_bridge, spec.name, "internal", tag=spec.tag,
            other_config=dict(spec.other_config, extra="kept"), external_ids={"iface-id": spec.device})
    for bridge, name, kind, options in extra_ports:
        add(bridge, name, kind, options)
    for name, spec in state.bridges.items():
        bridges[name] = BridgeRow(name, spec.datapath_type, spec.fail_mode, tuple(sorted(spec.protocols)),
                                  tuple(sorted(p.name for p in ports.values() if p.bridge == name)))
    return Snapshot(bridges, ports, ifaces)


def dumps_of(state):
    """Dump lines of a switch holding ``state``'s flows, installed with the agent's cookies."""
    return {bridge: [dump_line(f, COOKIES[bridge]) for f in table] for bridge, table in state.flows.items()}


def dump_line(flow, cookie):
    # As dump-flows prints it: cookie and counters first, port names unquoted.
    return " cookie=%#x, duration=12.5s, table=%d, n_packets=3, n_bytes=180, %s" % (
        cookie, flow.table, flow.render().split(", ", 1)[1].replace('"', ""))


def test_a_host_that_matches_needs_nothing():
    state = want()
    result = planner.plan(CONFIG, state, snapshot_of(state), dumps_of(state), COOKIES)
    assert result.empty, result.summary()


def test_an_empty_switch_gets_everything_in_one_plan():
    state = want()
    result = planner.plan(CONFIG, state, Snapshot({}, {}, {}), {}, COOKIES)
    kinds = [type(op).__name__ for op in result.ovsdb_ops]
    assert kinds == ["AddBridge"] * 3 + ["AddPort"] * 5
    assert {op.name for op in result.ovsdb_ops if isinstance(op, planner.AddPort)} == {
        "patch-tun", "patch-int", "int-br-eth2", "phy-br-eth2", "vxlan-0a140064"}
    assert sorted(result.flow_bridges) == ["br-eth2", "br-int", "br-tun"]


def test_bridge_settings_are_corrected():
    state = want()
    snap = snapshot_of(state)
    row = snap.bridges["br-int"]
    snap.bridges["br-int"] = BridgeRow(row.name, "netdev", "", ("OpenFlow10",), row.ports)
    result = planner.plan(CONFIG, state, snap, dumps_of(state), COOKIES)
    assert list(result.ovsdb_ops) == [planner.SetBridge("br-int", (
        ("datapath_type", "system"), ("fail_mode", "secure"),
        ("protocols", ("OpenFlow10", "OpenFlow13", "OpenFlow14"))))]
    assert not result.flows


def test_tunnel_options_are_corrected_and_foreign_options_kept():
    state = want()
    snap = snapshot_of(state)
    iface = snap.interfaces["vxlan-0a140064"]
    snap.interfaces["vxlan-0a140064"] = InterfaceRow(
        iface.name, "vxlan", dict(iface.options, local_ip="10.9.9.9", egress_pkt_mark="7"), {}, 3)
    (op,) = planner.plan(CONFIG, state, snap, dumps_of(state), COOKIES).ovsdb_ops
    assert isinstance(op, planner.SetInterface)
    assert dict(op.options)["local_ip"] == "10.20.0.102"
    assert dict(op.options)["egress_pkt_mark"] == "7"


def test_stale_agent_ports_go_and_foreign_ports_stay():
    state = want()
    extra = [("br-tun", "vxlan-0a140065", "vxlan", {"remote_ip": "10.20.0.101"}),
             ("br-tun", "gre-0a140065", "gre", {"remote_ip": "10.20.0.101"}),
             ("br-int", "int-br-old", "patch", {"peer": "phy-br-old"}),
             ("br-eth2", "eth2", "", {}),                     # the NIC, added by the administrator
             ("br-eth2", "phy-br-gone", "patch", {"peer": "x"}),
             ("br-int", "qr-0123456789", "internal", {})]    # someone else's port
    result = planner.plan(CONFIG, state, snapshot_of(state, extra), dumps_of(state), COOKIES)
    assert sorted((op.bridge, op.name) for op in result.ovsdb_ops) == [
        ("br-eth2", "phy-br-gone"), ("br-int", "int-br-old"),
        ("br-tun", "gre-0a140065"), ("br-tun", "vxlan-0a140065")]
    assert all(isinstance(op, planner.DelPort) for op in result.ovsdb_ops)


def test_port_on_the_wrong_bridge_moves():
    state = want()
    snap = snapshot_of(state)
    row = snap.ports["patch-tun"]
    snap.ports["patch-tun"] = PortRow(row.name, "br-eth2", None, {}, row.interfaces)
    ops = planner.plan(CONFIG, state, snap, dumps_of(state), COOKIES).ovsdb_ops
    assert list(ops) == [planner.DelPort("br-eth2", "patch-tun"),
                   planner.AddPort("br-int", "patch-tun", "patch", (("peer", "patch-int"),))]


def test_instance_port_tag_is_set_and_other_keys_kept():
    state = want()
    snap = snapshot_of(state)
    row = snap.ports["tapp1"]
    snap.ports["tapp1"] = PortRow(row.name, row.bridge, None, {"extra": "kept"}, row.interfaces)
    (op,) = planner.plan(CONFIG, state, snap, dumps_of(state), COOKIES).ovsdb_ops
    assert op == planner.SetPort("tapp1", 1, tuple(sorted({
        "extra": "kept", "net_uuid": NET, "network_type": "vxlan", "segmentation_id": "39",
        "tag": "1"}.items())))


def _mods(result, bridge):
    return [(m.verb, m.flow) for op in result.flows if op.bridge == bridge for m in op.mods]


def test_only_the_difference_is_programmed():
    state = want()
    dumps = dumps_of(state)
    dumps["br-tun"] = dumps["br-tun"][:-1]
    result = planner.plan(CONFIG, state, snapshot_of(state), dumps, COOKIES)
    assert result.flow_bridges == ("br-tun",)
    assert _mods(result, "br-tun") == [("add", "cookie=%#x, %s" % (COOKIES["br-tun"], state.flows["br-tun"][-1]))]


def test_a_bridge_that_could_not_be_dumped_gets_its_own_flows_replaced():
    state = want()
    dumps = dumps_of(state)
    del dumps["br-eth2"]  # the dump failed: what holds the cookie goes, the wanted flows come
    result = planner.plan(CONFIG, state, snapshot_of(state), dumps, COOKIES)
    mods = _mods(result, "br-eth2")
    assert mods[0] == ("delete", "cookie=%#x/-1" % COOKIES["br-eth2"])
    assert [verb for verb, _ in mods[1:]] == ["add"] * len(state.flows["br-eth2"])


def test_stale_flows_of_the_agent_go_changed_ones_are_modified_others_stay():
    state = want()
    cookie = COOKIES["br-int"]
    dumps = dumps_of(state)
    disabled = next(f for f in state.flows["br-int"] if f.table == c.ARP_SPOOF_TABLE and "arp" in f.match)
    changed = next(f for f in state.flows["br-int"] if f.table == c.TRANSIENT_TABLE)
    dumps["br-int"] = [line for line in dumps["br-int"] if "table=%d," % c.TRANSIENT_TABLE not in line]
    dumps["br-int"] += [
        dump_line(flows.Flow(c.TRANSIENT_TABLE, changed.priority, changed.match, "drop"), cookie),
        dump_line(flows.Flow(0, 2, ('in_port="tapgone"',), "drop"), cookie),             # stale: ours
        dump_line(flows.Flow(0, 2, ('in_port="tapother"',), "drop"), 0xBEEF),           # someone else's
        dump_line(flows.Flow(disabled.table, disabled.priority, disabled.match, "drop"), 0xBEEF),
    ]
    dumps["br-tun"] += [" cookie=%#x, duration=3s, table=20, hard_timeout=300, priority=1,"
                        "vlan_tci=0x0001/0x0fff,dl_dst=fa:16:3e:99:99:99 actions=load:0->NXM_OF_VLAN_TCI[],"
                        "output:vxlan-0a140064" % c.LEARNED_FLOW_COOKIE]
    result = planner.plan(CONFIG, state, snapshot_of(state), dumps, COOKIES)
    assert result.flow_bridges == ("br-int",)
    assert _mods(result, "br-int") == [
        ("delete_strict", "cookie=%#x/-1, table=0, priority=2,in_port=tapgone" % cookie),
        ("modify_strict", "cookie=%#x/-1, %s" % (cookie, changed.render())),
    ]
    # A wanted key held by another cookie only: the agent's flow is added (and takes the key).
    del dumps["br-int"][[i for i, line in enumerate(dumps["br-int"]) if "arp_spa=10.0.0.5" in line][0]]
    result = planner.plan(CONFIG, state, snapshot_of(state), dumps, COOKIES)
    assert ("add", "cookie=%#x, %s" % (cookie, disabled)) in _mods(result, "br-int")


def test_flow_mods_render_as_an_add_flows_file():
    op = planner.FlowChanges("br-int", 0x10, (planner.FlowMod("delete_strict", "cookie=0x10/-1, table=0, priority=2"),
                                              planner.FlowMod("add", "cookie=0x10, table=0, priority=1 actions=drop")))
    assert op.text == ("delete_strict cookie=0x10/-1, table=0, priority=2\n"
                       "add cookie=0x10, table=0, priority=1 actions=drop\n")
    assert (op.count("add"), op.count("delete")) == (1, 0)


def test_agent_cookie_is_stable_per_host_and_bridge():
    cookie = flows.agent_cookie("host1", "br-int")
    assert cookie == flows.agent_cookie("host1", "br-int")
    others = {flows.agent_cookie("host2", "br-int"), flows.agent_cookie("host1", "br-tun")}
    assert cookie not in others and len(others) == 2
    for value in [cookie] + list(others):
        assert 0 < value < (1 << 64) - 1 and value != c.LEARNED_FLOW_COOKIE


# -- configuration ---------------------------------------------------------------

def test_bridge_mappings_parse_and_refuse_duplicates():
    assert ovs_config.parse_bridge_mappings(["physnet1:br-eth1", " physnet2 : br-eth2 ", ""]) == {
        "physnet1": "br-eth1", "physnet2": "br-eth2"}
    for bad in (["physnet1"], ["physnet1:br-a", "physnet1:br-b"], ["p1:br-a", "p2:br-a"], [":br"]):
        with pytest.raises(ValueError):
            ovs_config.parse_bridge_mappings(bad)


@pytest.mark.parametrize("kwargs", [
    {"tunnel_types": ("vxlan",)},                                 # no local_ip
    {"tunnel_types": ("stt",), "local_ip": "10.0.0.1"},
    {"tunnel_types": ("vxlan",), "local_ip": "not-an-ip"},
    {"bridge_mappings": {"physnet1": "br-int"}},
    {"integration_bridge": "a-very-long-bridge-name"},
])
def test_agent_config_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        ovs_config.AgentConfig(**kwargs)


def test_agent_config_from_ini_options():
    conf = cfg.ConfigOpts()
    ovs_config.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("local_ip", "10.20.0.102", "ovs")
    conf.set_override("bridge_mappings", ["physnet1:br-eth2"], "ovs")
    conf.set_override("tunnel_types", ["vxlan", "gre"], "agent")
    conf.set_override("l2_population", True, "agent")
    conf.set_override("firewall_driver", "iptables_hybrid", "securitygroup")
    config = ovs_config.AgentConfig.from_conf(conf)
    assert config.integration_bridge == "br-int" and config.tunnel_bridge == "br-tun"
    assert config.int_peer_patch_port == "patch-tun" and config.tun_peer_patch_port == "patch-int"
    assert config.agent_configurations() == {
        "bridge_mappings": {"physnet1": "br-eth2"}, "tunnel_types": ["vxlan", "gre"],
        "tunneling_ip": "10.20.0.102", "l2_population": True, "arp_responder_enabled": False,
        "datapath_type": "system", "ovs_hybrid_plug": True, "integration_bridge": "br-int",
        "vxlan_udp_port": 4789}
