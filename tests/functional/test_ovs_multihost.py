"""Two hosts wired by real netweave-openvswitch-agent processes, a real server, RPC server and broker.

How the hosts are modelled (see harness.multihost.OvsCloud): the machine has
no openvswitch kernel module, so one ovs-vswitchd with the userspace (netdev)
datapath serves both hosts. Each host is its own integration, tunnel and
physical bridge, with its own patch port names and tunnel endpoint address
(local_ip), and its own agent process whose openvswitch_agent.ini names them.
Tunnelled frames are really encapsulated by one host's tunnel port and
decapsulated by the other's through a shared underlay bridge; flat and vlan
frames cross a patch "cable" between the two physical bridges. Instances
are namespaces holding an internal port tap<port id[:11]> of their host's
integration bridge, plugged with the port's iface-id as a hypervisor does.

The server runs ML2 with openvswitch,l2population; the agents run with
l2_population and arp_responder, so tunnel ports exist only towards hosts
with ports of a network. Every test removes its ports and networks; the
module fixture removes every bridge, namespace and process at the end.
"""
import json
import os
import subprocess
import time

import pytest

from harness import multihost, rabbitmq, system
from harness import ovs as ovs_harness
from harness.multihost import BIN, OvsCloud
from harness.ovs import ovs_switch  # noqa: F401 - pytest fixture
from harness.processes import start_process
from netweave.core import naming
from netweave.mechanism_drivers.openvswitch import constants as c

