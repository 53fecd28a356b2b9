"""l2population entries read back from a tunnel bridge after a restart (pure functions, no switch)."""
import time

from netweave.mechanism_drivers.openvswitch import agent as agent_mod
from netweave.mechanism_drivers.openvswitch import client as client_mod
from netweave.mechanism_drivers.openvswitch import config as ovs_config
from netweave.mechanism_drivers.openvswitch import constants as c
from netweave.mechanism_drivers.openvswitch import desired, recovery

FLOOD = [c.FLOODING_MAC, c.FLOODING_IP]
CONFIG = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan", "gre"), l2_population=True,
                                arp_responder=True)


def details(port_id, network_id, network_type, seg, mac, ip):
    return {"device": port_id, "port_id": port_id, "network_id": network_id, "network_type": network_type,
            "segmentation_id": seg, "mac_address": mac, "admin_state_up": True, "device_owner": "compute:nova",
            "fixed_ips": [{"ip_address": ip}]}


LOCAL = [desired.LocalPort("tapa", "a", details("a", "red", "vxlan", 39, "fa:16:3e:00:00:0a", "10.0.0.10")),
         desired.LocalPort("tapb", "b", details("b", "blue", "gre", 40, "fa:16:3e:00:00:0b", "10.0.0.10")),
         desired.LocalPort("tapc", "c", details("c", "green", "vxlan", 41, "fa:16:3e:00:00:0c", "10.1.0.1"))]
FDB = {
    "red": {"ports": {"10.20.0.100": [FLOOD, ["fa:16:3e:00:01:01", "10.0.0.11"], ["fa:16:3e:00:01:01", "10.0.0.12"]],
                      "10.20.0.101": [FLOOD, ["fa:16:3e:00:01:02", "10.0.0.13"]]}},
    "blue": {"ports": {"10.20.0.100": [FLOOD, ["fa:16:3e:00:02:01", "10.0.0.11"]]}},
    # A network with no port here: nothing of it is installed, nothing comes back.
    "absent": {"ports": {"10.20.0.100": [FLOOD, ["fa:16:3e:00:03:01", "10.9.0.1"]]}},
}


def _installed(fdb, config=CONFIG):
    want = desired.build(config, LOCAL, {}, fdb, {})
    tun = want.flows[config.tunnel_bridge]
    remotes = {name: spec.options_dict["remote_ip"] for name, spec in want.ports.items()
               if spec.type in c.TUNNEL_TYPES}
    return want, [flow.render() for flow in tun], remotes


def test_entries_come_back_from_the_flows_they_made():
    want, lines, remotes = _installed(FDB)
    recovered = recovery.recover_fdb(lines, remotes, want.local_vlans)
    assert set(recovered) == {"red", "blue"}
    assert sorted(map(tuple, recovered["red"]["ports"]["10.20.0.100"])) == sorted(
        map(tuple, FDB["red"]["ports"]["10.20.0.100"]))
    assert sorted(map(tuple, recovered["blue"]["ports"]["10.20.0.100"])) == sorted(
        map(tuple, FDB["blue"]["ports"]["10.20.0.100"]))
    # Planning with what came back gives the very same tunnel ports and flows.
    again = desired.build(CONFIG, LOCAL, want.local_vlans, recovered, {})
    assert again.ports == want.ports
    assert again.flows == want.flows


def test_without_arp_responder_macs_come_back_without_addresses_and_plan_the_same():
    config = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan", "gre"), l2_population=True)
    want, lines, remotes = _installed(FDB, config)
    recovered = recovery.recover_fdb(lines, remotes, want.local_vlans)
    assert ["fa:16:3e:00:01:02", None] in recovered["red"]["ports"]["10.20.0.101"]
    assert desired.build(config, LOCAL, want.local_vlans, recovered, {}).flows == want.flows


def test_learned_flows_unknown_vlans_and_unknown_ports_are_ignored():
    want, lines, remotes = _installed(FDB)
    learned = ("cookie=%#x, table=20, priority=2,dl_vlan=1,dl_dst=fa:16:3e:99:99:99 "
               "actions=output:\"vxlan-0a140064\"" % c.LEARNED_FLOW_COOKIE)
    foreign_vlan = "table=22, priority=1,dl_vlan=77 actions=strip_vlan,output:\"vxlan-0a140064\""
    foreign_port = "table=22, priority=1,dl_vlan=1 actions=strip_vlan,output:\"vxlan-0a1400ff\""
    recovered = recovery.recover_fdb(lines + [learned, foreign_vlan, foreign_port], remotes, want.local_vlans)
    assert recovered == recovery.recover_fdb(lines, remotes, want.local_vlans)


def test_dump_notation_is_understood():
    line = (" cookie=0x0, duration=12.1s, table=22, n_packets=4, n_bytes=168, idle_age=3, priority=1,dl_vlan=3 "
            "actions=strip_vlan,load:0x27->NXM_NX_TUN_ID[],output:vxlan-0a140064,output:\"vxlan-0a140065\"")
    recovered = recovery.recover_fdb([line], {"vxlan-0a140064": "10.20.0.100", "vxlan-0a140065": "10.20.0.101"},
                                     {"red": 3})
    assert recovered == {"red": {"ports": {"10.20.0.100": [FLOOD], "10.20.0.101": [FLOOD]}}}


def test_merge_is_a_union_without_duplicates():
    merged = recovery.merge({"n": {"ports": {"ip1": [FLOOD]}}},
                            {"n": {"ports": {"ip1": [FLOOD, ["m", "a"]], "ip2": [FLOOD]}}, "o": {"ports": {}}})
    assert merged == {"n": {"ports": {"ip1": [FLOOD, ["m", "a"]], "ip2": [FLOOD]}}, "o": {"ports": {}}}


def test_agent_plans_with_recovered_entries_until_the_grace_ends():
    config = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan",), l2_population=True,
                                    fdb_recovery_grace=0.2)
    agent = agent_mod.OVSAgent(config, client_mod.local_client(client_mod.InMemoryPluginClient(), "compute02"),
                               api=object(), host="compute02")
    agent.recovered_fdb = {"red": {"ports": {"10.20.0.100": [FLOOD]}}}
    server = {"red": {"ports": {"10.20.0.101": [FLOOD]}}}
    # The first pass has not ended yet: the recovered entries count.
    assert set(agent._planning_fdb(server)["red"]["ports"]) == {"10.20.0.100", "10.20.0.101"}
    agent._recovery_ends = time.monotonic() + 0.2
    assert set(agent._planning_fdb(server)["red"]["ports"]) == {"10.20.0.100", "10.20.0.101"}
    # The server withdraws an entry meanwhile: it goes from the recovered ones too.
    agent.fdb_remove({"red": {"ports": {"10.20.0.100": [FLOOD]}}})
    assert agent._planning_fdb(server) == server
    agent.recovered_fdb = {"red": {"ports": {"10.20.0.100": [FLOOD]}}}
    time.sleep(0.25)
    assert agent._planning_fdb(server) == server
    assert agent.recovered_fdb == {}
