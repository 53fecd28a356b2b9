"""DHCP agent benchmark: cold start of many networks, and one port change on a big network.

    sudo python bench/dhcp_agent_bench.py [--networks 50] [--ports 1000] [--quick]

How it runs: the agent's reconciler (core.agent.dhcp.agent.DhcpAgent) in this
process with its real driver layer (qdhcp- namespaces, veth pairs from the
linuxbridge interface driver, one real dnsmasq per network) and an in-memory
stand-in for the server's RPC answers (network info dicts, DHCP port
creation), so the figures are the agent's own work, not the broker's or the
database's. A bench host namespace holds the taps and one Linux bridge per
network, as the Linux bridge agent would wire them.

1. cold start: N networks (one /24 subnet and 5 instance ports each); the
   time of the first full sync, from nothing to every dnsmasq started and
   answering (a busybox udhcpc in an instance of the last network must get
   its lease right after), then the time to tear all of them down again;
2. port change: one network with M ports served; a port is added the way a
   port_create_end notification adds it, and the bench measures (a) the
   pass (render, atomic rewrite, SIGHUP), (b) the time until dnsmasq logged
   rereading its hosts file, (c) the time until udhcpc from the new MAC,
   started right after the pass, is bound; dnsmasq's pid must not change.

With ``--stack`` a third figure comes from the real thing: a private RabbitMQ,
netweave-server and netweave-rpc-server (SQLite), the Linux bridge agents of
tests/harness/multihost.Cloud, N networks with a DHCP subnet made through the
API, then a netweave-dhcp-agent process started cold: the time from its start
until all N dnsmasq run, and until all N DHCP ports are ACTIVE (wired by the
Linux bridge agent and reported).

Everything is removed at the end. Needs root, ip, dnsmasq and udhcpc
(and rabbitmq-server for --stack).
"""
import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from harness import dhcp as dh  # noqa: E402
from netweave.core import naming  # noqa: E402
from netweave.core.agent import interface  # noqa: E402
from netweave.core.agent.dhcp import agent as agent_mod  # noqa: E402
from netweave.core.agent.dhcp import config as dhcp_config  # noqa: E402
from netweave.core.agent.dhcp import driver as driver_mod  # noqa: E402

HOST = "bench-host"
NEW_PORT_IP = "10.200.7.250"


class InMemoryServer:
    """Answers the agent's RPC calls from dicts; DHCP ports get .2 of each subnet."""

    def __init__(self, networks):
        self.networks = {n["id"]: n for n in networks}
        self.ready = 0
        self.created = 0

    def get_active_networks_info(self, context, host):
        return list(self.networks.values())

    def get_network_info(self, context, network_id, host):
        return self.networks.get(network_id)

    def create_dhcp_port(self, context, port, host):
        data = port["port"]
        network = self.networks[data["network_id"]]
        cidrs = {s["id"]: s["cidr"] for s in network["subnets"]}
        self.created += 1
        fixed_ips = [{"subnet_id": f["subnet_id"], "ip_address": cidrs[f["subnet_id"]].rsplit(".", 1)[0] + ".2"}
                     for f in data["fixed_ips"]]
        created = {"id": str(uuid.uuid4()), "network_id": network["id"], "mac_address": _mac(0xdd0000 + self.created),
                   "admin_state_up": True, "device_owner": "network:dhcp", "device_id": data["device_id"],
                   "fixed_ips": fixed_ips, "extra_dhcp_opts": []}
        network["ports"].append(created)
        return created

    def update_dhcp_port(self, context, port_id, port, host):
        raise AssertionError("not expected in this bench")

    def release_dhcp_port(self, context, network_id, device_id, host):
        pass

    def dhcp_ready_on_ports(self, context, port_ids):
        self.ready += len(port_ids)


