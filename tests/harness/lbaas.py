"""Labs for LBaaS tests and benchmarks.

``Lab``: a lab for the haproxy agent's data plane: one bridge in a lab host namespace, instance
namespaces running HTTP servers that answer with their own name, and a client namespace.

``description()`` builds a load balancer in the server's get_loadbalancer shape
(lbaas_rpc.describe) for the book's example: VIP 192.168.200.12, members
web1..webN, a pool and a listener on 80.

``LbaasCloud``: netweave-server and netweave-rpc-server (lbaasv2) on a broker, and in
host namespace h1 a Linux bridge agent and a netweave-lbaas-agent.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid

from harness import dhcp as dh
from harness import l3, processes
from harness.multihost import AGENT_HOST, BIN, UNDERLAY, UNDERLAY_NIC, Cloud, run
from netweave.core import naming
from netweave.core.agent import interface
from netweave.service_plugins.lbaasv2.agent import driver as driver_mod

CIDR, GATEWAY, VIP = "192.168.200.0/24", "192.168.200.1", "192.168.200.12"
CLIENT_IPS = ("192.168.200.50", "192.168.200.51")

_HTTP_SERVER = r"""
import http.server, sys, time
name, port = sys.argv[1], int(sys.argv[2])

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(3)  # a request still in flight while haproxy reloads
        body = ("This is %s\n" % name).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
"""


class Lab:
    def __init__(self, tmp_path, user_group="nogroup"):
        self.tmp_path = tmp_path
        self.dh = dh.Lab("nwlb")
        self.host = self.dh.host()
        self.network_id = str(uuid.uuid4())
        self.bridge = self.dh.bridge(self.network_id)
        self.servers = {}
        self.instances = {}
        self.lb_ids = []
        # haproxy refuses a stats socket path over 97 characters: a short root.
        self.lbaas_path = tempfile.mkdtemp(prefix="nwlb", dir="/tmp")
        self.driver = driver_mod.HaproxyNamespaceDriver(
            interface.BridgeInterfaceDriver(host_namespace=self.host), str(tmp_path / "state"),
            self.lbaas_path, user_group=user_group, send_gratuitous_arp=0)
        self.clients = [self._namespace(ip, "c%d" % index) for index, ip in enumerate(CLIENT_IPS)]

    def _namespace(self, ip, suffix):
        mac = "fa:16:3e:bb:00:%02x" % int(ip.rsplit(".", 1)[1])
        namespace = self.dh.instance(mac, self.bridge, suffix=suffix)
        run("ip", "-n", namespace, "addr", "add", ip + "/24", "dev", "eth0")
        return namespace

    def web(self, name, ip, port=80):
        """An instance namespace at ``ip`` whose HTTP server answers "This is <name>"."""
        self.instances[name] = (self._namespace(ip, name), ip)
        self.start_server(name, port)
        return self.instances[name][0]

    def start_server(self, name, port=80):
        namespace, ip = self.instances[name]
        self.servers[name] = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", _HTTP_SERVER, name, str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if run("ip", "netns", "exec", namespace, "curl", "-s", "-m", "1", "http://%s:%d/" % (ip, port),
                   check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError("the HTTP server of %s did not start" % name)

    def stop_server(self, name):
        process = self.servers.pop(name)
        process.kill()
        process.wait()

    def deploy(self, description):
        """Deploy as the agent does, then join the VIP tap to the bridge as the L2 agent would."""
        if description["id"] not in self.lb_ids:
            self.lb_ids.append(description["id"])
        served = self.driver.deploy(description)
        if served:
            tap = naming.tap_device(description["vip_port"]["id"])
            self.dh.join(tap, self.bridge)
        return served

    def curl(self, url, client=0, extra=()):
        result = run("ip", "netns", "exec", self.clients[client], "curl", "-s", "-m", "3", *extra, url,
                     check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    def close(self):
        for name in list(self.servers):
            self.stop_server(name)
        for lb_id in self.lb_ids:
            try:
                self.driver.undeploy(lb_id)
            except Exception:  # noqa: BLE001 - clean the rest
                pass
            run("ip", "netns", "del", driver_mod.namespace_of(lb_id), check=False)
        self.dh.close()
        shutil.rmtree(self.lbaas_path, ignore_errors=True)


def eventually(predicate, what, timeout=30.0, interval=0.3):
    """predicate()'s first true value, asked every ``interval`` seconds; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting until " + what)


