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
* ``OvsCloud``: the same control plane with ML2 openvswitch,l2population and
  one netweave-openvswitch-agent process per host; hosts are sets of bridges
  on the machine's ovs-vswitchd (``OvsHost``; see the class for the model).
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

from harness import ovs as ovs_harness
from harness import processes, system
from harness import server as server_harness
from netweave.core import naming
from netweave.mechanism_drivers.openvswitch import flows as ovs_flows

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
        # {host: ["physnetX:nic", ...]} beyond physnet1 on the provider NIC.
        self.extra_mappings = {}
        # More lines for the server's [DEFAULT] section (and sections after it).
        self.server_defaults = ""
        # netweave-server's API worker processes.
        self.api_workers = 1
        self.session = requests.Session()

    # --- processes -----------------------------------------------------------------------

    def start(self):
        for host in self.hosts:
            self.lab.host(host)
        if len(self.hosts) == 2:
            self.lab.connect_hosts(*self.hosts)
        self.start_control_plane({"mechanism_drivers": "linuxbridge,l2population", "tenant_network_types": "vxlan"},
                                 defaults=self.server_defaults)
        for host in self.hosts:
            self.start_agent(host)
        self.wait(lambda: len(self.agent_rows()) == len(self.hosts) and all(a["alive"] for a in self.agent_rows()),
                  "both agents report", timeout=60)

    def start_control_plane(self, ml2, defaults=""):
        """netweave-server and netweave-rpc-server on the broker; ``defaults``: more [DEFAULT] lines."""
        self.server = server_harness.start_server(
            os.path.join(self.workdir, "server"), ml2=ml2, workers=self.api_workers,
            extra="\n[DEFAULT]\ntransport_url = %s\n%s" % (self.transport_url, defaults))
        args = []
        for path in self.server.config_files:
            args += ["--config-file", path]
        self.rpc = processes.start_process([os.path.join(BIN, "netweave-rpc-server")] + args,
                                           os.path.join(self.workdir, "rpc-server.log"))
        self.rpc.wait_until(lambda: "serving" in open(self.rpc.log_path).read(), timeout=60,
                            what="the RPC server listens")

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
                physical_interface_mappings = {mappings}

                [vxlan]
                enable_vxlan = true
                local_ip = {ip}
                l2_population = true
                arp_responder = true

                [securitygroup]
                enable_security_group = false
                firewall_driver = noop
                """).format(name=AGENT_HOST[host], url=self.transport_url,
                            mappings=",".join(["physnet1:" + PROVIDER_NIC] + self.extra_mappings.get(host, [])),
                            ip=UNDERLAY[host]))
        return path

    def start_agent(self, host):
        argv = [os.path.join(BIN, "netweave-linuxbridge-agent"), "--config-file", self.agent_ini(host),
                "--netns", self.lab.hosts[host]]
        self.agents[host] = processes.start_process(argv, os.path.join(self.workdir, "agent-%s.log" % host))
        return self.agents[host]

    def stop_processes(self, *more):
        """Stop ``more`` (a subclass's agents), the L2 agents, the RPC server and the API server side
        by side; close does it too, so a subclass stopping its own agents first passes them here."""
        server = self.server.process if self.server is not None else None
        with contextlib.suppress(Exception):
            processes.stop_together(list(more) + list(self.agents.values()) + [self.rpc, server])

    def close(self):
        self.stop_processes()
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


# --- Open vSwitch hosts -----------------------------------------------------------------------

OVS_AGENT_TYPE = "Open vSwitch agent"
OVS_TUNNEL_TYPES = ("vxlan", "gre", "geneve")


def ovs_ports(bridge):
    """Port names of ``bridge``; [] when it does not exist."""
    result = ovs_harness.run(["ovs-vsctl", "--timeout=30", "list-ports", bridge], check=False)
    return result.stdout.split() if result.returncode == 0 else []


def ovs_interfaces():
    """{interface name: (type, options)} of the whole switch, read in one command."""
    table = json.loads(ovs_harness.vsctl("--format=json", "--columns=name,type,options", "list", "interface"))
    result = {}
    for name, kind, options in table["data"]:
        pairs = options[1] if isinstance(options, list) and options and options[0] == "map" else []
        result[name] = (kind, dict(pairs))
    return result


_CHECKSUM_OFFLOAD_OFF = """
import sys
from pyroute2.ethtool import Ethtool
ethtool = Ethtool()
features = ethtool.get_features(sys.argv[1])
features.features["tx-checksum-ip-generic"].enable = False
ethtool.set_features(sys.argv[1], features)
ethtool.close()
"""


class OvsHost:
    """One hypervisor's share of the machine's ovs-vswitchd: bridge and patch port names of its own,
    its tunnel endpoint address on the underlay, its agent's ini file."""

    def __init__(self, sandbox, index, local_ip):
        self.name = "h%d" % index
        self.agent_host = AGENT_HOST[self.name]
        self.local_ip = local_ip
        self.integration_bridge = sandbox.name("mhi", str(index))
        self.tunnel_bridge = sandbox.name("mht", str(index))
        self.physical_bridge = sandbox.name("mhp", str(index))
        self.int_patch = sandbox.name("mpi", str(index))
        self.tun_patch = sandbox.name("mpt", str(index))

    @property
    def bridges(self):
        return (self.integration_bridge, self.tunnel_bridge, self.physical_bridge)

    def ini(self, transport_url, l2_population=True, tunnel_types=OVS_TUNNEL_TYPES, fdb_recovery_grace=30,
            firewall_driver="noop"):
        return textwrap.dedent("""\
            [DEFAULT]
            host = {host}
            transport_url = {url}

            [agent]
            report_interval = 2
            polling_interval = 1
            tunnel_types = {tunnels}
            l2_population = {l2pop}
            arp_responder = {l2pop}
            fdb_recovery_grace = {grace}

            [ovs]
            integration_bridge = {int_br}
            tunnel_bridge = {tun_br}
            int_peer_patch_port = {int_patch}
            tun_peer_patch_port = {tun_patch}
            local_ip = {ip}
            bridge_mappings = physnet1:{phys_br}
            datapath_type = netdev

            [securitygroup]
            firewall_driver = {firewall}
            """).format(host=self.agent_host, firewall=firewall_driver, url=transport_url,
                        tunnels=",".join(tunnel_types),
                        l2pop=str(bool(l2_population)).lower(), grace=fdb_recovery_grace,
                        int_br=self.integration_bridge, tun_br=self.tunnel_bridge, int_patch=self.int_patch,
                        tun_patch=self.tun_patch, ip=self.local_ip, phys_br=self.physical_bridge)

    def tunnel_ports(self):
        """{port name: (type, remote ip)} of the tunnel ports on this host's tunnel bridge."""
        names = set(ovs_ports(self.tunnel_bridge))
        result = {}
        for name, (kind, options) in ovs_interfaces().items():
            if name in names and kind in OVS_TUNNEL_TYPES:
                result[name] = (kind, options.get("remote_ip"))
        return result

    def switch_state(self):
        """What the agent manages on this host, without counters: per bridge its ports (with tag and
        interface options) and its flows (learned ones left out)."""
        state = {}
        for bridge in self.bridges:
            rows = ovs_harness.vsctl("--format=csv", "--data=bare", "--no-headings", "--columns=name,tag,other_config",
                                     "list", "port")
            names = set(ovs_ports(bridge))
            ports = sorted(line for line in rows.splitlines() if line.split(",", 1)[0] in names)
            ifaces = ovs_harness.vsctl("--format=csv", "--data=bare", "--no-headings", "--columns=name,type,options",
                                       "list", "interface")
            ifaces = sorted(line for line in ifaces.splitlines() if line.split(",", 1)[0] in names)
            flows = ovs_flows.canonical_table(ovs_harness.flows_of(bridge))
            state[bridge] = (ports, ifaces, flows)
        return state


class OvsCloud(Cloud):
    """netweave-server, netweave-rpc-server (ML2 openvswitch,l2population) and one
    netweave-openvswitch-agent process per host, on a private broker.

    How the hosts are modelled: the machine runs one ovs-vswitchd (userspace
    datapath, see harness/ovs.py); each host is its own integration, tunnel
    and physical bridge, with patch port names of its own, and its own agent
    process configured with those names and its own local_ip. The tunnel
    endpoints sit on one underlay bridge (harness.ovs.Underlay), so tunnelled
    packets really are encapsulated by one host's tunnel port and
    decapsulated by the other's. The two physical bridges are joined by a
    patch "cable" (flat and vlan). Instances are namespaces holding an
    internal port tap<port id[:11]> of the host's integration bridge with
    the iface-id, as a hypervisor plugs a VM. Everything carries a random
    per-cloud token; ``close`` stops the agents first (they would recreate
    their bridges) and then removes every bridge and namespace.
    """

    def __init__(self, workdir, transport_url, hosts=HOSTS, l2_population=True, fdb_recovery_grace=30,
                 firewall_driver="noop"):
        super().__init__(workdir, transport_url, hosts)
        self.sandbox = ovs_harness.OvsSandbox()
        self.l2_population = l2_population
        self.fdb_recovery_grace = fdb_recovery_grace
        # iptables_hybrid: each host gets a namespace for its qbr bridges and firewall rules.
        self.firewall_driver = firewall_driver
        third = random.randint(1, 254)
        self.ovs_hosts = {host: OvsHost(self.sandbox, i + 1, "198.19.%d.%d" % (third, i + 1))
                          for i, host in enumerate(self.hosts)}
        self.underlay = None

    def start(self):
        if self.firewall_driver != "noop":
            for host in self.hosts:
                self.lab.host(host)
        self.underlay = self.sandbox.underlay([h.local_ip for h in self.ovs_hosts.values()])
        for host in self.ovs_hosts.values():
            for bridge in host.bridges:
                self.sandbox.track_bridge(bridge)
            # The administrator's part: the physical bridge holding the "NIC".
            self.sandbox.add_bridge(host.physical_bridge)
        if len(self.hosts) == 2:
            first, second = (self.ovs_hosts[h] for h in self.hosts)
            self.sandbox.patch(first.physical_bridge, self.sandbox.name("mhw", "1"),
                               second.physical_bridge, self.sandbox.name("mhw", "2"))
        mechanism_drivers = "openvswitch,l2population" if self.l2_population else "openvswitch"
        self.start_control_plane({"mechanism_drivers": mechanism_drivers, "tenant_network_types": "vxlan"},
                                 defaults=self.server_defaults)
        for host in self.hosts:
            self.start_agent(host)
        self.wait(lambda: len(self.agent_rows()) == len(self.hosts) and all(a["alive"] for a in self.agent_rows()),
                  "every Open vSwitch agent reports", timeout=90)
        # Each agent has made its bridges once it reported; wait for the tunnel bridges' flows too.
        self.wait(lambda: all(ovs_ports(h.tunnel_bridge) for h in self.ovs_hosts.values()),
                  "the agents made their bridges", timeout=60)

    def agent_ini(self, host):
        path = os.path.join(self.workdir, "openvswitch-%s.ini" % host)
        with open(path, "w") as handle:
            handle.write(self.ovs_hosts[host].ini(self.transport_url, self.l2_population,
                                                  fdb_recovery_grace=self.fdb_recovery_grace,
                                                  firewall_driver=self.firewall_driver))
        return path

    def start_agent(self, host):
        argv = [os.path.join(BIN, "netweave-openvswitch-agent"), "--config-file", self.agent_ini(host)]
        if host in self.lab.hosts:
            argv += ["--netns", self.lab.hosts[host]]
        self.agents[host] = processes.start_process(argv, os.path.join(self.workdir, "ovs-agent-%s.log" % host))
        return self.agents[host]

    def kill_agent(self, host):
        """kill -9 the host's agent, as a crash would."""
        old = self.agents[host]
        os.kill(old.pid, 9)
        old.popen.wait(timeout=10)

    def agent_rows(self):
        return [a for a in self.api("GET", "/agents")["agents"] if a["agent_type"] == OVS_AGENT_TYPE
                and a["host"] in {h.agent_host for h in self.ovs_hosts.values()}]

    def plug(self, host, net, port):
        """The hypervisor's part: an internal port on the host's integration bridge, in a namespace."""
        ip = port["fixed_ips"][0]["ip_address"]
        prefixlen = 24
        namespace, device = self.sandbox.plug_instance(
            self.ovs_hosts[host].integration_bridge, port["id"], port["mac_address"], "%s/%d" % (ip, prefixlen),
            mtu=net.get("mtu") or 1500)
        with contextlib.suppress(Exception):
            run("ip", "netns", "exec", namespace, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6")
        return Instance(namespace, device, port["id"], port["mac_address"], ip)

    def plug_hybrid(self, host, net, port):
        """The hypervisor's part for iptables_hybrid, as os-vif plugs it: the instance's
        tap<id> and qvb<id> in a Linux bridge qbr<id> in the host's namespace, and
        qvb's veth peer qvo<id> on the integration bridge with the port's external_ids."""
        port_id, mac = port["id"], port["mac_address"]
        ip = port["fixed_ips"][0]["ip_address"]
        mtu = net.get("mtu") or 1500
        host_ns = self.lab.hosts[host]
        tap, qbr = naming.tap_device(port_id), naming.hybrid_bridge(port_id)
        qvb, qvo = naming.hybrid_bridge_veth(port_id), naming.hybrid_ovs_veth(port_id)
        namespace = self.lab.instance(host, tap, mac, ip, mtu=mtu)
        run("ip", "-n", namespace, "link", "set", "lo", "up")
        # The userspace datapath reads qvo as a plain socket, blind to a checksum left to
        # offload; the guest NIC computes its own, as a virtio NIC without offload does.
        run("ip", "netns", "exec", namespace, sys.executable, "-c", _CHECKSUM_OFFLOAD_OFF, "eth0")
        run("ip", "-n", host_ns, "link", "add", qbr, "type", "bridge")
        # qvo is created in the host namespace and moved out: only its peer stays there.
        run("ip", "-n", host_ns, "link", "add", qvb, "mtu", str(mtu), "type", "veth", "peer", "name", qvo,
            "mtu", str(mtu), "netns", "1")
        for device in (tap, qvb):
            run("ip", "-n", host_ns, "link", "set", device, "mtu", str(mtu), "master", qbr, "up")
        run("ip", "-n", host_ns, "link", "set", qbr, "up")
        run("ip", "link", "set", qvo, "up")
        ovs_harness.vsctl("add-port", self.ovs_hosts[host].integration_bridge, qvo, "--", "set", "interface", qvo,
                          "external_ids:iface-id=%s" % port_id, "external_ids:attached-mac=%s" % mac,
                          "external_ids:iface-status=active")
        return Instance(namespace, tap, port_id, mac, ip)

    def unplug(self, instance):
        self.sandbox.unplug_instance(instance.device)

    def close(self):
        errors = []
        # Each takes seconds to close its broker connections: let them all do it at once.
        self.stop_processes()
        self.session.close()
        try:
            self.sandbox.cleanup()
        except Exception as exc:  # noqa: BLE001 - the namespaces below still go
            errors.append(str(exc))
        self.lab.close()
        if errors:
            raise RuntimeError("; ".join(errors))
