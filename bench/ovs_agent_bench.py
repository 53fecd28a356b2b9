"""Open vSwitch agent benchmark on the real stack: server, RPC server, RabbitMQ, agent processes.

    sudo python bench/ovs_agent_bench.py [--ports 200]

Uses the test harness (tests/harness/multihost.OvsCloud): a private RabbitMQ,
netweave-server and netweave-rpc-server on SQLite with ML2 openvswitch and
l2population, the machine's ovs-vswitchd (userspace datapath; started for the
run when it is not running), two hosts as separate sets of bridges and one
netweave-openvswitch-agent process per host. It then measures

1. binding: N ports bound to host1 (one bulk POST) on a VXLAN network that
   also has a port on host2 (so host1 has a tunnel, flood, unicast and ARP
   responder entries), their internal ports added to host1's integration
   bridge in one ovs-vsctl call (as a hypervisor would), and the time from
   then until the API shows all N ports ACTIVE;
2. resync: host1's agent killed with SIGKILL and started again; the time
   from its start until every port was reported again (new revision) and is
   ACTIVE, the agent's own figure for its first full pass, and the changes
   made to host1's switch meanwhile, counted by ``ovs-ofctl monitor`` (flows
   added, modified, deleted on its three bridges) and ``ovsdb-client
   monitor`` (Port and Interface rows), until the l2population entries the
   agent read back at start have been handed over to the server's: all must
   be 0, and the before/after snapshots (ports, tags, interface options,
   flows without counters) must be equal.

Everything is removed at the end. Needs root, openvswitch-switch and rabbitmq-server.

    sudo python bench/ovs_agent_bench.py --flow-change [--ports 1000]

measures one port change instead, on one host and without the server: an
agent in this process (in-memory server, as tests/functional/test_ovs_scale.py),
N ports with fixed IPs on a VXLAN network (anti-spoofing flows each) and one
remote tunnel endpoint; then one port is disabled (admin_state_up false, as
``openstack port set --disable``) and the flow operations the next pass makes
are counted by ``ovs-ofctl monitor`` on br-int and br-tun. A learned flow
(table 20, hard_timeout 300) and a flow with another owner's cookie are put in
first; whether they survived is printed too.
"""
import argparse
import datetime
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from harness import multihost, ovs, rabbitmq  # noqa: E402
from netweave.core import naming  # noqa: E402
from netweave.mechanism_drivers.openvswitch import agent as agent_mod  # noqa: E402
from netweave.mechanism_drivers.openvswitch import client as client_mod  # noqa: E402
from netweave.mechanism_drivers.openvswitch import config as ovs_config  # noqa: E402
from netweave.mechanism_drivers.openvswitch import constants as c  # noqa: E402
from netweave.mechanism_drivers.openvswitch import ovsdb_state  # noqa: E402

RECOVERY_GRACE = 5
FULL_PASS = re.compile(r"^(\S+ \S+) .*Full pass over (\d+) ports in ([\d.]+)s: (\d+) OVSDB operations, "
                       r"(\d+ flow mods on .*)", re.M)


def log_time(stamp):
    """Epoch seconds of an oslo.log timestamp (local time, milliseconds)."""
    return datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()


def ports_of(cloud, network_id):
    return {p["id"]: p for p in cloud.api("GET", "/ports?network_id=%s" % network_id)["ports"]}


def wait_until(predicate, what, timeout=300, interval=0.1):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out: " + what)
        time.sleep(interval)


def plug_all(bridge, ports):
    """One ovs-vsctl transaction adding an internal port per instance, with its iface-id."""
    args = []
    for port in ports:
        device = naming.tap_device(port["id"])
        args += ["--", "add-port", bridge, device, "--", "set", "interface", device, "type=internal",
                 "external_ids:iface-id=%s" % port["id"], "external_ids:attached-mac=%s" % port["mac_address"],
                 "external_ids:iface-status=active"]
    ovs.vsctl(*args, timeout=300)


FOREIGN_COOKIE = 0xBEEF


