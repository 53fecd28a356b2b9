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
from netweave.mechanism_drivers.openvswitch import constants as c  # noqa: E402

RECOVERY_GRACE = 5
FULL_PASS = re.compile(r"^(\S+ \S+) .*Full pass over (\d+) ports in ([\d.]+)s: (\d+) OVSDB operations, "
                       r"flows replaced on (.*)", re.M)


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=200)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("needs root (Open vSwitch, network namespaces)")
    if not ovs.openvswitch_installed():
        sys.exit(ovs.INSTALL_HINT)
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
            print("        the agent's first full pass: %s ports in %ss, %s OVSDB operations, flows replaced on %s"
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
