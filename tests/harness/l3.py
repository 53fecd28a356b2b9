"""Router descriptions in the server's sync_routers shape, built from the book's chapter 10.

``book_router()`` is MyLegacyRouter as the spec's worked examples have it:
gateway 10.30.0.106 on GATEWAY_NET (10.30.0.0/24, gateway 10.30.0.1), one
interface 192.168.200.1 on PROJECT_NET, optionally the floating IP
10.30.0.101 of MyInstance1 (192.168.200.6) or MyInstance2 (192.168.200.10).
The builders take other addresses so functional tests can make their own.
"""
import copy
import os
import subprocess
import sys
import textwrap

from harness import multihost, processes
from harness.multihost import run
from netweave.core import naming

ROUTER_ID = "9ef2eede-4a55-4f64-b8be-4b07a43ec373"
PROJECT_ID = "9233b6b4f6a54386af63c0a7b8f043c2"
GATEWAY_NET = "758070f9-ecaf-4d2a-aa49-e119ce7943f6"
GATEWAY_SUBNET = "0af5a767-fce0-4c4d-9df2-1aedbd259405"
GATEWAY_PORT = "73e65609-f0ea-4f4b-9581-42fe4b7df8d8"
GATEWAY_MAC = "fa:16:3e:8c:a0:3f"
PROJECT_NET = "ce1fe7cd-7b01-4d58-b1c8-414886b7d8f2"
PROJECT_SUBNET = "f29a2257-1283-4047-a835-b207480aa6f3"
INTERFACE_PORT = "a9327c59-a654-479f-9a0f-b706e81cd1ba"
INTERFACE_MAC = "fa:16:3e:86:4e:53"
FIP_ID = "9e08a332-5128-4e3c-a201-ee3e6d8d1b75"
INSTANCE1_PORT = "7ae20af9-e3d3-41ce-b74a-57cfaf41fe59"
INSTANCE2_PORT = "7e18b92b-ed27-42d5-ad05-f58e2b0f5705"


def subnet(subnet_id, cidr, gateway_ip, ip_version=4, **extra):
    return dict({"id": subnet_id, "cidr": cidr, "gateway_ip": gateway_ip, "ip_version": ip_version}, **extra)


def port(port_id, mac, network_id, fixed, subnets, device_owner="network:router_interface", mtu=1500):
    """``fixed``: [(subnet id, ip)]; prefixlen comes from the subnet, as the server fills it in."""
    by_id = {item["id"]: item for item in subnets}
    return {"id": port_id, "mac_address": mac, "network_id": network_id, "device_owner": device_owner, "mtu": mtu,
            "fixed_ips": [{"subnet_id": subnet_id, "ip_address": ip,
                           "prefixlen": int(by_id[subnet_id]["cidr"].split("/")[1])} for subnet_id, ip in fixed],
            "subnets": subnets}


def floating_ip(address, fixed_ip, port_id, fip_id=FIP_ID, router_id=ROUTER_ID):
    return {"id": fip_id, "floating_ip_address": address, "fixed_ip_address": fixed_ip, "port_id": port_id,
            "router_id": router_id if port_id else None, "status": "DOWN"}


def router(router_id=ROUTER_ID, gateway=None, interfaces=(), floating_ips=(), enable_snat=True, routes=(),
           name="MyLegacyRouter"):
    """A sync_routers entry; ``gateway`` is a port dict (or None)."""
    data = {"id": router_id, "name": name, "admin_state_up": True, "status": "ACTIVE", "project_id": PROJECT_ID,
            "distributed": False, "ha": False, "routes": [dict(item) for item in routes],
            "external_gateway_info": None, "gw_port": None, "enable_snat": enable_snat,
            "_interfaces": [copy.deepcopy(item) for item in interfaces],
            "_floatingips": [dict(item) for item in floating_ips]}
    if gateway is not None:
        data["gw_port"] = copy.deepcopy(gateway)
        data["external_gateway_info"] = {
            "network_id": gateway["network_id"], "enable_snat": enable_snat,
            "external_fixed_ips": [{"subnet_id": item["subnet_id"], "ip_address": item["ip_address"]}
                                   for item in gateway["fixed_ips"]]}
    return data


