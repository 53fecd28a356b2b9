"""The Linux bridge agent against the real kernel: two hosts, instances, pings.

Every "host" is a network namespace; the agent runs against it through
pyroute2 (IPRoute(netns=...)), exactly as it runs against the root namespace
in production. Hosts are joined by a veth underlay (192.0.2.1/24 and
192.0.2.2/24) and by a second veth pair used as the provider NIC ``pv0``.
Instances are namespaces too, attached by a veth whose host end is named
tap<port id[:11]>, which is what a hypervisor would create. The server is a
dict of device details behind a PluginClient that records status reports;
the agent is driven by the reconciler loop of netweave.core.agent.loop, as
in production, and told about ports and l2population entries through its
notification endpoints.

Nothing is created outside the namespaces of this module, each test removes
its own (even when it fails), and traffic only flows between them. There is
no ping binary on every machine, so ICMP echo is sent from a raw socket by a
small Python program run in the instance's namespace.
"""
import contextlib
import json
import sys
import uuid

import pytest

from harness import multihost, system
from netweave.core import naming
from netweave.mechanism_drivers.linuxbridge import agent as agent_mod
from netweave.mechanism_drivers.linuxbridge import applier, capabilities, config, constants, notifications
from netweave.mechanism_drivers.linuxbridge import client as client_mod
from netweave.mechanism_drivers.linuxbridge import operations as ops

pytestmark = [pytest.mark.system("ip", "bridge")]

UNDERLAY = multihost.UNDERLAY
PHYSNET = "physnet1"
PROVIDER_NIC = multihost.PROVIDER_NIC

run, ping, link_json, random_mac = multihost.run, multihost.ping, multihost.link_json, multihost.random_mac


def tx_packets(namespace, device):
    result = run("ip", "-j", "-s", "-n", namespace, "link", "show", "dev", device)
    return json.loads(result.stdout)[0]["stats64"]["tx"]["packets"]


def neighbour_mac(namespace, ip):
    result = run("ip", "-j", "-n", namespace, "neigh", "show", ip)
    entries = [entry for entry in json.loads(result.stdout or "[]") if entry.get("lladdr")]
    return entries[0]["lladdr"] if entries else None


# --- the lab -----------------------------------------------------------------------------


class FakeServer:
    """Device details by tap name, as get_devices_details_list answers them."""

    def __init__(self):
        self.ports = {}

    def client(self):
        return FakeClient(self)


class FakeClient:
    def __init__(self, server):
        self.server = server
        self.asked, self.up, self.down = [], [], []

    def get_devices_details_list(self, devices):
        self.asked.append(list(devices))
        return [dict(self.server.ports.get(device, {"device": device})) for device in devices]

    def update_device_up(self, device):
        self.up.append(device)

    def update_device_down(self, device):
        self.down.append(device)


class Node:
    """One host's agent with its loop, client and notification endpoints."""

    def __init__(self, host, agent, client):
        self.host, self.agent, self.client = host, agent, client
        self.loop = client_mod.make_loop(agent, client, host)
        self.endpoints = notifications.LinuxbridgeNotifications(agent, self.loop)

    def run_once(self):
        """One pass of the loop; its PassResult."""
        assert self.loop.run_once(), "the pass raised (see the log)"
        return self.agent.last_pass

    def fdb_add(self, payload):
        self.endpoints.add_fdb_entries(None, fdb_entries=payload)
        return self.run_once()

    def fdb_remove(self, payload):
        self.endpoints.remove_fdb_entries(None, fdb_entries=payload)
        return self.run_once()

    def resync_operations(self):
        """Operations a full resync (every device's details fetched again) plans."""
        self.loop.request_resync("test")
        result = self.run_once()
        assert result.applied.done == [] and result.applied.failed == []
        return list(self.agent.last_plan.operations)

    def close(self):
        self.agent.close()


Instance = multihost.Instance


