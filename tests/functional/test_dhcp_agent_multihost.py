"""End to end: server, RPC server, RabbitMQ, Linux bridge agents and the DHCP agent as processes.

Host h1 runs the DHCP agent (its taps in h1's namespace, wired by h1's Linux
bridge agent); the instances live on h2 and reach dnsmasq over VXLAN. The
instances run busybox udhcpc. With isolated metadata, the instance reads its
instance id through haproxy in qdhcp- and netweave-metadata-agent from a
stand-in metadata backend. Everything the tests start is stopped and removed
at the end, dnsmasq, haproxy and the qdhcp- namespaces included.
"""
import os
import shutil
import signal
import time

import pytest

from harness import dhcp as dh
from harness import processes, system
from harness.multihost import BIN, Cloud
from netweave.core import naming
from netweave.core.agent import external_process

pytestmark = [pytest.mark.system("ip", "bridge", "dnsmasq", "udhcpc", "dhcp_release"), pytest.mark.slow]


@pytest.fixture(scope="module")
def cloud(rabbitmq_server, tmp_path_factory):
    system.require_root()
    created = Cloud(str(tmp_path_factory.mktemp("dhcpmh")), rabbitmq_server.transport_url)
    state_path = dh.world_readable_dir("nwdhcpmh-")
    created.dhcp_state_path = state_path
    created.dhcp_agent = None
    clients = []
    created.clients = clients
    try:
        created.start()
        created.dhcp_agent = dh.start_dhcp_agent(created, "h1", state_path)
        created.wait(lambda: any(a["alive"] for a in created.api("GET", "/agents")["agents"]
                                 if a["agent_type"] == "DHCP agent"), "the DHCP agent reports", timeout=60)
        yield created
    finally:
        for client in clients:
            client.stop()
        created.stop_processes(created.dhcp_agent)
        dh.stop_served_networks(state_path)
        created.close()
        shutil.rmtree(state_path, ignore_errors=True)


def _dhcp_network(cloud, name, cidr):
    net = cloud.api("POST", "/networks", {"network": {"name": name}})["network"]
    gateway = cidr.rsplit(".", 1)[0] + ".1"
    subnet = cloud.api("POST", "/subnets", {"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": cidr, "gateway_ip": gateway,
        "dns_nameservers": ["192.0.2.53", "192.0.2.54"],
        "host_routes": [{"destination": "198.51.100.0/24", "nexthop": cidr.rsplit(".", 1)[0] + ".254"}]}})["subnet"]
    return net, subnet


def _dhcp_port(cloud, net):
    ports = cloud.api("GET", "/ports?network_id=%s&device_owner=network:dhcp" % net["id"])["ports"]
    return ports[0] if ports else None


def _dnsmasq(cloud, net):
    return external_process.ProcessManager(net["id"], "dnsmasq", lambda _p: [], cloud.dhcp_state_path)


def _instance(cloud, net, port):
    """The hypervisor's part on h2 (tap + instance namespace, no address), then udhcpc."""
    namespace = cloud.lab.instance("h2", naming.tap_device(port["id"]), port["mac_address"], None,
                                   mtu=1500)
    client = dh.DhcpClient(namespace, cloud.workdir)
    cloud.clients.append(client)
    return client