def book_gateway(ip="10.30.0.106"):
    return port(GATEWAY_PORT, GATEWAY_MAC, GATEWAY_NET, [(GATEWAY_SUBNET, ip)],
                [subnet(GATEWAY_SUBNET, "10.30.0.0/24", "10.30.0.1")], device_owner="network:router_gateway")


def book_interface():
    return port(INTERFACE_PORT, INTERFACE_MAC, PROJECT_NET, [(PROJECT_SUBNET, "192.168.200.1")],
                [subnet(PROJECT_SUBNET, "192.168.200.0/24", "192.168.200.1")])


def book_router(fixed_ip=None, enable_snat=True, routes=()):
    """MyLegacyRouter; with ``fixed_ip`` the floating IP 10.30.0.101 leads to it."""
    fips = ()
    if fixed_ip:
        instance_port = INSTANCE1_PORT if fixed_ip == "192.168.200.6" else INSTANCE2_PORT
        fips = (floating_ip("10.30.0.101", fixed_ip, instance_port),)
    return router(gateway=book_gateway(), interfaces=[book_interface()], floating_ips=fips,
                  enable_snat=enable_snat, routes=routes)


# --- packets between namespaces ---------------------------------------------------------------

ECHO_PORT = 9000

# UDP and TCP echo: answers "<name> <peer address>" and logs each peer, one per line.
ECHO_SERVER = r"""
import socket, sys, threading
name, port, log = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "a", buffering=1)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("0.0.0.0", port))
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("0.0.0.0", port))
tcp.listen(16)
def serve_udp():
    while True:
        data, peer = udp.recvfrom(2048)
        log.write(peer[0] + "\n")
        try:
            udp.sendto(("%s %s" % (name, peer[0])).encode(), peer)
        except OSError:         # no way back to the peer: it is logged all the same
            pass
def serve_connection(conn, peer):
    with conn:
        for line in conn.makefile("rb"):
            log.write(peer[0] + "\n")
            conn.sendall(("%s %s\n" % (name, peer[0])).encode())
def serve_tcp():
    while True:
        conn, peer = tcp.accept()
        threading.Thread(target=serve_connection, args=(conn, peer), daemon=True).start()
threading.Thread(target=serve_tcp, daemon=True).start()
print("ready", flush=True)
serve_udp()
"""

UDP_ASK = r"""
import socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(float(sys.argv[3]))
for attempt in range(3):
    sock.sendto(b"who", (sys.argv[1], int(sys.argv[2])))
    try:
        print(sock.recvfrom(2048)[0].decode())
        break
    except socket.timeout:
        continue
"""

# A TCP client kept open: each line on stdin is sent, each answer (or "CLOSED") printed.
TCP_SESSION = r"""
import socket, sys
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
sock.settimeout(float(sys.argv[3]))
reader = sock.makefile("rb")
print("connected", flush=True)
for line in sys.stdin:
    try:
        sock.sendall(line.encode())
        answer = reader.readline().decode().strip()
        print(answer or "CLOSED", flush=True)
    except OSError as error:
        print("CLOSED %s" % error, flush=True)
"""


def ns_python(namespace, script, *args, timeout=30):
    return run("ip", "netns", "exec", namespace, sys.executable, "-c", script, *map(str, args), timeout=timeout)


def udp_ask(namespace, address, wait=1.0):
    """The echo server's answer ("<name> <peer seen>") to a datagram from ``namespace``, or ""."""
    return ns_python(namespace, UDP_ASK, address, ECHO_PORT, wait).stdout.strip()




def start_echo_server(namespace, name, log_path):
    """The echo server in ``namespace``, answering as ``name`` and logging peers to ``log_path``;
    the caller kills the returned process."""
    process = subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, "-c", ECHO_SERVER, name,
                                str(ECHO_PORT), str(log_path)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def start_tcp_session(namespace, address, wait=3):
    """A TCP connection from ``namespace`` to the echo server at ``address``, kept open: write a
    line to its stdin, read the answer from its stdout."""
    session = subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, "-c", TCP_SESSION, address,
                                str(ECHO_PORT), str(wait)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert session.stdout.readline().strip() == "connected"
    return session


def session_say(session, text="hello"):
    session.stdin.write(text + "\n")
    session.stdin.flush()
    return session.stdout.readline().strip()


