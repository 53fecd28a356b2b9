"""Routers end to end: real server, RPC server, broker, Linux bridge agents and an L3 agent process.

The layout (harness/l3.py RoutedCloud with Linux bridge agents, RoutedOvsCloud
with Open vSwitch agents): h1 is a compute host, h2 the network node running
netweave-l3-agent; the "internet" namespace (203.0.113.1) sits behind the flat
external network. Instances are namespaces on h1 behind VXLAN project networks.
Each test makes its own routers and networks through the REST API and checks what the outside sees with small UDP/TCP
echo servers (harness/l3.py): the peer address they report is the address a
packet arrived from after NAT.
"""
import json
import os
import signal
import time

import pytest

from harness import l3, multihost, system
from harness.cli import run_openstack
from harness.ovs import ovs_switch  # noqa: F401 - pytest fixture
from netweave.core import naming

pytestmark = [pytest.mark.system("ip", "bridge", "iptables", "conntrack"), pytest.mark.slow]


@pytest.fixture(scope="module", params=["linuxbridge", "openvswitch"])
def cloud(request, rabbitmq_server, tmp_path_factory):
    system.require_root()
    system.require_executables("ip", "iptables")
    workdir = str(tmp_path_factory.mktemp("l3multihost"))
    if request.param == "linuxbridge":
        system.require_executables("bridge")
        created = l3.RoutedCloud(workdir, rabbitmq_server.transport_url)
    else:
        request.getfixturevalue("ovs_switch")
        created = l3.RoutedOvsCloud(workdir, rabbitmq_server.transport_url)
    try:
        created.start()
        created.external, created.external_subnet = created.external_network()
        yield created
    finally:
        created.close()


@pytest.fixture
def servers(cloud, tmp_path):
    """Start echo servers: ``servers(namespace, name)``; all killed at the end."""
    started = []

    def start(namespace, name):
        started.append(l3.start_echo_server(namespace, name, tmp_path / ("%s.log" % name)))
        return started[-1]
    yield start
    for process in started:
        process.kill()
        process.wait()


def wait_answer(namespace, address, expected, timeout=30.0):
    answers = []

    def answered():
        answers.append(l3.udp_ask(namespace, address))
        return answers[-1] == expected
    multihost.Cloud.wait(answered, "%s answers %r (last %r)" % (address, expected, answers[-1:]), timeout)


def ask(namespace, address):
    """udp_ask, with "" also when the address is unreachable from ``namespace``."""
    try:
        return l3.udp_ask(namespace, address, wait=0.5)
    except AssertionError as error:
        assert "Network is unreachable" in str(error)
        return ""


def gateway_ip(router):
    return router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]


