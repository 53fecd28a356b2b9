"""Metadata through routers, end to end: server, RPC server, broker, L2 agents, netweave-l3-agent
with enable_metadata_proxy (its default), netweave-metadata-agent and a stand-in Nova metadata API.

An instance on a network behind a router asks http://169.254.169.254: the router's NAT rule sends
the request to haproxy on 9697 in qrouter-<id>, which names the router (X-Neutron-Router-ID) and
the client (X-Forwarded-For) to the metadata agent over its unix socket; the agent finds the port
by the router's networks and the source address and signs the request for that port's instance.

With a DHCP agent serving `enable_isolated_metadata`, a network is served from qdhcp- only while
no router interface holds its gateway: adding one moves the instances' 169.254.169.254 route
(option 121) to the gateway and stops the qdhcp- proxy; removing it brings both back.
"""
import json
import os
import shutil
import textwrap
import uuid

import pytest

from harness import dhcp as dh
from harness import l3, metadata_backend, multihost, processes, system
from harness.ovs import ovs_switch  # noqa: F401 - pytest fixture
from netweave.core import naming
from netweave.core.agent import external_process

pytestmark = [pytest.mark.system("ip", "bridge", "iptables", "haproxy", "curl"), pytest.mark.slow]

SECRET = "RouterMetadataSecret"


def _metadata_agent_ini(path, cloud, state_path, socket_path, backend):
    with open(path, "w") as handle:
        handle.write(textwrap.dedent("""\
            [DEFAULT]
            host = host2
            transport_url = {url}
            state_path = {state}
            metadata_proxy_socket = {socket}
            nova_metadata_host = 127.0.0.1
            nova_metadata_port = {port}
            metadata_proxy_shared_secret = {secret}
            debug = true
            """).format(url=cloud.transport_url, state=state_path, socket=socket_path, port=backend.port,
                        secret=SECRET))
    return path


@pytest.fixture(scope="module", params=["linuxbridge", "openvswitch"])
def cloud(request, rabbitmq_server, tmp_path_factory):
    system.require_root()
    workdir = str(tmp_path_factory.mktemp("l3metadata"))
    if request.param == "linuxbridge":
        created = l3.RoutedCloud(workdir, rabbitmq_server.transport_url)
    else:
        request.getfixturevalue("ovs_switch")
        created = l3.RoutedOvsCloud(workdir, rabbitmq_server.transport_url)
    # haproxy in the namespaces and the agents share this directory (and the socket in it).
    state_path = dh.world_readable_dir("nwl3md-")
    socket_path = os.path.join(state_path, "metadata_proxy")
    created.metadata_socket = socket_path
    created.dhcp_state_path = state_path
    created.dhcp_agent = None
    created.clients = []
    # The L3 agent's defaults: enable_metadata_proxy = true, metadata_port = 9697.
    created.l3_settings = "metadata_proxy_socket = %s" % socket_path
    created.backend = metadata_backend.MetadataBackend(SECRET)
    metadata_agent = None
    try:
        ini = _metadata_agent_ini(os.path.join(workdir, "metadata_agent.ini"), created, state_path, socket_path,
                                  created.backend)
        metadata_agent = processes.start_process(
            [os.path.join(multihost.BIN, "netweave-metadata-agent"), "--config-file", ini],
            os.path.join(workdir, "metadata-agent.log"))
        metadata_agent.wait_until(lambda: os.path.exists(socket_path), timeout=60, what="the metadata agent listens")
        created.start()
        created.external, created.external_subnet = created.external_network()
        yield created
    finally:
        for client in created.clients:
            client.stop()
        if created.dhcp_agent is not None:
            created.dhcp_agent.stop()
        if created.l3_agent is not None:
            created.l3_agent.stop()
        # The routers' proxies outlive the L3 agent (routers keep working without it): stop them.
        l3_state = os.path.join(workdir, "l3-state")
        for router_id in created.router_ids:
            external_process.ProcessManager(router_id, "haproxy", lambda _p: [], l3_state).disable()
        dh.stop_served_networks(state_path)
        created.close()
        if metadata_agent is not None:
            metadata_agent.stop()
        created.backend.close()
        shutil.rmtree(state_path, ignore_errors=True)