def nat_listing(namespace):
    """``iptables -t nat -L`` in ``namespace``, whitespace collapsed, column headers dropped."""
    text = run("ip", "netns", "exec", namespace, "iptables", "-t", "nat", "-L").stdout
    return [" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.startswith("target ")]


# The book's listings (spec 4.4.1, 4.4.2) with its addresses as placeholders. iptables prints
# "redir ports" (the book's 4.4.1 listing has the longer "redirect ports").
BOOK_NAT_LISTING = """\
Chain PREROUTING (policy ACCEPT)
neutron-l3-agent-PREROUTING all -- anywhere anywhere
Chain INPUT (policy ACCEPT)
Chain OUTPUT (policy ACCEPT)
neutron-l3-agent-OUTPUT all -- anywhere anywhere
Chain POSTROUTING (policy ACCEPT)
neutron-l3-agent-POSTROUTING all -- anywhere anywhere
neutron-postrouting-bottom all -- anywhere anywhere
Chain neutron-l3-agent-OUTPUT (1 references)
{output}Chain neutron-l3-agent-POSTROUTING (1 references)
ACCEPT all -- anywhere anywhere ! ctstate DNAT
Chain neutron-l3-agent-PREROUTING (1 references)
REDIRECT tcp -- anywhere 169.254.169.254 tcp dpt:http redir ports 9697
{prerouting}Chain neutron-l3-agent-float-snat (1 references)
{float_snat}Chain neutron-l3-agent-snat (1 references)
neutron-l3-agent-float-snat all -- anywhere anywhere
SNAT all -- anywhere anywhere to:{gw}
SNAT all -- anywhere anywhere mark match ! 0x2/0xffff ctstate DNAT to:{gw}
Chain neutron-postrouting-bottom (1 references)
neutron-l3-agent-snat all -- anywhere anywhere /* Perform source NAT on outgoing traffic. */
"""


def book_nat_listing(gateway, floating=None, fixed=None):
    """The book's listing for gateway address ``gateway`` (and one floating IP)."""
    fields = {"gw": gateway, "output": "", "prerouting": "", "float_snat": ""}
    if floating:
        fields["output"] = fields["prerouting"] = "DNAT all -- anywhere %s to:%s\n" % (floating, fixed)
        fields["float_snat"] = "SNAT all -- %s anywhere to:%s\n" % (fixed, floating)
    return BOOK_NAT_LISTING.format(**fields).splitlines()


# --- a routed cloud: server, RPC server, Linux bridge agents and an L3 agent process -----------

# A /20, so a bench fits a thousand floating IPs; the allocation pool starts above the internet.
INTERNET_CIDR = "203.0.112.0/20"
INTERNET_IP = "203.0.113.1"
EXTERNAL_POOL = {"start": "203.0.114.1", "end": "203.0.127.254"}
# No quota stands in the way of a test or bench making many routers.
UNLIMITED_QUOTAS = "[quotas]\n" + "".join("quota_%s = -1\n" % name for name in (
    "network", "subnet", "port", "router", "floatingip"))
EXTERNAL_NIC = "ex0"
EXTERNAL_PHYSNET = "physnet2"


# --- the router API calls of a routed cloud (``self``: RoutedCloud or RoutedOvsCloud) ----------


def api_external_network(self, name="public"):
    """The flat external network on EXTERNAL_PHYSNET and its subnet (the internet's)."""
    net = self.api("POST", "/networks", {"network": {
        "name": name, "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": self.external_physnet}})["network"]
    subnet = self.api("POST", "/subnets", {"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": INTERNET_CIDR, "enable_dhcp": False,
        "gateway_ip": INTERNET_IP, "allocation_pools": [EXTERNAL_POOL]}})
    return net, subnet["subnet"]


def api_project_network(self, name, cidr, project=None):
    body = {"name": name}
    if project:
        body["project_id"] = project
    net = self.api("POST", "/networks", {"network": body})["network"]
    subnet_body = {"network_id": net["id"], "ip_version": 4, "cidr": cidr, "enable_dhcp": False}
    if project:
        subnet_body["project_id"] = project
    subnet = self.api("POST", "/subnets", {"subnet": subnet_body})["subnet"]
    return net, subnet


