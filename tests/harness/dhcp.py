"""DHCP test helpers: a host with a Linux bridge, instances running busybox udhcpc.

* ``Lab(prefix)``: namespaces named <tag>-<suffix>; ``host()`` makes the host
  namespace, ``bridge(network_id)`` its brq bridge, ``join(device, bridge)``
  plays the Linux bridge agent, ``instance(mac, mtu)`` an instance namespace
  whose eth0 is bridged; ``close()`` removes everything, qdhcp- namespaces of
  the networks it was told about included.
* ``DhcpClient``: udhcpc running in the foreground inside an instance; its
  script records every event (bound, renew, nak, deconfig) as a JSON line and
  configures eth0 like a guest would (address, MTU, routes). ``renew()`` sends
  SIGUSR1, udhcpc's "renew now".
* ``network_info(...)``, ``subnet(...)``, ``port(...)`` build network info
  dicts as the server's get_network_info returns them.
* ``start_dhcp_agent(cloud, "h1", state_path)`` runs netweave-dhcp-agent for
  a host of multihost.Cloud; ``stop_served_networks(state_path)`` kills the
  dnsmasq and proxies started with that state_path and removes their qdhcp-
  namespaces (fixtures call it at teardown, pass or fail).
"""
import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
import uuid

from harness import system
from harness.multihost import run
from netweave.core import naming

UDHCPC_SCRIPT = r"""#!/bin/sh
# Configure the interface as a guest's script would, then record the event.
event="$1"
case "$event" in
    deconfig)
        ip addr flush dev "$interface"
        ;;
    bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/$mask" dev "$interface"
        [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
        if [ -n "$staticroutes" ]; then
            set -- $staticroutes
            while [ $# -ge 2 ]; do
                if [ "$1" = "0.0.0.0/0" ]; then
                    ip route replace default via "$2" dev "$interface"
                else
                    ip route replace "$1" via "$2" dev "$interface"
                fi
                shift 2
            done
        elif [ -n "$router" ]; then
            for gw in $router; do ip route replace default via "$gw" dev "$interface"; break; done
        fi
        ;;
esac
python3 - "$event" >> "$EVENTS" <<'EOF'
import json, os, sys
keys = ("ip", "subnet", "router", "dns", "mtu", "staticroutes", "msstaticroutes", "domain", "serverid",
        "lease", "hostname")
print(json.dumps(dict({"event": sys.argv[1]}, **{k: os.environ[k] for k in keys if k in os.environ})), flush=True)
EOF
exit 0
"""


def require_dhcp_tools():
    system.require_root()
    system.require_executables("ip", "dnsmasq", "dhcp_release", "udhcpc")


