"""End to end: a port's dns_name reaches its instance as the DHCP host name (option 12).

netweave-server with ``[ml2] extension_drivers = dns`` and ``dns_domain =
example.org.``, the RPC server on RabbitMQ, Linux bridge agents on h1 and h2 and
the DHCP agent on h1 (same dns_domain), as processes. The instance on h2 runs
busybox udhcpc. A name given through the API reaches dnsmasq by the port
notifications; a name changed while the DHCP agent is down reaches it by the
agent's resync (get_network_info). Everything started is stopped and removed.
"""
import os
import shutil
import time

import pytest

from harness import dhcp as dh
from harness import system
from harness.multihost import Cloud
from netweave.core import naming
from netweave.core.agent import external_process

pytestmark = [pytest.mark.system("ip", "bridge", "dnsmasq", "udhcpc", "dhcp_release"), pytest.mark.slow]

DOMAIN = "example.org"


class DnsCloud(Cloud):
    def start_control_plane(self, ml2, defaults=""):
        super().start_control_plane(dict(ml2, extension_drivers="dns"),
                                    defaults=defaults + "dns_domain = %s.\n" % DOMAIN)


@pytest.fixture(scope="module")
def cloud(rabbitmq_server, tmp_path_factory):
    system.require_root()
    created = DnsCloud(str(tmp_path_factory.mktemp("dnsdhcp")), rabbitmq_server.transport_url)
    state_path = dh.world_readable_dir("nwdnsdhcp-")
    created.dhcp_state_path = state_path
    created.dhcp_agent = None
    created.clients = []
    try:
        created.start()
        created.dhcp_agent = _start_dhcp_agent(created)
        yield created
    finally:
        for client in created.clients:
            client.stop()
        created.stop_processes(created.dhcp_agent)
        dh.stop_served_networks(state_path)
        created.close()
        shutil.rmtree(state_path, ignore_errors=True)


def _start_dhcp_agent(cloud):
    agent = dh.start_dhcp_agent(cloud, "h1", cloud.dhcp_state_path, extra="dns_domain = %s.\n" % DOMAIN)
    cloud.wait(lambda: any(a["alive"] for a in cloud.api("GET", "/agents")["agents"]
                           if a["agent_type"] == "DHCP agent"), "the DHCP agent reports", timeout=60)
    return agent


def _hosts_file(cloud, net):
    path = os.path.join(cloud.dhcp_state_path, "dhcp", net["id"], "host")
    return open(path).read() if os.path.exists(path) else ""


def _lease_with_hostname(client, hostname):
    return next((e for e in client.events() if e["event"] in ("bound", "renew") and e.get("hostname") == hostname),
                None)


def _renew_until(client, hostname, timeout=60):
    """Renew until a lease carries ``hostname``: the agent writes the hosts file before
    it signals dnsmasq, so a renewal right after the file changed may still get the old name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client.renew()
        try:
            return dh.wait_for(lambda: _lease_with_hostname(client, hostname), "a lease with " + hostname, timeout=5)
        except AssertionError:
            continue
    raise AssertionError("no renewal brought %s" % hostname)


def test_dns_name_becomes_the_instances_dhcp_host_name(cloud):
    net = cloud.api("POST", "/networks", {"network": {"name": "dns-e2e"}})["network"]
    cloud.api("POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": "10.73.0.0/24",
                                              "gateway_ip": "10.73.0.1"}})
    dnsmasq = external_process.ProcessManager(net["id"], "dnsmasq", lambda _p: [], cloud.dhcp_state_path)
    cloud.wait(lambda: dnsmasq.active, "dnsmasq serves the network on host1", timeout=60)

    port = cloud.api("POST", "/ports", {"port": {"network_id": net["id"], "device_owner": "", "dns_name": "Web-1",
                                                 "binding:host_id": "host2"}})["port"]
    ip = port["fixed_ips"][0]["ip_address"]
    assert port["dns_assignment"] == [{"hostname": "web-1", "ip_address": ip, "fqdn": "web-1.example.org."}]
    # The hypervisor's part on h2: the tap the L2 agent wires, the instance without an address.
    namespace = cloud.lab.instance("h2", naming.tap_device(port["id"]), port["mac_address"], None, mtu=1500)
    cloud.wait_active(port, timeout=60)
    assert "%s,web-1.example.org.,%s" % (port["mac_address"], ip) in _hosts_file(cloud, net)
    client = dh.DhcpClient(namespace, cloud.workdir)
    cloud.clients.append(client)
    lease = client.start().bound(timeout=60)
    assert (lease["ip"], lease["hostname"], lease["domain"]) == (ip, "web-1", DOMAIN)

    # A new name: the port notification brings it to dnsmasq, the renewal to the instance.
    cloud.api("PUT", "/ports/" + port["id"], {"port": {"dns_name": "web-2"}})
    dh.wait_for(lambda: "web-2.example.org." in _hosts_file(cloud, net), "the agent wrote the new name", timeout=30)
    assert _renew_until(client, "web-2")["ip"] == ip

    # Renamed while the DHCP agent is down: its resync reads the name from the server.
    cloud.dhcp_agent.stop()
    cloud.dhcp_agent = None
    cloud.api("PUT", "/ports/" + port["id"], {"port": {"dns_name": "web-3"}})
    cloud.dhcp_agent = _start_dhcp_agent(cloud)
    dh.wait_for(lambda: "web-3.example.org." in _hosts_file(cloud, net), "the restarted agent wrote web-3",
                timeout=60)
    assert _renew_until(client, "web-3")["ip"] == ip

    cloud.api("DELETE", "/ports/" + port["id"])
    cloud.api("DELETE", "/networks/" + net["id"])
