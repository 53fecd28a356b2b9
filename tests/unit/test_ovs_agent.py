"""The Open vSwitch agent's bookkeeping: l2population entries, reports, RPC adapters (no switch)."""
from netweave.core.agent import plugin_client
from netweave.mechanism_drivers.openvswitch import agent as agent_mod
from netweave.mechanism_drivers.openvswitch import client as client_mod
from netweave.mechanism_drivers.openvswitch import config as ovs_config
from netweave.mechanism_drivers.openvswitch import desired, planner
from netweave.mechanism_drivers.openvswitch import rpc as ovs_rpc

CONFIG = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan",), l2_population=True)
FLOOD = ["00:00:00:00:00:00", "0.0.0.0"]


def make_agent(client=None):
    # Any object stands in for the ovsdbapp API as long as no pass runs.
    server = client or client_mod.InMemoryPluginClient()
    return agent_mod.OVSAgent(CONFIG, client_mod.local_client(server, "compute02"), api=object(), host="compute02")


def test_fdb_entries_add_and_remove():
    agent = make_agent()
    agent.fdb_add({"net": {"network_type": "vxlan", "segment_id": 39, "ports": {
        "10.20.0.100": [FLOOD, ["fa:16:3e:f1:b0:49", "172.18.90.2"]]}}})
    agent.fdb_add({"net": {"ports": {"10.20.0.100": [["fa:16:3e:f1:b0:49", "172.18.90.2"]],
                                     "10.20.0.101": [FLOOD]}}})
    assert agent.fdb == {"net": {"network_type": "vxlan", "segment_id": 39, "ports": {
        "10.20.0.100": [FLOOD, ["fa:16:3e:f1:b0:49", "172.18.90.2"]], "10.20.0.101": [FLOOD]}}}
    agent.fdb_remove({"net": {"ports": {"10.20.0.101": [FLOOD]}}})
    assert list(agent.fdb["net"]["ports"]) == ["10.20.0.100"]
    agent.fdb_update({"chg_ip": {"net": {"10.20.0.100": {
        "before": [["fa:16:3e:f1:b0:49", "172.18.90.2"]], "after": [["fa:16:3e:f1:b0:49", "172.18.90.3"]]}}}})
    assert agent.fdb["net"]["ports"]["10.20.0.100"] == [FLOOD, ["fa:16:3e:f1:b0:49", "172.18.90.3"]]
    agent.fdb_remove({"net": {"ports": {"10.20.0.100": [FLOOD, ["fa:16:3e:f1:b0:49", "172.18.90.3"]]}}})
    assert agent.fdb == {}


def test_tunnel_updates_skip_our_own_endpoint_and_unknown_types():
    agent = make_agent()
    assert agent.tunnel_update("10.20.0.102", "vxlan") is False
    assert agent.tunnel_update("10.20.0.103", "gre") is False
    assert agent.tunnel_update("10.20.0.100", "vxlan") is True
    assert agent.tunnel_update("10.20.0.100", "vxlan") is False   # known already: nothing to wake for
    assert agent.tunnel_endpoints == {"vxlan": {"10.20.0.100"}}
    agent.tunnel_delete("10.20.0.100", "vxlan")
    assert agent.tunnel_endpoints == {"vxlan": set()}


def _plan(specs, devices, changed=(), removed=()):
    want = desired.DesiredState(bridges={}, ports={}, local_vlans={}, flows={}, networks={},
                                vm_ports={s.name: s for s in specs})
    return agent_mod.AgentPlan(full=False, devices=devices, desired=want, operations=planner.Plan(),
                               canonical_flows={}, changed=frozenset(changed), removed=frozenset(removed),
                               flow_dumps=0, started=0.0, planned=0.0, seconds={})