class Lab(multihost.Namespaces):
    """Namespaces and agents of one test; ``close`` removes all of them."""

    def __init__(self):
        super().__init__(prefix="nwlb")
        self.agents = []
        self.server = FakeServer()

    def agent(self, host, caps=None, **settings):
        defaults = dict(interface_mappings={PHYSNET: PROVIDER_NIC}, local_ip=UNDERLAY.get(host),
                        l2_population=True, arp_responder=True)
        defaults.update(settings)
        agent = agent_mod.LinuxbridgeAgent(config.make_settings(**defaults), caps or capabilities.ALL,
                                           netns=self.hosts[host])
        node = Node(host, agent, self.server.client())
        self.agents.append(node)
        return node

    def plug(self, host, network, ip, owner="network:dhcp", bring_up=False):
        """An instance namespace on ``network`` with address ``ip``/24, tap in ``host``."""
        port_id = str(uuid.uuid4())
        device = naming.tap_device(port_id)
        mac = random_mac()
        namespace = self.instance(host, device, mac, ip, mtu=network.get("mtu") or 1500)
        if bring_up:
            run("ip", "-n", self.hosts[host], "link", "set", device, "up")
        self.server.ports[device] = {
            "device": device, "port_id": port_id, "network_id": network["id"],
            "network_type": network["network_type"], "physical_network": network.get("physical_network"),
            "segmentation_id": network.get("segmentation_id"), "mtu": network.get("mtu"),
            "mac_address": mac, "admin_state_up": True, "device_owner": owner}
        return Instance(namespace, device, port_id, mac, ip)

    def unplug(self, host, instance):
        """What a hypervisor does when an instance goes: the tap disappears."""
        # Deleted here, not left to the namespace's (asynchronous) teardown.
        run("ip", "-n", self.hosts[host], "link", "del", instance.device)
        run("ip", "netns", "del", instance.namespace)
        self.namespaces.remove(instance.namespace)

    def close(self):
        for agent in self.agents:
            with contextlib.suppress(Exception):
                agent.close()
        super().close()


def network(network_type, segmentation_id=None, physical_network=None, mtu=1500):
    return {"id": str(uuid.uuid4()), "network_type": network_type, "segmentation_id": segmentation_id,
            "physical_network": physical_network, "mtu": mtu}


def populate(agents, net, instances):
    """Send every agent the fdb_add the server's l2population driver would: flood + each port."""
    ports = {}
    for host, instance in instances:
        ports.setdefault(UNDERLAY[host], [[constants.FLOODING_MAC, "0.0.0.0"]]).append([instance.mac, instance.ip])
    payload = {net["id"]: {"network_type": "vxlan", "segment_id": net["segmentation_id"], "ports": ports}}
    return [node.fdb_add(payload) for node in agents]


@pytest.fixture
def lab():
    system.require_root()
    system.require_executables("ip", "bridge")
    created = Lab()
    try:
        yield created
    finally:
        created.close()


@pytest.fixture
def two_hosts(lab):
    lab.host("h1")
    lab.host("h2")
    lab.connect_hosts()
    return lab


@pytest.fixture(scope="module")
def kernel():
    system.require_root()
    return capabilities.detect()


def wire(*nodes):
    results = [node.run_once() for node in nodes]
    for result in results:
        assert result.ok, result.applied.failed
        assert not result.errors, result.errors
    return results


def resync_operations(node):
    return node.resync_operations()


# --- tests ------------------------------------------------------------------------------------