def test_instance_lease_activation_and_agent_restart(cloud):
    agent_rows = [a for a in cloud.api("GET", "/agents")["agents"] if a["agent_type"] == "DHCP agent"]
    assert [(a["host"], a["binary"], a["availability_zone"]) for a in agent_rows] == \
        [("host1", "netweave-dhcp-agent", "nova")]

    net, subnet = _dhcp_network(cloud, "dhcp-e2e", "10.71.0.0/24")
    namespace = naming.dhcp_namespace(net["id"])
    cloud.wait(lambda: _dnsmasq(cloud, net).active, "dnsmasq serves the network on host1", timeout=60)
    dhcp_port = dh.wait_for(lambda: _dhcp_port(cloud, net), "the DHCP port exists")
    assert dhcp_port["binding:host_id"] == "host1"
    assert dhcp_port["device_id"].startswith("dhcp") and dhcp_port["device_id"].endswith("-" + net["id"])
    cloud.wait_active(dhcp_port, timeout=60)
    assert namespace in dh.run("ip", "netns", "list").stdout

    # The DHCP agent is frozen: the instance's port is wired by the L2 agent but stays
    # out of ACTIVE until the DHCP agent has its address in dnsmasq.
    os.kill(cloud.dhcp_agent.pid, signal.SIGSTOP)
    try:
        port = cloud.port(net, "h2")
        client = _instance(cloud, net, port)
        time.sleep(6)
        assert cloud.status(port) != "ACTIVE"
    finally:
        os.kill(cloud.dhcp_agent.pid, signal.SIGCONT)
    cloud.wait_active(port, timeout=60)
    hosts = open(os.path.join(cloud.dhcp_state_path, "dhcp", net["id"], "host")).read()
    assert port["mac_address"] in hosts

    client.start()
    lease = client.bound(timeout=60)
    ip = port["fixed_ips"][0]["ip_address"]
    assert lease["ip"] == ip
    assert lease["router"] == "10.71.0.1"
    assert lease["dns"].split() == ["192.0.2.53", "192.0.2.54"]
    assert lease["mtu"] == str(net["mtu"]) == "1450"
    assert lease["staticroutes"].split() == ["198.51.100.0/24", "10.71.0.254", "0.0.0.0/0", "10.71.0.1"]
    assert "default via 10.71.0.1" in client.routes()

    # kill -9 and restart: dnsmasq keeps serving throughout and is not restarted.
    pid = _dnsmasq(cloud, net).pid
    cloud.dhcp_agent.stop(sig=signal.SIGKILL, grace=5)
    assert _dnsmasq(cloud, net).pid == pid
    client.renew()
    assert client.bound(count=2, timeout=40)["ip"] == ip
    cloud.dhcp_agent = dh.start_dhcp_agent(cloud, "h1", cloud.dhcp_state_path)
    second_port = cloud.port(net, "h2")
    second = _instance(cloud, net, second_port).start()
    assert second.bound(timeout=60)["ip"] == second_port["fixed_ips"][0]["ip_address"]
    cloud.wait_active(second_port, timeout=60)
    assert _dnsmasq(cloud, net).pid == pid

    # A fixed IP change reaches the instance at its next renewal; the old lease is released.
    new_ip = "10.71.0.200"
    cloud.api("PUT", "/ports/" + port["id"], {"port": {"fixed_ips": [{"subnet_id": subnet["id"],
                                                                      "ip_address": new_ip}]}})
    leases = os.path.join(cloud.dhcp_state_path, "dhcp", net["id"], "leases")
    dh.wait_for(lambda: new_ip in open(os.path.join(cloud.dhcp_state_path, "dhcp", net["id"], "host")).read(),
                "the agent rewrote the hosts file", timeout=30)
    dh.wait_for(lambda: " %s " % ip not in open(leases).read(), "the old lease is released", timeout=30)
    client.renew()
    dh.wait_for(lambda: any(e.get("ip") == new_ip for e in client.events()), "the instance renews onto the new IP",
                timeout=60)
    assert _dnsmasq(cloud, net).pid == pid

    # The network goes: dnsmasq, port and namespace go with it.
    for p in (port, second_port):
        cloud.api("DELETE", "/ports/" + p["id"])
    cloud.api("DELETE", "/networks/" + net["id"])
    dh.wait_for(lambda: namespace not in dh.run("ip", "netns", "list").stdout, "qdhcp- is removed", timeout=60)
    assert not _dnsmasq(cloud, net).active
    assert processes.process_gone(pid)


