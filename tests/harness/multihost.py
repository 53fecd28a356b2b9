"""Hosts and instances as network namespaces, and ICMP between them.

Shared by the Linux bridge data-plane tests (agent in-process) and the
multi-host tests (agents as processes, real server and broker).

* ``run`` runs a command and fails with its stderr;
* ``ping(namespace, dst)`` counts ICMP echo replies, sent from a raw socket by
  a small Python program (there is not always a ping binary);
* ``Namespaces`` creates namespaces with a per-test prefix, joins two hosts
  by an underlay veth (with IPs) and a provider veth (without), plugs
  instances (a namespace whose eth0 is the peer of tap<port id[:11]> in the
  host, as a hypervisor would create it) and removes everything in
  ``close()``;
* ``Cloud``: netweave-server and netweave-rpc-server (SQLite, ML2 with
  linuxbridge,l2population) on a given broker, hosts h1 and h2, and one
  netweave-linuxbridge-agent process per host. The agents run in the root
  namespace, where the broker listens on 127.0.0.1, with ``--netns`` naming
  the host namespace whose devices they manage.
"""
import contextlib
import json
import os
import random
import subprocess
import sys
import textwrap
import time
import uuid

import requests

from harness import processes, system
from harness import server as server_harness
from netweave.core import naming

PING = r"""
import os, socket, struct, sys, time

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF

dst, count, timeout, size = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
interval = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xFFFF
payload = bytes(i & 0xFF for i in range(size))
answered = 0
for seq in range(count):
    started = time.monotonic()
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq & 0xFFFF) + payload
    packet = struct.pack("!BBHHH", 8, 0, checksum(body), ident, seq & 0xFFFF) + payload
    sock.sendto(packet, (dst, 0))
    deadline = started + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data, source = sock.recvfrom(65535)
        except socket.timeout:
            break
        start = (data[0] & 0x0F) * 4
        kind, _code, _sum, rid, rseq = struct.unpack("!BBHHH", data[start:start + 8])
        if source[0] == dst and kind == 0 and rid == ident and rseq == seq & 0xFFFF:
            answered += 1
            break
    pause = interval - (time.monotonic() - started)
    if pause > 0:
        time.sleep(pause)
print(answered)
"""

UNDERLAY = {"h1": "192.0.2.1", "h2": "192.0.2.2"}
PROVIDER_NIC = "pv0"
UNDERLAY_NIC = "ul0"