pytestmark = [pytest.mark.system("ip", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"), pytest.mark.slow]

RECOVERY_GRACE = 4


@pytest.fixture(scope="module")
def cloud(ovs_switch, tmp_path_factory):  # noqa: F811
    system.require_root()
    # A broker of the module's own: the last test restarts it.
    broker = system.start_or_require(rabbitmq.start_private_rabbitmq, rabbitmq.RabbitMQUnavailable)
    created = None
    try:
        created = OvsCloud(str(tmp_path_factory.mktemp("ovs-multihost")), broker.transport_url,
                           fdb_recovery_grace=RECOVERY_GRACE)
        created.broker = broker
        created.start()
        yield created
    finally:
        if created is not None:
            created.close()
        broker.stop()


class Made:
    """Networks, ports and instances of one test; ``cleanup`` unplugs and deletes them."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.networks, self.ports, self.instances = [], [], []

    def network(self, name, cidr, **provider):
        net = self.cloud.network(name, cidr, **provider)
        self.networks.append(net)
        return net

    def port(self, net, host, ip=None):
        body = {"network_id": net["id"], "device_owner": "compute:nova",
                "binding:host_id": multihost.AGENT_HOST[host]}
        if ip:
            body["fixed_ips"] = [{"ip_address": ip}]
        port = self.cloud.api("POST", "/ports", {"port": body})["port"]
        self.ports.append(port)
        return port

    def plug(self, host, net, port):
        instance = self.cloud.plug(host, net, port)
        self.instances.append(instance)
        return instance

    def instance(self, host, net, ip=None):
        port = self.port(net, host, ip)
        return port, self.plug(host, net, port)

    def unplug(self, instance):
        self.cloud.unplug(instance)
        self.instances.remove(instance)
        self.cloud.sandbox.namespaces.remove(instance.namespace)
        ovs_harness.ip("netns", "del", instance.namespace, check=False)

    def cleanup(self):
        for instance in list(self.instances):
            self.unplug(instance)
        for port in self.ports:
            self.cloud.api("DELETE", "/ports/" + port["id"], expect=(204, 404))
        for net in self.networks:
            self.cloud.api("DELETE", "/networks/" + net["id"], expect=(204, 404))


@pytest.fixture
def made(cloud):
    tracker = Made(cloud)
    try:
        yield tracker
    finally:
        tracker.cleanup()


def hosts(cloud):
    return cloud.ovs_hosts["h1"], cloud.ovs_hosts["h2"]


def tunnel_remotes(host, kind):
    return sorted(remote for k, remote in host.tunnel_ports().values() if k == kind)


def no_tunnels(cloud, kind):
    """Until the tunnels of the previous test's ports are withdrawn (they go asynchronously)."""
    h1, h2 = hosts(cloud)
    cloud.wait(lambda: tunnel_remotes(h1, kind) == [] and tunnel_remotes(h2, kind) == [],
               "no %s tunnel is left" % kind)


def local_vlan(instance):
    return int(ovs_harness.vsctl("get", "port", instance.device, "tag"))


def flows(bridge, table):
    return [line for line in ovs_harness.flows_of(bridge) if "table=%d," % table in line]


def agent_flows(bridge, table):
    """The agent's flows of a table: without those table 10's learn() wrote (they stay until their
    hard_timeout, whatever the agent does)."""
    learned = "cookie=%#x," % c.LEARNED_FLOW_COOKIE
    return [line for line in flows(bridge, table) if learned not in line]


def with_vlan(lines, vlan):
    return [line for line in lines if "dl_vlan=%d," % vlan in line or "dl_vlan=%d " % vlan in line]


def packets(line):
    for field in line.replace(",", " ").split():
        if field.startswith("n_packets="):
            return int(field.split("=", 1)[1])
    return 0


def log_since(process, offset):
    with open(process.log_path) as log:
        log.seek(offset)
        return log.read()


def assert_pings(a, b):
    assert multihost.ping_until(a.namespace, b.ip, deadline_seconds=30), \
        "%s cannot reach %s (%s)" % (a.device, b.ip, b.device)
    assert multihost.ping(a.namespace, b.ip, count=3) == 3


def assert_no_ping(a, address):
    assert multihost.ping(a.namespace, address, count=2, timeout=0.5) == 0, \
        "%s reached %s, which it must not" % (a.device, address)


# --- tests ------------------------------------------------------------------------------------


def test_openstack_cli_lists_both_ovs_agents(cloud):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_TYPE="none", OS_ENDPOINT=cloud.server.url)
    result = subprocess.run([os.path.join(BIN, "openstack"), "network", "agent", "list", "-f", "json"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = [row for row in json.loads(result.stdout) if row["Agent Type"] == "Open vSwitch agent"]
    assert sorted(row["Host"] for row in rows) == ["host1", "host2"]
    assert all(row["Alive"] in (True, ":-)") for row in rows), rows
    assert {row["Binary"] for row in rows} == {"netweave-openvswitch-agent"}
    h1 = [a for a in cloud.agent_rows() if a["host"] == "host1"][0]
    assert h1["configurations"]["tunneling_ip"] == cloud.ovs_hosts["h1"].local_ip
    assert h1["configurations"]["l2_population"] is True


@pytest.mark.parametrize("kind", ["vxlan", "gre", "geneve"])
def test_overlay_ping_across_hosts_and_tunnels_follow_ports(cloud, made, kind):
    h1, h2 = hosts(cloud)
    no_tunnels(cloud, kind)
    net = made.network("mh-" + kind, "10.81.%d.0/24" % multihost.OVS_TUNNEL_TYPES.index(kind),
                       **{"provider:network_type": kind})
    assert net["provider:network_type"] == kind and net["provider:segmentation_id"]
    pa, a = made.instance("h1", net)
    pb, b = made.instance("h2", net)
    cloud.wait_active(pa, pb)
    # l2population: one tunnel port each way, of the network's type, and nothing else.
    cloud.wait(lambda: tunnel_remotes(h1, kind) == [h2.local_ip] and tunnel_remotes(h2, kind) == [h1.local_ip],
               "a %s tunnel between the two hosts" % kind)
    assert_pings(a, b)
    assert_pings(b, a)
    # The frames really went through the network's tunnel flows on the receiving host.
    decap = [line for line in flows(h2.tunnel_bridge, c.TUN_TABLE[kind])
             if "tun_id=%#x" % net["provider:segmentation_id"] in line]
    assert decap and packets(decap[0]) > 0, decap
    # The last port of the network leaves host2: both tunnels go.
    made.unplug(b)
    cloud.wait(lambda: cloud.status(pb) == "DOWN", "port b is DOWN once unplugged")
    cloud.wait(lambda: tunnel_remotes(h1, kind) == [] and tunnel_remotes(h2, kind) == [],
               "the %s tunnels are withdrawn" % kind)


@pytest.mark.parametrize("kind", ["flat", "vlan"])
def test_provider_network_ping_across_hosts(cloud, made, kind):
    h1, h2 = hosts(cloud)
    net = made.network("mh-" + kind, "10.82.%d.0/24" % ("flat", "vlan").index(kind),
                       **{"provider:network_type": kind, "provider:physical_network": "physnet1"})
    pa, a = made.instance("h1", net)
    pb, b = made.instance("h2", net)
    cloud.wait_active(pa, pb)
    assert_pings(a, b)
    assert_pings(b, a)
    if kind == "vlan":
        egress = "mod_vlan_vid:%d,NORMAL" % net["provider:segmentation_id"]
        ingress = "dl_vlan=%d" % net["provider:segmentation_id"]
    else:
        egress, ingress = "strip_vlan,NORMAL", "vlan_tci=0x0000/0x1fff"
    out = [line for line in ovs_harness.flows_of(h1.physical_bridge) if egress in line]
    assert out and packets(out[0]) > 0, out
    into = [line for line in ovs_harness.flows_of(h2.integration_bridge) if "priority=3" in line and ingress in line]
    assert into and packets(into[0]) > 0, into
    # No tunnels for provider networks.
    assert all(tunnel_remotes(h1, t) == [] for t in multihost.OVS_TUNNEL_TYPES)


def test_local_network_stays_on_its_host(cloud, made):
    h1, h2 = hosts(cloud)
    net = made.network("mh-local", "10.83.0.0/24", **{"provider:network_type": "local"})
    pa, a = made.instance("h1", net)
    pb, b = made.instance("h1", net)
    pf, far = made.instance("h2", net)
    cloud.wait_active(pa, pb, pf)
    assert_pings(a, b)
    assert_no_ping(a, far.ip)
    assert_no_ping(far, a.ip)
    vlan = local_vlan(a)
    assert not with_vlan(ovs_harness.flows_of(h1.tunnel_bridge), vlan)
    assert not [line for line in ovs_harness.flows_of(h1.physical_bridge) if "dl_vlan=%d," % vlan in line]


@pytest.mark.parametrize("kind", ["vxlan", "vlan"])
def test_networks_with_overlapping_addresses_stay_apart(cloud, made, kind):
    provider = {"provider:network_type": kind}
    if kind == "vlan":
        provider["provider:physical_network"] = "physnet1"
    red = made.network("mh-red", "10.84.0.0/24", **provider)
    blue = made.network("mh-blue", "10.84.0.0/24", **provider)
    pr1, red1 = made.instance("h1", red, "10.84.0.11")
    pr2, red2 = made.instance("h2", red, "10.84.0.12")
    pb1, blue1 = made.instance("h1", blue, "10.84.0.11")
    pb2, blue2 = made.instance("h2", blue, "10.84.0.12")
    pbo, blue_only = made.instance("h2", blue, "10.84.0.19")
    cloud.wait_active(pr1, pr2, pb1, pb2, pbo)
    assert local_vlan(red1) != local_vlan(blue1)
    assert_pings(red1, red2)
    assert_pings(blue1, blue2)
    assert ovs_harness.neighbour_mac(red1.namespace, "10.84.0.12") == red2.mac
    assert ovs_harness.neighbour_mac(blue1.namespace, "10.84.0.12") == blue2.mac
    assert_no_ping(red1, blue_only.ip)
    assert_no_ping(red2, blue_only.ip)


def test_port_is_active_only_once_wired_and_l2population_tables(cloud, made):
    h1, h2 = hosts(cloud)
    no_tunnels(cloud, "vxlan")
    net = made.network("mh-l2pop", "10.85.0.0/24")
    assert net["provider:network_type"] == "vxlan"
    pa, pb, pc = made.port(net, "h1"), made.port(net, "h2"), made.port(net, "h1")
    # Bound, but nothing plugged: the agents have nothing to wire, so nothing is ACTIVE.
    time.sleep(3)
    assert {cloud.status(p) for p in (pa, pb, pc)} == {"DOWN"}
    a, c_ = made.plug("h1", net, pa), made.plug("h1", net, pc)
    cloud.wait_active(pa, pc)
    assert cloud.status(pb) == "DOWN"
    # Only host1 has ports: no tunnel anywhere.
    time.sleep(2)
    assert tunnel_remotes(h1, "vxlan") == [] and tunnel_remotes(h2, "vxlan") == []
    b = made.plug("h2", net, pb)
    cloud.wait_active(pb)
    cloud.wait(lambda: tunnel_remotes(h1, "vxlan") == [h2.local_ip], "host1's tunnel towards host2")
    tunnel = naming.ovs_tunnel_port("vxlan", h2.local_ip)
    vlan = local_vlan(a)
    seg = net["provider:segmentation_id"]
    # Table 22: the network's broadcasts go to host2; table 20: b's MAC; table 21: b's IP answered locally.
    cloud.wait(lambda: with_vlan(flows(h1.tunnel_bridge, c.FLOOD_TO_TUN), vlan), "host1's flood flow")
    flood = with_vlan(flows(h1.tunnel_bridge, c.FLOOD_TO_TUN), vlan)
    assert len(flood) == 1 and tunnel in flood[0] and "%#x->NXM_NX_TUN_ID" % seg in flood[0].replace(
        "load:", ""), flood
    unicast = [line for line in with_vlan(flows(h1.tunnel_bridge, c.UCAST_TO_TUN), vlan) if "priority=2" in line]
    assert len(unicast) == 1 and "dl_dst=%s" % b.mac in unicast[0] and tunnel in unicast[0], unicast
    arp = [line for line in flows(h1.tunnel_bridge, c.ARP_RESPONDER) if "arp_tpa=%s" % b.ip in line]
    assert len(arp) == 1, arp
    assert not [line for line in unicast if a.mac in line or c_.mac in line]
    assert_pings(a, b)
    assert_pings(a, c_)
    arp = [line for line in flows(h1.tunnel_bridge, c.ARP_RESPONDER) if "arp_tpa=%s" % b.ip in line]
    assert packets(arp[0]) > 0, "host1's ARP responder did not answer for b: %s" % arp
    # b goes: its entries and the tunnels towards host2 are withdrawn, host1's own ports stay wired.
    made.unplug(b)
    cloud.wait(lambda: tunnel_remotes(h1, "vxlan") == [] and tunnel_remotes(h2, "vxlan") == [],
               "the tunnels are withdrawn")
    cloud.wait(lambda: not with_vlan(flows(h1.tunnel_bridge, c.FLOOD_TO_TUN), vlan)
               and not [line for line in flows(h1.tunnel_bridge, c.ARP_RESPONDER) if b.ip in line]
               and not [line for line in agent_flows(h1.tunnel_bridge, c.UCAST_TO_TUN) if b.mac in line],
               "host2's entries left host1's tables 20, 21 and 22")
    assert_pings(a, c_)


def test_agent_killed_and_restarted_under_traffic(cloud, made):
    h1, h2 = hosts(cloud)
    net = made.network("mh-restart", "10.86.0.0/24")
    vnet = made.network("mh-restart-vlan", "10.87.0.0/24",
                        **{"provider:network_type": "vlan", "provider:physical_network": "physnet1"})
    pa, a = made.instance("h1", net)
    pb, b = made.instance("h2", net)
    pva, va = made.instance("h1", vnet)
    pvb, vb = made.instance("h2", vnet)
    cloud.wait_active(pa, pb, pva, pvb)
    cloud.wait(lambda: tunnel_remotes(h1, "vxlan") == [h2.local_ip], "host1's tunnel towards host2")
    assert_pings(a, b)
    assert_pings(va, vb)
    before = h1.switch_state()
    names = {n for bridge in h1.bridges for n in multihost.ovs_ports(bridge)}
    watch = ovs_harness.SwitchWatch(h1.bridges, names, ignore_cookie=c.LEARNED_FLOW_COOKIE).start()
    revisions = {p["id"]: cloud.api("GET", "/ports/" + p["id"])["port"]["revision_number"] for p in (pa, pva)}
    pinger = multihost.start_ping(a.namespace, b.ip, count=100, interval=0.1)
    try:
        time.sleep(1.0)
        cloud.kill_agent("h1")
        log_offset = os.path.getsize(cloud.agents["h1"].log_path)
        restarted = cloud.start_agent("h1")
        # The new agent resyncs: it asks for every port again and reports each one up.
        cloud.wait(lambda: all(cloud.api("GET", "/ports/" + i)["port"]["revision_number"] > r
                               and cloud.status({"id": i}) == "ACTIVE" for i, r in revisions.items()),
                   "the restarted agent reported its ports again", timeout=60)
        out, err = pinger.communicate(timeout=60)
    finally:
        if pinger.poll() is None:
            pinger.kill()
            pinger.wait()
            watch.stop()
    answered = int(out.strip() or 0)
    assert answered >= 99, "lost %d of 100 pings during the restart (%s)" % (100 - answered, err)
    assert h1.switch_state() == before
    # Once the entries read back at start are dropped, the server's own keep everything in place.
    cloud.wait(lambda: "Dropping the l2population entries recovered" in log_since(restarted, log_offset),
               "the restarted agent drops the entries it recovered", timeout=RECOVERY_GRACE + 30)
    time.sleep(2)  # the pass that dropped them has ended
    changes = watch.stop()
    assert changes == [], "the restart changed host1's switch: %s" % changes
    assert h1.switch_state() == before
    written = log_since(restarted, log_offset)
    assert "Full pass over 2 ports" in written
    assert "Wired" not in written, "the restarted agent changed the switch"
    assert_pings(a, b)
    assert_pings(va, vb)
    cloud.wait(lambda: all(row["alive"] for row in cloud.agent_rows()), "both agents alive", timeout=30)


def test_entries_recovered_at_restart_expire_when_the_server_drops_them(cloud, made):
    """A remote port that goes while host1's agent is down: its tunnel survives the restart only
    until the recovered entries expire."""
    h1, h2 = hosts(cloud)
    net = made.network("mh-stale", "10.88.0.0/24", **{"provider:network_type": "geneve"})
    pa, a = made.instance("h1", net)
    pb, b = made.instance("h2", net)
    cloud.wait_active(pa, pb)
    cloud.wait(lambda: tunnel_remotes(h1, "geneve") == [h2.local_ip], "host1's tunnel towards host2")
    cloud.kill_agent("h1")
    made.unplug(b)
    cloud.wait(lambda: cloud.status(pb) == "DOWN", "b DOWN")
    cloud.start_agent("h1")
    cloud.wait(lambda: tunnel_remotes(h1, "geneve") == [], "the stale geneve tunnel goes",
               timeout=RECOVERY_GRACE + 30)
    cloud.wait_active(pa)


def test_admin_down_port_is_cut_off_and_comes_back(cloud, made):
    """port_update reaches the agent over the broker: the port moves to the dead VLAN and back."""
    net = made.network("mh-admin", "10.89.0.0/24", **{"provider:network_type": "gre"})
    pa, a = made.instance("h1", net)
    pb, b = made.instance("h2", net)
    cloud.wait_active(pa, pb)
    assert_pings(a, b)
    cloud.api("PUT", "/ports/" + pb["id"], {"port": {"admin_state_up": False}})
    cloud.wait(lambda: cloud.status(pb) == "DOWN", "b DOWN once disabled")
    cloud.wait(lambda: local_vlan(b) == c.DEAD_VLAN, "b on the dead VLAN")
    assert_no_ping(a, b.ip)
    cloud.api("PUT", "/ports/" + pb["id"], {"port": {"admin_state_up": True}})
    cloud.wait_active(pb)
    assert local_vlan(b) != c.DEAD_VLAN
    assert_pings(a, b)


def restart_broker(broker, down_seconds, timeout=90):
    """Stop the broker, wait ``down_seconds``, start it again with the same ports and node name."""
    broker.process.stop(grace=30)
    time.sleep(down_seconds)
    broker.process = start_process([os.path.join(broker.bindir, "rabbitmq-server")], broker.log_path,
                                   env=broker._environment(), cwd=broker.base_dir)
    broker.process.wait_until(lambda: rabbitmq.amqp_login(broker.port), timeout, "it accepted a guest login")


def test_broker_restart_converges(cloud, made):
    """Last in the module: the broker goes away for a while and comes back; traffic never stops, the
    agents resync, and wiring, reports and l2population casts work again."""
    h1, h2 = hosts(cloud)
    net = made.network("mh-broker", "10.90.0.0/24")
    pa, a = made.instance("h1", net)
    pb, b = made.instance("h2", net)
    cloud.wait_active(pa, pb)
    assert_pings(a, b)
    offsets = {host: os.path.getsize(cloud.agents[host].log_path) for host in ("h1", "h2")}
    # Down for a few report intervals (2 s), so the agents' reports fail meanwhile.
    cloud.broker.process.stop(grace=30)
    try:
        assert multihost.ping(a.namespace, b.ip, count=3) == 3, "traffic stopped with the broker"
        time.sleep(4)
    finally:
        restart_broker(cloud.broker, down_seconds=0)
    for host in ("h1", "h2"):
        cloud.wait(lambda host=host: "Full pass over" in log_since(cloud.agents[host], offsets[host]),
                   "the agent on %s resyncs after the outage" % host, timeout=120, interval=1.0)
    cloud.wait(lambda: all(row["alive"] for row in cloud.agent_rows()), "both agents report again", timeout=60)
    # The resync asked for a and b again (BUILD on the server): they are confirmed ACTIVE again.
    cloud.wait_active(pa, pb)
    pc, c_ = made.instance("h1", net)
    pd, d = made.instance("h2", net)
    cloud.wait_active(pc, pd, timeout=120)
    assert multihost.ping_until(c_.namespace, d.ip, deadline_seconds=60), "no echo between ports made after"
    assert multihost.ping(a.namespace, b.ip, count=3) == 3
    # d goes: host1 hears of it (fanout casts flow again) and drops its unicast entry.
    made.unplug(d)
    cloud.wait(lambda: not [line for line in agent_flows(h1.tunnel_bridge, c.UCAST_TO_TUN) if d.mac in line],
               "host1 forgets d", timeout=60)
    assert multihost.ping(a.namespace, b.ip, count=3) == 3
