"""netweave-all-in-one started as root runs the Linux bridge agent in its own process.

One process: API, agents' RPC over the in-process transport (fake://, no
broker) and the agent, which here wires the devices of a namespace this test
made (``--l2-agent-netns``), so nothing outside it changes. The agent is not
named on the command line: as root, the all-in-one picks linuxbridge itself
and says so in its log. Instances are namespaces whose eth0 is the peer of
tap<port id[:11]> in that host namespace; they ping each other over a flat
network (on a veth standing in for the NIC) and a local one with the same,
overlapping, subnet.
"""
import os
import textwrap

import pytest
import requests

from harness import multihost, system
from harness import server as server_harness
from netweave.core import naming

pytestmark = [pytest.mark.system("ip", "bridge")]

HOST = "aio-lb-host"


@pytest.fixture(scope="module")
def aio(tmp_path_factory):
    system.require_root()
    system.require_executables("ip", "bridge")
    workdir = str(tmp_path_factory.mktemp("aio-agent"))
    lab = multihost.Namespaces("nwaio")
    server = None
    try:
        host_ns = lab.host("host")
        # No dummy driver here: the NIC is one end of a veth whose other end stays down.
        multihost.run("ip", "-n", host_ns, "link", "add", "pv0", "type", "veth", "peer", "name", "pv0peer")
        multihost.run("ip", "-n", host_ns, "link", "set", "pv0", "up")
        ini = os.path.join(workdir, "aio.ini")
        with open(ini, "w") as handle:
            handle.write(textwrap.dedent("""\
                [DEFAULT]
                host = {host}
                auth_strategy = noauth

                [ml2]
                type_drivers = local,flat,vxlan
                tenant_network_types = local

                [ml2_type_flat]
                flat_networks = physnet1

                [agent]
                polling_interval = 1
                report_interval = 2

                [linux_bridge]
                physical_interface_mappings = physnet1:pv0

                [vxlan]
                enable_vxlan = false

                [securitygroup]
                enable_security_group = false
                firewall_driver = noop
                """).format(host=HOST))
        server = server_harness.start_all_in_one(
            workdir, extra_args=["--config-file", ini, "--l2-agent-netns", host_ns])
        server.lab, server.host_ns, server.log_path = lab, host_ns, os.path.join(workdir, "all-in-one.log")
        server.session = requests.Session()
        yield server
    finally:
        if server is not None:
            server.stop()
        lab.close()


def api(aio, method, path, body=None):
    response = aio.session.request(method, aio.url + "/v2.0" + path, json=body, timeout=30)
    assert response.status_code in (200, 201, 204), (method, path, response.status_code, response.text)
    return response.json() if response.content else None