def world_readable_dir(prefix):
    """A state folder dnsmasq can still read after dropping root for 'nobody'."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


def network_info(network_id=None, subnets=(), ports=(), mtu=1500, name="net", admin_state_up=True):
    network_id = network_id or str(uuid.uuid4())
    return {"id": network_id, "name": name, "project_id": "p1", "tenant_id": "p1",
            "admin_state_up": admin_state_up, "mtu": mtu,
            "subnets": [dict(s, network_id=network_id) for s in subnets],
            "ports": [dict(p, network_id=network_id) for p in ports]}


def subnet(cidr, gateway_ip=None, dns=(), routes=(), subnet_id=None, enable_dhcp=True, pool=None):
    return {"id": subnet_id or str(uuid.uuid4()), "name": "", "cidr": cidr, "ip_version": 4,
            "gateway_ip": gateway_ip, "enable_dhcp": enable_dhcp, "dns_nameservers": list(dns),
            "host_routes": [{"destination": d, "nexthop": n} for d, n in routes],
            "allocation_pools": [pool] if pool else [], "ipv6_ra_mode": None, "ipv6_address_mode": None}


def port(mac, fixed_ips, device_owner="compute:nova", port_id=None, extra_dhcp_opts=(), device_id=""):
    return {"id": port_id or str(uuid.uuid4()), "mac_address": mac, "admin_state_up": True,
            "device_owner": device_owner, "device_id": device_id,
            "fixed_ips": [{"subnet_id": s, "ip_address": ip} for s, ip in fixed_ips],
            "extra_dhcp_opts": list(extra_dhcp_opts)}


def wait_for(predicate, what, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting until " + what)
        time.sleep(interval)


class Lab:
    def __init__(self, prefix="nwdh"):
        self.tag = "%s%s" % (prefix, uuid.uuid4().hex[:6])
        self.namespaces = []
        self.networks = []
        self.host_ns = None
        self.clients = []

    def netns(self, suffix):
        name = "%s-%s" % (self.tag, suffix)
        run("ip", "netns", "add", name)
        self.namespaces.append(name)
        run("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def host(self):
        self.host_ns = self.netns("host")
        return self.host_ns

    def track_network(self, network_id):
        """Remove qdhcp-<network_id> at close, should the code under test leave it."""
        self.networks.append(network_id)

    def bridge(self, network_id):
        name = naming.network_bridge(network_id)
        run("ip", "-n", self.host_ns, "link", "add", name, "type", "bridge")
        run("ip", "-n", self.host_ns, "link", "set", name, "up")
        return name

    def join(self, device, bridge):
        wait_for(lambda: run("ip", "-n", self.host_ns, "link", "show", device, check=False).returncode == 0,
                 "%s appears in the host" % device)
        run("ip", "-n", self.host_ns, "link", "set", device, "master", bridge, "up")

    def instance(self, mac, bridge, suffix=None, mtu=1500):
        """An instance namespace: eth0 (``mac``, no address) bridged through its tap."""
        suffix = suffix or uuid.uuid4().hex[:6]
        namespace = self.netns("i" + suffix)
        tap = "tapi" + suffix
        run("ip", "-n", self.host_ns, "link", "add", tap, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        run("ip", "-n", namespace, "link", "set", "eth0", "address", mac, "mtu", str(mtu), "up")
        run("ip", "-n", self.host_ns, "link", "set", tap, "master", bridge, "up")
        return namespace

    def dhcp_client(self, namespace, workdir):
        client = DhcpClient(namespace, workdir)
        self.clients.append(client)
        return client

    def close(self):
        for client in self.clients:
            with contextlib.suppress(Exception):
                client.stop()
        for network_id in self.networks:
            run("ip", "netns", "del", naming.dhcp_namespace(network_id), check=False)
        for namespace in reversed(self.namespaces):
            run("ip", "netns", "del", namespace, check=False)
        self.namespaces = []


class DhcpClient:
    def __init__(self, namespace, workdir, interface="eth0"):
        self.namespace = namespace
        self.interface = interface
        self.events_path = os.path.join(workdir, "%s.events" % namespace)
        self.script = os.path.join(workdir, "%s.script" % namespace)
        with open(self.script, "w") as handle:
            handle.write(UDHCPC_SCRIPT)
        os.chmod(self.script, 0o755)
        self.process = None

    def _argv(self, *extra):
        return ["ip", "netns", "exec", self.namespace, system.find_executable("udhcpc"), "-f", "-i", self.interface,
                "-s", self.script, "-O", "mtu", "-O", "staticroutes", "-O", "msstaticroutes",
                "-O", "domain", "-T", "1", "-t", "5", "-A", "1"] + list(extra)

    def _env(self):
        return dict(os.environ, EVENTS=self.events_path)

    def start(self):
        """udhcpc in the foreground, kept running (it renews on ``renew()``)."""
        self.process = subprocess.Popen(self._argv(), env=self._env(), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        return self

    def try_once(self, tries=3):
        """One attempt (-q -n): the exit status; 0 when a lease was obtained."""
        argv = self._argv("-q", "-n")
        argv[argv.index("-t") + 1] = str(tries)
        return subprocess.run(argv, env=self._env(), capture_output=True, timeout=60).returncode

    def events(self):
        try:
            with open(self.events_path) as handle:
                return [json.loads(line) for line in handle if line.strip()]
        except FileNotFoundError:
            return []

    def bound(self, count=1, timeout=30.0):
        """The ``count``-th bound/renew event (waiting for it)."""
        def found():
            leases = [e for e in self.events() if e["event"] in ("bound", "renew")]
            return leases[count - 1] if len(leases) >= count else None
        return wait_for(found, "udhcpc in %s has lease #%d" % (self.namespace, count), timeout)

    def renew(self):
        os.kill(self.process.pid, signal.SIGUSR1)

    def routes(self):
        return run("ip", "-n", self.namespace, "route", "show").stdout

    def addresses(self):
        return run("ip", "-n", self.namespace, "-4", "addr", "show", "dev", self.interface).stdout

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


# --- the agent as a process, next to the multi-host Cloud ------------------------------------------

def dhcp_agent_ini(path, host, transport_url, state_path, extra=""):
    with open(path, "w") as handle:
        handle.write("[DEFAULT]\nhost = %s\ntransport_url = %s\nstate_path = %s\ninterface_driver = linuxbridge\n"
                     "debug = true\n%s\n[agent]\nreport_interval = 2\n" % (host, transport_url, state_path, extra))
    return path


def start_dhcp_agent(cloud, host_key, state_path, extra=""):
    """netweave-dhcp-agent for host ``host_key`` of ``cloud`` (multihost.Cloud), taps in that host's namespace."""
    from harness import multihost, processes
    agent_host = multihost.AGENT_HOST[host_key]
    ini = dhcp_agent_ini(os.path.join(cloud.workdir, "dhcp-%s.ini" % host_key), agent_host, cloud.transport_url,
                         state_path, extra)
    argv = [os.path.join(multihost.BIN, "netweave-dhcp-agent"), "--config-file", ini,
            "--netns", cloud.lab.hosts[host_key]]
    return processes.start_process(argv, os.path.join(cloud.workdir, "dhcp-agent-%s.log" % host_key))


def stop_served_networks(state_path):
    """Kill every dnsmasq and proxy started with ``state_path`` and remove their qdhcp- namespaces."""
    from netweave.core.agent import external_process
    pids = external_process.pid_dir(state_path)
    for name in os.listdir(pids) if os.path.isdir(pids) else ():
        if not name.endswith(".pid"):
            continue
        service, _, resource = name[:-len(".pid")].partition("-")
        with contextlib.suppress(Exception):
            external_process.ProcessManager(resource, service, lambda _p: [], state_path).disable(signal.SIGKILL)
    base = os.path.join(state_path, "dhcp")
    for network_id in os.listdir(base) if os.path.isdir(base) else ():
        run("ip", "netns", "del", naming.dhcp_namespace(network_id), check=False)


TX_CHECKSUM_OFF = r"""
import sys
from pyroute2.ethtool import Ethtool
tool = Ethtool()
features = tool.get_features(sys.argv[1])
features.features["tx-checksum-ip-generic"].enable = False
tool.set_features(sys.argv[1], features)
"""


def disable_tx_checksum(namespace, device):
    """Have the kernel fill in checksums on ``device`` itself: OVS's userspace datapath reads
    a veth through a packet socket and forwards whatever checksum offload left unfinished."""
    import sys
    run("ip", "netns", "exec", namespace, sys.executable, "-c", TX_CHECKSUM_OFF, device)