def api_router(self, name, external=None, subnets=(), project=None, **gateway):
    body = {"name": name}
    if project:
        body["project_id"] = project
    if external is not None:
        body["external_gateway_info"] = dict({"network_id": external["id"]}, **gateway)
    router = self.api("POST", "/routers", {"router": body})["router"]
    self.router_ids.append(router["id"])
    for subnet in subnets:
        self.api("PUT", "/routers/%s/add_router_interface" % router["id"], {"subnet_id": subnet["id"]})
    return self.api("GET", "/routers/" + router["id"])["router"]


def api_instance(self, host, net, subnet, project=None):
    """A port bound to ``host``, plugged as an instance namespace with its default route via
    the subnet's gateway; returns (port, multihost.Instance). Its device_owner is "" so the
    Linux bridge agent bridges the tap itself (Nova's part for compute ports)."""
    body = {"network_id": net["id"], "device_owner": "",
            "binding:host_id": multihost.AGENT_HOST[host]}
    if project:
        body["project_id"] = project
    port = self.api("POST", "/ports", {"port": body})["port"]
    instance = self.plug(host, net, port)
    multihost.run("ip", "-n", instance.namespace, "route", "add", "default", "via", subnet["gateway_ip"])
    return port, instance


def api_router_ports(self, router_id):
    return self.api("GET", "/ports?device_id=" + router_id)["ports"]


def api_wait_router_active(self, router_id, timeout=60.0):
    self.wait(lambda: all(p["status"] == "ACTIVE" for p in self.router_ports(router_id)),
              "the ports of router %s are ACTIVE" % router_id, timeout)


def api_floating_ip(self, external, port=None):
    body = {"floating_network_id": external["id"]}
    if port is not None:
        body["port_id"] = port["id"]
    return self.api("POST", "/floatingips", {"floatingip": body})["floatingip"]


def api_fip_status(self, fip):
    return self.api("GET", "/floatingips/" + fip["id"])["floatingip"]["status"]


class RoutedCloud(multihost.Cloud):
    """multihost.Cloud with the router plugin, an "internet" and an L3 agent process.

    h1 is a compute host, h2 the network node: its Linux bridge agent maps
    physnet2 to ex0, a veth whose peer is eth0 of the ``internet`` namespace
    (203.0.113.1 on 203.0.112.0/20, the external subnet's gateway), and netweave-l3-agent runs
    for host2 (``--netns`` h2, interface driver linuxbridge). Router
    namespaces (qrouter-<id>) are the agent's, in the machine's namespace list:
    ``close`` removes those of the routers this cloud made.
    """

    L3_HOST = "h2"
    external_physnet = EXTERNAL_PHYSNET
    # [DEFAULT] service_plugins of the server.
    service_plugins = "router"

    def __init__(self, workdir, transport_url):
        super().__init__(workdir, transport_url)
        self.extra_mappings = {self.L3_HOST: ["%s:%s" % (EXTERNAL_PHYSNET, EXTERNAL_NIC)]}
        self.internet = None
        self.l3_agent = None
        self.router_ids = []

    def start(self):
        for host in self.hosts:
            self.lab.host(host)
        self.lab.connect_hosts(*self.hosts)
        self.internet = self.lab.netns("internet")
        multihost.run("ip", "-n", self.lab.hosts[self.L3_HOST], "link", "add", EXTERNAL_NIC, "type", "veth",
                      "peer", "name", "eth0", "netns", self.internet)
        multihost.run("ip", "-n", self.lab.hosts[self.L3_HOST], "link", "set", EXTERNAL_NIC, "up")
        multihost.run("ip", "-n", self.internet, "addr", "add", "%s/%s" % (INTERNET_IP, INTERNET_CIDR.split("/")[1]),
                      "dev", "eth0")
        multihost.run("ip", "-n", self.internet, "link", "set", "eth0", "up")
        self.start_control_plane({"mechanism_drivers": "linuxbridge,l2population", "tenant_network_types": "vxlan"},
                                 defaults="service_plugins = %s\n" % self.service_plugins + UNLIMITED_QUOTAS)
        for host in self.hosts:
            self.start_agent(host)
        self.start_l3_agent()
        self.wait(lambda: len(self.agent_rows()) == len(self.hosts) and all(a["alive"] for a in self.agent_rows())
                  and self.l3_agent_alive(), "the L2 and L3 agents report", timeout=60)

    def l3_ini(self):
        path = os.path.join(self.workdir, "l3_agent.ini")
        with open(path, "w") as handle:
            handle.write(textwrap.dedent("""\
                [DEFAULT]
                host = {host}
                transport_url = {url}
                interface_driver = {driver}
                ovs_integration_bridge = {bridge}
                state_path = {state}
                debug = true
                {settings}

                [agent]
                report_interval = 2
                """).format(host=multihost.AGENT_HOST[self.L3_HOST], url=self.transport_url,
                            driver=self.interface_driver, bridge=self.integration_bridge,
                            state=os.path.join(self.workdir, "l3-state"),
                            settings=self.l3_settings))
        return path

    interface_driver = "linuxbridge"
    integration_bridge = "br-int"
    # More [DEFAULT] lines of l3_agent.ini; a test serving metadata through routers replaces them.
    l3_settings = "enable_metadata_proxy = false"

    def start_l3_agent(self, wrapper=()):
        """``wrapper``: argv to run the agent under (a profiler: python -m cProfile -o FILE)."""
        argv = list(wrapper) + [os.path.join(multihost.BIN, "netweave-l3-agent"), "--config-file", self.l3_ini()]
        if self.L3_HOST in self.lab.hosts:
            argv += ["--netns", self.lab.hosts[self.L3_HOST]]
        self.l3_agent = processes.start_process(argv, os.path.join(self.workdir, "l3-agent.log"))
        return self.l3_agent

    def l3_agent_rows(self):
        return [a for a in self.api("GET", "/agents")["agents"] if a["agent_type"] == "L3 agent"]

    def l3_agent_alive(self):
        return any(a["alive"] for a in self.l3_agent_rows())

    def close(self):
        self.stop_processes(self.l3_agent)
        super().close()
        for router_id in self.router_ids:
            run("ip", "netns", "del", naming.router_namespace(router_id), check=False)

    # The router API calls, shared with RoutedOvsCloud.
    external_network = api_external_network
    project_network = api_project_network
    router = api_router
    instance = api_instance
    router_ports = api_router_ports
    wait_router_active = api_wait_router_active
    floating_ip = api_floating_ip
    fip_status = api_fip_status


