"""Instances read their metadata through the namespace proxy and the metadata agent, for real.

Processes: netweave-server and netweave-rpc-server (SQLite) on a private
RabbitMQ, netweave-metadata-agent, haproxy started by NamespaceProxy in a
qdhcp-<network id> namespace, and the stand-in metadata backend on the
loopback. Kernel: a host namespace with a Linux bridge joining the qdhcp
namespace (the DHCP port's address plus 169.254.169.254/32) and instance
namespaces holding their ports' addresses, routing 169.254.169.254 via the
DHCP port as option 121 would. curl runs in the instances.
"""
import os
import shutil
import tempfile
import textwrap
import threading
import time
import uuid

import pytest
import requests

from harness import multihost, processes, system
from harness import server as server_harness
from harness.metadata_backend import MetadataBackend
from netweave.core import naming
from netweave.core.agent import external_process
from netweave.core.agent.metadata import proxy as proxy_mod

pytestmark = [pytest.mark.system("ip", "haproxy", "curl")]

SECRET = "MetadataSecret123"
CIDR = "10.77.0.0/24"
BRIDGE = "br0"
METADATA_URL = "http://169.254.169.254"


def _wait(predicate, what, timeout=60.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting until " + what)
        time.sleep(interval)


def curl(namespace, path, headers=(), method="GET", data=None, timeout=20, url=METADATA_URL):
    """(HTTP status, body) of a request from ``namespace`` to the metadata address; status 0: no answer."""
    argv = ["ip", "netns", "exec", namespace, "curl", "-s", "-m", str(timeout), "-X", method,
            "-o", "-", "-w", "\n%{http_code}"]
    for header in headers:
        argv += ["-H", header]
    if data is not None:
        argv += ["--data-binary", data]
    result = multihost.run(*argv, url + path, check=False, timeout=timeout + 10)
    body, _, status = result.stdout.rpartition("\n")
    return int(status or 0), body


class MetadataLab:
    """Server, RPC server, metadata agent, backend and namespaces of one test; ``close`` ends them all."""

    def __init__(self, broker_url):
        # Unix socket paths must stay under 108 characters: a short folder of our own.
        self.workdir = tempfile.mkdtemp(prefix="nwmd-")
        self.broker_url = broker_url
        self.lab = multihost.Namespaces("nwmd")
        self.session = requests.Session()
        self.backend = None
        self.server = self.rpc = self.agent = None
        self.monitor = external_process.ProcessMonitor(interval=0.5)
        self.proxy = None
        self.proxied = []
        self.host_name = "mdhost-" + self.lab.tag
        self.hosts_made = 0

    # --- processes --------------------------------------------------------------------

    def start(self):
        self.backend = MetadataBackend(SECRET)
        self.server = server_harness.start_server(
            os.path.join(self.workdir, "server"), extra="\n[DEFAULT]\ntransport_url = %s\n" % self.broker_url)
        args = []
        for path in self.server.config_files:
            args += ["--config-file", path]
        self.rpc = processes.start_process([os.path.join(server_harness.BIN_DIR, "netweave-rpc-server")] + args,
                                           os.path.join(self.workdir, "rpc-server.log"))
        self.rpc.wait_until(lambda: "serving" in open(self.rpc.log_path).read(), timeout=60,
                            what="the RPC server listens")
        self.socket_path = os.path.join(self.workdir, "metadata_proxy")
        ini = os.path.join(self.workdir, "metadata_agent.ini")
        with open(ini, "w") as handle:
            handle.write(textwrap.dedent("""\
                [DEFAULT]
                host = {host}
                transport_url = {url}
                state_path = {state}
                metadata_proxy_socket = {socket}
                nova_metadata_host = 127.0.0.1
                nova_metadata_port = {port}
                metadata_proxy_shared_secret = {secret}
                metadata_workers = 8

                [agent]
                report_interval = 2
                """).format(host=self.host_name, url=self.broker_url, state=os.path.join(self.workdir, "agent"),
                            socket=self.socket_path, port=self.backend.port, secret=SECRET))
        self.agent = processes.start_process(
            [os.path.join(server_harness.BIN_DIR, "netweave-metadata-agent"), "--config-file", ini],
            os.path.join(self.workdir, "metadata-agent.log"))
        self.agent.wait_until(lambda: os.path.exists(self.socket_path), timeout=60,
                              what="the metadata agent listens on its socket")
        self.proxy = proxy_mod.NamespaceProxy(os.path.join(self.workdir, "dhcp"), self.socket_path,
                                              monitor=self.monitor)
        self.monitor.start()

    def close(self):
        errors = []
        self.monitor.stop()
        try:
            self.stop_proxies()
        except Exception as error:  # noqa: BLE001 - keep cleaning up
            errors.append(error)
        for process in (self.agent, self.rpc, self.server):
            if process is not None:
                try:
                    process.stop()
                except Exception as error:  # noqa: BLE001
                    errors.append(error)
        if self.backend is not None:
            self.backend.close()
        self.session.close()
        self.lab.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
        if errors:
            raise errors[0]

    # --- API --------------------------------------------------------------------------

    def api(self, method, path, body=None, expect=(200, 201, 204)):
        response = self.session.request(method, self.server.url + "/v2.0" + path, json=body, timeout=30)
        assert response.status_code in expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def network(self, cidr=CIDR):
        net = self.api("POST", "/networks", {"network": {"name": "md-net"}})["network"]
        self.api("POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                                 "gateway_ip": None}})
        return net

    def port(self, net, device_id, device_owner="compute:nova"):
        return self.api("POST", "/ports", {"port": {"network_id": net["id"], "device_id": device_id,
                                                    "device_owner": device_owner}})["port"]

    # --- kernel -----------------------------------------------------------------------

    def wire_host(self):
        """A fresh host namespace and bridge for each test: their addresses never meet."""
        self.hosts_made += 1
        self.host_key = "h%d" % self.hosts_made
        self.host = self.lab.host(self.host_key)
        multihost.run("ip", "-n", self.host, "link", "add", BRIDGE, "type", "bridge")
        multihost.run("ip", "-n", self.host, "link", "set", BRIDGE, "up")

    def _enslave(self, device):
        multihost.run("ip", "-n", self.host, "link", "set", device, "master", BRIDGE)
        multihost.run("ip", "-n", self.host, "link", "set", device, "up")

    def dhcp_namespace(self, net, dhcp_port):
        """qdhcp-<net>: ns-<port> with the DHCP port's address and 169.254.169.254/32."""
        return self.service_namespace(naming.dhcp_namespace(net["id"]), dhcp_port,
                                      naming.dhcp_device(dhcp_port["id"]))

    def router_namespace(self, router_id, interface_port):
        """qrouter-<router>: qr-<port> with the interface's address and 169.254.169.254/32."""
        return self.service_namespace(naming.router_namespace(router_id), interface_port,
                                      naming.router_interface_device(interface_port["id"]))

    def service_namespace(self, namespace, port, device):
        multihost.run("ip", "netns", "add", namespace)
        self.lab.namespaces.append(namespace)
        multihost.run("ip", "-n", namespace, "link", "set", "lo", "up")
        outside = naming.tap_device(port["id"])
        multihost.run("ip", "-n", self.host, "link", "add", outside, "type", "veth", "peer", "name", device,
                      "netns", namespace)
        multihost.run("ip", "-n", namespace, "link", "set", device, "address", port["mac_address"], "up")
        multihost.run("ip", "-n", namespace, "addr", "add", port["fixed_ips"][0]["ip_address"] + "/24",
                      "dev", device)
        multihost.run("ip", "-n", namespace, "addr", "add", "169.254.169.254/32", "dev", device)
        self._enslave(outside)
        return namespace

    def instance(self, port_id, mac, ip, dhcp_ip):
        namespace = self.lab.instance(self.host_key, naming.tap_device(port_id), mac, ip)
        self._enslave(naming.tap_device(port_id))
        multihost.run("ip", "-n", namespace, "route", "add", "169.254.169.254/32", "via", dhcp_ip)
        return namespace

    def stop_proxies(self):
        while self.proxied:
            self.proxy.stop(self.proxied.pop())

    def spawn_proxy(self, namespace, resource_id, kind="network"):
        self.proxied.append(resource_id)
        return self.proxy.spawn(namespace, resource_id, kind=kind)


@pytest.fixture(scope="module")
def metadata_lab(rabbitmq_server):
    """One set of processes for the module (starting them takes seconds); each test makes its own
    network, namespaces and proxy."""
    system.require_root()
    lab = MetadataLab(rabbitmq_server.transport_url)
    try:
        lab.start()
        yield lab
    finally:
        lab.close()


@pytest.fixture
def lab(metadata_lab):
    """The module's lab with a host of this test's own; the proxies a test started are stopped after it."""
    metadata_lab.wire_host()
    try:
        yield metadata_lab
    finally:
        metadata_lab.stop_proxies()


@pytest.mark.slow
def test_instances_read_their_own_metadata_through_proxy_and_agent(lab):
    net = lab.network()
    dhcp_port = lab.port(net, "dhcp-" + lab.lab.tag, device_owner="network:dhcp")
    dhcp_ip = dhcp_port["fixed_ips"][0]["ip_address"]
    instance_ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    ports = [lab.port(net, instance_id) for instance_id in instance_ids]
    for instance_id, port in zip(instance_ids, ports):
        lab.backend.add_instance(instance_id, hostname="vm-" + instance_id[:4], project_id=port["project_id"],
                                 local_ipv4=port["fixed_ips"][0]["ip_address"])
    qdhcp = lab.dhcp_namespace(net, dhcp_port)
    vms = [lab.instance(p["id"], p["mac_address"], p["fixed_ips"][0]["ip_address"], dhcp_ip) for p in ports]
    # An address no port holds (addresses are allocated at random: .200 may be one of them).
    held = {p["fixed_ips"][0]["ip_address"] for p in [dhcp_port] + ports}
    stranger_ip = next("10.77.0.%d" % host for host in range(200, 210) if "10.77.0.%d" % host not in held)
    stranger = lab.instance(str(uuid.uuid4()), multihost.random_mac(), stranger_ip, dhcp_ip)

    lab.spawn_proxy(qdhcp, net["id"])
    assert lab.proxy.active(net["id"])
    config = open(lab.proxy.config_path(net["id"])).read()
    assert "X-Neutron-Network-ID %s" % net["id"] in config
    # The book's view: haproxy listening on 0.0.0.0:80 inside qdhcp-<network>.
    listening = multihost.run("ip", "netns", "exec", qdhcp, "ss", "-ltnp", check=False).stdout
    assert "0.0.0.0:80" in listening and "haproxy" in listening

    # Each instance gets its own id, through haproxy -> unix socket -> agent -> RPC -> backend.
    for namespace, instance_id in zip(vms, instance_ids):
        assert curl(namespace, "/latest/meta-data/instance-id") == (200, instance_id)
    status, body = curl(vms[1], "/openstack/latest/meta_data.json")
    assert status == 200 and '"uuid": "%s"' % instance_ids[1] in body
    seen = lab.backend.requests[-1][2]
    assert seen["X-Forwarded-For"] == ports[1]["fixed_ips"][0]["ip_address"]
    assert seen["X-Tenant-ID"] == ports[1]["project_id"]

    # Forged headers from the second instance cannot read the first one's data.
    forged = ["X-Forwarded-For: %s" % ports[0]["fixed_ips"][0]["ip_address"],
              "X-Instance-ID: %s" % instance_ids[0], "X-Neutron-Network-ID: %s" % uuid.uuid4(),
              "X-Neutron-Router-ID: %s" % uuid.uuid4()]
    assert curl(vms[1], "/latest/meta-data/instance-id", headers=forged) == (200, instance_ids[1])
    assert curl(vms[1], "/latest/meta-data/hostname", headers=forged) == (200, "vm-" + instance_ids[1][:4])

    # An address that no port holds gets 404.
    assert curl(stranger, "/latest/meta-data/instance-id")[0] == 404

    # A POST reaches the backend for the right instance only.
    assert curl(vms[0], "/openstack/latest/password", method="POST", data="pw-of-first")[0] == 200
    assert curl(vms[0], "/openstack/latest/password") == (200, "pw-of-first")
    assert curl(vms[1], "/openstack/latest/password") == (200, "")

    # The agent reports itself as Neutron's does.
    rows = _wait(lambda: [a for a in lab.api("GET", "/agents")["agents"]
                          if a["host"] == lab.host_name and a["alive"]], "the metadata agent reports")
    assert [(a["agent_type"], a["binary"], a["topic"]) for a in rows] == \
        [("Metadata agent", "netweave-metadata-agent", "N/A")]
    assert rows[0]["configurations"]["metadata_proxy_socket"] == lab.socket_path

    # A killed haproxy is respawned by the process monitor and serves again.
    old_pid = lab.proxy.pid(net["id"])
    os.kill(old_pid, 9)
    new_pid = _wait(lambda: lab.proxy.pid(net["id"]) not in (None, old_pid) and lab.proxy.pid(net["id"]),
                    "haproxy is respawned", timeout=30)
    assert new_pid != old_pid
    assert _wait(lambda: curl(vms[0], "/latest/meta-data/instance-id", timeout=5) == (200, instance_ids[0]),
                 "the respawned proxy answers", timeout=30)

    # Stopping the proxy: nothing listens any more, its file is gone, the monitor leaves it stopped.
    lab.proxy.stop(net["id"])
    lab.proxied.remove(net["id"])
    assert not lab.proxy.active(net["id"])
    assert not os.path.exists(lab.proxy.config_path(net["id"]))
    assert curl(vms[0], "/latest/meta-data/instance-id", timeout=3)[0] == 0
    time.sleep(1.5)
    assert not lab.proxy.active(net["id"])


@pytest.mark.slow
def test_proxy_keeps_running_and_reports_backend_errors(lab):
    net = lab.network()
    dhcp_port = lab.port(net, "dhcp-" + lab.lab.tag, device_owner="network:dhcp")
    dhcp_ip = dhcp_port["fixed_ips"][0]["ip_address"]
    instance_id = str(uuid.uuid4())
    port = lab.port(net, instance_id)
    lab.backend.add_instance(instance_id, project_id=port["project_id"])
    qdhcp = lab.dhcp_namespace(net, dhcp_port)
    vm = lab.instance(port["id"], port["mac_address"], port["fixed_ips"][0]["ip_address"], dhcp_ip)

    lab.spawn_proxy(qdhcp, net["id"])
    first_pid = lab.proxy.pid(net["id"])
    # Same settings: the running proxy is kept.
    lab.spawn_proxy(qdhcp, net["id"])
    assert lab.proxy.pid(net["id"]) == first_pid
    assert curl(vm, "/latest/meta-data/instance-id") == (200, instance_id)

    # Backend trouble becomes Neutron's statuses, never a hang or a 500 of the agent's own.
    lab.backend.force_status(503)
    assert curl(vm, "/latest/meta-data/instance-id")[0] == 503
    lab.backend.force_status(418)
    assert curl(vm, "/latest/meta-data/instance-id")[0] == 502
    lab.backend.force_status(None)
    assert curl(vm, "/latest/meta-data/instance-id") == (200, instance_id)

    # Slow answers do not queue behind each other: 12 requests of 1.5 s each, 8 agent threads.
    lab.backend.delay = 1.5
    try:
        results = []
        started = time.monotonic()
        threads = [threading.Thread(target=lambda: results.append(curl(vm, "/latest/meta-data/instance-id")))
                   for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        lab.backend.delay = 0.0
    assert results == [(200, instance_id)] * 12
    assert elapsed < 12, "12 requests took %.1f s: they were served one at a time" % elapsed

    # Deleting the port: the address no longer names an instance.
    lab.api("DELETE", "/ports/" + port["id"])
    assert _wait(lambda: curl(vm, "/latest/meta-data/instance-id", timeout=5)[0] == 404,
                 "the deleted port's address gets 404", timeout=30)


@pytest.mark.slow
def test_router_proxy_serves_instances_on_every_network_of_the_router(lab):
    router_id = str(uuid.uuid4())
    nets = [lab.network("10.78.0.0/24"), lab.network("10.79.0.0/24")]
    interfaces = [lab.port(net, router_id, device_owner="network:router_interface") for net in nets]
    instance_id = str(uuid.uuid4())
    port = lab.port(nets[1], instance_id)
    lab.backend.add_instance(instance_id, project_id=port["project_id"])
    # The instance sits on the router's second network: the agent finds it through the router's ports.
    qrouter = lab.router_namespace(router_id, interfaces[1])
    gateway = interfaces[1]["fixed_ips"][0]["ip_address"]
    vm = lab.instance(port["id"], port["mac_address"], port["fixed_ips"][0]["ip_address"], gateway)

    lab.spawn_proxy(qrouter, router_id, kind="router")
    # In qrouter- the proxy listens on 9697 (a NAT rule sends port 80 there, as in Neutron).
    via_9697 = "http://169.254.169.254:9697"
    assert curl(vm, "/latest/meta-data/instance-id", url=via_9697) == (200, instance_id)
    assert lab.backend.requests[-1][2]["X-Forwarded-For"] == port["fixed_ips"][0]["ip_address"]
    forged = ["X-Neutron-Router-ID: %s" % uuid.uuid4(), "X-Neutron-Network-ID: %s" % nets[0]["id"]]
    assert curl(vm, "/latest/meta-data/instance-id", headers=forged, url=via_9697) == (200, instance_id)