def instance_port(cloud, net, host="h1"):
    """A compute port whose device_id names an instance the metadata backend knows."""
    instance_id = str(uuid.uuid4())
    port = cloud.api("POST", "/ports", {"port": {"network_id": net["id"], "device_owner": "",
                                                 "device_id": instance_id,
                                                 "binding:host_id": multihost.AGENT_HOST[host]}})["port"]
    cloud.backend.add_instance(instance_id, hostname="vm-" + instance_id[:8], project_id=port["project_id"])
    return instance_id, port


def curl_metadata(namespace, path="/openstack/latest/meta_data.json"):
    result = multihost.run("ip", "netns", "exec", namespace, "curl", "-s", "-m", "5", "-w", "\n%{http_code}",
                           "http://169.254.169.254" + path, check=False, timeout=20)
    body, _, status = result.stdout.rpartition("\n")
    return (int(status) if status.isdigit() else 0), body


def wait_metadata(cloud, namespace, path="/openstack/latest/meta_data.json", timeout=60):
    answers = []

    def answered():
        answers.append(curl_metadata(namespace, path))
        return answers[-1][0] == 200
    cloud.wait(answered, "the instance reads its metadata (last %r)" % (answers[-1:],), timeout=timeout, interval=1)
    return answers[-1][1]


def test_instances_behind_a_router_read_their_own_metadata_through_it(cloud):
    nets = [cloud.project_network("l3md-%d" % i, "10.%d.0.0/24" % (40 + i)) for i in range(2)]
    router = cloud.router("l3md", cloud.external, [subnet for _net, subnet in nets])
    instances = []
    for net, subnet in nets:
        instance_id, port = instance_port(cloud, net)
        vm = cloud.plug("h1", net, port)
        multihost.run("ip", "-n", vm.namespace, "route", "add", "default", "via", subnet["gateway_ip"])
        instances.append((instance_id, port, vm))
    cloud.wait_active(*[port for _id, port, _vm in instances], timeout=60)
    cloud.wait_router_active(router["id"])
    qrouter = naming.router_namespace(router["id"])
    nat = multihost.run("ip", "netns", "exec", qrouter, "iptables-save", "-t", "nat").stdout
    assert ("-A neutron-l3-agent-PREROUTING -d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 "
            "-j REDIRECT --to-ports 9697") in nat
    for instance_id, port, vm in instances:
        data = json.loads(wait_metadata(cloud, vm.namespace))
        # Its own instance, found on the router's second network as well as on its first.
        assert data["uuid"] == instance_id and data["project_id"] == port["project_id"]
        assert curl_metadata(vm.namespace, "/latest/meta-data/instance-id") == (200, instance_id)
        method, path, headers, _body = cloud.backend.requests[-1]
        assert (method, path) == ("GET", "/latest/meta-data/instance-id")
        assert headers["X-Forwarded-For"] == vm.ip
        assert headers["X-Instance-ID-Signature"] == metadata_backend.signature(SECRET, instance_id)
    # The proxy port itself is closed to instances: only redirected requests get in.
    vm = instances[0][2]
    direct = multihost.run("ip", "netns", "exec", vm.namespace, "curl", "-s", "-m", "3",
                           "http://%s:9697/" % nets[0][1]["gateway_ip"], check=False, timeout=20)
    assert direct.returncode != 0


def _dhcp_port(cloud, net):
    ports = cloud.api("GET", "/ports?network_id=%s&device_owner=network:dhcp" % net["id"])["ports"]
    return ports[0] if ports else None


def _ns_addresses(namespace):
    return multihost.run("ip", "-n", namespace, "-o", "addr", "show").stdout