def test_snat_floating_ip_and_moving_it(cloud, servers):
    net, subnet = cloud.project_network("l3mh-a", "10.0.0.0/24")
    router = cloud.router("l3mh-a", cloud.external, [subnet])
    (port1, vm1), (port2, vm2) = cloud.instance("h1", net, subnet), cloud.instance("h1", net, subnet)
    cloud.wait_active(port1, port2, timeout=60)
    # The router's interface and gateway ports were bound to the network node and wired there.
    cloud.wait_router_active(router["id"])
    assert {p["binding:host_id"] for p in cloud.router_ports(router["id"])} == {"host2"}
    (agent,) = cloud.l3_agent_rows()
    hosting = cloud.api("GET", "/routers/%s/l3-agents" % router["id"])["agents"]
    assert [a["id"] for a in hosting] == [agent["id"]]
    servers(cloud.internet, "internet")
    # Outbound: the outside sees the router's gateway address.
    wait_answer(vm1.namespace, l3.INTERNET_IP, "internet %s" % gateway_ip(router))
    assert multihost.ping(vm1.namespace, l3.INTERNET_IP) == 3
    # Inbound: only by a floating IP, which also becomes the instance's outbound address.
    servers(vm1.namespace, "vm1")
    servers(vm2.namespace, "vm2")
    # The outside has no route to the project's addresses.
    assert ask(cloud.internet, vm1.ip) == ""
    fip = cloud.floating_ip(cloud.external, port1)
    address = fip["floating_ip_address"]
    cloud.wait(lambda: cloud.fip_status(fip) == "ACTIVE", "the floating IP is ACTIVE", timeout=30)
    wait_answer(cloud.internet, address, "vm1 %s" % l3.INTERNET_IP)
    wait_answer(vm1.namespace, l3.INTERNET_IP, "internet %s" % address)
    # Moving it moves the traffic.
    cloud.api("PUT", "/floatingips/" + fip["id"], {"floatingip": {"port_id": port2["id"]}})
    wait_answer(cloud.internet, address, "vm2 %s" % l3.INTERNET_IP)
    wait_answer(vm1.namespace, l3.INTERNET_IP, "internet %s" % gateway_ip(router))
    # Disassociated it reaches nobody and is DOWN.
    cloud.api("PUT", "/floatingips/" + fip["id"], {"floatingip": {"port_id": None}})
    assert cloud.fip_status(fip) == "DOWN"
    cloud.wait(lambda: ask(cloud.internet, address) == "", "the floating IP stops answering")
    cloud.api("DELETE", "/floatingips/" + fip["id"])


def test_snat_off_sends_project_addresses_out(cloud, servers):
    net, subnet = cloud.project_network("l3mh-nosnat", "10.1.0.0/24")
    router = cloud.router("l3mh-nosnat", cloud.external, [subnet], enable_snat=False)
    port, vm = cloud.instance("h1", net, subnet)
    cloud.wait_active(port, timeout=60)
    cloud.wait_router_active(router["id"])
    servers(cloud.internet, "internet")
    # The outside routes the project's addresses back through the router's gateway.
    multihost.run("ip", "-n", cloud.internet, "route", "add", subnet["cidr"], "via", gateway_ip(router))
    try:
        wait_answer(vm.namespace, l3.INTERNET_IP, "internet %s" % vm.ip)
        # Turned on again, the outside sees the gateway address.
        cloud.api("PUT", "/routers/" + router["id"], {"router": {"external_gateway_info": {
            "network_id": cloud.external["id"], "enable_snat": True}}})
        wait_answer(vm.namespace, l3.INTERNET_IP, "internet %s" % gateway_ip(router))
    finally:
        multihost.run("ip", "-n", cloud.internet, "route", "del", subnet["cidr"], check=False)


def test_two_projects_with_the_same_subnet_behind_two_routers(cloud, servers):
    routed = []
    for project in ("project-a", "project-b"):
        net, subnet = cloud.project_network("l3mh-" + project, "10.20.0.0/24", project=project)
        router = cloud.router("l3mh-" + project, cloud.external, [subnet], project=project)
        port, vm = cloud.instance("h1", net, subnet, project=project)
        routed.append((router, port, vm))
    cloud.wait_active(*[port for _router, port, _vm in routed], timeout=60)
    servers(cloud.internet, "internet")
    for router, _port, vm in routed:
        cloud.wait_router_active(router["id"])
        wait_answer(vm.namespace, l3.INTERNET_IP, "internet %s" % gateway_ip(router))
    # Same subnet, two routers: each instance went out (and its answer came back) through its own.
    assert gateway_ip(routed[0][0]) != gateway_ip(routed[1][0])