def flow_change(ports):
    """Flow operations of one port change on a host with ``ports`` ports (see the module doc)."""
    sandbox = ovs.OvsSandbox()
    int_br = sandbox.track_bridge(sandbox.name("nwi", "b"))
    tun_br = sandbox.track_bridge(sandbox.name("nwt", "b"))
    config = ovs_config.AgentConfig(
        integration_bridge=int_br, tunnel_bridge=tun_br, int_peer_patch_port=sandbox.name("pti", "b"),
        tun_peer_patch_port=sandbox.name("ptt", "b"), local_ip="198.18.251.1", datapath_type="netdev",
        tunnel_types=("vxlan",))
    server = client_mod.InMemoryPluginClient()
    server.tunnel_sync("198.18.251.2", "vxlan", host="other")
    api = ovsdb_state.connect(ovs.DB_CONNECTION)
    agent = agent_mod.OVSAgent(config, client_mod.local_client(server, "bench"), api=api, host="bench")
    loop = client_mod.make_loop(agent, server, "bench")
    watch = None
    try:
        assert loop.run_once(full=True)
        net_id, details, args = "b0a7e1c0-0000-4000-8000-000000000001", [], []
        for i in range(ports):
            port_id = "%08x-0000-4000-8000-0000b0a7e1c0" % (0xB0A70000 + i)
            mac = "fa:16:3e:%02x:%02x:%02x" % (0x20, i // 256, i % 256)
            port = {"device": port_id, "port_id": port_id, "network_id": net_id, "network_type": "vxlan",
                    "physical_network": None, "segmentation_id": 7001, "mtu": 1450, "mac_address": mac,
                    "admin_state_up": True, "device_owner": "compute:nova",
                    "fixed_ips": [{"ip_address": "10.65.%d.%d" % (i // 200, 10 + i % 200)}]}
            server.set_port(port)
            details.append(port)
            device = naming.tap_device(port_id)
            args += ["--", "add-port", int_br, device, "--", "set", "interface", device, "type=internal",
                     "external_ids:iface-id=%s" % port_id, "external_ids:attached-mac=%s" % mac,
                     "external_ids:iface-status=active"]
        ovs.vsctl(*args, timeout=600)
        assert loop.run_once(full=False)
        assert len(agent.last_result.reported_up) == ports, agent.last_result
        ovs.ofctl("add-flow", tun_br, "table=%d,priority=1,hard_timeout=%d,cookie=%#x,dl_vlan=1,"
                  "dl_dst=fa:16:3e:99:99:99,actions=output:1" % (c.UCAST_TO_TUN, c.LEARN_HARD_TIMEOUT,
                                                                 c.LEARNED_FLOW_COOKIE))
        ovs.ofctl("add-flow", int_br, "table=%d,priority=77,cookie=%#x,udp,tp_dst=4242,actions=drop"
                  % (c.TRANSIENT_TABLE, FOREIGN_COOKIE))
        flows = {bridge: len(ovs.flows_of(bridge)) for bridge in (int_br, tun_br)}
        watch = ovs.SwitchWatch([int_br, tun_br], names={"no-ovsdb-row"}).start()
        mods, writes = agent.ofctl.flow_mods, agent.ofctl.writes
        server.set_port(dict(details[ports // 2], admin_state_up=False))
        loop.mark_dirty(details[ports // 2]["device"])
        started = time.monotonic()
        assert loop.run_once(full=False)
        seconds = time.monotonic() - started
        time.sleep(1)
        changes = [line for line in watch.stop() if "event=" in line]
        watch = None
        kinds = {}
        for line in changes:
            kind = re.search(r"event=(\w+)", line).group(1)
            kinds[kind] = kinds.get(kind, 0) + 1
        learned = any("cookie=%#x" % c.LEARNED_FLOW_COOKIE in line for line in ovs.flows_of(tun_br))
        foreign = any("cookie=%#x" % FOREIGN_COOKIE in line for line in ovs.flows_of(int_br))
        print("flow change: %d ports (flows: %s); one port disabled -> %d flow operations seen by the switch %s; "
              "the agent sent %d flow mods in %d bundle(s); pass %.2fs (%s); learned flow kept: %s; "
              "other owner's flow kept: %s; load average %s"
              % (ports, flows, len(changes), kinds, agent.ofctl.flow_mods - mods, agent.ofctl.writes - writes,
                 seconds, agent.last_result.plan, learned, foreign, os.getloadavg()))
        print("    the pass, by step: %s" % {k: round(v, 3) for k, v in agent.last_result.seconds.items()})
        for line in changes[:8]:
            print("   ", line)
        return 0
    finally:
        if watch is not None:
            watch.stop()
        agent.close()
        ovsdb_state.disconnect(api)
        sandbox.cleanup()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=None, help="200 (1000 with --flow-change)")
    parser.add_argument("--flow-change", action="store_true",
                        help="count the flow operations of one port change instead (no server)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("needs root (Open vSwitch, network namespaces)")
    if not ovs.openvswitch_installed():
        sys.exit(ovs.INSTALL_HINT)
    if args.flow_change:
        ovs.acquire_switch()
        try:
            return flow_change(args.ports or 1000)
        finally:
            ovs.release_switch()
    args.ports = args.ports or 200
    workdir = tempfile.mkdtemp(prefix="nw-ovsbench-")
    ovs.acquire_switch()
    broker = cloud = watch = None
    try:
        broker = rabbitmq.start_private_rabbitmq()
        cloud = multihost.OvsCloud(workdir, broker.transport_url, fdb_recovery_grace=RECOVERY_GRACE)
        started = time.monotonic()
        cloud.start()
        print("stack up in %.1fs (broker, server, rpc-server, 2 Open vSwitch agents)" % (time.monotonic() - started))
        h1, h2 = cloud.ovs_hosts["h1"], cloud.ovs_hosts["h2"]
        net = cloud.network("bench", "10.64.0.0/16")
        remote = cloud.port(net, "h2")
        cloud.plug("h2", net, remote)
        cloud.wait_active(remote)

        created = time.monotonic()
        body = {"ports": [{"network_id": net["id"], "device_owner": "compute:nova",
                           "binding:host_id": h1.agent_host} for _ in range(args.ports)]}
        ports = cloud.api("POST", "/ports", body)["ports"]
        print("create+bind of %d ports (one bulk POST): %.2fs" % (len(ports), time.monotonic() - created))
        plugged = time.monotonic()
        plug_all(h1.integration_bridge, ports)
        plugs_at = time.monotonic()
        ids = {p["id"] for p in ports}
        wait_until(lambda: all(p["status"] == "ACTIVE" for i, p in ports_of(cloud, net["id"]).items() if i in ids),
                   "%d ports ACTIVE" % len(ids))
        wired = time.monotonic() - plugs_at
        print("binding: %d internal ports added in one ovs-vsctl call (%.2fs) -> all ACTIVE through the API: "
              "%.2fs (%.1f ports/s)" % (args.ports, plugs_at - plugged, wired, args.ports / wired))
        wait_until(lambda: naming.ovs_tunnel_port("vxlan", h2.local_ip) in multihost.ovs_ports(h1.tunnel_bridge),
                   "host1's tunnel towards host2", timeout=60)
        time.sleep(2)  # the last l2population casts have been applied

        before = h1.switch_state()
        flow_counts = {bridge: len(flows) for bridge, (_p, _i, flows) in before.items()}
        names = {n for bridge in h1.bridges for n in multihost.ovs_ports(bridge)}
        revisions = {i: p["revision_number"] for i, p in ports_of(cloud, net["id"]).items() if i in ids}
        watch = ovs.SwitchWatch(h1.bridges, names, ignore_cookie=c.LEARNED_FLOW_COOKIE).start()
        cloud.kill_agent("h1")
        log_offset = os.path.getsize(cloud.agents["h1"].log_path)
        restart, restart_wall = time.monotonic(), time.time()
        agent = cloud.start_agent("h1")
        wait_until(lambda: all(p["revision_number"] > revisions[i] and p["status"] == "ACTIVE"
                               for i, p in ports_of(cloud, net["id"]).items() if i in ids),
                   "resync of %d ports" % len(ids))
        resync = time.monotonic() - restart
        time.sleep(RECOVERY_GRACE + 2)  # the recovered l2population entries give way to the server's
        changes = watch.stop()
        watch = None
        after = h1.switch_state()
        with open(agent.log_path) as log:
            log.seek(log_offset)
            passes = FULL_PASS.findall(log.read())
        differing = [bridge for bridge in before if before[bridge] != after[bridge]]

        print("resync: agent restart (kill -9) with %d wired ports -> all reported again and ACTIVE: %.2fs"
              % (args.ports, resync))
        if passes:
            stamp, devices, seconds, ops, bridges = passes[0]
            print("        the agent's first full pass: %s ports in %ss, %s OVSDB operations, %s"
                  % (devices, seconds, ops, bridges))
            began = log_time(stamp) - float(seconds)
            print("        agent start-up (exec to the first pass): %.2fs; after the pass until the API showed "
                  "all ACTIVE: %.2fs" % (began - restart_wall, resync - (log_time(stamp) - restart_wall)))
        print("switch changes during the resync: %d (flow monitor + OVSDB monitor), bridges whose "
              "snapshot differs: %d" % (len(changes), len(differing)))
        for line in changes[:10]:
            print("   ", line)
        print("flows on host1: %s" % flow_counts)
        print("ran with: private RabbitMQ, netweave-server (1 worker) + netweave-rpc-server on SQLite, "
              "netweave-openvswitch-agent processes (polling_interval 1, report_interval 2, l2_population, "
              "arp_responder, netdev datapath); logs in %s" % workdir)
        return 0 if not changes and not differing else 1
    finally:
        if watch is not None:
            watch.stop()
        if cloud is not None:
            cloud.close()
        if broker is not None:
            broker.stop()
        ovs.release_switch()


if __name__ == "__main__":
    sys.exit(main())