def run(*args, check=True, input=None, timeout=60):
    result = subprocess.run([system.find_executable(args[0]) or args[0], *args[1:]], capture_output=True,
                            text=True, input=input, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError("%s failed (%s): %s" % (" ".join(args), result.returncode, result.stderr.strip()))
    return result


def ping(namespace, dst, count=3, timeout=1.0, size=56):
    """Number of ICMP echo replies from ``dst`` seen in ``namespace``."""
    result = run("ip", "netns", "exec", namespace, sys.executable, "-c", PING, dst, str(count), str(timeout),
                 str(size))
    return int(result.stdout.strip() or 0)


def start_ping(namespace, dst, count, interval=0.1, timeout=0.5):
    """A background pinger (``count`` echoes, one per ``interval``); communicate() gives the replies."""
    argv = ["ip", "netns", "exec", namespace, sys.executable, "-c", PING, dst, str(count), str(timeout), "56",
            str(interval)]
    return subprocess.Popen([system.find_executable("ip") or "ip"] + argv[1:], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def ping_until(namespace, dst, deadline_seconds=20.0):
    """True as soon as one echo is answered, within ``deadline_seconds``."""
    import time
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if ping(namespace, dst, count=1, timeout=0.5):
            return True
    return False


def link_json(namespace, device):
    result = run("ip", "-j", "-d", "-n", namespace, "link", "show", "dev", device, check=False)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)[0]


def links(namespace):
    """Names of every link in ``namespace``."""
    result = run("ip", "-j", "-n", namespace, "link", "show")
    return sorted(entry["ifname"] for entry in json.loads(result.stdout or "[]"))


def fdb_entries(namespace, device):
    """[(mac, dst)] of ``bridge fdb show dev <device>`` in ``namespace`` (dst None when absent)."""
    result = run("ip", "netns", "exec", namespace, "bridge", "-j", "fdb", "show", "dev", device, check=False)
    if result.returncode != 0:
        return []
    return [(entry.get("mac"), entry.get("dst")) for entry in json.loads(result.stdout or "[]")]


def random_mac():
    return "fa:16:3e:%02x:%02x:%02x" % tuple(random.randrange(256) for _ in range(3))


class Instance:
    def __init__(self, namespace, device, port_id, mac, ip):
        self.namespace, self.device, self.port_id, self.mac, self.ip = namespace, device, port_id, mac, ip


class Namespaces:
    """Namespaces of one test, all named <tag>-<suffix>; ``close`` deletes them."""

    def __init__(self, prefix="nwmh"):
        self.tag = "%s%s" % (prefix, uuid.uuid4().hex[:6])
        self.namespaces = []
        self.hosts = {}

    def netns(self, suffix):
        name = "%s-%s" % (self.tag, suffix)
        run("ip", "netns", "add", name)
        self.namespaces.append(name)
        # No IPv6 chatter (router solicitations, DAD) to blur traffic counters.
        for key in ("all", "default"):
            run("ip", "netns", "exec", name, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/%s/disable_ipv6" % key)
        run("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def host(self, name):
        namespace = self.netns(name)
        self.hosts[name] = namespace
        return namespace

    def connect_hosts(self, first="h1", second="h2", mtu=1500):
        """Underlay ul0 (UNDERLAY's IPs) and provider NIC pv0 (no IP) between two hosts."""
        h1, h2 = self.hosts[first], self.hosts[second]
        for device in (UNDERLAY_NIC, PROVIDER_NIC):
            run("ip", "-n", h1, "link", "add", device, "mtu", str(mtu), "type", "veth", "peer", "name", device,
                "netns", h2, "mtu", str(mtu))
        for host, namespace in ((first, h1), (second, h2)):
            run("ip", "-n", namespace, "addr", "add", UNDERLAY[host] + "/24", "dev", UNDERLAY_NIC)
            run("ip", "-n", namespace, "link", "set", UNDERLAY_NIC, "up")
            run("ip", "-n", namespace, "link", "set", PROVIDER_NIC, "up")

    def instance(self, host, device, mac, ip, mtu=1500, prefixlen=24):
        """An instance namespace whose eth0 (``mac``, ``ip``) is the peer of ``device`` in ``host``."""
        namespace = self.netns("i" + device[3:11])
        run("ip", "-n", self.hosts[host], "link", "add", device, "type", "veth", "peer", "name", "eth0",
            "netns", namespace)
        run("ip", "-n", namespace, "link", "set", "eth0", "address", mac, "mtu", str(mtu), "up")
        if ip:
            run("ip", "-n", namespace, "addr", "add", "%s/%d" % (ip, prefixlen), "dev", "eth0")
        return namespace

    def remove(self, namespace):
        run("ip", "netns", "del", namespace, check=False)
        if namespace in self.namespaces:
            self.namespaces.remove(namespace)

    def close(self):
        for namespace in reversed(self.namespaces):
            with contextlib.suppress(Exception):
                run("ip", "netns", "del", namespace, check=False)
        self.namespaces = []


HOSTS = ("h1", "h2")
AGENT_HOST = {"h1": "host1", "h2": "host2"}
FLOOD = "00:00:00:00:00:00"
BIN = server_harness.BIN_DIR


class Cloud:
    def __init__(self, workdir, transport_url, hosts=HOSTS):
        self.hosts = tuple(hosts)
        self.workdir = workdir
        self.transport_url = transport_url
        self.lab = Namespaces("nwmh")
        self.server = self.rpc = None
        self.agents = {}
        self.session = requests.Session()

    # --- processes -----------------------------------------------------------------------

    def start(self):
        for host in self.hosts:
            self.lab.host(host)
        if len(self.hosts) == 2:
            self.lab.connect_hosts(*self.hosts)
        self.server = server_harness.start_server(
            os.path.join(self.workdir, "server"),
            ml2={"mechanism_drivers": "linuxbridge,l2population", "tenant_network_types": "vxlan"},
            extra="\n[DEFAULT]\ntransport_url = %s\n" % self.transport_url)
        args = []
        for path in self.server.config_files:
            args += ["--config-file", path]
        self.rpc = processes.start_process([os.path.join(BIN, "netweave-rpc-server")] + args,
                                           os.path.join(self.workdir, "rpc-server.log"))
        self.rpc.wait_until(lambda: "serving" in open(self.rpc.log_path).read(), timeout=60,
                            what="the RPC server listens")
        for host in self.hosts:
            self.start_agent(host)
        self.wait(lambda: len(self.agent_rows()) == len(self.hosts) and all(a["alive"] for a in self.agent_rows()),
                  "both agents report", timeout=60)

    def agent_ini(self, host):
        path = os.path.join(self.workdir, "linuxbridge-%s.ini" % host)
        with open(path, "w") as handle:
            handle.write(textwrap.dedent("""\
                [DEFAULT]
                host = {name}
                transport_url = {url}

                [agent]
                report_interval = 2
                polling_interval = 1

                [linux_bridge]
                physical_interface_mappings = physnet1:{nic}

                [vxlan]
                enable_vxlan = true
                local_ip = {ip}
                l2_population = true
                arp_responder = true

                [securitygroup]
                enable_security_group = false
                firewall_driver = noop
                """).format(name=AGENT_HOST[host], url=self.transport_url, nic=PROVIDER_NIC,
                            ip=UNDERLAY[host]))
        return path

    def start_agent(self, host):
        argv = [os.path.join(BIN, "netweave-linuxbridge-agent"), "--config-file", self.agent_ini(host),
                "--netns", self.lab.hosts[host]]
        self.agents[host] = processes.start_process(argv, os.path.join(self.workdir, "agent-%s.log" % host))
        return self.agents[host]

    def close(self):
        for process in list(self.agents.values()) + [self.rpc, self.server]:
            if process is not None:
                with contextlib.suppress(Exception):
                    process.stop()
        self.session.close()
        self.lab.close()

    # --- API -------------------------------------------------------------------------------

    def api(self, method, path, body=None, expect=(200, 201, 204)):
        response = self.session.request(method, self.server.url + "/v2.0" + path, json=body, timeout=30)
        assert response.status_code in expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def agent_rows(self):
        return [a for a in self.api("GET", "/agents")["agents"] if a["agent_type"] == "Linux bridge agent"]

    def network(self, name, cidr, **provider):
        net = self.api("POST", "/networks", {"network": dict({"name": name}, **provider)})["network"]
        self.api("POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                                 "enable_dhcp": False, "gateway_ip": None}})
        return net

    def port(self, net, host):
        return self.api("POST", "/ports", {"port": {"network_id": net["id"], "device_owner": "",
                                                    "binding:host_id": AGENT_HOST[host]}})["port"]

    def status(self, port):
        return self.api("GET", "/ports/" + port["id"])["port"]["status"]

    def plug(self, host, net, port):
        """The hypervisor's part: the instance and its tap in the host."""
        ip = port["fixed_ips"][0]["ip_address"]
        namespace = self.lab.instance(host, naming.tap_device(port["id"]), port["mac_address"], ip,
                                      mtu=net.get("mtu") or 1500)
        return Instance(namespace, naming.tap_device(port["id"]), port["id"], port["mac_address"], ip)

    @staticmethod
    def wait(predicate, what, timeout=30.0, interval=0.2):
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting until " + what)
            time.sleep(interval)

    def wait_active(self, *ports, timeout=30.0):
        self.wait(lambda: all(self.status(p) == "ACTIVE" for p in ports), "ports are ACTIVE", timeout)