def test_an_extra_route_is_used(cloud, servers):
    net, subnet = cloud.project_network("l3mh-route", "10.3.0.0/24")
    router = cloud.router("l3mh-route", cloud.external, [subnet])
    (port, vm), (appliance_port, appliance) = cloud.instance("h1", net, subnet), cloud.instance("h1", net, subnet)
    cloud.wait_active(port, appliance_port, timeout=60)
    cloud.wait_router_active(router["id"])
    # The appliance answers for 198.51.100.1 (from its own address: the asker takes any answer).
    multihost.run("ip", "-n", appliance.namespace, "addr", "add", "198.51.100.1/32", "dev", "lo")
    servers(appliance.namespace, "appliance")
    servers(cloud.internet, "internet")
    wait_answer(vm.namespace, l3.INTERNET_IP, "internet %s" % gateway_ip(router))
    # Without the route the router sends it to the internet, which does not have it.
    assert ask(vm.namespace, "198.51.100.1") == ""
    cloud.api("PUT", "/routers/" + router["id"], {"router": {"routes": [
        {"destination": "198.51.100.0/24", "nexthop": appliance.ip}]}})
    wait_answer(vm.namespace, "198.51.100.1", "appliance %s" % vm.ip)
    cloud.api("PUT", "/routers/" + router["id"], {"router": {"routes": []}})
    cloud.wait(lambda: ask(vm.namespace, "198.51.100.1") == "", "the route is gone")


def test_agent_kill_and_restart_under_ping_and_cleanup_of_routers_deleted_meanwhile(cloud, servers):
    net, subnet = cloud.project_network("l3mh-restart", "10.4.0.0/24")
    router = cloud.router("l3mh-restart", cloud.external, [subnet])
    doomed_net, doomed_subnet = cloud.project_network("l3mh-doomed", "10.5.0.0/24")
    doomed = cloud.router("l3mh-doomed", cloud.external, [doomed_subnet])
    port, vm = cloud.instance("h1", net, subnet)
    cloud.wait_active(port, timeout=60)
    for each in (router, doomed):
        cloud.wait_router_active(each["id"])
    assert multihost.ping_until(vm.namespace, l3.INTERNET_IP)
    # 10 pings a second for 12 seconds while the agent is killed and started again.
    pinger = multihost.start_ping(vm.namespace, l3.INTERNET_IP, 120, interval=0.1, timeout=0.5)
    try:
        time.sleep(1.0)
        cloud.l3_agent.stop(sig=signal.SIGKILL)
        # A router deleted while the agent is down.
        cloud.api("PUT", "/routers/%s/remove_router_interface" % doomed["id"], {"subnet_id": doomed_subnet["id"]})
        cloud.api("DELETE", "/routers/" + doomed["id"])
        cloud.start_l3_agent()
        answered = int(pinger.communicate(timeout=60)[0].strip())
    finally:
        if pinger.poll() is None:
            pinger.kill()
    assert answered >= 119, "%d of 120 pings answered across the agent's restart" % answered
    cloud.wait(lambda: not os.path.exists("/run/netns/" + naming.router_namespace(doomed["id"])),
               "the deleted router's namespace is removed at start", timeout=60)
    assert os.path.exists("/run/netns/" + naming.router_namespace(router["id"]))
    assert multihost.ping(vm.namespace, l3.INTERNET_IP) == 3