@pytest.mark.parametrize("cloud", ["linuxbridge"], indirect=True)
def test_dhcp_hands_metadata_to_the_router_when_one_serves_the_subnet(cloud):
    system.require_executables("dnsmasq", "udhcpc", "dhcp_release")
    cloud.dhcp_agent = dh.start_dhcp_agent(cloud, "h2", cloud.dhcp_state_path,
                                           extra="enable_isolated_metadata = true\n"
                                                 "metadata_proxy_socket = %s\n" % cloud.metadata_socket)
    net = cloud.api("POST", "/networks", {"network": {"name": "l3md-dhcp"}})["network"]
    subnet = cloud.api("POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                       "cidr": "10.48.0.0/24"}})["subnet"]
    gateway = subnet["gateway_ip"]
    opts = os.path.join(cloud.dhcp_state_path, "dhcp", net["id"], "opts")
    qdhcp = naming.dhcp_namespace(net["id"])

    def dhcp_proxy_active():
        return external_process.ProcessManager(net["id"], "haproxy", lambda _p: [], cloud.dhcp_state_path).active

    dhcp_port = dh.wait_for(lambda: _dhcp_port(cloud, net), "the DHCP port exists", timeout=60)
    cloud.wait_active(dhcp_port, timeout=60)
    dhcp_ip = dhcp_port["fixed_ips"][0]["ip_address"]
    instance_id, port = instance_port(cloud, net)
    namespace = cloud.lab.instance("h1", naming.tap_device(port["id"]), port["mac_address"], None,
                                   mtu=net["mtu"])
    client = dh.DhcpClient(namespace, cloud.workdir)
    cloud.clients.append(client)
    client.start()

    # No router yet: the subnet is isolated, metadata comes from qdhcp-.
    lease = client.bound(timeout=90)
    assert lease["ip"] == port["fixed_ips"][0]["ip_address"]
    assert lease["staticroutes"].split() == ["169.254.169.254/32", dhcp_ip, "0.0.0.0/0", gateway]
    assert dhcp_proxy_active() and "169.254.169.254/16" in _ns_addresses(qdhcp)
    assert json.loads(wait_metadata(cloud, namespace))["uuid"] == instance_id
    assert cloud.backend.requests[-1][2]["X-Forwarded-For"] == lease["ip"]

    # A router interface takes the gateway: the route goes via the router, qdhcp- stops serving it.
    router = cloud.router("l3md-dhcp", cloud.external, [subnet])
    via_router = "tag:subnet-%s,option:classless-static-route,169.254.169.254/32,%s,0.0.0.0/0,%s" % (
        subnet["id"], gateway, gateway)
    dh.wait_for(lambda: via_router in open(opts).read(), "the metadata route goes via the router", timeout=60)
    dh.wait_for(lambda: not dhcp_proxy_active(), "the qdhcp- metadata proxy stops", timeout=30)
    assert "169.254.169.254" not in _ns_addresses(qdhcp)
    cloud.wait_router_active(router["id"])
    client.renew()
    lease = client.bound(count=2, timeout=60)
    assert lease["staticroutes"].split() == ["169.254.169.254/32", gateway, "0.0.0.0/0", gateway]
    assert "169.254.169.254 via %s" % gateway in client.routes()
    before = len(cloud.backend.requests)
    assert json.loads(wait_metadata(cloud, namespace))["uuid"] == instance_id
    assert len(cloud.backend.requests) > before
    # Through the router's proxy: the REDIRECT rule in qrouter- counted the request.
    counters = multihost.run("ip", "netns", "exec", naming.router_namespace(router["id"]), "iptables", "-t", "nat",
                             "-L", "neutron-l3-agent-PREROUTING", "-v", "-x", "-n").stdout
    redirect = next(line.split() for line in counters.splitlines() if "redir ports 9697" in line)
    assert int(redirect[0]) > 0, counters

    # The interface removed, the subnet is isolated again and qdhcp- serves it once more.
    cloud.api("PUT", "/routers/%s/remove_router_interface" % router["id"], {"subnet_id": subnet["id"]})
    via_dhcp = "tag:subnet-%s,option:classless-static-route,169.254.169.254/32,%s," % (subnet["id"], dhcp_ip)
    dh.wait_for(lambda: via_dhcp in open(opts).read(), "the metadata route goes via the DHCP port", timeout=60)
    dh.wait_for(dhcp_proxy_active, "the qdhcp- metadata proxy runs again", timeout=30)
    client.renew()
    lease = client.bound(count=3, timeout=60)
    assert lease["staticroutes"].split()[:2] == ["169.254.169.254/32", dhcp_ip]
    assert json.loads(wait_metadata(cloud, namespace))["uuid"] == instance_id