def curl(namespace, url, extra=(), seconds=3):
    """The body of ``url`` fetched from inside ``namespace``, stripped; None when curl failed."""
    result = run("ip", "netns", "exec", namespace, "curl", "-s", "-m", str(seconds), *extra, url, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def member(ip, name, weight=1, admin_state_up=True):
    return {"id": str(uuid.uuid4()), "name": name, "address": ip, "protocol_port": 80, "weight": weight,
            "admin_state_up": admin_state_up, "provisioning_status": "ACTIVE", "subnet_id": None}


def description(members, lb_id=None, monitor=None, persistence=None, algorithm="ROUND_ROBIN", port_id=None):
    lb_id = lb_id or str(uuid.uuid4())
    pool_id = str(uuid.uuid4())
    port_id = port_id or str(uuid.uuid4())
    return {
        "id": lb_id, "name": "LB_WEB", "admin_state_up": True, "provisioning_status": "PENDING_CREATE",
        "vip_address": VIP, "vip_port_id": port_id, "vip_subnet_id": "s",
        "vip_port": {"id": port_id, "mac_address": "fa:16:3e:9a:46:69", "network_id": "n",
                     "fixed_ips": [{"subnet_id": "s", "ip_address": VIP, "prefixlen": 24}],
                     "gateway_ip": GATEWAY, "mtu": 1500},
        "listeners": [{"id": str(uuid.uuid4()), "name": "LISTENER_WEB", "admin_state_up": True,
                       "provisioning_status": "ACTIVE", "protocol": "HTTP", "protocol_port": 80,
                       "connection_limit": -1, "default_pool_id": pool_id}],
        "pools": [{"id": pool_id, "name": "POOL_WEB", "admin_state_up": True, "provisioning_status": "ACTIVE",
                   "protocol": "HTTP", "lb_algorithm": algorithm, "session_persistence": persistence,
                   "healthmonitor": monitor, "members": list(members)}],
    }


def http_monitor(delay=1, timeout=1, max_retries=2):
    return {"id": str(uuid.uuid4()), "name": "MONITOR_WEB", "admin_state_up": True, "provisioning_status": "ACTIVE",
            "type": "HTTP", "delay": delay, "timeout": timeout, "max_retries": max_retries, "max_retries_down": 3,
            "http_method": "GET", "url_path": "/", "expected_codes": "200"}


def exists(path):
    return os.path.exists(path)


# --- the whole stack: server, RPC server, Linux bridge agent and netweave-lbaas-agent -------------

HOST = "h1"


def lbaas_agent_ini(cloud, host, lbaas_path):
    path = os.path.join(cloud.workdir, "lbaas_agent.ini")
    with open(path, "w") as handle:
        handle.write(textwrap.dedent("""\
            [DEFAULT]
            host = {host}
            transport_url = {url}
            state_path = {state}
            interface_driver = linuxbridge
            periodic_interval = 1

            [agent]
            report_interval = 2

            [haproxy]
            loadbalancer_state_path = {lbaas}
            user_group = nogroup
            send_gratuitous_arp = 0
            """).format(host=AGENT_HOST[host], url=cloud.transport_url, lbaas=lbaas_path,
                        state=os.path.join(cloud.workdir, "lbaas-state")))
    return path


def start_lbaas_agent(cloud, host):
    """netweave-lbaas-agent in ``host``'s namespace for ``cloud`` (a multihost.Cloud with lbaas_path)."""
    argv = [os.path.join(BIN, "netweave-lbaas-agent"), "--config-file", lbaas_agent_ini(cloud, host, cloud.lbaas_path),
            "--netns", cloud.lab.hosts[host]]
    return processes.start_process(argv, os.path.join(cloud.workdir, "lbaas-agent.log"))


def end_haproxies(lbaas_path):
    """The agent leaves haproxy serving when it stops (restart keeps traffic): end those under lbaas_path."""
    for line in run("ip", "netns", "list").stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith("qlbaas-") and os.path.isdir(os.path.join(lbaas_path, "v2", name[7:])):
            for pid in run("ip", "netns", "pids", name, check=False).stdout.split():
                run("kill", "-9", pid, check=False)
            run("ip", "netns", "del", name, check=False)
    run("rm", "-rf", lbaas_path, check=False)


class LbaasCloud(Cloud):
    def __init__(self, workdir, transport_url):
        super().__init__(workdir, transport_url, hosts=(HOST,))
        self.lbaas_agent = None
        self.servers = {}
        # haproxy refuses stats socket paths over 97 characters.
        self.lbaas_path = "/tmp/nwlbe2e%d" % os.getpid()

    def start(self):
        host = self.lab.host(HOST)
        # One host: its VXLAN local_ip on an underlay veth whose peer stays in the host (no peer host).
        run("ip", "-n", host, "link", "add", UNDERLAY_NIC, "type", "veth", "peer", "name", "ul0p")
        run("ip", "-n", host, "link", "set", "ul0p", "up")
        run("ip", "-n", host, "addr", "add", UNDERLAY[HOST] + "/24", "dev", UNDERLAY_NIC)
        run("ip", "-n", host, "link", "set", UNDERLAY_NIC, "up")
        self.start_control_plane({"mechanism_drivers": "linuxbridge", "tenant_network_types": "vxlan"},
                                 defaults="service_plugins = lbaasv2\nagent_down_time = 10\n")
        self.start_agent(HOST)
        self.start_lbaas_agent()
        self.wait(lambda: {a["agent_type"] for a in self.api("GET", "/agents")["agents"] if a["alive"]}
                  >= {"Linux bridge agent", "Loadbalancerv2 agent"}, "both agents report", timeout=60)

    def start_lbaas_agent(self):
        self.lbaas_agent = start_lbaas_agent(self, HOST)

    def web(self, name, net):
        port = self.port(net, HOST)
        instance = self.plug(HOST, net, port)
        self.start_server(name, instance)
        return port, instance

    def start_server(self, name, instance):
        self.servers[name] = (subprocess.Popen(
            ["ip", "netns", "exec", instance.namespace, sys.executable, "-c", _HTTP_SERVER, name, "80"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), instance)

    def stop_server(self, name):
        process, instance = self.servers[name]
        process.kill()
        process.wait()
        return instance

    def close(self):
        for process, _instance in self.servers.values():
            process.kill()
            process.wait()
        self.stop_processes(self.lbaas_agent)
        end_haproxies(self.lbaas_path)
        super().close()


class RoutedLbaasCloud(l3.RoutedCloud):
    """l3.RoutedCloud (compute host h1, network node h2 with the L3 agent, the "internet") whose
    server also runs lbaasv2, with a netweave-lbaas-agent on h1."""

    service_plugins = "router,lbaasv2"
    LBAAS_HOST = "h1"

    def __init__(self, workdir, transport_url):
        super().__init__(workdir, transport_url)
        self.lbaas_agent = None
        self.lbaas_path = "/tmp/nwlbfip%d" % os.getpid()
        self.web_servers = []

    def start(self):
        super().start()
        self.lbaas_agent = start_lbaas_agent(self, self.LBAAS_HOST)
        self.wait(lambda: any(a["alive"] for a in self.api("GET", "/agents")["agents"]
                              if a["agent_type"] == "Loadbalancerv2 agent"), "the lbaas agent reports", timeout=60)

    def web(self, name, namespace):
        """An HTTP server in ``namespace`` answering "This is <name>"; killed by close."""
        self.web_servers.append(subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", _HTTP_SERVER, name, "80"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def close(self):
        for process in self.web_servers:
            process.kill()
            process.wait()
        self.stop_processes(self.lbaas_agent, self.l3_agent)
        end_haproxies(self.lbaas_path)
        super().close()