def _mac(n):
    return "fa:16:3e:%02x:%02x:%02x" % ((n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF)


def _network(index, ports, base=None, prefix=24):
    """A network with a /``prefix`` subnet holding ``ports`` instance ports."""
    network_id = str(uuid.uuid4())
    base = base or "10.%d.%d" % (100 + index // 200, index % 200)
    cidr = "%s.0/%d" % (base, prefix)
    subnet = dh.subnet(cidr, gateway_ip=base + ".1", dns=["192.0.2.53"])
    subnet["network_id"] = network_id
    first = [int(x) for x in base.split(".")]
    made = []
    for n in range(ports):
        host_part = 10 + n
        address = "%d.%d.%d.%d" % (first[0], first[1], first[2] + host_part // 256, host_part % 256)
        made.append(dict(dh.port(_mac(index * 4096 + n + 1), [(subnet["id"], address)]), network_id=network_id))
    return dh.network_info(network_id, subnets=[subnet], ports=made, mtu=1450)


class Bench:
    def __init__(self, args):
        self.args = args
        self.lab = dh.Lab("nwdb")
        self.lab.host()
        self.state_path = dh.world_readable_dir("nwdhcpbench-")
        self.log_dir = os.path.join(self.state_path, "log")
        self.settings = dhcp_config.DhcpSettings(state_path=self.state_path, dnsmasq_base_log_dir=self.log_dir)
        self.driver = driver_mod.DnsmasqDriver(self.settings,
                                               interface.BridgeInterfaceDriver(host_namespace=self.lab.host_ns))
        self.workdir = tempfile.mkdtemp(prefix="nwdhcpbench-w-")

    def agent(self, server):
        return agent_mod.DhcpAgent(self.settings, HOST, server, None, self.driver,
                                   num_sync_threads=self.args.threads, resync_interval=0)

    def wire(self, network):
        """The Linux bridge agent's part: a bridge for the network, the DHCP tap in it."""
        bridge = self.lab.bridge(network["id"])
        dhcp_port = next(p for p in network["ports"] if p["device_owner"] == "network:dhcp")
        self.lab.join(naming.tap_device(dhcp_port["id"]), bridge)
        return bridge

    def lease(self, network, port, bridge):
        namespace = self.lab.instance(port["mac_address"], bridge)
        client = self.lab.dhcp_client(namespace, self.workdir)
        started = time.monotonic()
        status = client.try_once(tries=3)
        elapsed = time.monotonic() - started
        bound = [e for e in client.events() if e["event"] == "bound"]
        ok = status == 0 and bound and bound[-1]["ip"] == port["fixed_ips"][0]["ip_address"]
        return ok, elapsed

    def cold_start(self):
        count = self.args.networks
        networks = [_network(i, 5) for i in range(count)]
        for network in networks:
            self.lab.track_network(network["id"])
        server = InMemoryServer(networks)
        agent = self.agent(server)
        started = time.monotonic()
        assert agent.run_once(), agent.last_error
        elapsed = time.monotonic() - started
        running = sum(1 for n in networks if self.driver.process(n["id"]).active)
        last = networks[-1]
        bridge = self.wire(last)
        ok, lease_time = self.lease(last, last["ports"][0], bridge)
        # The networks leave this host (unscheduled): dnsmasq, port and namespace go.
        started = time.monotonic()
        for network in networks:
            agent.disable_network(network["id"])
        teardown = time.monotonic() - started
        gone = sum(1 for n in networks if not interface.namespace_exists(naming.dhcp_namespace(n["id"])))
        return {"networks": count, "seconds": elapsed, "dnsmasq running": running, "ready ports": server.ready,
                "lease ok": ok, "lease seconds": lease_time, "teardown seconds": teardown, "namespaces gone": gone,
                "networks list": networks}

    def port_change(self, index):
        network = _network(index, self.args.ports, base="10.200.0", prefix=21)
        self.lab.track_network(network["id"])
        server = InMemoryServer([network])
        agent = self.agent(server)
        assert agent.run_once(), agent.last_error
        bridge = self.wire(network)
        manager = self.driver.process(network["id"])
        pid = manager.pid
        log_path = os.path.join(self.log_dir, network["id"], "dhcp_dns_log")
        hosts_path = self.driver.paths(network["id"]).hosts
        dh.wait_for(lambda: os.path.exists(log_path), "dnsmasq logs")
        seen = open(log_path).read().count("read %s" % hosts_path)

        subnet = network["subnets"][0]
        new_port = dict(dh.port(_mac(0xee0001), [(subnet["id"], NEW_PORT_IP)]),
                        network_id=network["id"])
        # The instance is ready before the change, as Nova plugs it before it boots.
        namespace = self.lab.instance(new_port["mac_address"], bridge)
        client = self.lab.dhcp_client(namespace, self.workdir)

        started = time.monotonic()
        agent_mod.DhcpNotifications(agent).port_create_end(None, payload={"port": new_port})
        assert agent.run_once(), agent.last_error
        pass_time = time.monotonic() - started
        dh.wait_for(lambda: open(log_path).read().count("read %s" % hosts_path) > seen, "dnsmasq rereads",
                    timeout=10, interval=0.002)
        reread_time = time.monotonic() - started
        status = client.try_once(tries=3)
        lease_time = time.monotonic() - started
        bound = [e for e in client.events() if e["event"] == "bound"]
        return {"ports": self.args.ports, "pass seconds": pass_time, "reread seconds": reread_time,
                "lease seconds": lease_time, "lease ok": status == 0 and bound and bound[-1]["ip"] == NEW_PORT_IP,
                "same pid": manager.pid == pid, "network": network}

    def close(self, agents_networks):
        for network_id in agents_networks:
            try:
                self.driver.teardown(network_id)
            except Exception as error:  # noqa: BLE001 - keep cleaning
                print("teardown of %s failed: %s" % (network_id, error), file=sys.stderr)
        dh.stop_served_networks(self.state_path)
        self.lab.close()
        shutil.rmtree(self.state_path, ignore_errors=True)
        shutil.rmtree(self.workdir, ignore_errors=True)


def stack_cold_start(count):
    """The agent process against the real server and broker: cold start with ``count`` networks."""
    from harness import multihost, rabbitmq
    from netweave.core.agent import external_process
    workdir = tempfile.mkdtemp(prefix="nwdhcpbench-s-")
    state_path = dh.world_readable_dir("nwdhcpbench-ss-")
    broker = rabbitmq.start_private_rabbitmq()
    cloud = multihost.Cloud(workdir, broker.transport_url)
    agent = None
    try:
        cloud.start()
        made = time.monotonic()
        networks = []
        for index in range(count):
            net = cloud.api("POST", "/networks", {"network": {"name": "bench-%d" % index}})["network"]
            cloud.api("POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                      "cidr": "10.%d.%d.0/24" % (150 + index // 200, index % 200)}})
            networks.append(net)
        print("stack              %d networks with a DHCP subnet made through the API in %.1f s" % (
            count, time.monotonic() - made))
        started = time.monotonic()
        agent = dh.start_dhcp_agent(cloud, "h1", state_path)

        def running():
            return sum(1 for n in networks
                       if external_process.ProcessManager(n["id"], "dnsmasq", lambda _p: [], state_path).active)
        dh.wait_for(lambda: running() == count, "every network has its dnsmasq", timeout=120, interval=0.05)
        served = time.monotonic() - started

        def active_ports():
            ports = cloud.api("GET", "/ports?device_owner=network:dhcp")["ports"]
            return sum(1 for p in ports if p["status"] == "ACTIVE")
        dh.wait_for(lambda: active_ports() == count, "every DHCP port is ACTIVE", timeout=180, interval=0.2)
        active = time.monotonic() - started
        print("stack cold start   netweave-dhcp-agent process start -> %d dnsmasq running %.2f s, "
              "-> %d DHCP ports ACTIVE %.2f s" % (count, served, count, active))
        return served
    finally:
        if agent is not None:
            agent.stop()
        dh.stop_served_networks(state_path)
        cloud.close()
        broker.stop()
        shutil.rmtree(state_path, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=50)
    parser.add_argument("--ports", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4, help="num_sync_threads of the agent")
    parser.add_argument("--quick", action="store_true", help="5 networks and 100 ports: a smoke run")
    parser.add_argument("--stack", action="store_true",
                        help="also measure the cold start of the agent process against the real server and broker")
    args = parser.parse_args(argv)
    if args.quick:
        args.networks, args.ports = 5, 100
    if os.geteuid() != 0:
        print("dhcp_agent_bench.py needs root (namespaces, veths, dnsmasq)", file=sys.stderr)
        return 2
    for tool in ("ip", "dnsmasq", "udhcpc"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            print("dhcp_agent_bench.py needs %s" % tool, file=sys.stderr)
            return 2
    bench = Bench(args)
    served = []
    try:
        print("DHCP agent bench: in-process agent, real namespaces/veths/dnsmasq, in-memory RPC answers")
        print("  machine            %s, %d CPUs, Python %s" % (platform.platform(), os.cpu_count(),
                                                               platform.python_version()))
        print("  dnsmasq            %s" % subprocess.run(["dnsmasq", "--version"], capture_output=True,
                                                         text=True).stdout.splitlines()[0])
        print("  num_sync_threads   %d" % args.threads)
        cold = bench.cold_start()
        served += [n["id"] for n in cold["networks list"]]
        print("cold start         %d networks served in %.2f s (%d dnsmasq running, %d ports reported ready); "
              "a lease on the last network %s in %.2f s" % (
                  cold["networks"], cold["seconds"], cold["dnsmasq running"], cold["ready ports"],
                  "obtained" if cold["lease ok"] else "NOT obtained", cold["lease seconds"]))
        print("teardown           %d networks removed in %.2f s (%d namespaces gone)" % (
            cold["networks"], cold["teardown seconds"], cold["namespaces gone"]))
        change = bench.port_change(args.networks + 1)
        served.append(change["network"]["id"])
        print("port change        %d ports: pass %.1f ms, dnsmasq reread %.1f ms, new MAC bound %.1f ms, "
              "dnsmasq %s" % (change["ports"], change["pass seconds"] * 1000, change["reread seconds"] * 1000,
                              change["lease seconds"] * 1000,
                              "kept (same pid)" if change["same pid"] else "RESTARTED"))
        ok = cold["lease ok"] and cold["dnsmasq running"] == cold["networks"] and change["lease ok"] \
            and cold["namespaces gone"] == cold["networks"] \
            and change["same pid"]
        cold_seconds = cold["seconds"]
        if args.stack:
            cold_seconds = max(cold_seconds, stack_cold_start(args.networks))
        print("targets            cold start < 15 s: %s; port change visible < 200 ms: %s" % (
            "met" if cold_seconds < 15 else "MISSED", "met" if change["reread seconds"] < 0.2 else "MISSED"))
        return 0 if ok else 1
    finally:
        bench.close(served)


if __name__ == "__main__":
    sys.exit(main())
