"""Agent extensions (``[agent] extensions``) are called by both L2 agents, on real devices.

tests/thirdparty/netweave_recorder_extension is an extension shipped as a
distribution of its own (entry point ``recorder`` in netweave.agent.extensions)
that writes every call it gets to a file. It is put on the agent processes'
path as a distribution, a dist-info folder holding its entry points, without
installing anything. Each agent runs as its console script does
(--standalone-ports: the port details come from a file), wires a real port
(a tap in a host namespace; an internal port on an Open vSwitch bridge) and
must tell the extension with the port's details, then tell it again when the
port's device goes.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from harness import multihost, system
from harness import ovs as ovsfx
from harness.ovs import ovs_sandbox, ovs_switch  # noqa: F401 - pytest fixtures
from netweave.core import naming

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(os.path.dirname(HERE), "thirdparty", "netweave_recorder_extension")
LOG_ENV = "NETWEAVE_RECORDER_EXTENSION_LOG"
ENTRY_POINTS = "[netweave.agent.extensions]\nrecorder = netweave_recorder_extension.extension:RecorderExtension\n"


@pytest.fixture
def extension_path(tmp_path):
    """A folder holding the recorder's package and its dist-info: put on PYTHONPATH, it is a distribution."""
    site = tmp_path / "site"
    shutil.copytree(os.path.join(SOURCE, "netweave_recorder_extension"), site / "netweave_recorder_extension",
                    ignore=shutil.ignore_patterns("__pycache__"))
    info = site / "netweave_recorder_extension-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: netweave-recorder-extension\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return str(site)


class Agent:
    """An agent console script run as a process; ``stop`` ends it with SIGTERM."""

    def __init__(self, tmp_path, module, ini_text, ports, extension_path):
        self.calls_path = tmp_path / "calls.jsonl"
        self.log_path = tmp_path / "agent.log"
        ini = tmp_path / "agent.ini"
        ini.write_text(ini_text)
        ports_file = tmp_path / "ports.json"
        ports_file.write_text(json.dumps(ports))
        self.argv = [sys.executable, "-m", module, "--config-file", str(ini), "--standalone-ports", str(ports_file)]
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [extension_path] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
            **{LOG_ENV: str(self.calls_path)})
        self.process = None

    def start(self, *extra):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.argv + list(extra), env=self.env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT)
        return self

    def calls(self):
        if not self.calls_path.exists():
            return []
        return [json.loads(line) for line in self.calls_path.read_text().splitlines() if line.strip()]

    def wait_for_call(self, call, port_id, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.calls() if c["call"] == call and c["details"].get("port_id") == port_id]
            if found:
                return found[0]
            assert self.process is None or self.process.poll() is None, "agent exited:\n" + self.log()
            time.sleep(0.1)
        raise AssertionError("no %s for %s within %ss; calls: %s\n%s" % (call, port_id, timeout, self.calls(),
                                                                        self.log()))

    def log(self):
        return self.log_path.read_text()[-4000:] if self.log_path.exists() else ""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return self.process.returncode if self.process else None


def details(device, port_id, network_id, mac, owner="compute:nova"):
    return {"device": device, "port_id": port_id, "network_id": network_id, "network_type": "local",
            "physical_network": None, "segmentation_id": None, "mtu": 1500, "mac_address": mac,
            "admin_state_up": True, "device_owner": owner,
            "fixed_ips": [{"subnet_id": "subnet-1", "ip_address": "10.91.0.5"}]}


