"""The Open vSwitch agent's bookkeeping: l2population entries, reports, RPC adapters (no switch)."""
from netweave.mechanism_drivers.openvswitch import agent as agent_mod
from netweave.mechanism_drivers.openvswitch import client as client_mod
from netweave.mechanism_drivers.openvswitch import config as ovs_config
from netweave.mechanism_drivers.openvswitch import desired
from netweave.mechanism_drivers.openvswitch import rpc as ovs_rpc

CONFIG = ovs_config.AgentConfig(local_ip="10.20.0.102", tunnel_types=("vxlan",), l2_population=True)
FLOOD = ["00:00:00:00:00:00", "0.0.0.0"]


def make_agent(client=None):
    # Any object stands in for the ovsdbapp API as long as no pass runs.
    return agent_mod.OVSAgent(CONFIG, client or client_mod.InMemoryPluginClient(), api=object(), host="compute02")


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
    agent.tunnel_update("10.20.0.102", "vxlan")
    agent.tunnel_update("10.20.0.103", "gre")
    agent.tunnel_update("10.20.0.100", "vxlan")
    assert agent.tunnel_endpoints == {"vxlan": {"10.20.0.100"}}
    agent.tunnel_delete("10.20.0.100", "vxlan")
    assert agent.tunnel_endpoints == {"vxlan": set()}


def _want(*specs):
    return desired.DesiredState(bridges={}, ports={}, local_vlans={}, flows={}, networks={},
                                vm_ports={s.name: s for s in specs})


def test_reports_go_once_and_in_one_batch_when_the_client_can():
    class Batching(client_mod.InMemoryPluginClient):
        def update_device_list(self, devices_up, devices_down):
            self.calls.append(("update_device_list", (tuple(devices_up), tuple(devices_down))))
            return {"p3"}  # its report failed: try again next pass

    client = Batching()
    agent = make_agent(client)
    want = _want(desired.VmPortSpec("tap1", "p1", 1, (), "n", "up"),
                 desired.VmPortSpec("tap2", "p2", 4095, (), "n", "down"),
                 desired.VmPortSpec("tap3", "p3", 1, (), "n", "up"),
                 desired.VmPortSpec("tap4", "p4", 4095, (), None, "dead"))
    devices = {"p1": "tap1", "p2": "tap2", "p3": "tap3", "p4": "tap4"}
    assert agent._report(want, devices) == (["p1"], ["p2"])
    assert client.calls == [("update_device_list", (("p1", "p3"), ("p2",)))]
    assert agent._report(want, devices) == ([], [])
    assert client.calls[-1] == ("update_device_list", (("p3",), ()))
    # p1 unplugged: reported down, then forgotten.
    del devices["p1"]
    assert agent._report(_want(*[s for s in want.vm_ports.values() if s.device != "p1"]), devices) == (
        [], ["p1"])
    assert "p1" not in agent.reported


def test_reports_one_by_one_with_a_plain_client():
    client = client_mod.InMemoryPluginClient()
    agent = make_agent(client)
    agent._report(_want(desired.VmPortSpec("tap1", "p1", 1, (), "n", "up")), {"p1": "tap1"})
    assert client.calls == [("update_device_up", "p1")] and client.status == {"p1": "ACTIVE"}


def test_state_report_names_the_agent_and_its_configuration():
    state = make_agent().state_report()
    assert (state["agent_type"], state["binary"], state["host"]) == (
        "Open vSwitch agent", "netweave-openvswitch-agent", "compute02")
    assert state["configurations"]["tunneling_ip"] == "10.20.0.102"
    assert state["configurations"]["l2_population"] is True


def test_rpc_client_fills_in_context_agent_and_host():
    calls = []

    class Api:
        def __getattr__(self, name):
            def call(*args, **kwargs):
                calls.append((name, args, kwargs))
                return {"failed_devices_up": ["b"]} if name == "update_device_list" else []
            return call

    client = ovs_rpc.RpcPluginClient(Api(), "ctx", ovs_rpc.agent_id("compute02"), "compute02")
    assert isinstance(client, client_mod.PluginClient)
    client.get_devices_details_list(["a"])
    client.update_device_up("a")
    client.update_device_down("a")
    assert client.update_device_list(["a", "b"], []) == {"b"}
    client.tunnel_sync("10.20.0.102", "vxlan")
    assert calls == [
        ("get_devices_details_list", ("ctx", ["a"], "ovs-agent-compute02", "compute02"), {}),
        ("update_device_up", ("ctx", "a", "ovs-agent-compute02", "compute02"), {}),
        ("update_device_down", ("ctx", "a", "ovs-agent-compute02", "compute02"), {}),
        ("update_device_list", ("ctx", ["a", "b"], [], "ovs-agent-compute02", "compute02"), {}),
        ("tunnel_sync", ("ctx", "10.20.0.102", "vxlan", "compute02"), {}),
    ]


def test_notifications_reach_the_agent():
    agent = make_agent()
    endpoint = ovs_rpc.OVSNotifications(agent)
    agent.details["p1"] = {"device": "p1", "network_id": "net"}
    endpoint.port_update(None, port={"id": "p9"}, network_type="vxlan", segmentation_id=1)
    endpoint.network_update(None, network={"id": "net"})
    endpoint.tunnel_update(None, tunnel_ip="10.20.0.100", tunnel_type="vxlan")
    endpoint.add_fdb_entries(None, fdb_entries={"net": {"ports": {"10.20.0.100": [FLOOD]}}})
    endpoint.add_fdb_entries(None, fdb_entries={"other": {"ports": {"10.20.0.100": [FLOOD]}}}, host="elsewhere")
    assert agent._updated == {"p9", "p1"}
    assert agent.tunnel_endpoints == {"vxlan": {"10.20.0.100"}}
    assert list(agent.fdb) == ["net"]
    endpoint.remove_fdb_entries(None, fdb_entries={"net": {"ports": {"10.20.0.100": [FLOOD]}}})
    endpoint.network_delete(None, network_id="net")
    endpoint.port_delete(None, port_id="p1")
    assert agent.fdb == {} and "p1" not in agent.details