def test_isolated_metadata_through_proxy_and_metadata_agent(cloud):
    """enable_isolated_metadata: the route comes by DHCP, haproxy in qdhcp- and the metadata agent answer."""
    import textwrap

    from harness import metadata_backend, processes
    system.require_executables("haproxy", "curl")
    secret = "MetadataSecret123"
    socket_path = os.path.join(cloud.dhcp_state_path, "metadata_proxy")
    backend = metadata_backend.MetadataBackend(secret)
    metadata_agent = None
    try:
        ini = os.path.join(cloud.workdir, "metadata_agent.ini")
        with open(ini, "w") as handle:
            handle.write(textwrap.dedent("""\
                [DEFAULT]
                host = host1
                transport_url = {url}
                state_path = {state}
                metadata_proxy_socket = {socket}
                nova_metadata_host = 127.0.0.1
                nova_metadata_port = {port}
                metadata_proxy_shared_secret = {secret}
                """).format(url=cloud.transport_url, state=cloud.dhcp_state_path, socket=socket_path,
                            port=backend.port, secret=secret))
        metadata_agent = processes.start_process([os.path.join(BIN, "netweave-metadata-agent"), "--config-file", ini],
                                                 os.path.join(cloud.workdir, "metadata-agent.log"))
        metadata_agent.wait_until(lambda: os.path.exists(socket_path), timeout=60, what="the metadata agent listens")
        # The DHCP agent again, now serving isolated metadata.
        cloud.dhcp_agent.stop()
        cloud.dhcp_agent = dh.start_dhcp_agent(cloud, "h1", cloud.dhcp_state_path,
                                               extra="enable_isolated_metadata = true\n"
                                                     "metadata_proxy_socket = %s\n" % socket_path)

        net = cloud.api("POST", "/networks", {"network": {"name": "dhcp-md"}})["network"]
        cloud.api("POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": "10.72.0.0/24",
                                                  "gateway_ip": None}})
        instance_id = "5d3a1c9e-0000-4000-8000-00000000a001"
        backend.add_instance(instance_id, hostname="vm1", project_id="admin")
        # device_owner "" as everywhere in the multi-host harness: the L2 agent wires the tap itself.
        port = cloud.api("POST", "/ports", {"port": {"network_id": net["id"], "device_owner": "",
                                                     "device_id": instance_id,
                                                     "binding:host_id": "host2"}})["port"]
        dhcp_port = dh.wait_for(lambda: _dhcp_port(cloud, net), "the DHCP port exists", timeout=60)
        cloud.wait_active(dhcp_port, timeout=60)
        client = _instance(cloud, net, port).start()
        lease = client.bound(timeout=90)
        dhcp_ip = dhcp_port["fixed_ips"][0]["ip_address"]
        assert lease["ip"] == port["fixed_ips"][0]["ip_address"]
        assert lease["staticroutes"].split() == ["169.254.169.254/32", dhcp_ip]
        assert "169.254.169.254 via %s" % dhcp_ip in client.routes()
        cloud.wait_active(port, timeout=60)

        def fetch():
            result = dh.run("ip", "netns", "exec", client.namespace, "curl", "-s", "-m", "5",
                            "http://169.254.169.254/latest/meta-data/instance-id", check=False)
            return result.stdout if result.returncode == 0 else None
        assert dh.wait_for(fetch, "the instance reads its metadata", timeout=60, interval=1) == instance_id

        # Over IPv6 too: fe80::a9fe:a9fe on the DHCP port; the agent finds the port by the MAC
        # in the instance's EUI-64 link-local source address. This instance is on the DHCP
        # agent's host: across VXLAN, arp_responder's neighbour proxy answers only for fixed IPs.
        second_id = "5d3a1c9e-0000-4000-8000-00000000a002"
        backend.add_instance(second_id, hostname="vm2", project_id="admin")
        second = cloud.api("POST", "/ports", {"port": {"network_id": net["id"], "device_owner": "",
                                                       "device_id": second_id, "binding:host_id": "host1"}})["port"]
        second_ns = cloud.lab.instance("h1", naming.tap_device(second["id"]), second["mac_address"], None)
        # The lab's namespaces start without IPv6; this instance needs its link-local address.
        dh.run("ip", "netns", "exec", second_ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0",
               "net.ipv6.conf.eth0.disable_ipv6=0")
        cloud.wait_active(second, timeout=60)

        def fetch_v6():
            result = dh.run("ip", "netns", "exec", second_ns, "curl", "-s", "-g", "-m", "5",
                            "http://[fe80::a9fe:a9fe%eth0]/latest/meta-data/instance-id", check=False)
            return result.stdout if result.returncode == 0 else None
        assert dh.wait_for(fetch_v6, "the instance reads its metadata over IPv6", timeout=60,
                           interval=1) == second_id
    finally:
        if metadata_agent is not None:
            metadata_agent.stop()
        backend.close()
