"""The Open vSwitch agent on an ovsdb-server/ovs-vswitchd pair that is not the machine's default.

``[ovs] ovsdb_connection`` names the pair's OVSDB socket in a run directory of
its own; every flow operation must reach that pair's ovs-vswitchd too (through
its bridges' management sockets), not whatever ``ovs-ofctl <bridge>`` finds in
the default run directory. Two instances on one network of the private switch
ping each other only when the agent's flows (anti-spoofing, NORMAL) are there.
"""
import uuid

import pytest

from harness import ovs as ovsfx
from harness.ovs import ovs_switch, private_switch  # noqa: F401 - pytest fixtures
from netweave.mechanism_drivers.openvswitch import agent as agent_mod
from netweave.mechanism_drivers.openvswitch import client as client_mod
from netweave.mechanism_drivers.openvswitch import config as ovs_config
from netweave.mechanism_drivers.openvswitch import constants as c
from netweave.mechanism_drivers.openvswitch import ovsdb_state

pytestmark = [pytest.mark.system("ip", "ping", "ovs-vsctl", "ovs-ofctl", "ovs-appctl", "ovsdb-tool"),
              pytest.mark.slow]


def test_agent_on_a_second_switch_wires_ports_and_passes_packets(private_switch):  # noqa: F811
    switch = private_switch
    token = switch.netns[-3:]
    config = ovs_config.AgentConfig(integration_bridge="nwo%s" % token, datapath_type="netdev",
                                    ovsdb_connection=switch.db_connection)
    assert config.of_rundir == switch.rundir
    server = client_mod.InMemoryPluginClient()
    api = ovsdb_state.connect(switch.db_connection)
    agent = agent_mod.OVSAgent(config, client_mod.local_client(server, "other"), api=api, host="other")
    loop = client_mod.make_loop(agent, server, "other")
    namespaces = []
    try:
        assert loop.run_once(full=True), "the first pass failed (see the log)"
        # The bridge exists on the private switch only, with the agent's flows.
        assert config.integration_bridge in switch.vsctl("list-br").split()
        assert config.integration_bridge not in ovsfx.vsctl("list-br").split()
        assert any("table=%d," % c.TRANSIENT_TABLE in line for line in switch.flows_of(config.integration_bridge))

        net_id, instances = str(uuid.uuid4()), []
        for i in (1, 2):
            port_id = str(uuid.uuid4())
            mac, address = "fa:16:3e:7a:00:%02x" % i, "10.81.0.%d" % i
            server.set_port({"device": port_id, "port_id": port_id, "network_id": net_id,
                             "network_type": "local", "physical_network": None, "segmentation_id": None,
                             "mtu": 1500, "mac_address": mac, "admin_state_up": True,
                             "device_owner": "compute:nova", "fixed_ips": [{"ip_address": address}]})
            namespace = "nwo-%s-%d" % (token, i)
            ovsfx.ip("netns", "add", namespace)
            namespaces.append(namespace)
            device = switch.plug_instance(config.integration_bridge, port_id, mac, address + "/24", namespace)
            instances.append((namespace, device, address))
        assert loop.run_once(full=False), "the pass failed (see the log)"
        result = agent.last_result
        assert len(result.reported_up) == 2 and result.flow_bridges == (config.integration_bridge,), result
        flows = switch.flows_of(config.integration_bridge)
        for _namespace, device, address in instances:
            assert any(device in line and "arp_spa=%s" % address in line for line in flows), flows
        assert ovsfx.wait_ping(instances[0][0], instances[1][2]), "no ping across the private switch"
        # Nothing to change: a full pass dumps the flows through the same sockets and writes nothing.
        assert loop.run_once(full=True)
        assert (agent.last_result.ovsdb_ops, agent.last_result.flow_mods) == (0, 0), agent.last_result
    finally:
        agent.close()
        ovsdb_state.disconnect(api)
        for namespace in namespaces:
            ovsfx.ip("netns", "del", namespace, check=False)
