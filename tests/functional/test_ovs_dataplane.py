"""Two hosts wired by the Open vSwitch agent on the userspace datapath, proved with ping.

Each "host" is its own set of netdev bridges (integration, tunnel, physical)
with an agent on a reconciler loop of its own; the server is an in-memory one that also
plays the notifier (tunnel_update, l2population's fdb_add). Instances are
namespaces holding an internal port tap<port id[:11]> plugged into the host's
integration bridge, as a hypervisor plugs a VM. Tunnel endpoints live on a
userspace underlay (fixtures/ovs.py explains the recipe); flat and vlan
networks cross a patch cable between the two hosts' physical bridges.
"""
import dataclasses
import importlib
import random
import re
import time
import uuid

import pytest

from harness import ovs as ovsfx
from harness.ovs import ovs_sandbox, ovs_switch  # noqa: F401 - pytest fixtures
from netweave.core import naming
from netweave.mechanism_drivers.openvswitch import agent as agent_mod
from netweave.mechanism_drivers.openvswitch import client as client_mod
from netweave.mechanism_drivers.openvswitch import config as ovs_config
from netweave.mechanism_drivers.openvswitch import constants as c
from netweave.mechanism_drivers.openvswitch import flows as flows_mod
from netweave.mechanism_drivers.openvswitch import ovsdb_state
from netweave.mechanism_drivers.openvswitch.desired import Network