def test_vxlan_ping_between_hosts_with_l2population(two_hosts):
    lab = two_hosts
    net = network("vxlan", 1001, mtu=1450)
    a = lab.plug("h1", net, "10.1.0.1")
    b = lab.plug("h2", net, "10.1.0.2")
    agent1, agent2 = lab.agent("h1"), lab.agent("h2")
    wire(agent1, agent2)
    # Learning is off: until l2population entries arrive nothing crosses the underlay.
    assert ping(a.namespace, b.ip, count=1, timeout=0.5) == 0
    fdb_results = populate([agent1, agent2], net, [("h1", a), ("h2", b)])
    assert all(result.ok and result.applied.done for result in fdb_results)

    bridge = naming.network_bridge(net["id"])
    for host, agent, instance in (("h1", agent1, a), ("h2", agent2, b)):
        namespace = lab.hosts[host]
        info = link_json(namespace, bridge)
        assert info["linkinfo"]["info_kind"] == "bridge"
        assert info["linkinfo"]["info_data"]["stp_state"] == 0
        assert info["linkinfo"]["info_data"]["forward_delay"] == 0
        vx = link_json(namespace, "vxlan-1001")
        data = vx["linkinfo"]["info_data"]
        assert (data["id"], data["local"], data["port"], data["learning"], data["proxy"]) == (
            1001, UNDERLAY[host], 4789, False, True)
        assert data["link"] == "ul0" and vx["master"] == bridge and vx["mtu"] == 1450
        tap = link_json(namespace, instance.device)
        assert tap["master"] == bridge and tap["mtu"] == 1450 and "UP" in tap["flags"]
        assert agent.client.up == [instance.device]
        other = UNDERLAY["h2" if host == "h1" else "h1"]
        shown = run("bridge", "-n", namespace, "fdb", "show", "dev", "vxlan-1001").stdout
        assert "00:00:00:00:00:00 dst %s" % other in shown
        remote = b if host == "h1" else a
        assert "%s dst %s" % (remote.mac, other) in shown
        neigh = run("ip", "-n", namespace, "neigh", "show", "dev", "vxlan-1001").stdout
        assert "%s lladdr %s PERMANENT" % (remote.ip, remote.mac) in neigh

    assert ping(a.namespace, b.ip) == 3
    assert ping(b.namespace, a.ip) == 3
    # Full-size packets fit the 1450 MTU through the tunnel.
    assert ping(a.namespace, b.ip, size=1450 - 28) == 3

    assert resync_operations(agent1) == [] and resync_operations(agent2) == []

    # The server says b left h2: its entries (and the flood entry to h2) go from h1.
    gone = {net["id"]: {"network_type": "vxlan", "segment_id": 1001,
                        "ports": {UNDERLAY["h2"]: [[constants.FLOODING_MAC, "0.0.0.0"], [b.mac, b.ip]]}}}
    removed = agent1.fdb_remove(gone)
    assert sorted(op.action for op in removed.applied.done) == [ops.FDB_DELETE, ops.FDB_DELETE, ops.NEIGH_DELETE]
    assert run("bridge", "-n", lab.hosts["h1"], "fdb", "show", "dev", "vxlan-1001").stdout.count(" dst ") == 0
    run("ip", "-n", a.namespace, "neigh", "flush", "all")
    assert ping(a.namespace, b.ip, count=1, timeout=0.5) == 0
    assert resync_operations(agent1) == []


def test_flat_ping_through_the_provider_nic(two_hosts):
    lab = two_hosts
    net = network("flat", physical_network=PHYSNET)
    a = lab.plug("h1", net, "10.2.0.1")
    b = lab.plug("h2", net, "10.2.0.2")
    agent1, agent2 = lab.agent("h1"), lab.agent("h2")
    wire(agent1, agent2)
    bridge = naming.network_bridge(net["id"])
    for host in ("h1", "h2"):
        assert link_json(lab.hosts[host], PROVIDER_NIC)["master"] == bridge
        assert run("ip", "-n", lab.hosts[host], "-d", "link", "show", "type", "vxlan").stdout == ""
    assert ping(a.namespace, b.ip) == 3
    assert resync_operations(agent1) == [] and resync_operations(agent2) == []


def test_flat_nic_addresses_and_routes_move_to_the_bridge_and_back(two_hosts):
    lab = two_hosts
    h1 = lab.hosts["h1"]
    run("ip", "-n", h1, "addr", "add", "198.51.100.1/24", "dev", PROVIDER_NIC)
    run("ip", "-n", h1, "route", "add", "203.0.113.0/24", "via", "198.51.100.254", "dev", PROVIDER_NIC)
    run("ip", "-n", lab.hosts["h2"], "addr", "add", "198.51.100.2/24", "dev", PROVIDER_NIC)
    net = network("flat", physical_network=PHYSNET)
    a = lab.plug("h1", net, "198.51.100.11")
    b = lab.plug("h2", net, "198.51.100.12")
    agent1, agent2 = lab.agent("h1"), lab.agent("h2")
    wire(agent1, agent2)
    bridge = naming.network_bridge(net["id"])
    assert "198.51.100.1/24" in run("ip", "-n", h1, "addr", "show", "dev", bridge).stdout
    assert "198.51.100.1/" not in run("ip", "-n", h1, "addr", "show", "dev", PROVIDER_NIC).stdout
    assert "203.0.113.0/24 via 198.51.100.254 dev %s" % bridge in run("ip", "-n", h1, "route").stdout
    # The host keeps its own connectivity over the NIC, now through the bridge.
    assert ping(a.namespace, "198.51.100.2") == 3 and ping(b.namespace, "198.51.100.1") == 3
    assert resync_operations(agent1) == []

    lab.unplug("h1", a)
    agent1.run_once()
    assert link_json(h1, bridge) is None
    assert "198.51.100.1/24" in run("ip", "-n", h1, "addr", "show", "dev", PROVIDER_NIC).stdout
    assert "203.0.113.0/24 via 198.51.100.254 dev %s" % PROVIDER_NIC in run("ip", "-n", h1, "route").stdout


