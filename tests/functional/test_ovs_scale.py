"""How long the Open vSwitch agent takes to wire 200 ports, and to resync them unchanged.

One host (netdev datapath), 200 instance ports plugged by the "hypervisor" in
one ovs-vsctl call: 12 VXLAN networks of 10 ports, 6 VLAN networks of 10, one
flat and one local network of 10, and one remote tunnel endpoint. Figures are
printed (pytest -s) and attached to the report as user properties.
"""
import time
import uuid

import pytest

from harness import ovs as ovsfx
from harness.ovs import ovs_sandbox, ovs_switch  # noqa: F401 - pytest fixtures
from netweave.mechanism_drivers.openvswitch import agent as agent_mod
from netweave.mechanism_drivers.openvswitch import client as client_mod
from netweave.mechanism_drivers.openvswitch import config as ovs_config
from netweave.mechanism_drivers.openvswitch import ovsdb_state

pytestmark = [pytest.mark.system("ovs-vsctl", "ovs-ofctl"), pytest.mark.slow]

PORTS = 200


def _networks():
    nets = [("vxlan", None, 6000 + i) for i in range(12)]
    nets += [("vlan", "physnet1", 600 + i) for i in range(6)]
    nets += [("flat", "physnet1", None), ("local", None, None)]
    return [(str(uuid.uuid4()), kind, physnet, seg) for kind, physnet, seg in nets]


def test_wire_200_ports_then_resync_unchanged(ovs_sandbox, ovs_switch, record_property):  # noqa: F811
    sandbox = ovs_sandbox
    int_br = sandbox.track_bridge(sandbox.name("nwi", "s"))
    tun_br = sandbox.track_bridge(sandbox.name("nwt", "s"))
    phys_br = sandbox.add_bridge(sandbox.name("nwp", "s"))
    config = ovs_config.AgentConfig(
        integration_bridge=int_br, tunnel_bridge=tun_br, int_peer_patch_port=sandbox.name("pti", "s"),
        tun_peer_patch_port=sandbox.name("ptt", "s"), local_ip="198.18.250.1",
        bridge_mappings={"physnet1": phys_br}, datapath_type="netdev", tunnel_types=("vxlan",))
    server = client_mod.InMemoryPluginClient()
    server.tunnel_sync("198.18.250.2", "vxlan", host="other")
    api = ovsdb_state.connect(ovsfx.DB_CONNECTION)
    agent = agent_mod.OVSAgent(config, client_mod.local_client(server, "scale"), api=api, host="scale")
    loop = client_mod.make_loop(agent, server, "scale")

    def sync(full=False):
        assert loop.run_once(full=full), "the pass failed (see the log)"
        return agent.last_result

    try:
        sync()  # the agent starts: bridges and patch ports, no instances yet

        args = []
        for i, (net_id, kind, physnet, seg) in enumerate(n for n in _networks() for _ in range(10)):
            port_id = str(uuid.uuid4())
            mac = "fa:16:3e:%02x:%02x:%02x" % (0x10, i // 256, i % 256)
            server.set_port({"device": port_id, "port_id": port_id, "network_id": net_id,
                             "network_type": kind, "physical_network": physnet, "segmentation_id": seg,
                             "mtu": 1450, "mac_address": mac, "admin_state_up": True,
                             "device_owner": "compute:nova",
                             "fixed_ips": [{"ip_address": "10.%d.%d.%d" % (80 + i // 10, 0, 10 + i % 10)}]})
            device = ("tap" + port_id)[:14]
            args += ["--", "add-port", int_br, device, "--", "set", "interface", device, "type=internal",
                     "external_ids:iface-id=%s" % port_id, "external_ids:attached-mac=%s" % mac,
                     "external_ids:iface-status=active"]
        started = time.monotonic()
        ovsfx.vsctl(*args, timeout=300)
        plug_seconds = time.monotonic() - started
        # The agent sees the switch through its OVSDB client, whose copy follows the
        # server's a moment later (on a loaded machine, after the pass has looked): wait
        # for it to hold every port ovs-vswitchd opened, so the pass below wires them all.
        deadline = time.monotonic() + 60
        while len(agent.scan_devices()) < PORTS and time.monotonic() < deadline:
            time.sleep(0.1)

        wire = sync()
        assert wire.devices == PORTS and len(wire.reported_up) == PORTS
        assert wire.ovsdb_transactions == 1 and wire.ovsdb_ops == PORTS
        assert sorted(wire.flow_bridges) == sorted([int_br, tun_br, phys_br])
        flow_counts = {b: len(ovsfx.flows_of(b)) for b in (int_br, tun_br, phys_br)}

        before_cfg = ovs_switch.next_cfg()
        resync = sync(full=True)
        assert (resync.ovsdb_ops, resync.flow_bridges) == (0, ())
        assert len(resync.reported_up) == PORTS  # details asked again: confirmed up again
        assert resync.flow_dumps == 3
        quick = sync()
        assert (quick.ovsdb_ops, quick.flow_bridges, quick.flow_dumps) == (0, (), 0)
        assert ovs_switch.next_cfg() == before_cfg

        figures = {
            "hypervisor_plug_200_ports_s": round(plug_seconds, 3),
            "wire_200_ports_s": round(wire.seconds["total"], 3),
            "wire_breakdown_s": {k: round(v, 3) for k, v in wire.seconds.items()},
            "unchanged_full_resync_s": round(resync.seconds["total"], 3),
            "unchanged_full_resync_breakdown_s": {k: round(v, 3) for k, v in resync.seconds.items()},
            "unchanged_quick_pass_s": round(quick.seconds["total"], 3),
            "unchanged_quick_pass_breakdown_s": {k: round(v, 3) for k, v in quick.seconds.items()},
            "flows": flow_counts,
        }
        for key, value in figures.items():
            record_property(key, value)
        print("\nOVS agent, %d ports: %s" % (PORTS, figures))
        assert wire.seconds["total"] < 120 and resync.seconds["total"] < 60
    finally:
        agent.close()
        ovsdb_state.disconnect(api)
