"""The DHCP agent's driver layer against real dnsmasq, namespaces and udhcpc.

A host namespace holds the network's brq bridge; the linuxbridge interface
driver plugs the DHCP port (its tap stays in the host, joined to the bridge
here as the Linux bridge agent would), and instance namespaces run busybox
udhcpc on bridged veths. Nothing talks to a server: the network info dicts
are built by hand.
"""
import os
import shutil
import subprocess

import pytest

from harness import dhcp as dh
from harness import processes, system
from harness.multihost import run
from netweave.core import naming
from netweave.core.agent import external_process, interface
from netweave.core.agent.dhcp import config as dhcp_config
from netweave.core.agent.dhcp import driver as dhcp_driver

MAC_A = "fa:16:3e:10:00:0a"
MAC_B = "fa:16:3e:10:00:0b"
MAC_DHCP = "fa:16:3e:10:00:02"
MAC_UNKNOWN = "fa:16:3e:10:00:99"


@pytest.fixture
def lab():
    dh.require_dhcp_tools()
    lab = dh.Lab("nwdf")
    lab.host()
    yield lab
    lab.close()


@pytest.fixture
def state_path():
    path = dh.world_readable_dir("nwdhcp-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Served:
    """One network served by a DnsmasqDriver; tears it down at the end."""

    def __init__(self, lab, state_path, **settings):
        self.lab = lab
        self.settings = dhcp_config.DhcpSettings(state_path=state_path, **settings)
        self.driver = dhcp_driver.DnsmasqDriver(
            self.settings, interface.BridgeInterfaceDriver(host_namespace=lab.host_ns),
            metadata_proxy_socket=os.path.join(state_path, "metadata_proxy"))
        self.network_ids = []

    def serve(self, network, dhcp_port, **kwargs):
        if network["id"] not in self.network_ids:
            self.network_ids.append(network["id"])
            self.lab.track_network(network["id"])
        return self.driver.serve(network, dhcp_port, **kwargs)

    def close(self):
        for network_id in self.network_ids:
            try:
                self.driver.teardown(network_id)
            except Exception:  # noqa: BLE001 - the lab removes the namespace anyway
                self.driver.process(network_id).disable()


@pytest.fixture
def served(lab, state_path):
    holder = []

    def make(**settings):
        holder.append(Served(lab, state_path, **settings))
        return holder[-1]
    yield make
    for item in holder:
        item.close()


def _network(sub, ports, mtu=1450):
    return dh.network_info(subnets=[sub], ports=ports, mtu=mtu)


def _dhcp_port(sub_id, ip):
    return dh.port(MAC_DHCP, [(sub_id, ip)], device_owner="network:dhcp", device_id="dhcp-test")


def _bring_up(lab, served_net, network, dhcp_port):
    result = served_net.serve(network, dhcp_port)
    bridge = lab.bridge(network["id"])
    lab.join(naming.tap_device(dhcp_port["id"]), bridge)
    return result, bridge


def test_instance_gets_exactly_its_allocation(lab, served, tmp_path):
    sub = dh.subnet("10.61.0.0/24", gateway_ip="10.61.0.1", dns=["192.0.2.53", "192.0.2.54"],
                    routes=[("198.51.100.0/24", "10.61.0.254")])
    dhcp_port = _dhcp_port(sub["id"], "10.61.0.2")
    vm = dh.port(MAC_A, [(sub["id"], "10.61.0.17")])
    network = _network(sub, [dhcp_port, vm])
    net = served(dns_domain="example.test")
    result, bridge = _bring_up(lab, net, network, dhcp_port)
    assert result.action == dhcp_driver.STARTED
    namespace = naming.dhcp_namespace(network["id"])
    assert "10.61.0.2/24" in interface.device_addresses(namespace, naming.dhcp_device(dhcp_port["id"]))

    client = lab.dhcp_client(lab.instance(MAC_A, bridge, mtu=1500), str(tmp_path)).start()
    lease = client.bound()
    assert lease["ip"] == "10.61.0.17"
    assert lease["subnet"] == "255.255.255.0"
    assert lease["router"] == "10.61.0.1"
    assert lease["dns"].split() == ["192.0.2.53", "192.0.2.54"]
    assert lease["mtu"] == "1450"
    assert lease["domain"] == "example.test"
    assert lease["lease"] == "86400"
    # Classless routes carry the default route too, as Neutron pushes them.
    assert lease["staticroutes"].split() == ["198.51.100.0/24", "10.61.0.254", "0.0.0.0/0", "10.61.0.1"]
    assert lease["msstaticroutes"] == lease["staticroutes"]
    assert "inet 10.61.0.17/24" in client.addresses()
    routes = client.routes()
    assert "default via 10.61.0.1" in routes
    assert "198.51.100.0/24 via 10.61.0.254" in routes
    assert "mtu 1450" in run("ip", "-n", client.namespace, "link", "show", "eth0").stdout


def test_unknown_mac_gets_no_lease_and_no_gateway_means_no_router(lab, served, tmp_path):
    sub = dh.subnet("10.62.0.0/24", gateway_ip=None)
    dhcp_port = _dhcp_port(sub["id"], "10.62.0.2")
    vm = dh.port(MAC_A, [(sub["id"], "10.62.0.30")])
    network = _network(sub, [dhcp_port, vm], mtu=1500)
    _result, bridge = _bring_up(lab, served(), network, dhcp_port)

    stranger = lab.dhcp_client(lab.instance(MAC_UNKNOWN, bridge), str(tmp_path))
    assert stranger.try_once(tries=2) != 0
    assert not [e for e in stranger.events() if e["event"] == "bound"]

    known = lab.dhcp_client(lab.instance(MAC_A, bridge), str(tmp_path)).start()
    lease = known.bound()
    assert lease["ip"] == "10.62.0.30"
    assert "router" not in lease
    # No DNS servers on the subnet: the DHCP port answers for them.
    assert lease["dns"].split() == ["10.62.0.2"]
    assert "default" not in known.routes()


def test_port_change_reloads_without_restart_and_releases(lab, served, tmp_path):
    sub = dh.subnet("10.63.0.0/24", gateway_ip="10.63.0.1")
    dhcp_port = _dhcp_port(sub["id"], "10.63.0.2")
    vm = dh.port(MAC_A, [(sub["id"], "10.63.0.40")])
    network = _network(sub, [dhcp_port, vm])
    net = served()
    _result, bridge = _bring_up(lab, net, network, dhcp_port)
    manager = net.driver.process(network["id"])
    first_pid = manager.pid

    client = lab.dhcp_client(lab.instance(MAC_A, bridge), str(tmp_path)).start()
    assert client.bound()["ip"] == "10.63.0.40"
    leases = os.path.join(net.driver.paths(network["id"]).directory, "leases")
    dh.wait_for(lambda: "10.63.0.40" in open(leases).read(), "dnsmasq records the lease")

    # A second instance appears: the hosts file changes, dnsmasq only rereads it.
    other = dh.port(MAC_B, [(sub["id"], "10.63.0.41")])
    network["ports"].append(dict(other, network_id=network["id"]))
    assert net.serve(network, dhcp_port).action == dhcp_driver.RELOADED
    assert manager.pid == first_pid
    second = lab.dhcp_client(lab.instance(MAC_B, bridge), str(tmp_path)).start()
    assert second.bound()["ip"] == "10.63.0.41"

    # The first instance's address changes: its old lease is released at once,
    # and the renewal gets the new address (dnsmasq refuses the old one).
    vm_now = network["ports"][1]
    vm_now["fixed_ips"] = [{"subnet_id": sub["id"], "ip_address": "10.63.0.50"}]
    result = net.serve(network, dhcp_port)
    assert result.action == dhcp_driver.RELOADED
    assert result.released == [("10.63.0.40", MAC_A)]
    assert manager.pid == first_pid
    dh.wait_for(lambda: "10.63.0.40" not in open(leases).read(), "the old lease is gone from dnsmasq")
    client.renew()
    lease = dh.wait_for(lambda: next((e for e in client.events() if e.get("ip") == "10.63.0.50"
                                      and e["event"] in ("bound", "renew")), None),
                        "the renewal brings the new address", timeout=40)
    assert lease["ip"] == "10.63.0.50"
    dh.wait_for(lambda: "inet 10.63.0.50/24" in client.addresses(), "the instance uses the new address")

    # Nothing changed: nothing is done.
    assert net.serve(network, dhcp_port).action == dhcp_driver.UNCHANGED


def test_second_subnet_restarts_only_that_network(lab, served, tmp_path):
    sub = dh.subnet("10.64.0.0/24", gateway_ip="10.64.0.1")
    dhcp_port = _dhcp_port(sub["id"], "10.64.0.2")
    vm = dh.port(MAC_A, [(sub["id"], "10.64.0.60")])
    network = _network(sub, [dhcp_port, vm])
    net = served()
    _result, bridge = _bring_up(lab, net, network, dhcp_port)
    pid = net.driver.process(network["id"]).pid
    client = lab.dhcp_client(lab.instance(MAC_A, bridge), str(tmp_path)).start()
    assert client.bound()["ip"] == "10.64.0.60"

    # A second subnet, with an address for the DHCP port and for the instance.
    sub2 = dict(dh.subnet("10.65.0.0/24", gateway_ip="10.65.0.1"), network_id=network["id"])
    network["subnets"].append(sub2)
    dhcp_port["fixed_ips"].append({"subnet_id": sub2["id"], "ip_address": "10.65.0.2"})
    network["ports"][0] = dict(dhcp_port, network_id=network["id"])
    result = net.serve(network, dhcp_port)
    assert result.action == dhcp_driver.RESTARTED
    assert net.driver.process(network["id"]).pid != pid
    device = naming.dhcp_device(dhcp_port["id"])
    assert set(interface.device_addresses(naming.dhcp_namespace(network["id"]), device)) == \
        {"10.64.0.2/24", "10.65.0.2/24"}
    # The other subnet is on-link: a classless route says so, with the default route.
    client.renew()
    lease = client.bound(count=2, timeout=40)
    assert lease["ip"] == "10.64.0.60"
    assert lease["staticroutes"].split() == ["10.65.0.0/24", "0.0.0.0", "0.0.0.0/0", "10.64.0.1"]

    # A port on the new subnet is served too.
    vm2 = dh.port(MAC_B, [(sub2["id"], "10.65.0.9")])
    network["ports"].append(dict(vm2, network_id=network["id"]))
    assert net.serve(network, dhcp_port).action == dhcp_driver.RELOADED
    second = lab.dhcp_client(lab.instance(MAC_B, bridge), str(tmp_path)).start()
    assert second.bound()["ip"] == "10.65.0.9"


def test_isolated_metadata_route_and_address(lab, served, tmp_path):
    sub = dh.subnet("10.66.0.0/24", gateway_ip=None)
    dhcp_port = _dhcp_port(sub["id"], "10.66.0.2")
    vm = dh.port(MAC_A, [(sub["id"], "10.66.0.12")],
                 extra_dhcp_opts=[{"opt_name": "ntp-server", "opt_value": "192.0.2.123", "ip_version": 4}])
    network = _network(sub, [dhcp_port, vm])
    net = served(enable_isolated_metadata=True)
    _result, bridge = _bring_up(lab, net, network, dhcp_port)
    device = naming.dhcp_device(dhcp_port["id"])
    addresses = interface.device_addresses(naming.dhcp_namespace(network["id"]), device)
    assert "169.254.169.254/16" in addresses and "10.66.0.2/24" in addresses
    assert "fe80::a9fe:a9fe/64" in addresses
    # The namespace metadata proxy listens on port 80 there, over IPv6 on the port's device.
    listening = run("ip", "netns", "exec", naming.dhcp_namespace(network["id"]), "ss", "-Hltn").stdout
    local = [line.split()[3] for line in listening.splitlines()]
    assert "0.0.0.0:80" in local and "[fe80::a9fe:a9fe]%%%s:80" % device in local, listening

    client = lab.dhcp_client(lab.instance(MAC_A, bridge), str(tmp_path)).start()
    lease = client.bound()
    assert lease["ip"] == "10.66.0.12"
    # The book's guest: a host route to metadata via the DHCP port and no default route.
    assert lease["staticroutes"].split() == ["169.254.169.254/32", "10.66.0.2"]
    routes = client.routes()
    assert "169.254.169.254 via 10.66.0.2" in routes
    assert "default" not in routes
    # The extra DHCP option of the port reaches dnsmasq (tagged for that port only).
    opts = open(net.driver.paths(network["id"]).opts).read()
    assert "tag:port-%s,option:ntp-server,192.0.2.123" % vm["id"] in opts

    net.close()
    net.network_ids = []
    assert not interface.namespace_exists(naming.dhcp_namespace(network["id"]))
    assert run("pgrep", "-f", "ns-metadata-proxy/%s.conf" % network["id"], check=False).returncode != 0


def test_teardown_and_restart_survival(lab, served, state_path):
    sub = dh.subnet("10.67.0.0/24", gateway_ip="10.67.0.1")
    dhcp_port = _dhcp_port(sub["id"], "10.67.0.2")
    network = _network(sub, [dhcp_port, dh.port(MAC_A, [(sub["id"], "10.67.0.5")])])
    net = served()
    net.serve(network, dhcp_port)
    pid = net.driver.process(network["id"]).pid
    assert pid
    # A fresh driver (the agent restarted) finds dnsmasq by its pid file and keeps it.
    again = dhcp_driver.DnsmasqDriver(net.settings, interface.BridgeInterfaceDriver(host_namespace=lab.host_ns))
    assert network["id"] in again.known_networks()
    assert again.serve(network, dhcp_port, check_devices=True).action == dhcp_driver.UNCHANGED
    assert again.process(network["id"]).pid == pid

    # Someone killed dnsmasq: the monitor brings it back.
    monitor = external_process.ProcessMonitor(interval=60)
    again.monitor = monitor
    again.serve(network, dhcp_port)
    os.kill(pid, 9)
    dh.wait_for(lambda: not again.process(network["id"]).active, "dnsmasq is gone")
    assert monitor.check_once() == [("dnsmasq", network["id"])]
    assert again.process(network["id"]).active
    monitor_pid = again.process(network["id"]).pid

    again.teardown(network["id"])
    assert not interface.namespace_exists(naming.dhcp_namespace(network["id"]))
    assert network["id"] not in again.known_networks()
    assert run("ip", "-n", lab.host_ns, "link", "show", naming.tap_device(dhcp_port["id"]),
               check=False).returncode != 0
    assert not again.process(network["id"]).active
    assert processes.process_gone(monitor_pid)


def test_dhcpv6_stateful_lease(lab, served, tmp_path):
    system.require_executables("dhclient")
    sub4 = dh.subnet("10.69.0.0/24", gateway_ip="10.69.0.1")
    sub6 = dict(dh.subnet("2001:db8:69::/64", gateway_ip="2001:db8:69::1", dns=["2001:db8::53"]), ip_version=6,
                ipv6_address_mode="dhcpv6-stateful", ipv6_ra_mode="dhcpv6-stateful")
    dhcp_port = dh.port(MAC_DHCP, [(sub4["id"], "10.69.0.2"), (sub6["id"], "2001:db8:69::2")],
                        device_owner="network:dhcp")
    vm = dh.port(MAC_A, [(sub4["id"], "10.69.0.10"), (sub6["id"], "2001:db8:69::10")])
    network = dh.network_info(subnets=[sub4, sub6], ports=[dhcp_port, vm])
    net = served()
    _result, bridge = _bring_up(lab, net, network, dhcp_port)
    namespace = naming.dhcp_namespace(network["id"])
    assert "2001:db8:69::2/64" in interface.device_addresses(namespace, naming.dhcp_device(dhcp_port["id"]))
    instance = lab.instance(MAC_A, bridge)
    # The client sends from its link-local address, usable once duplicate address detection is over.
    dh.wait_for(lambda: "fe80" in run("ip", "-n", instance, "-6", "addr", "show", "dev", "eth0").stdout
                and "tentative" not in run("ip", "-n", instance, "-6", "addr", "show", "dev", "eth0").stdout,
                "the instance's link-local address is usable")
    pid_file = str(tmp_path / "dhclient6.pid")
    try:
        result = subprocess.run(["ip", "netns", "exec", instance, system.find_executable("dhclient"), "-6", "-1",
                                 "-lf", str(tmp_path / "dhclient6.leases"), "-pf", pid_file, "eth0"],
                                capture_output=True, text=True, timeout=90)
        assert result.returncode == 0, result.stderr
        assert "inet6 2001:db8:69::10/128" in run("ip", "-n", instance, "-6", "addr", "show", "dev", "eth0").stdout
        leases = open(str(tmp_path / "dhclient6.leases")).read()
        assert "2001:db8::53" in leases

        # The instance's IPv6 address goes: dhcp_release6 drops dnsmasq's lease at once.
        server_leases = net.driver.paths(network["id"]).leases
        dh.wait_for(lambda: "2001:db8:69::10" in open(server_leases).read(), "dnsmasq records the IPv6 lease")
        vm_now = next(p for p in network["ports"] if p["id"] == vm["id"])
        vm_now["fixed_ips"] = [f for f in vm_now["fixed_ips"] if f["subnet_id"] == sub4["id"]]
        result = net.serve(network, dhcp_port)
        assert [ip for ip, _client_id in result.released] == ["2001:db8:69::10"]
        dh.wait_for(lambda: "2001:db8:69::10" not in open(server_leases).read(),
                    "the IPv6 lease is gone from dnsmasq")
    finally:
        if os.path.exists(pid_file):
            with open(pid_file) as handle:
                pid = int(handle.read().strip() or 0)
            if pid:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass


def test_new_dhcp_port_replaces_the_old_device(lab, served):
    sub = dh.subnet("10.60.0.0/24", gateway_ip="10.60.0.1")
    first = _dhcp_port(sub["id"], "10.60.0.2")
    network = _network(sub, [first])
    net = served()
    net.serve(network, first)
    namespace = naming.dhcp_namespace(network["id"])
    second = dh.port("fa:16:3e:10:00:03", [(sub["id"], "10.60.0.3")], device_owner="network:dhcp")
    network["ports"] = [dict(second, network_id=network["id"])]
    result = net.serve(network, second)
    assert result.action == dhcp_driver.RESTARTED
    assert result.device == naming.dhcp_device(second["id"])
    assert interface.link_info(namespace, naming.dhcp_device(first["id"])) is None
    assert run("ip", "-n", lab.host_ns, "link", "show", naming.tap_device(first["id"]), check=False).returncode != 0
    assert interface.device_addresses(namespace, result.device) == ["10.60.0.3/24"]
    assert "--interface=%s" % result.device in dhcp_driver.running_argv(net.driver.process(network["id"]).pid)


def _assigned(port, hostname, domain):
    """``port`` with the dns_assignment a server with DNS integration sends for it."""
    return dict(port, dns_assignment=[{"hostname": hostname, "ip_address": f["ip_address"],
                                       "fqdn": "%s.%s." % (hostname, domain)} for f in port["fixed_ips"]])


def test_instance_gets_its_host_name_and_dnsmasq_answers_for_it(lab, served, tmp_path):
    sub = dh.subnet("10.67.0.0/24", gateway_ip="10.67.0.1")
    dhcp_port = _assigned(_dhcp_port(sub["id"], "10.67.0.2"), "host-10-67-0-2", "example.test")
    named = _assigned(dh.port(MAC_A, [(sub["id"], "10.67.0.21")]), "web-1", "example.test")
    # Without a dns_assignment (a server without DNS integration): the generated name.
    plain = dh.port(MAC_B, [(sub["id"], "10.67.0.22")])
    network = _network(sub, [dhcp_port, named, plain])
    net = served(dns_domain="example.test")
    _result, bridge = _bring_up(lab, net, network, dhcp_port)

    first = lab.dhcp_client(lab.instance(MAC_A, bridge), str(tmp_path)).start()
    lease = first.bound()
    assert (lease["ip"], lease["hostname"], lease["domain"]) == ("10.67.0.21", "web-1", "example.test")
    second = lab.dhcp_client(lab.instance(MAC_B, bridge), str(tmp_path)).start()
    lease = second.bound()
    assert (lease["ip"], lease["hostname"], lease["domain"]) == ("10.67.0.22", "host-10-67-0-22", "example.test")

    # dnsmasq answers for the names (its addn_hosts), asked from the instance. Only the A
    # record: the AAAA query is refused (no upstream server), so nslookup exits with 1.
    def resolves(name):
        done = run("ip", "netns", "exec", first.namespace, "busybox", "nslookup", "-type=a", name, "10.67.0.2",
                   check=False)
        return done.stdout.split("Name:", 1)[1] if "Name:" in done.stdout else ""
    assert "10.67.0.21" in dh.wait_for(lambda: resolves("web-1.example.test"), "web-1 resolves")
    assert "10.67.0.22" in resolves("host-10-67-0-22.example.test")

    # A new name reaches the instance at its next renewal, without restarting dnsmasq.
    pid = net.driver.process(network["id"]).pid
    network["ports"][1] = dict(_assigned(network["ports"][1], "web-2", "example.test"), network_id=network["id"])
    assert net.serve(network, dhcp_port).action == dhcp_driver.RELOADED
    assert net.driver.process(network["id"]).pid == pid
    first.renew()
    lease = dh.wait_for(lambda: next((e for e in first.events() if e.get("hostname") == "web-2"), None),
                        "the renewal brings the new host name", timeout=40)
    assert lease["ip"] == "10.67.0.21"
    assert "10.67.0.21" in dh.wait_for(lambda: resolves("web-2.example.test"), "web-2 resolves")