def test_flat_network_on_a_mapped_bridge(two_hosts):
    lab = two_hosts
    for namespace in lab.hosts.values():
        run("ip", "-n", namespace, "link", "add", "br-prov", "type", "bridge")
        run("ip", "-n", namespace, "link", "set", PROVIDER_NIC, "master", "br-prov")
        run("ip", "-n", namespace, "link", "set", "br-prov", "up")
    net = network("flat", physical_network="physnet2")
    a, b = lab.plug("h1", net, "10.14.0.1"), lab.plug("h2", net, "10.14.0.2")
    nodes = [lab.agent(host, interface_mappings={}, bridge_mappings={"physnet2": "br-prov"}) for host in ("h1", "h2")]
    wire(*nodes)
    assert link_json(lab.hosts["h1"], a.device)["master"] == "br-prov"
    assert link_json(lab.hosts["h1"], naming.network_bridge(net["id"])) is None
    assert ping(a.namespace, b.ip) == 3
    lab.unplug("h1", a)
    nodes[0].run_once()
    assert link_json(lab.hosts["h1"], "br-prov") is not None     # never the agent's to delete


def test_local_network_stays_on_its_host(two_hosts):
    lab = two_hosts
    net = network("local")
    a = lab.plug("h1", net, "10.3.0.1")
    b = lab.plug("h1", net, "10.3.0.2")
    far = lab.plug("h2", net, "10.3.0.3")
    agent1, agent2 = lab.agent("h1"), lab.agent("h2")
    wire(agent1, agent2)
    bridge = naming.network_bridge(net["id"])
    members = json.loads(run("ip", "-j", "-n", lab.hosts["h1"], "link", "show", "master", bridge).stdout)
    assert sorted(member["ifname"] for member in members) == sorted([a.device, b.device])

    before = {(host, device): tx_packets(lab.hosts[host], device)
              for host in ("h1", "h2") for device in ("ul0", PROVIDER_NIC)}
    assert ping(a.namespace, b.ip) == 3
    assert ping(a.namespace, far.ip, count=2, timeout=0.5) == 0
    after = {key: tx_packets(lab.hosts[key[0]], key[1]) for key in before}
    assert after == before, "a local network sent traffic off its host"
    assert resync_operations(agent1) == []


def test_two_vxlan_networks_with_the_same_addresses_stay_apart(two_hosts):
    lab = two_hosts
    red, blue = network("vxlan", 2001, mtu=1450), network("vxlan", 2002, mtu=1450)
    red_a, red_b = lab.plug("h1", red, "10.9.0.1"), lab.plug("h2", red, "10.9.0.2")
    blue_a, blue_b = lab.plug("h1", blue, "10.9.0.1"), lab.plug("h2", blue, "10.9.0.2")
    blue_only = lab.plug("h2", blue, "10.9.0.3")
    agent1, agent2 = lab.agent("h1"), lab.agent("h2")
    wire(agent1, agent2)
    populate([agent1, agent2], red, [("h1", red_a), ("h2", red_b)])
    populate([agent1, agent2], blue, [("h1", blue_a), ("h2", blue_b), ("h2", blue_only)])

    assert ping(red_a.namespace, "10.9.0.2") == 3
    assert ping(blue_a.namespace, "10.9.0.2") == 3
    assert neighbour_mac(red_a.namespace, "10.9.0.2") == red_b.mac
    assert neighbour_mac(blue_a.namespace, "10.9.0.2") == blue_b.mac
    assert ping(red_a.namespace, "10.9.0.3", count=2, timeout=0.5) == 0
    assert ping(blue_a.namespace, "10.9.0.3") == 3
    assert resync_operations(agent1) == [] and resync_operations(agent2) == []