def test_linuxbridge_agent_calls_the_extension(tmp_path, extension_path):
    system.require_root()
    system.require_executables("ip", "bridge")
    lab = multihost.Namespaces(prefix="nwxt")
    agent = None
    try:
        host = lab.host("h1")
        port_id, network_id, mac = str(uuid.uuid4()), str(uuid.uuid4()), "fa:16:3e:5a:01:02"
        device = naming.tap_device(port_id)
        lab.instance("h1", device, mac, "10.91.0.5")
        # A network-side port: the agent itself puts it into the bridge (Nova does for compute ports).
        wanted = details(device, port_id, network_id, mac, owner="network:dhcp")
        ini = "[vxlan]\nenable_vxlan = false\n[agent]\npolling_interval = 1\nextensions = recorder\n"
        agent = Agent(tmp_path, "netweave.mechanism_drivers.linuxbridge.cmd", ini,
                      [wanted], extension_path).start("--netns", host)

        handled = agent.wait_for_call("handle_port", port_id)
        assert handled["details"] == wanted
        # Called after the wiring: the tap is in its network's bridge by then.
        bridge = naming.network_bridge(network_id)
        members = json.loads(multihost.run("ip", "-j", "-n", host, "link", "show", "master", bridge).stdout)
        assert [m["ifname"] for m in members] == [device]
        (init,) = [c for c in agent.calls() if c["call"] == "initialize"]
        assert (init["driver_type"], init["netns"], init["bridges"]) == ("linuxbridge", host, {})
        assert agent.calls()[0]["call"] == "initialize"

        multihost.run("ip", "-n", host, "link", "del", device)
        deleted = agent.wait_for_call("delete_port", port_id)
        assert deleted["details"]["device"] == device and deleted["details"]["network_id"] == network_id
        assert agent.stop() == 0
        assert [c["call"] for c in agent.calls()] == ["initialize", "before_pass", "handle_port", "delete_port"]
    finally:
        if agent is not None:
            agent.stop()
        lab.close()


def test_openvswitch_agent_calls_the_extension(tmp_path, extension_path, ovs_sandbox):  # noqa: F811
    sandbox = ovs_sandbox
    int_br = sandbox.track_bridge(sandbox.name("nxi"))
    port_id, network_id, mac = str(uuid.uuid4()), str(uuid.uuid4()), "fa:16:3e:5a:03:04"
    ini = ("[DEFAULT]\nhost = ext-host\n[agent]\npolling_interval = 1\nextensions = recorder\n"
           "[ovs]\nintegration_bridge = %s\nint_peer_patch_port = %s\ndatapath_type = netdev\n"
           "ovsdb_connection = %s\n[securitygroup]\nfirewall_driver = noop\n"
           % (int_br, sandbox.name("nxp"), ovsfx.DB_CONNECTION))
    device = ("tap" + port_id)[:14]
    agent = Agent(tmp_path, "netweave.mechanism_drivers.openvswitch.cmd", ini,
                  [details(port_id, port_id, network_id, mac)], extension_path)
    try:
        agent.start()
        deadline = time.monotonic() + 30
        while int_br not in ovsfx.vsctl("list-br").split():   # the agent makes its bridge
            assert time.monotonic() < deadline and agent.process.poll() is None, agent.log()
            time.sleep(0.1)
        sandbox.plug_instance(int_br, port_id, mac, "10.91.0.6/24")

        handled = agent.wait_for_call("handle_port", port_id)
        assert handled["details"] == details(port_id, port_id, network_id, mac)
        # Called after the wiring: the port has its local VLAN tag by then.
        assert ovsfx.vsctl("get", "port", device, "tag") == "1"
        (init,) = [c for c in agent.calls() if c["call"] == "initialize"]
        assert (init["driver_type"], init["host"], init["bridges"]) == (
            "openvswitch", "ext-host", {"integration": int_br})

        sandbox.unplug_instance(device)
        deleted = agent.wait_for_call("delete_port", port_id)
        assert deleted["details"]["device"] == port_id
        assert agent.stop() == 0
        assert [c["call"] for c in agent.calls()] == ["initialize", "before_pass", "handle_port", "delete_port"]
    finally:
        agent.stop()


def test_an_unknown_extension_stops_the_agent_at_start(tmp_path):
    ini = tmp_path / "agent.ini"
    ini.write_text("[vxlan]\nenable_vxlan = false\n[agent]\nextensions = no_such_extension\n")
    ports = tmp_path / "ports.json"
    ports.write_text("[]")
    result = subprocess.run([sys.executable, "-m", "netweave.mechanism_drivers.linuxbridge.cmd", "--config-file",
                             str(ini), "--standalone-ports", str(ports), "--once"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no agent extension named no_such_extension" in result.stderr