class RoutedOvsCloud(multihost.OvsCloud):
    """multihost.OvsCloud with the router plugin, an "internet" and an L3 agent process.

    The hosts are bridge sets of the machine's ovs-vswitchd (see OvsCloud);
    physnet1 is their physical bridges, patched together. The ``internet``
    namespace holds an internal port of h2's physical bridge (203.0.113.1, the
    external subnet's gateway), and netweave-l3-agent runs for host2 with the
    openvswitch interface driver on h2's integration bridge.
    """

    L3_HOST = "h2"
    external_physnet = "physnet1"
    interface_driver = "openvswitch"

    def __init__(self, workdir, transport_url):
        super().__init__(workdir, transport_url)
        self.server_defaults = "service_plugins = router\n" + UNLIMITED_QUOTAS
        self.integration_bridge = self.ovs_hosts[self.L3_HOST].integration_bridge
        self.internet = None
        self.l3_agent = None
        self.router_ids = []

    def start(self):
        super().start()
        self.internet = self.sandbox.add_namespace("nwt-%s-internet" % self.sandbox.token)
        self.sandbox.plug_instance(self.ovs_hosts[self.L3_HOST].physical_bridge, "internet0000",
                                   multihost.random_mac(), "%s/%s" % (INTERNET_IP, INTERNET_CIDR.split("/")[1]),
                                   namespace=self.internet)
        self.start_l3_agent()
        self.wait(self.l3_agent_alive, "the L3 agent reports", timeout=60)

    l3_ini = RoutedCloud.l3_ini
    l3_settings = RoutedCloud.l3_settings
    start_l3_agent = RoutedCloud.start_l3_agent
    l3_agent_rows = RoutedCloud.l3_agent_rows
    l3_agent_alive = RoutedCloud.l3_agent_alive

    def close(self):
        self.stop_processes(self.l3_agent)
        for router_id in self.router_ids:
            run("ip", "netns", "del", naming.router_namespace(router_id), check=False)
        super().close()

    # The router API calls, shared with RoutedOvsCloud.
    external_network = api_external_network
    project_network = api_project_network
    router = api_router
    instance = api_instance
    router_ports = api_router_ports
    wait_router_active = api_wait_router_active
    floating_ip = api_floating_ip
    fip_status = api_fip_status
