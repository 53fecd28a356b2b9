"""How long the Linux bridge agent takes to wire 200 taps, and that a resync then plans nothing.

One host namespace with a VTEP address and 200 veth "taps" spread over
networks of each kind. Figures are printed (run with -s to see them) and
recorded as test properties; the assertions are about correctness only (all
wired, zero operations on resync), plus a generous ceiling so a pathological
slowdown fails.
"""
import subprocess
import time
import uuid

import pytest

from harness import system
from netweave.core import naming
from netweave.core.agent import loop as agent_loop
from netweave.mechanism_drivers.linuxbridge import agent as agent_mod
from netweave.mechanism_drivers.linuxbridge import capabilities, config, kernel_state
from netweave.mechanism_drivers.linuxbridge import client as client_mod

pytestmark = [pytest.mark.system("ip"), pytest.mark.slow]

TAPS = 200
CEILING_SECONDS = 30


class Server:
    def __init__(self):
        self.ports, self.up, self.down = {}, [], []

    def get_devices_details_list(self, devices):
        return [dict(self.ports.get(device, {"device": device})) for device in devices]

    def update_device_up(self, device):
        self.up.append(device)

    def update_device_down(self, device):
        self.down.append(device)


def ip(*args, input=None):
    subprocess.run([system.find_executable("ip"), *args], check=True, capture_output=True, text=True,
                   input=input, timeout=120)


@pytest.fixture
def host():
    system.require_root()
    name = "nwlbscale-%s" % uuid.uuid4().hex[:6]
    ip("netns", "add", name)
    try:
        ip("-n", name, "link", "add", "ul0", "type", "veth", "peer", "name", "ul1")
        ip("-n", name, "addr", "add", "192.0.2.1/24", "dev", "ul0")
        ip("-n", name, "link", "set", "ul0", "up")
        ip("-n", name, "link", "add", "pv0", "type", "veth", "peer", "name", "pv1")
        yield name
    finally:
        subprocess.run([system.find_executable("ip"), "netns", "del", name], capture_output=True)


def _networks():
    """20 networks: 16 vxlan, 3 local, 1 flat; the 200 taps are dealt out round-robin."""
    nets = [{"id": str(uuid.uuid4()), "network_type": "vxlan", "segmentation_id": 7000 + n, "mtu": 1450,
             "physical_network": None} for n in range(16)]
    nets += [{"id": str(uuid.uuid4()), "network_type": "local", "segmentation_id": None, "mtu": 1500,
              "physical_network": None} for _ in range(3)]
    nets.append({"id": str(uuid.uuid4()), "network_type": "flat", "segmentation_id": None, "mtu": 1500,
                 "physical_network": "physnet1"})
    return nets


def test_wire_200_taps_then_resync_plans_nothing(host, record_property, capsys):
    server = Server()
    nets = _networks()
    batch = []
    for n in range(TAPS):
        port_id = str(uuid.uuid4())
        device = naming.tap_device(port_id)
        net = nets[n % len(nets)]
        batch.append("link add %s type veth peer name pr%d" % (device, n))
        server.ports[device] = {"device": device, "port_id": port_id, "network_id": net["id"],
                                "network_type": net["network_type"], "physical_network": net["physical_network"],
                                "segmentation_id": net["segmentation_id"], "mtu": net["mtu"],
                                "mac_address": "fa:16:3e:00:%02x:%02x" % divmod(n, 256),
                                "admin_state_up": True, "device_owner": "network:dhcp"}
    ip("-n", host, "-batch", "-", input="\n".join(batch) + "\n")

    settings = config.make_settings(interface_mappings={"physnet1": "pv0"}, local_ip="192.0.2.1",
                                    l2_population=True, arp_responder=True)
    agent = agent_mod.LinuxbridgeAgent(settings, capabilities.ALL, netns=host)
    try:
        # The loop's pass, step by step (the details are at hand: no server round trip).
        started = time.perf_counter()
        actual = agent.scan_devices()
        scanned = time.perf_counter()
        plan = agent.plan(agent_loop.DesiredState(devices=dict(server.ports), changed=set(server.ports),
                                                  removed=set(), full=True), actual)
        planned = time.perf_counter()
        outcome = agent.apply(plan)
        applied = time.perf_counter()
        assert agent.last_pass.ok, agent.last_pass.applied.failed
        assert not agent.last_pass.errors
        assert len(outcome.devices_up) == TAPS and not outcome.failed

        state = kernel_state.read(agent.reader)
        for device, details in server.ports.items():
            link = state.link(device)
            assert link.master == naming.network_bridge(details["network_id"]) and link.up
            assert link.mtu == details["mtu"]

        # A full resync through the loop: every device's details fetched again, nothing to change.
        loop = client_mod.make_loop(agent, server, "scale-host")
        resync_started = time.perf_counter()
        assert loop.run_once()
        resync_done = time.perf_counter()
        resync_plan = agent.last_plan
        assert len(resync_plan.operations) == 0
        assert agent.last_pass.applied.done == [] and agent.last_pass.applied.failed == []
        assert len(server.up) == TAPS      # the resync reports every port up again, as Neutron's does
    finally:
        agent.close()

    figures = {
        "operations": len(plan.operations),
        "scan_s": scanned - started,
        "plan_s": planned - scanned,
        "apply_s": applied - planned,
        "wire_total_s": applied - started,
        "resync_total_s": resync_done - resync_started,
        "resync_operations": len(resync_plan.operations),
    }
    for key, value in figures.items():
        record_property(key, value)
    with capsys.disabled():
        print("\n%d taps over %d networks: %d operations; scan %.3fs, plan %.3fs, apply %.3fs, total %.3fs; "
              "full resync of the wired host through the loop: %d operations in %.3fs"
              % (TAPS, len(nets), figures["operations"], figures["scan_s"], figures["plan_s"],
                 figures["apply_s"], figures["wire_total_s"], figures["resync_operations"],
                 figures["resync_total_s"]))
    assert figures["wire_total_s"] < CEILING_SECONDS