def test_unchanged_host_plans_and_applies_nothing(two_hosts):
    lab = two_hosts
    nets = [network("vxlan", 3001, mtu=1450), network("flat", physical_network=PHYSNET), network("local")]
    for index, net in enumerate(nets):
        lab.plug("h1", net, "10.4.%d.1" % index)
        lab.plug("h1", net, "10.4.%d.2" % index)
    agent1 = lab.agent("h1")
    first = wire(agent1)[0]
    assert len(first.applied.done) > 0 and len(first.outcome.devices_up) == 6
    asked = len(agent1.client.asked)
    second = agent1.run_once()
    assert second.applied.done == [] and second.applied.failed == []
    assert len(agent1.agent.last_plan.operations) == 0
    assert second.outcome.devices_up == [] and len(agent1.client.asked) == asked   # nothing new to ask
    assert resync_operations(agent1) == []
    # A fresh agent (a restart) finds nothing to change either, and reports the ports up again.
    restarted = lab.agent("h1")
    result = restarted.run_once()
    assert result.applied.done == [] and len(result.outcome.devices_up) == 6


def test_last_tap_gone_removes_bridge_and_vxlan_device(two_hosts):
    lab = two_hosts
    net, other = network("vxlan", 4001, mtu=1450), network("vxlan", 4002, mtu=1450)
    first, second = lab.plug("h1", net, "10.5.0.1"), lab.plug("h1", net, "10.5.0.2")
    keep = lab.plug("h1", other, "10.6.0.1")
    agent1 = lab.agent("h1")
    wire(agent1)
    namespace, bridge = lab.hosts["h1"], naming.network_bridge(net["id"])

    lab.unplug("h1", first)
    result = agent1.run_once()
    assert result.applied.done == [] and agent1.client.down == [first.device]
    assert link_json(namespace, bridge) is not None

    lab.unplug("h1", second)
    result = agent1.run_once()
    assert [(op.action, op.device) for op in result.applied.done] == [
        (ops.DELETE_LINK, bridge), (ops.DELETE_LINK, "vxlan-4001")]
    assert agent1.client.down == [first.device, second.device]
    assert link_json(namespace, bridge) is None and link_json(namespace, "vxlan-4001") is None
    assert link_json(namespace, "vxlan-4002")["master"] == naming.network_bridge(other["id"])
    assert link_json(namespace, keep.device)["master"] == naming.network_bridge(other["id"])
    assert agent1.run_once().applied.done == []


def test_admin_down_port_leaves_the_bridge(two_hosts):
    lab = two_hosts
    net = network("local")
    a, b = lab.plug("h1", net, "10.7.0.1"), lab.plug("h1", net, "10.7.0.2")
    agent1 = lab.agent("h1")
    wire(agent1)
    assert ping(a.namespace, b.ip) == 3
    lab.server.ports[b.device]["admin_state_up"] = False
    agent1.endpoints.port_update(None, port={"id": b.port_id})
    result = agent1.run_once()
    assert result.outcome.devices_down == [b.device] and agent1.client.down == [b.device]
    assert link_json(lab.hosts["h1"], b.device).get("master") is None
    assert ping(a.namespace, b.ip, count=2, timeout=0.5) == 0