pytestmark = [pytest.mark.system("ip", "ping", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"), pytest.mark.slow]

TUNNEL_TYPES = ("vxlan", "gre", "geneve")


@dataclasses.dataclass(frozen=True)
class Instance:
    port_id: str
    namespace: str
    device: str
    mac: str
    ip: str
    host: object


class Server(client_mod.InMemoryPluginClient):
    """The in-memory server, which also tells the other agents about new tunnel endpoints."""

    def __init__(self):
        super().__init__()
        self.agents = []

    def tunnel_sync(self, tunnel_ip, tunnel_type, host=None):
        reply = super().tunnel_sync(tunnel_ip, tunnel_type, host)
        for agent in self.agents:
            if agent.config.local_ip != tunnel_ip:
                agent.tunnel_update(tunnel_ip, tunnel_type)
        return reply


def make_agent(config, server, api, host):
    agent = agent_mod.OVSAgent(config, client_mod.local_client(server, host), api=api, host=host)
    return agent, client_mod.make_loop(agent, server, host)


def run_pass(loop, full=False, agent=None):
    """One pass of ``loop``, which must succeed; returns what ``agent`` (default: the loop's,
    which a port filter may have wrapped) did."""
    assert loop.run_once(full=full), "the pass failed (see the log)"
    return (agent or loop.agent).last_result


class Host:
    def __init__(self, sandbox, index, local_ip, server, **options):
        self.index = index
        self.local_ip = local_ip
        self.int_br = sandbox.track_bridge(sandbox.name("nwi", str(index)))
        self.tun_br = sandbox.track_bridge(sandbox.name("nwt", str(index)))
        self.phys_br = sandbox.name("nwp", str(index))
        self.config = ovs_config.AgentConfig(
            integration_bridge=self.int_br, tunnel_bridge=self.tun_br,
            int_peer_patch_port=sandbox.name("pti", str(index)),
            tun_peer_patch_port=sandbox.name("ptt", str(index)),
            local_ip=local_ip, bridge_mappings={"physnet1": self.phys_br}, datapath_type="netdev",
            tunnel_types=options.get("tunnel_types", TUNNEL_TYPES),
            l2_population=options.get("l2_population", False),
            arp_responder=options.get("arp_responder", False))
        self.api = ovsdb_state.connect(ovsfx.DB_CONNECTION)
        self.agent, self.loop = make_agent(self.config, server, self.api, "host%d" % index)
        server.agents.append(self.agent)

    def sync(self, full=False):
        return run_pass(self.loop, full)

    def bridges(self):
        return [self.int_br, self.tun_br, self.phys_br]

    def close(self):
        self.agent.close()
        ovsdb_state.disconnect(self.api)


class Cloud:
    """Two hosts, an underlay, a wire between the physical bridges, and the server."""

    def __init__(self, sandbox, **options):
        self.sandbox = sandbox
        self.server = Server()
        third = random.randint(1, 254)
        ips = ["198.18.%d.1" % third, "198.18.%d.2" % third]
        self.instances = []
        self.hosts = []
        try:
            self.underlay = sandbox.underlay(ips)
            for i, ip in enumerate(ips):
                self.hosts.append(Host(sandbox, i + 1, ip, self.server, **options))
            # The administrator's part: physical bridges and the cable between their NICs.
            h1, h2 = self.hosts
            sandbox.add_bridge(h1.phys_br)
            sandbox.add_bridge(h2.phys_br)
            sandbox.patch(h1.phys_br, sandbox.name("wir", "1"), h2.phys_br, sandbox.name("wir", "2"))
            # The agents start first and make their bridges; instances are plugged into br-int later.
            self.sync()
        except BaseException:
            self.close()
            raise

    def close(self):
        for host in self.hosts:
            host.close()

    def network(self, network_type, segmentation_id=None, physical_network=None):
        if network_type in c.PHYSICAL_TYPES:
            physical_network = physical_network or "physnet1"
        return Network(str(uuid.uuid4()), network_type, physical_network, segmentation_id)

    def instance(self, host, network, ip, prefixlen=24, mtu=None):
        port_id = str(uuid.uuid4())
        mac = "fa:16:3e:%02x:%02x:%02x" % tuple(random.randint(0, 255) for _ in range(3))
        self.server.set_port({
            "device": port_id, "port_id": port_id, "network_id": network.id,
            "network_type": network.network_type, "physical_network": network.physical_network,
            "segmentation_id": network.segmentation_id, "mtu": mtu or 1500, "mac_address": mac,
            "admin_state_up": True, "device_owner": "compute:nova",
            "fixed_ips": [{"subnet_id": "subnet-" + network.id, "ip_address": ip}]})
        namespace, device = self.sandbox.plug_instance(host.int_br, port_id, mac, "%s/%d" % (ip, prefixlen),
                                                       mtu=mtu)
        inst = Instance(port_id, namespace, device, mac, ip, host)
        self.instances.append((inst, network))
        return inst

    def publish_fdb(self):
        """What l2population sends: per network, every host's ports plus its flood entry."""
        fdb = {}
        for inst, network in self.instances:
            if network.network_type not in c.TUNNEL_TYPES:
                continue
            ports = fdb.setdefault(network.id, {"network_type": network.network_type,
                                                "segment_id": network.segmentation_id, "ports": {}})["ports"]
            entries = ports.setdefault(inst.host.local_ip, [[c.FLOODING_MAC, c.FLOODING_IP]])
            entries.append([inst.mac, inst.ip])
        for host in self.hosts:
            host.agent.fdb_add(fdb)

    def sync(self, full=False):
        """Passes over both hosts until neither changes anything (tunnels need a second round)."""
        results = []
        for _round in range(4):
            round_results = [host.sync(full=full) for host in self.hosts]
            results.append(round_results)
            if not any(r.changed for r in round_results):
                return results
        raise AssertionError("hosts still changing after 4 passes: %s" % results)


@pytest.fixture
def cloud(ovs_sandbox):  # noqa: F811
    made = Cloud(ovs_sandbox)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def l2pop_cloud(ovs_sandbox):  # noqa: F811
    made = Cloud(ovs_sandbox, l2_population=True, arp_responder=True)
    try:
        yield made
    finally:
        made.close()


def assert_ping(a, b):
    assert ovsfx.wait_ping(a.namespace, b.ip), "%s (%s) cannot ping %s (%s)" % (
        a.device, a.host.int_br, b.ip, b.device)


def assert_no_ping(a, address):
    assert not ovsfx.ping(a.namespace, address, count=2, timeout=1), \
        "%s reached %s, which it must not" % (a.device, address)


def tunnel_port(kind, remote_ip):
    return naming.ovs_tunnel_port(kind, remote_ip)


@pytest.mark.parametrize("kind", TUNNEL_TYPES)
def test_overlay_ping_between_hosts(cloud, kind):
    h1, h2 = cloud.hosts
    net = cloud.network(kind, segmentation_id=4000 + TUNNEL_TYPES.index(kind))
    a = cloud.instance(h1, net, "10.70.0.1", mtu=1400)
    b = cloud.instance(h2, net, "10.70.0.2", mtu=1400)
    cloud.sync()

    # Full mesh (no l2population): one tunnel port per type towards the other host.
    ports = ovsfx.vsctl("list-ports", h1.tun_br).split()
    assert tunnel_port(kind, h2.local_ip) in ports
    options = ovsfx.vsctl("get", "interface", tunnel_port(kind, h2.local_ip), "options")
    assert 'remote_ip="%s"' % h2.local_ip in options and 'local_ip="%s"' % h1.local_ip in options
    assert ovsfx.vsctl("get", "port", a.device, "tag") == "1"

    assert_ping(a, b)
    assert_ping(b, a)
    assert cloud.server.status == {a.port_id: "ACTIVE", b.port_id: "ACTIVE"}
    # The frames really went through the network's tunnel flows.
    table = c.TUN_TABLE[kind]
    hits = [line for line in ovsfx.flows_of(h2.tun_br)
            if "table=%d," % table in line and "tun_id=%#x" % net.segmentation_id in line]
    assert hits and "n_packets=0," not in hits[0], hits


def test_vxlan_with_l2population_and_arp_responder(l2pop_cloud):
    cloud = l2pop_cloud
    h1, h2 = cloud.hosts
    net = cloud.network("vxlan", segmentation_id=5001)
    a = cloud.instance(h1, net, "10.71.0.1", mtu=1400)
    b = cloud.instance(h2, net, "10.71.0.2", mtu=1400)
    cloud.sync()
    # No fdb entries yet: l2population makes no tunnel.
    assert not [p for p in ovsfx.vsctl("list-ports", h1.tun_br).split() if p.startswith("vxlan-")]
    cloud.publish_fdb()
    cloud.sync()
    assert ovsfx.vsctl("list-ports", h1.tun_br).split().count(tunnel_port("vxlan", h2.local_ip)) == 1
    assert_ping(a, b)
    # a's ARP request for b was answered by h1's br-tun table 21, not by b.
    responder = [line for line in ovsfx.flows_of(h1.tun_br) if "table=21," in line and "arp_tpa=10.71.0.2" in line]
    assert responder and "n_packets=0," not in responder[0], responder
    unicast = [line for line in ovsfx.flows_of(h1.tun_br)
               if "table=20," in line and "priority=2" in line and b.mac in line]
    assert unicast and "n_packets=0," not in unicast[0], unicast


@pytest.mark.parametrize("kind,segmentation_id", [("vlan", 100), ("flat", None)])
def test_provider_network_ping_across_the_wire(cloud, kind, segmentation_id):
    h1, h2 = cloud.hosts
    net = cloud.network(kind, segmentation_id=segmentation_id)
    a = cloud.instance(h1, net, "10.72.0.1")
    b = cloud.instance(h2, net, "10.72.0.2")
    cloud.sync()
    assert_ping(a, b)
    assert_ping(b, a)
    # Egress translation on the physical bridge carried the traffic.
    action = "mod_vlan_vid:%d,NORMAL" % segmentation_id if kind == "vlan" else "strip_vlan,NORMAL"
    egress = [line for line in ovsfx.flows_of(h1.phys_br) if "priority=4" in line and action in line]
    assert egress and "n_packets=0," not in egress[0], egress
    ingress_match = "dl_vlan=%d" % segmentation_id if kind == "vlan" else "vlan_tci=0x0000/0x1fff"
    ingress = [line for line in ovsfx.flows_of(h2.int_br) if "priority=3" in line and ingress_match in line]
    assert ingress and "n_packets=0," not in ingress[0], ingress


def test_local_network_stays_on_its_host(cloud):
    h1, h2 = cloud.hosts
    net = cloud.network("local")
    a = cloud.instance(h1, net, "10.73.0.1")
    b = cloud.instance(h1, net, "10.73.0.2")
    far = cloud.instance(h2, net, "10.73.0.3")
    cloud.sync()
    assert_ping(a, b)
    assert_no_ping(a, far.ip)
    assert_no_ping(far, a.ip)
    # Local networks have no flows outside br-int (book 4.7).
    lvid = ovsfx.vsctl("get", "port", a.device, "tag")
    for bridge in (h1.tun_br, h1.phys_br):
        assert not [line for line in ovsfx.flows_of(bridge) if "dl_vlan=%s," % lvid in line]


@pytest.mark.parametrize("kind", ["vxlan", "vlan"])
def test_networks_with_overlapping_addresses_stay_apart(cloud, kind):
    h1, h2 = cloud.hosts
    red = cloud.network(kind, segmentation_id=201)
    blue = cloud.network(kind, segmentation_id=202)
    red1, red2 = cloud.instance(h1, red, "10.74.0.1", mtu=1400), cloud.instance(h2, red, "10.74.0.2", mtu=1400)
    blue1, blue2 = cloud.instance(h1, blue, "10.74.0.1", mtu=1400), cloud.instance(h2, blue, "10.74.0.2", mtu=1400)
    blue_only = cloud.instance(h2, blue, "10.74.0.9", mtu=1400)
    cloud.sync()
    assert ovsfx.vsctl("get", "port", red1.device, "tag") != ovsfx.vsctl("get", "port", blue1.device, "tag")
    assert_ping(red1, red2)
    assert_ping(blue1, blue2)
    assert ovsfx.neighbour_mac(red1.namespace, "10.74.0.2") == red2.mac
    assert ovsfx.neighbour_mac(blue1.namespace, "10.74.0.2") == blue2.mac
    assert_no_ping(red1, blue_only.ip)
    assert_no_ping(red2, blue_only.ip)


def _switch_state(cloud):
    bridges = [b for host in cloud.hosts for b in host.bridges()]
    return {b: flows_mod.canonical_table(ovsfx.flows_of(b)) for b in bridges}


def test_unchanged_host_resyncs_without_writing(cloud, ovs_switch):  # noqa: F811
    h1, h2 = cloud.hosts
    nets = [cloud.network("vxlan", 301), cloud.network("gre", 302), cloud.network("geneve", 303),
            cloud.network("vlan", 304), cloud.network("flat"), cloud.network("local")]
    pairs = []
    for i, net in enumerate(nets):
        pairs.append((cloud.instance(h1, net, "10.75.%d.1" % i, mtu=1400),
                      cloud.instance(h2, net, "10.75.%d.2" % i, mtu=1400)))
    cloud.sync()
    for a, b in pairs[:-1]:
        assert_ping(a, b)

    before_cfg = ovs_switch.next_cfg()
    before_flows = _switch_state(cloud)
    before_writes = [h.agent.ofctl.writes for h in cloud.hosts]
    for host in cloud.hosts:
        result = host.sync(full=True)
        assert result.full and result.flow_dumps == 3
        assert (result.ovsdb_ops, result.ovsdb_transactions, result.flow_bridges) == (0, 0, ()), result
        # Asking the server for every port again turns them BUILD there: each one is confirmed up again.
        assert len(result.reported_up) == len(nets) and result.reported_down == ()
    # A new agent process (a restart) recovers the local VLANs from OVSDB and changes nothing either.
    restarted, restarted_loop = make_agent(h1.config, cloud.server, h1.api, "host1")
    cloud.server.agents.append(restarted)
    result = run_pass(restarted_loop, full=True)
    assert (result.ovsdb_ops, result.flow_bridges) == (0, ()), result
    assert ovs_switch.next_cfg() == before_cfg
    assert [h.agent.ofctl.writes for h in cloud.hosts] == before_writes and restarted.ofctl.writes == 0
    assert _switch_state(cloud) == before_flows
    for a, b in pairs[:-1]:
        assert_ping(a, b)


def test_unplugged_port_goes_down_and_its_flows_go(cloud):
    h1, h2 = cloud.hosts
    net = cloud.network("vlan", 310)
    a = cloud.instance(h1, net, "10.76.0.1")
    b = cloud.instance(h2, net, "10.76.0.2")
    cloud.sync()
    assert_ping(a, b)
    assert any(b.device in line for line in ovsfx.flows_of(h2.int_br))
    cloud.sandbox.unplug_instance(b.device)
    results = cloud.sync()
    assert results[0][1].reported_down == (b.port_id,)
    assert cloud.server.status[b.port_id] == "DOWN"
    assert not any(b.device in line for line in ovsfx.flows_of(h2.int_br))
    # The network's last port left h2: its translation flows are gone too.
    assert not any("mod_vlan_vid:310" in line for line in ovsfx.flows_of(h2.phys_br))
    assert any("mod_vlan_vid:310" in line for line in ovsfx.flows_of(h1.phys_br))


def test_admin_down_port_is_cut_off(cloud):
    h1, h2 = cloud.hosts
    net = cloud.network("vxlan", 320)
    a = cloud.instance(h1, net, "10.77.0.1", mtu=1400)
    b = cloud.instance(h2, net, "10.77.0.2", mtu=1400)
    cloud.sync()
    assert_ping(a, b)
    details = dict(cloud.server.ports[b.port_id], admin_state_up=False)
    cloud.server.set_port(details)
    h2.loop.mark_dirty(b.port_id)
    cloud.sync()
    assert ovsfx.vsctl("get", "port", b.device, "tag") == str(c.DEAD_VLAN)
    assert cloud.server.status[b.port_id] == "DOWN"
    assert_no_ping(a, b.ip)



FOREIGN_COOKIE = 0xBEEF


def _learned_flows(bridge):
    return [line for line in ovsfx.flows_of(bridge)
            if "cookie=%#x," % c.LEARNED_FLOW_COOKIE in line and "table=%d," % c.UCAST_TO_TUN in line]


def test_a_port_change_programs_only_the_difference_and_keeps_others_flows(l2pop_cloud):
    """Disabling a port on host2 changes only host1's flows of that port (l2population's
    unicast and ARP entries): its learned flow and another owner's flows stay, the other
    flows keep their age; a restarted agent recognises its flows by cookie and writes nothing."""
    cloud = l2pop_cloud
    h1, h2 = cloud.hosts
    net = cloud.network("vxlan", segmentation_id=5101)
    a = cloud.instance(h1, net, "10.79.0.1", mtu=1400)
    b = cloud.instance(h2, net, "10.79.0.2", mtu=1400)
    gone = cloud.instance(h2, net, "10.79.0.3", mtu=1400)
    cloud.publish_fdb()
    cloud.sync()
    assert_ping(a, b)
    deadline = time.monotonic() + 5
    while not any(b.mac in line for line in _learned_flows(h1.tun_br)):
        assert time.monotonic() < deadline, ovsfx.flows_of(h1.tun_br)
        time.sleep(0.1)
    foreign = {h1.int_br: "table=%d,priority=77,udp,tp_dst=4242" % c.TRANSIENT_TABLE,
               h1.tun_br: "table=%d,priority=77,udp,tp_dst=4242" % c.UCAST_TO_TUN}
    for bridge, flow in foreign.items():
        ovsfx.ofctl("add-flow", bridge, "cookie=%#x,%s,actions=drop" % (FOREIGN_COOKIE, flow))
    for bridge in (h1.int_br, h1.tun_br):  # every flow the agent made carries its cookie
        cookies = {flows_mod.canonical(line).cookie for line in ovsfx.flows_of(bridge)}
        assert cookies - {c.LEARNED_FLOW_COOKIE, FOREIGN_COOKIE} == {h1.agent.cookie(bridge)}, cookies

    watch = ovsfx.SwitchWatch([h1.int_br, h1.tun_br, h1.phys_br], names={"-"},
                              ignore_cookie=c.LEARNED_FLOW_COOKIE).start()
    try:
        cloud.server.set_port(dict(cloud.server.ports[gone.port_id], admin_state_up=False))
        h2.loop.mark_dirty(gone.port_id)
        for host in cloud.hosts:  # l2population withdraws the disabled port's entries
            host.agent.fdb_remove({net.id: {"ports": {h2.local_ip: [[gone.mac, gone.ip]]}}})
        cloud.sync()
    finally:
        changes = watch.stop()
    events = sorted(re.search(r"event=(\w+).* table=(\d+)", line).groups() for line in changes)
    assert events == sorted([("DELETED", str(c.UCAST_TO_TUN)), ("DELETED", str(c.ARP_RESPONDER))]), changes
    assert all(gone.mac in line for line in changes), changes
    assert any(b.mac in line for line in _learned_flows(h1.tun_br)), ovsfx.flows_of(h1.tun_br)
    for bridge in foreign:
        assert any("cookie=%#x," % FOREIGN_COOKIE in line for line in ovsfx.flows_of(bridge)), bridge
    assert_ping(a, b)

    # A restart: the new agent finds its flows by cookie, deletes the one stale flow
    # (left with its cookie while it was down) and leaves everything else as it is.
    before = {bridge: flows_mod.canonical_table(ovsfx.flows_of(bridge)) for bridge in h1.bridges()}
    ovsfx.ofctl("add-flow", h1.int_br, "cookie=%#x,table=0,priority=2,dl_src=fa:16:3e:de:ad:00,actions=drop"
                % h1.agent.cookie(h1.int_br))
    restarted, restarted_loop = make_agent(h1.config, cloud.server, h1.api, "host1")
    cloud.server.agents.append(restarted)
    restarted.fdb_add({net.id: {"ports": {h2.local_ip: [[c.FLOODING_MAC, c.FLOODING_IP], [b.mac, b.ip]]}}})
    result = run_pass(restarted_loop, full=True)
    assert (result.ovsdb_ops, result.flow_mods, restarted.ofctl.writes) == (0, 1, 1), result
    assert result.plan["flow_mods"] == {"delete_strict": 1}, result.plan
    assert {bridge: flows_mod.canonical_table(ovsfx.flows_of(bridge)) for bridge in h1.bridges()} == before
    assert any(b.mac in line for line in _learned_flows(h1.tun_br))
    assert_ping(a, b)


class PluginEndpoint:
    """The server's side of the agent's calls (topic q-plugin), answering from the in-memory server."""

    def __init__(self, server):
        import oslo_messaging
        self.target = oslo_messaging.Target(version="1.5")
        self.server = server
        self.asked, self.up, self.down, self.synced = [], [], [], []

    def get_devices_details_list_and_failed_devices(self, context, devices=None, agent_id=None, host=None,
                                                    **_kwargs):
        self.asked.append(list(devices))
        return {"devices": self.server.get_devices_details_list(devices), "failed_devices": []}

    def update_device_list(self, context, devices_up=(), devices_down=(), agent_id=None, host=None, **_kwargs):
        self.up.extend(devices_up)
        self.down.extend(devices_down)
        return {"devices_up": list(devices_up), "failed_devices_up": [],
                "devices_down": [{"device": d, "exists": True} for d in devices_down],
                "failed_devices_down": []}

    def tunnel_sync(self, context, tunnel_ip=None, tunnel_type=None, host=None, **_kwargs):
        self.synced.append((tunnel_ip, tunnel_type, host))
        return self.server.tunnel_sync(tunnel_ip, tunnel_type, host)


class ReportEndpoint:
    def __init__(self):
        import oslo_messaging
        self.target = oslo_messaging.Target(version="1.2", namespace="state")
        self.states = []

    def report_state(self, context, agent_state=None, time=None, **_kwargs):
        self.states.append(agent_state["agent_state"])
        return "alive"


def _wait_for(predicate, timeout=10):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _rpc_conf(host):
    from oslo_config import cfg
    from oslo_messaging import opts as messaging_opts

    from netweave.core.config import agent as common_agent_config
    from netweave.core.rpc import transport as rpc_transport

    conf = cfg.ConfigOpts()
    ovs_config.register_opts(conf)
    common_agent_config.register(conf)
    rpc_transport.register_opts(conf)
    for group, opts in messaging_opts.list_opts():
        if group is not None:
            conf.register_opts(opts, group=group)
    # oslo.messaging's clients read these groups too, without listing them in list_opts().
    for module_name in ("oslo_messaging._metrics.client", "oslo_messaging._tracing.client"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in ("oslo_messaging_metrics", "oslo_messaging_tracing"):
            if isinstance(getattr(module, name, None), list):
                conf.register_opts(getattr(module, name), group=name)
    conf([], project="netweave", default_config_files=[])
    conf.set_override("transport_url", rpc_transport.IN_PROCESS_URL)
    conf.set_override("report_interval", 0.2, "agent")
    return conf


def test_agent_over_the_rpc_layer(l2pop_cloud):
    """cmd's RPC wiring on the in-process transport: details, reports, tunnels, heartbeats and casts."""
    import oslo_messaging

    from netweave.core import context as context_mod
    from netweave.core.rpc import agent_notifier, serializer, servers, topics
    from netweave.core.rpc import transport as rpc_transport
    from netweave.mechanism_drivers.openvswitch import rpc as ovs_rpc

    cloud = l2pop_cloud
    h1, h2 = cloud.hosts
    conf = _rpc_conf("h1")
    transport = rpc_transport.get_transport(conf)
    plugin, reports = PluginEndpoint(cloud.server), ReportEndpoint()
    server_side = servers.RpcServers(transport, {topics.PLUGIN: [plugin], topics.REPORTS: [reports]},
                                     "controller")
    server_side.start()
    stoppers = []
    try:
        agent = agent_mod.OVSAgent(h1.config, ovs_rpc.plugin_client(conf, "h1"), api=h1.api, host="h1")
        connection = ovs_rpc.connect(conf, agent)
        stoppers = connection.stoppers
        for start in connection.starters:
            start()
        loop = connection.loop
        net = cloud.network("vxlan", 5101)
        a = cloud.instance(h1, net, "10.78.0.1", mtu=1400)
        b = cloud.instance(h2, net, "10.78.0.2", mtu=1400)
        result = run_pass(loop, full=True, agent=agent)
        assert {(h1.local_ip, kind, "h1") for kind in TUNNEL_TYPES} <= set(plugin.synced)
        assert plugin.asked[-1] == [a.port_id] and plugin.up == [a.port_id]
        assert result.reported_up == (a.port_id,)
        assert ovsfx.vsctl("get", "port", a.device, "tag") == "1"

        assert _wait_for(lambda: reports.states), "no heartbeat arrived"
        state = reports.states[0]
        assert (state["agent_type"], state["binary"], state["host"]) == (
            "Open vSwitch agent", "netweave-openvswitch-agent", "h1")
        assert state["configurations"]["tunnel_types"] == list(TUNNEL_TYPES)
        assert state["configurations"]["tunneling_ip"] == h1.local_ip
        assert state["configurations"]["datapath_type"] == "netdev"

        admin = context_mod.get_admin_context()
        caster = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic=topics.AGENT, version="1.0"),
                                               serializer=serializer.ContextSerializer())
        payload = {net.id: {"network_type": "vxlan", "segment_id": 5101, "ports": {
            h2.local_ip: [[c.FLOODING_MAC, c.FLOODING_IP], [b.mac, b.ip]]}}}
        caster.prepare(topic=topics.notifier_topic(topics.L2POPULATION, topics.UPDATE), fanout=True).cast(
            admin, "add_fdb_entries", fdb_entries=payload)
        assert _wait_for(lambda: net.id in agent.fdb), "add_fdb_entries did not arrive"
        run_pass(loop, agent=agent)
        assert tunnel_port("vxlan", h2.local_ip) in ovsfx.vsctl("list-ports", h1.tun_br).split()

        notifier = agent_notifier.AgentNotifier(transport)
        notifier.tunnel_update(admin, "198.18.0.77", "gre")
        assert _wait_for(lambda: "198.18.0.77" in agent.tunnel_endpoints.get("gre", ())), \
            "tunnel_update did not arrive"
        notifier.port_update(admin, {"id": a.port_id}, "vxlan", 5101, None)
        assert _wait_for(lambda: a.port_id in loop.dirty_devices()), "port_update did not arrive"
        run_pass(loop, agent=agent)
        assert plugin.asked[-1] == [a.port_id]

        # h2 wired by its own (in-memory) agent; the RPC-driven h1 reaches it.
        cloud.publish_fdb()
        h2.sync()
        assert_ping(a, b)
    finally:
        for stop in stoppers:
            stop()
        server_side.stop()


def test_running_agent_wires_ports_as_they_appear(cloud):
    import threading

    h1, h2 = cloud.hosts
    net = cloud.network("geneve", 5201)
    h1.loop.polling_interval = 0.2
    thread = threading.Thread(target=h1.loop.run, daemon=True)
    thread.start()
    try:
        a = cloud.instance(h1, net, "10.79.0.1", mtu=1400)
        b = cloud.instance(h2, net, "10.79.0.2", mtu=1400)
        h2.sync()
        assert _wait_for(lambda: cloud.server.status.get(a.port_id) == "ACTIVE"), "the loop did not wire a"
        assert_ping(a, b)
        cloud.sandbox.unplug_instance(a.device)
        assert _wait_for(lambda: cloud.server.status.get(a.port_id) == "DOWN"), "the loop did not report a down"
    finally:
        h1.loop.stop()
        thread.join(10)
    assert not thread.is_alive()