def network(aio, name, cidr, **provider):
    net = api(aio, "POST", "/networks", {"network": dict({"name": name}, **provider)})["network"]
    api(aio, "POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                             "enable_dhcp": False, "gateway_ip": None}})
    return net


def bound_port(aio, net):
    return api(aio, "POST", "/ports", {"port": {"network_id": net["id"], "device_owner": "",
                                                "binding:host_id": HOST}})["port"]


def plug(aio, net, port):
    ip = port["fixed_ips"][0]["ip_address"]
    namespace = aio.lab.instance("host", naming.tap_device(port["id"]), port["mac_address"], ip,
                                 mtu=net.get("mtu") or 1500)
    return namespace, ip


def wait_active(aio, *ports):
    multihost.Cloud.wait(lambda: all(api(aio, "GET", "/ports/" + p["id"])["port"]["status"] == "ACTIVE"
                                     for p in ports), "the ports are ACTIVE", timeout=60)


def test_the_agent_runs_in_process_and_says_why(aio):
    multihost.Cloud.wait(lambda: any(a["host"] == HOST and a["alive"] for a in api(aio, "GET", "/agents")["agents"]),
                         "the in-process agent reports", timeout=60)
    multihost.Cloud.wait(lambda: {a["agent_type"] for a in api(aio, "GET", "/agents")["agents"]
                                  if a["host"] == HOST and a["alive"]} == {"Linux bridge agent", "L3 agent"},
                         "the in-process L2 and L3 agents report", timeout=60)
    agents = {a["agent_type"]: a for a in api(aio, "GET", "/agents")["agents"] if a["host"] == HOST}
    assert agents["Linux bridge agent"]["configurations"]["interface_mappings"] == {"physnet1": "pv0"}
    # The ini file names no service plugins: the router plugin is loaded, and its agent plugs like the L2 one.
    assert agents["L3 agent"]["configurations"]["interface_driver"] == "linuxbridge"
    log = open(aio.log_path).read()
    assert "Running the linuxbridge L2 agent in this process for host %s" % HOST in log
    assert "running as root" in log
    assert "L3 agent on %s running in this process" % HOST in log


def test_flat_and_local_ports_are_wired_in_the_namespace(aio):
    flat = network(aio, "aio-flat", "10.81.0.0/24", **{"provider:network_type": "flat",
                                                        "provider:physical_network": "physnet1"})
    local = network(aio, "aio-local", "10.81.0.0/24")
    assert local["provider:network_type"] == "local"
    f1, f2, l1, l2 = bound_port(aio, flat), bound_port(aio, flat), bound_port(aio, local), bound_port(aio, local)
    for port in (f1, f2, l1, l2):
        assert port["binding:vif_type"] == "bridge", port
    (a, a_ip), (_, b_ip), (c, _), (_, d_ip) = (plug(aio, flat, f1), plug(aio, flat, f2), plug(aio, local, l1),
                                               plug(aio, local, l2))
    wait_active(aio, f1, f2, l1, l2)
    # The bridges are in the test's namespace, the flat one with its NIC.
    bridge = naming.network_bridge(flat["id"])
    assert multihost.link_json(aio.host_ns, bridge) is not None
    assert (multihost.link_json(aio.host_ns, "pv0") or {}).get("master") == bridge
    assert multihost.link_json(aio.host_ns, naming.network_bridge(local["id"])) is not None
    assert multihost.ping_until(a, b_ip), "no echo over the flat network"
    assert multihost.ping_until(c, d_ip), "no echo over the local network"
    # Different networks stay apart, even with overlapping addresses.
    if d_ip not in (a_ip, b_ip):
        assert multihost.ping(a, d_ip, count=2, timeout=0.5) == 0
    # A port whose tap goes away is reported DOWN.
    aio.lab.remove(aio.lab.namespaces[-1])
    multihost.Cloud.wait(lambda: api(aio, "GET", "/ports/" + l2["id"])["port"]["status"] == "DOWN",
                         "the unplugged port is DOWN", timeout=60)


def test_a_router_between_two_networks_routes_in_the_single_node(aio):
    """The in-process L3 agent: a router joining two local networks, its ports ACTIVE, instances
    on either side reaching each other through it."""
    subnets, instances = [], []
    for index, cidr in enumerate(("10.82.1.0/24", "10.82.2.0/24")):
        net = api(aio, "POST", "/networks", {"network": {"name": "aio-routed-%d" % index}})["network"]
        subnets.append(api(aio, "POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                                 "cidr": cidr, "enable_dhcp": False}})["subnet"])
        port = bound_port(aio, net)
        namespace, ip = plug(aio, net, port)
        multihost.run("ip", "-n", namespace, "route", "add", "default", "via", subnets[-1]["gateway_ip"])
        instances.append((port, namespace, ip))
    router = api(aio, "POST", "/routers", {"router": {"name": "aio-router"}})["router"]
    try:
        for subnet in subnets:
            api(aio, "PUT", "/routers/%s/add_router_interface" % router["id"], {"subnet_id": subnet["id"]})
        router_ports = api(aio, "GET", "/ports?device_id=" + router["id"])["ports"]
        wait_active(aio, *router_ports, *[port for port, _ns, _ip in instances])
        assert {p["binding:host_id"] for p in api(aio, "GET", "/ports?device_id=" + router["id"])["ports"]} == {HOST}
        (first, a, _), (_second, _b, b_ip) = instances
        assert multihost.ping_until(a, b_ip), "no echo through the router"
    finally:
        for subnet in subnets:
            aio.session.request("PUT", "%s/v2.0/routers/%s/remove_router_interface" % (aio.url, router["id"]),
                                json={"subnet_id": subnet["id"]}, timeout=30)
        aio.session.request("DELETE", "%s/v2.0/routers/%s" % (aio.url, router["id"]), timeout=30)
        namespace = naming.router_namespace(router["id"])
        try:
            multihost.Cloud.wait(lambda: not os.path.exists("/run/netns/" + namespace),
                                 "the router's namespace is gone", timeout=60)
        finally:
            multihost.run("ip", "netns", "del", namespace, check=False)