def test_hypervisor_plugged_taps_are_left_where_the_hypervisor_put_them(two_hosts):
    lab = two_hosts
    net = network("vxlan", 5001, mtu=1450)
    a = lab.plug("h1", net, "10.8.0.1", owner="compute:nova", bring_up=True)
    b = lab.plug("h2", net, "10.8.0.2", owner="compute:nova", bring_up=True)
    bridge = naming.network_bridge(net["id"])
    for host, instance in (("h1", a), ("h2", b)):
        # What os-vif does for a Linux bridge VIF: make the bridge, plug the tap.
        namespace = lab.hosts[host]
        run("ip", "-n", namespace, "link", "add", bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0")
        run("ip", "-n", namespace, "link", "set", instance.device, "master", bridge)
    agent1, agent2 = lab.agent("h1"), lab.agent("h2")
    results = wire(agent1, agent2)
    for result, instance in zip(results, (a, b)):
        touched = {(op.action, op.device) for op in result.applied.done}
        assert (ops.ENSLAVE, instance.device) not in touched and (ops.CREATE_BRIDGE, bridge) not in touched
        assert (ops.SET_MTU, instance.device) in touched and (ops.ENSLAVE, "vxlan-5001") in touched
        assert result.outcome.devices_up == [instance.device]
    populate([agent1, agent2], net, [("h1", a), ("h2", b)])
    assert ping(a.namespace, b.ip) == 3
    # A compute tap outside any bridge is not moved in by the agent.
    c = lab.plug("h1", net, "10.8.0.3", owner="compute:nova", bring_up=True)
    agent1.run_once()
    assert link_json(lab.hosts["h1"], c.device).get("master") is None


def test_vlan_needs_8021q(two_hosts, kernel):
    lab = two_hosts
    net = network("vlan", 100, physical_network=PHYSNET)
    local = network("local")
    a, b = lab.plug("h1", net, "10.10.0.1"), lab.plug("h2", net, "10.10.0.2")
    bystander = lab.plug("h1", local, "10.11.0.1")
    agent1, agent2 = lab.agent("h1", caps=kernel), lab.agent("h2", caps=kernel)
    if kernel.vlan:
        wire(agent1, agent2)
        assert link_json(lab.hosts["h1"], "pv0.100")["linkinfo"]["info_data"]["id"] == 100
        assert ping(a.namespace, b.ip) == 3
        assert resync_operations(agent1) == []
        return

    result = agent1.run_once()
    assert result.ok and result.errors[a.device].endswith(capabilities.VLAN_UNSUPPORTED)
    assert agent1.client.down == [a.device] and agent1.client.up == [bystander.device]
    assert link_json(lab.hosts["h1"], naming.network_bridge(net["id"])) is None
    assert link_json(lab.hosts["h1"], naming.network_bridge(local["id"])) is not None
    # Reported once, not on every pass.
    agent1.run_once()
    assert agent1.client.down == [a.device]
    # Without the start-up probe the kernel's refusal is turned into the same message.
    with applier_for(lab.hosts["h1"]) as run_ops:
        outcome = run_ops([ops.Operation.make(ops.CREATE_VLAN, "pv0.100", net["id"], parent="pv0", vlan_id=100)])
    (failed_op, message), = outcome.failed
    assert message == capabilities.VLAN_UNSUPPORTED and failed_op.action == ops.CREATE_VLAN


@contextlib.contextmanager
def applier_for(namespace):
    from pyroute2 import IPRoute
    with IPRoute(netns=namespace, flags=0) as ipr:
        yield applier.Applier(ipr).apply


def test_capabilities_probe_leaves_nothing_behind(kernel):
    assert kernel.vxlan and kernel.fdb_append
    assert not [name for name in run("ip", "netns", "list").stdout.split() if name.startswith("nwlbcap-")]


def test_console_script_wires_a_host_namespace(lab, tmp_path):
    """netweave-linuxbridge-agent --standalone-ports FILE --once, run inside a host namespace."""
    namespace = lab.host("h1")
    run("ip", "-n", namespace, "link", "add", PROVIDER_NIC, "type", "veth", "peer", "name", "pv9")
    net = network("flat", physical_network=PHYSNET)
    a, b = lab.plug("h1", net, "10.12.0.1"), lab.plug("h1", net, "10.12.0.2")
    ports = tmp_path / "ports.json"
    ports.write_text(json.dumps([lab.server.ports[a.device], lab.server.ports[b.device]]))
    ini = tmp_path / "linuxbridge_agent.ini"
    ini.write_text("[linux_bridge]\nphysical_interface_mappings = %s:%s\n[vxlan]\nenable_vxlan = false\n"
                   % (PHYSNET, PROVIDER_NIC))
    command = ("ip", "netns", "exec", namespace, sys.executable, "-m", "netweave.mechanism_drivers.linuxbridge.cmd",
               "--config-file", str(ini), "--standalone-ports", str(ports), "--once")
    result = run(*command, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    bridge = naming.network_bridge(net["id"])
    members = json.loads(run("ip", "-j", "-n", namespace, "link", "show", "master", bridge).stdout)
    assert sorted(m["ifname"] for m in members) == sorted([PROVIDER_NIC, a.device, b.device])
    assert ping(a.namespace, b.ip) == 3
    # Again: nothing to do, still success.
    assert run(*command, check=False).returncode == 0


# --- over RPC -----------------------------------------------------------------------------


class DeviceEndpoint:
    """The server's answers to an L2 agent, from the lab's dict of details."""

    def __init__(self, server):
        self.server = server
        self.asked, self.up, self.down = [], [], []

    def get_devices_details_list_and_failed_devices(self, context, devices=None, agent_id=None, host=None, **_):
        self.asked.append(sorted(devices or []))
        return {"devices": [dict(self.server.ports.get(d, {"device": d})) for d in devices or []],
                "failed_devices": []}

    def update_device_list(self, context, devices_up=None, devices_down=None, agent_id=None, host=None, **_):
        self.up.extend(devices_up or [])
        self.down.extend(devices_down or [])
        return {"devices_up": list(devices_up or []), "failed_devices_up": [],
                "devices_down": [{"device": d, "exists": True} for d in devices_down or []],
                "failed_devices_down": []}


class ReportEndpoint:
    def __init__(self):
        self.states = []

    def report_state(self, context, agent_state=None, time=None, **_):
        self.states.append((agent_state or {}).get("agent_state"))
        return "new" if len(self.states) == 1 else "alive"


def wait_for(condition, seconds=10.0):
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def register_messaging_groups(conf):
    """oslo.messaging's option groups on a private ConfigOpts.

    The library registers some of them (metrics, tracing) on the global CONF
    only and leaves them out of its option listing; its ConfFixture would do
    this, but it needs the testing-cabal "fixtures" package, which tests/fixtures
    shadows here.
    """
    import importlib

    from oslo_messaging import opts as messaging_opts
    for group, opts in messaging_opts.list_opts():
        if group is not None:
            conf.register_opts(opts, group=group)
    for module, attribute in (("oslo_messaging._metrics.client", "oslo_messaging_metrics"),
                              ("oslo_messaging._tracing.client", "oslo_messaging_tracing")):
        try:
            opts = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            continue
        conf.register_opts(opts, group=attribute)


def test_agent_over_the_rpc_layer(two_hosts):
    """cmd's wiring on the in-process transport: details, reports, heartbeats and casts go over RPC."""
    import oslo_messaging
    from oslo_config import cfg

    from netweave.core import context as context_mod
    from netweave.core.rpc import agent_notifier, serializer, servers, topics
    from netweave.core.rpc import transport as rpc_transport
    from netweave.mechanism_drivers.linuxbridge import cmd

    lab = two_hosts
    conf = cfg.ConfigOpts()
    config.register_agent_opts(conf)
    rpc_transport.register_opts(conf)
    conf.register_opt(cfg.StrOpt("host"))
    register_messaging_groups(conf)
    conf([], project="netweave", default_config_files=[])
    conf.set_override("host", "h1")
    conf.set_override("transport_url", rpc_transport.IN_PROCESS_URL)
    conf.set_override("report_interval", 0.2, "agent")
    transport = rpc_transport.get_transport(conf)

    devices, reports = DeviceEndpoint(lab.server), ReportEndpoint()
    devices.target = oslo_messaging.Target(version="1.5")
    reports.target = oslo_messaging.Target(version="1.2", namespace="state")
    server_side = servers.RpcServers(transport, {topics.PLUGIN: [devices], topics.REPORTS: [reports]}, "controller")
    server_side.start()
    settings = config.make_settings(interface_mappings={PHYSNET: PROVIDER_NIC}, local_ip=UNDERLAY["h1"],
                                    l2_population=True, arp_responder=True)
    agent = agent_mod.LinuxbridgeAgent(settings, capabilities.ALL, netns=lab.hosts["h1"])
    stoppers = []
    try:
        connection = cmd.connect(conf, agent, settings)
        loop, stoppers = connection.loop, connection.stoppers
        for start in connection.starters:
            start()
        net = network("vxlan", 6001, mtu=1450)
        a = lab.plug("h1", net, "10.13.0.1")
        assert loop.run_once()
        assert devices.asked == [[a.device]] and devices.up == [a.device]
        assert link_json(lab.hosts["h1"], a.device)["master"] == naming.network_bridge(net["id"])

        assert wait_for(lambda: reports.states), "no heartbeat arrived"
        state = reports.states[0]
        assert (state["agent_type"], state["binary"], state["host"]) == (
            "Linux bridge agent", "netweave-linuxbridge-agent", "h1")
        assert state["configurations"]["tunnel_types"] == ["vxlan"]
        assert state["configurations"]["tunneling_ip"] == UNDERLAY["h1"]
        assert state["configurations"]["interface_mappings"] == {PHYSNET: PROVIDER_NIC}

        admin = context_mod.get_admin_context()
        caster = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic=topics.AGENT, version="1.0"),
                                               serializer=serializer.ContextSerializer())
        remote_mac = random_mac()
        payload = {net["id"]: {"network_type": "vxlan", "segment_id": 6001, "ports": {
            UNDERLAY["h2"]: [[constants.FLOODING_MAC, "0.0.0.0"], [remote_mac, "10.13.0.2"]]}}}
        caster.prepare(topic=topics.notifier_topic(topics.L2POPULATION, topics.UPDATE), fanout=True).cast(
            admin, "add_fdb_entries", fdb_entries=payload)
        assert wait_for(lambda: len(agent.fdb_table) == 2), "add_fdb_entries did not arrive"
        assert loop.run_once()
        shown = run("bridge", "-n", lab.hosts["h1"], "fdb", "show", "dev", "vxlan-6001").stdout
        assert "%s dst %s" % (remote_mac, UNDERLAY["h2"]) in shown
        assert "00:00:00:00:00:00 dst %s" % UNDERLAY["h2"] in shown

        # port_update through the server's own notifier: the device is asked about again.
        agent_notifier.AgentNotifier(transport).port_update(admin, {"id": a.port_id}, "vxlan", 6001, None)
        assert wait_for(lambda: a.device in loop._dirty), "port_update did not arrive"
        assert loop.run_once()
        assert devices.asked[-1] == [a.device]
    finally:
        for stop in stoppers:
            stop()
        server_side.stop()
        agent.close()