def openstack(cloud, *args, expect_failure=False):
    """The unmodified CLI against the cloud's server (noauth); JSON output parsed when there is any."""
    env = dict(os.environ, OS_AUTH_TYPE="none", OS_ENDPOINT=cloud.server.url)
    for key in list(env):
        if key.startswith("OS_") and key not in ("OS_AUTH_TYPE", "OS_ENDPOINT"):
            env.pop(key)
    argv = list(args)
    if {"create", "show", "list"} & set(args):
        argv += ["-f", "json"]
    result = run_openstack(argv, env)
    if expect_failure:
        assert result.returncode != 0, result.stdout
        return result.stderr
    assert result.returncode == 0, (args, result.stderr)
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_the_books_chapter_10_flow_with_the_openstack_cli(cloud, servers):
    network = openstack(cloud, "network", "create", "CLI_NET")
    subnet = openstack(cloud, "subnet", "create", "--subnet-range", "10.6.0.0/24", "--no-dhcp", "--network",
                       "CLI_NET", "CLI_SUBNET")
    router = openstack(cloud, "router", "create", "CliRouter")
    cloud.router_ids.append(router["id"])
    assert (router["status"], router["admin_state_up"] in (True, "UP")) == ("ACTIVE", True)
    openstack(cloud, "router", "add", "subnet", "CliRouter", "CLI_SUBNET")
    openstack(cloud, "router", "set", "--external-gateway", cloud.external["id"], "CliRouter")
    # The interface and gateway ports, wired on the network node, are ACTIVE.
    cloud.wait(lambda: {row["Status"] for row in openstack(cloud, "port", "list", "--router", "CliRouter")}
               == {"ACTIVE"}, "the router's ports are ACTIVE", timeout=60)
    rows = openstack(cloud, "port", "list", "--router", "CliRouter")
    assert len(rows) == 2 and any("10.6.0.1" in str(row["Fixed IP Addresses"]) for row in rows)
    # The agent hosting it, and moving it off and back by hand.
    (hosting,) = openstack(cloud, "network", "agent", "list", "--router", "CliRouter")
    assert (hosting["Agent Type"], hosting["Host"], hosting["Binary"]) == ("L3 agent", "host2", "netweave-l3-agent")
    openstack(cloud, "network", "agent", "remove", "router", "--l3", hosting["ID"], "CliRouter")
    assert openstack(cloud, "network", "agent", "list", "--router", "CliRouter") == []
    cloud.wait(lambda: not os.path.exists("/run/netns/" + naming.router_namespace(router["id"])),
               "the agent removes the router it no longer hosts", timeout=30)
    openstack(cloud, "network", "agent", "add", "router", "--l3", hosting["ID"], "CliRouter")
    assert [row["ID"] for row in openstack(cloud, "network", "agent", "list", "--router", "CliRouter")] == [
        hosting["ID"]]
    # An instance, reached from the outside through a floating IP set and unset with the CLI.
    port, vm = cloud.instance("h1", {"id": network["id"], "mtu": network.get("mtu")}, subnet)
    cloud.wait_active(port, timeout=60)
    servers(vm.namespace, "MyInstance1")
    fip = openstack(cloud, "floating", "ip", "create", cloud.external["id"])
    assert fip["fixed_ip_address"] is None and fip["status"] == "DOWN"
    openstack(cloud, "floating", "ip", "set", "--port", port["id"], fip["id"])
    address = fip["floating_ip_address"]
    wait_answer(cloud.internet, address, "MyInstance1 %s" % l3.INTERNET_IP)
    cloud.wait(lambda: openstack(cloud, "floating", "ip", "show", fip["id"])["status"] == "ACTIVE",
               "the floating IP is ACTIVE", timeout=30)
    shown = openstack(cloud, "floating", "ip", "show", fip["id"])
    assert (shown["fixed_ip_address"], shown["port_id"], shown["router_id"]) == (vm.ip, port["id"], router["id"])
    openstack(cloud, "floating", "ip", "unset", "--port", fip["id"])
    shown = openstack(cloud, "floating", "ip", "show", fip["id"])
    assert (shown["fixed_ip_address"], shown["port_id"]) == (None, None)
    cloud.wait(lambda: ask(cloud.internet, address) == "", "the floating IP stops answering")
    openstack(cloud, "floating", "ip", "delete", fip["id"])
    # A router with interfaces is not deleted; without them it is, and its namespace goes.
    error = openstack(cloud, "router", "delete", "CliRouter", expect_failure=True)
    assert "still has ports" in error or "in use" in error, error
    openstack(cloud, "router", "remove", "subnet", "CliRouter", "CLI_SUBNET")
    openstack(cloud, "router", "unset", "--external-gateway", "CliRouter")
    openstack(cloud, "router", "delete", "CliRouter")
    cloud.wait(lambda: not os.path.exists("/run/netns/" + naming.router_namespace(router["id"])),
               "the deleted router's namespace is removed", timeout=30)