def test_outcome_reports_changes_once_and_every_port_just_asked_about():
    agent = make_agent()
    specs = [desired.VmPortSpec("tap1", "p1", 1, (), "n", "up"),
             desired.VmPortSpec("tap2", "p2", 4095, (), "n", "down"),
             desired.VmPortSpec("tap4", "p4", 4095, (), None, "dead")]
    devices = {"p1": "tap1", "p2": "tap2", "p4": "tap4"}
    outcome, went_down = agent._outcome(_plan(specs, devices))
    assert (outcome.devices_up, outcome.devices_down, went_down) == (["p1"], ["p2"], [])
    outcome, _ = agent._outcome(_plan(specs, devices))
    assert (outcome.devices_up, outcome.devices_down) == ([], [])
    # Asking the server about p1 again made it BUILD there: it is confirmed up again.
    outcome, _ = agent._outcome(_plan(specs, devices, changed={"p1"}))
    assert outcome.devices_up == ["p1"]
    # p1 unplugged: it went down (the loop reports it), and is forgotten.
    del devices["p1"]
    outcome, went_down = agent._outcome(_plan(specs[1:], devices, removed={"p1"}))
    assert went_down == ["p1"] and "p1" not in agent.reported
    assert agent.state_report()["configurations"]["devices"] == 0


def test_state_report_names_the_agent_and_its_configuration():
    state = make_agent().state_report()
    assert (state["agent_type"], state["binary"], state["host"]) == (
        "Open vSwitch agent", "netweave-openvswitch-agent", "compute02")
    assert state["configurations"]["tunneling_ip"] == "10.20.0.102"
    assert state["configurations"]["l2_population"] is True


def test_plugin_client_fills_in_context_agent_and_host():
    calls = []

    class Api:
        def __getattr__(self, name):
            def call(*args, **kwargs):
                calls.append((name, args, kwargs))
                if name == "update_device_list":
                    return {"failed_devices_up": ["b"]}
                if name == "tunnel_sync":
                    return {"tunnels": [{"ip_address": "10.20.0.102"}, {"ip_address": "10.20.0.100"}]}
                return {"devices": [{"device": "a", "port_id": "a"}], "failed_devices": []}
            return call

    client = plugin_client.PluginClient(Api(), "ctx", ovs_rpc.agent_id("compute02"), "compute02")
    assert client.get_devices_details(["a"]) == ({"a": {"device": "a", "port_id": "a"}}, [])
    assert client.update_device_list(["a", "b"], []) == {"b"}
    assert client.tunnel_sync("10.20.0.102", "vxlan") == {"10.20.0.100"}
    assert calls == [
        ("get_devices_details_list_and_failed_devices", ("ctx", ["a"], "ovs-agent-compute02", "compute02"), {}),
        ("update_device_list", ("ctx", ["a", "b"], [], "ovs-agent-compute02", "compute02"), {}),
        ("tunnel_sync", ("ctx", "10.20.0.102", "vxlan", "compute02"), {}),
    ]


def test_notifications_reach_the_agent_and_the_loop():
    server = client_mod.InMemoryPluginClient()
    agent = make_agent(server)
    loop = client_mod.make_loop(agent, server, "compute02")
    loop.desired = {"p1": {"device": "p1", "port_id": "p1", "network_id": "net"}}
    endpoint = ovs_rpc.OVSNotifications(agent, loop)
    endpoint.port_update(None, port={"id": "p9"}, network_type="vxlan", segmentation_id=1)
    endpoint.network_update(None, network={"id": "net"})
    endpoint.tunnel_update(None, tunnel_ip="10.20.0.100", tunnel_type="vxlan")
    endpoint.add_fdb_entries(None, fdb_entries={"net": {"ports": {"10.20.0.100": [FLOOD]}}})
    endpoint.add_fdb_entries(None, fdb_entries={"other": {"ports": {"10.20.0.100": [FLOOD]}}}, host="elsewhere")
    assert loop.dirty_devices() == {"p9", "p1"}
    assert agent.tunnel_endpoints == {"vxlan": {"10.20.0.100"}}
    assert list(agent.fdb) == ["net"]
    endpoint.remove_fdb_entries(None, fdb_entries={"net": {"ports": {"10.20.0.100": [FLOOD]}}})
    endpoint.network_delete(None, network_id="net")
    endpoint.port_delete(None, port_id="p7")
    assert agent.fdb == {} and loop.dirty_devices() == {"p9", "p1", "p7"}