def _readdress(instance, address):
    run("ip", "-n", instance.namespace, "addr", "flush", "dev", "eth0")
    run("ip", "-n", instance.namespace, "addr", "add", address + "/24", "dev", "eth0")
    run("ip", "-n", instance.namespace, "neigh", "flush", "dev", "eth0")


def test_arp_and_mac_spoofing_are_dropped_under_the_noop_firewall_driver(two_hosts):
    """ARP protection belongs to the agent: with firewall_driver = noop (the port filter then
    filters nothing, so the agent alone acts, as here) a port with port security may still
    ARP only for its own addresses and send only from its own MAC."""
    system.require_executables("ebtables", "ebtables-restore", "ebtables-save")
    lab = two_hosts
    net = network("local")
    a = lab.plug("h1", net, "10.9.0.1", owner="compute:nova", bring_up=True)
    b = lab.plug("h1", net, "10.9.0.2", owner="compute:nova", bring_up=True)
    free = lab.plug("h1", net, "10.9.0.3", owner="compute:nova", bring_up=True)
    bridge = naming.network_bridge(net["id"])
    # What os-vif does for a Linux bridge VIF: make the bridge, plug the taps.
    run("ip", "-n", lab.hosts["h1"], "link", "add", bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0")
    for instance, security in ((a, True), (b, True), (free, False)):
        run("ip", "-n", lab.hosts["h1"], "link", "set", instance.device, "master", bridge)
        lab.server.ports[instance.device].update(fixed_ips=[{"ip_address": instance.ip}],
                                                 port_security_enabled=security)
    node = lab.agent("h1")
    agent = node.agent
    wire(node)
    assert ping(a.namespace, b.ip) == 3 and ping(free.namespace, b.ip) == 3
    rules = run("ip", "netns", "exec", lab.hosts["h1"], "ebtables", "-t", "nat", "-L", "lb-arp-protect").stdout
    assert a.device in rules and b.device in rules and free.device not in rules, rules

    # a sends from an address of the subnet that is not its own: its ARP never gets through.
    _readdress(a, "10.9.0.99")
    assert ping(a.namespace, b.ip, count=2, timeout=0.5) == 0
    neighbours = run("ip", "-n", b.namespace, "neigh", "show", "10.9.0.99").stdout
    assert a.mac not in neighbours.lower(), neighbours
    # The port without port security may (as in Neutron).
    _readdress(free, "10.9.0.98")
    assert ping(free.namespace, b.ip) == 3
    # a from its own address again, but from another MAC: dropped too.
    _readdress(a, a.ip)
    assert ping(a.namespace, b.ip) == 3
    run("ip", "-n", a.namespace, "link", "set", "eth0", "address", random_mac())
    run("ip", "-n", b.namespace, "neigh", "flush", "dev", "eth0")
    assert ping(a.namespace, b.ip, count=2, timeout=0.5) == 0
    # Nothing to change on the next pass: no ebtables command at all.
    restores = agent.arp_protection.restores
    wire(node)
    assert agent.arp_protection.restores == restores
