"""netweave-all-in-one started as root with ``--l2-agent openvswitch`` runs the
Open vSwitch agent in its own process, over the in-process transport.

The agent works on the machine's ovs-vswitchd (leased through harness.ovs) with
bridge and patch port names carrying a per-run token, on the userspace
datapath. Instances are namespaces holding an internal port tap<port id[:11]>
of that integration bridge, as a hypervisor plugs a VM: two on a vxlan network
ping each other and their ports turn ACTIVE; a local network with the same,
overlapping, subnet stays apart. With ``datapath_type = system`` on a kernel
without the openvswitch module the command refuses to start and says why.
"""
import os
import random
import subprocess
import textwrap

import pytest
import requests

from harness import multihost
from harness import ovs as ovs_harness
from harness import server as server_harness
from harness.ovs import ovs_switch  # noqa: F401 - pytest fixture
from netweave.core import naming
from netweave.mechanism_drivers.openvswitch import datapath

pytestmark = [pytest.mark.system("ip", "ping", "ovs-vsctl", "ovs-ofctl")]


class Node:
    """This test's share of the switch: names of its own, and the all-in-one's ini."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.host = "aio-ovs-" + sandbox.token
        self.integration_bridge = sandbox.track_bridge(sandbox.name("aoi"))
        self.tunnel_bridge = sandbox.track_bridge(sandbox.name("aot"))
        self.int_patch = sandbox.name("api")
        self.tun_patch = sandbox.name("apt")
        self.local_ip = "198.51.100.%d" % random.randint(1, 254)

    def ini(self, datapath_type="netdev"):
        return textwrap.dedent("""\
            [DEFAULT]
            host = {host}
            auth_strategy = noauth

            [ml2]
            type_drivers = local,vxlan
            tenant_network_types = vxlan
            mechanism_drivers = openvswitch

            [ml2_type_vxlan]
            vni_ranges = 1:1000

            [agent]
            polling_interval = 1
            report_interval = 2
            tunnel_types = vxlan

            [ovs]
            integration_bridge = {int_br}
            tunnel_bridge = {tun_br}
            int_peer_patch_port = {int_patch}
            tun_peer_patch_port = {tun_patch}
            local_ip = {ip}
            datapath_type = {datapath}

            [securitygroup]
            enable_security_group = false
            firewall_driver = noop
            """).format(host=self.host, int_br=self.integration_bridge, tun_br=self.tunnel_bridge,
                        int_patch=self.int_patch, tun_patch=self.tun_patch, ip=self.local_ip,
                        datapath=datapath_type)

    def write_ini(self, workdir, name, **kwargs):
        path = os.path.join(workdir, name)
        with open(path, "w") as handle:
            handle.write(self.ini(**kwargs))
        return path


@pytest.fixture(scope="module")
def aio(ovs_switch, tmp_path_factory):  # noqa: F811 - the fixture above
    workdir = str(tmp_path_factory.mktemp("aio-ovs"))
    sandbox = ovs_harness.OvsSandbox()
    server = None
    try:
        node = Node(sandbox)
        ini = node.write_ini(workdir, "aio.ini")
        server = server_harness.start_all_in_one(workdir, extra_args=["--config-file", ini,
                                                                      "--l2-agent", "openvswitch"])
        server.node, server.sandbox = node, sandbox
        server.log_path = os.path.join(workdir, "all-in-one.log")
        server.session = requests.Session()
        yield server
    finally:
        # The agent first: it would make its bridges again.
        if server is not None:
            server.stop()
        sandbox.cleanup()


def api(aio, method, path, body=None):
    response = aio.session.request(method, aio.url + "/v2.0" + path, json=body, timeout=30)
    assert response.status_code in (200, 201, 204), (method, path, response.status_code, response.text)
    return response.json() if response.content else None


def network(aio, name, cidr, **provider):
    net = api(aio, "POST", "/networks", {"network": dict({"name": name}, **provider)})["network"]
    api(aio, "POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                             "enable_dhcp": False, "gateway_ip": None}})
    return net


def bound_port(aio, net):
    return api(aio, "POST", "/ports", {"port": {"network_id": net["id"], "device_owner": "compute:nova",
                                                "binding:host_id": aio.node.host}})["port"]


def plug(aio, net, port):
    ip = port["fixed_ips"][0]["ip_address"]
    namespace, _ = aio.sandbox.plug_instance(aio.node.integration_bridge, port["id"], port["mac_address"],
                                             "%s/24" % ip, mtu=net.get("mtu") or None)
    return namespace, ip


def status(aio, port):
    return api(aio, "GET", "/ports/" + port["id"])["port"]["status"]


def wait_agent(aio):
    multihost.Cloud.wait(lambda: any(a["host"] == aio.node.host and a["alive"]
                                     for a in api(aio, "GET", "/agents")["agents"]),
                         "the in-process agent reports", timeout=60)


def test_the_agent_runs_in_process_and_reports(aio):
    wait_agent(aio)
    agents = {a["agent_type"]: a for a in api(aio, "GET", "/agents")["agents"] if a["host"] == aio.node.host}
    # The router plugin is loaded: the L3 agent runs beside the L2 one.
    assert set(agents) <= {"Open vSwitch agent", "L3 agent"}
    agent = agents["Open vSwitch agent"]
    assert agent["binary"] == "netweave-openvswitch-agent"
    assert agent["configurations"]["integration_bridge"] == aio.node.integration_bridge
    assert agent["configurations"]["datapath_type"] == "netdev"
    assert agent["configurations"]["tunneling_ip"] == aio.node.local_ip
    log = open(aio.log_path).read()
    assert "Running the openvswitch L2 agent in this process for host %s" % aio.node.host in log
    # The agent made its bridges on the userspace datapath.
    multihost.Cloud.wait(lambda: aio.node.tunnel_bridge in ovs_harness.vsctl("list-br").split(),
                         "the agent's bridges", timeout=30)
    for bridge in (aio.node.integration_bridge, aio.node.tunnel_bridge):
        assert ovs_harness.vsctl("get", "bridge", bridge, "datapath_type").strip('"') == "netdev"


def test_instances_on_a_vxlan_network_ping_and_turn_active(aio):
    wait_agent(aio)
    vxlan = network(aio, "aio-ovs-vxlan", "10.83.0.0/24")
    assert vxlan["provider:network_type"] == "vxlan"
    local = network(aio, "aio-ovs-local", "10.83.0.0/24", **{"provider:network_type": "local"})
    p1, p2, p3 = bound_port(aio, vxlan), bound_port(aio, vxlan), bound_port(aio, local)
    for port in (p1, p2, p3):
        assert port["binding:vif_type"] == "ovs", port
        assert port["status"] == "DOWN"
    (a, _), (_, b_ip), (_, c_ip) = plug(aio, vxlan, p1), plug(aio, vxlan, p2), plug(aio, local, p3)
    multihost.Cloud.wait(lambda: all(status(aio, p) == "ACTIVE" for p in (p1, p2, p3)),
                         "the plugged ports are ACTIVE", timeout=60)
    # Each network has its own local VLAN on the integration bridge.
    tags = {p["id"]: ovs_harness.vsctl("get", "port", naming.tap_device(p["id"]), "tag") for p in (p1, p2, p3)}
    assert tags[p1["id"]] == tags[p2["id"]] != tags[p3["id"]], tags
    assert ovs_harness.wait_ping(a, b_ip, timeout=20), "no echo over the vxlan network"
    # The local network's instance is unreachable from the vxlan one, overlapping subnet or not.
    if c_ip != b_ip:
        assert not ovs_harness.ping(a, c_ip, count=2, timeout=1)
    # An unplugged port is reported DOWN.
    aio.sandbox.unplug_instance(naming.tap_device(p3["id"]))
    multihost.Cloud.wait(lambda: status(aio, p3) == "DOWN", "the unplugged port is DOWN", timeout=60)


def test_system_datapath_without_the_kernel_module_is_refused(ovs_switch, tmp_path):  # noqa: F811
    if datapath.kernel_module_available():
        pytest.skip("this kernel has the openvswitch module: the system datapath can work here")
    sandbox = ovs_harness.OvsSandbox()
    node = Node(sandbox)
    ini = node.write_ini(str(tmp_path), "system.ini", datapath_type="system")
    try:
        result = subprocess.run(
            [server_harness._bin("netweave-all-in-one"), "--state-path", str(tmp_path / "state"),
             "--bind-port", "0", "--config-file", ini, "--l2-agent", "openvswitch"],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        sandbox.cleanup()
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "openvswitch kernel module" in output and "datapath_type = netdev" in output, output
    # Refused before touching the switch.
    assert node.integration_bridge not in ovs_harness.vsctl("list-br").split()
