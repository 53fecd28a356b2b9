"""dnsmasq's files and command line rendered from network info dicts, against golden text."""
import pytest

from netweave.core.agent import interface
from netweave.core.agent.dhcp import config as dhcp_config
from netweave.core.agent.dhcp import dnsmasq
from netweave.core.agent.dhcp import driver as dhcp_driver
from netweave.core.agent.dhcp import rpc as dhcp_rpc

NET = "7745a4a9-68a4-444e-a5ff-f9439e3aac6c"
SUB = "a1b2c3d4-0000-4000-8000-000000000001"
SUB2 = "a1b2c3d4-0000-4000-8000-000000000002"
SUB6 = "a1b2c3d4-0000-4000-8000-000000000006"
SUB_OFF = "a1b2c3d4-0000-4000-8000-0000000000ff"
DHCP_PORT = "6c15d7b8-8700-4000-8000-00000000dddd"
VM1 = "ee3c29d0-7500-4000-8000-000000000001"
VM2 = "ee3c29d0-7500-4000-8000-000000000002"
ROUTER_PORT = "ee3c29d0-7500-4000-8000-0000000000rr"


def _subnet(sid, cidr, gateway, version=4, **extra):
    subnet = {"id": sid, "network_id": NET, "name": "", "cidr": cidr, "ip_version": version,
              "gateway_ip": gateway, "enable_dhcp": True, "dns_nameservers": [], "host_routes": [],
              "allocation_pools": [], "ipv6_ra_mode": None, "ipv6_address_mode": None}
    subnet.update(extra)
    return subnet


def _port(pid, mac, fixed, owner="compute:nova", extra=()):
    return {"id": pid, "network_id": NET, "mac_address": mac, "admin_state_up": True, "device_owner": owner,
            "device_id": "", "fixed_ips": [{"subnet_id": s, "ip_address": ip} for s, ip in fixed],
            "extra_dhcp_opts": list(extra)}


def _network(subnets, ports, mtu=1450):
    return {"id": NET, "name": "n", "project_id": "p", "tenant_id": "p", "admin_state_up": True, "mtu": mtu,
            "subnets": subnets, "ports": ports}


DHCP = _port(DHCP_PORT, "fa:16:3e:ad:59:b9", [(SUB, "192.168.206.2")], owner="network:dhcp")


@pytest.fixture
def settings():
    return dhcp_config.DhcpSettings(state_path="/var/lib/netweave")


def test_hosts_addn_hosts_and_opts_golden(settings):
    sub = _subnet(SUB, "192.168.206.0/24", "192.168.206.1", dns_nameservers=["8.8.8.8", "8.8.4.4"],
                  host_routes=[{"destination": "10.0.0.0/8", "nexthop": "192.168.206.254"}])
    vm1 = _port(VM1, "FA:16:3E:27:C5:D2", [(SUB, "192.168.206.12")])
    vm2 = _port(VM2, "fa:16:3e:00:00:02", [(SUB, "192.168.206.13"), (SUB_OFF, "10.9.9.9")],
                extra=[{"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4},
                       {"opt_name": "150", "opt_value": "192.0.2.9", "ip_version": 4}])
    off = dict(_subnet(SUB_OFF, "10.9.9.0/24", "10.9.9.1"), enable_dhcp=False)
    network = _network([sub, off], [DHCP, vm1, vm2])

    assert dnsmasq.render_hosts(network, settings) == (
        "fa:16:3e:ad:59:b9,host-192-168-206-2.openstacklocal,192.168.206.2\n"
        "fa:16:3e:27:c5:d2,host-192-168-206-12.openstacklocal,192.168.206.12\n"
        "fa:16:3e:00:00:02,host-192-168-206-13.openstacklocal,192.168.206.13,set:port-%s\n" % VM2)
    assert dnsmasq.render_addn_hosts(network, settings) == (
        "192.168.206.2\thost-192-168-206-2.openstacklocal host-192-168-206-2\n"
        "192.168.206.12\thost-192-168-206-12.openstacklocal host-192-168-206-12\n"
        "192.168.206.13\thost-192-168-206-13.openstacklocal host-192-168-206-13\n")
    # The DHCP-disabled subnet is on-link for the enabled one.
    routes = "10.9.9.0/24,0.0.0.0,10.0.0.0/8,192.168.206.254,0.0.0.0/0,192.168.206.1"
    assert dnsmasq.render_opts(network, DHCP, settings) == (
        "tag:subnet-{s},option:dns-server,8.8.8.8,8.8.4.4\n"
        "tag:subnet-{s},option:classless-static-route,{r}\n"
        "tag:subnet-{s},249,{r}\n"
        "tag:subnet-{s},option:router,192.168.206.1\n"
        "tag:port-{p},option:bootfile-name,pxelinux.0\n"
        "tag:port-{p},150,192.0.2.9\n").format(s=SUB, r=routes, p=VM2)


def test_hosts_take_names_from_the_dns_assignment_the_server_sent(settings):
    sub = _subnet(SUB, "192.168.206.0/24", "192.168.206.1")
    sub6 = _subnet(SUB6, "2001:db8::/64", "2001:db8::1", version=6, ipv6_address_mode="dhcpv6-stateful",
                   ipv6_ra_mode="dhcpv6-stateful")
    vm1 = dict(_port(VM1, "fa:16:3e:27:c5:d2", [(SUB, "192.168.206.12"), (SUB6, "2001:db8::12")]),
               dns_assignment=[
                   {"hostname": "my-vm", "ip_address": "192.168.206.12", "fqdn": "my-vm.example.org."},
                   {"hostname": "my-vm", "ip_address": "2001:db8::12", "fqdn": "my-vm.example.org."}])
    # No name given: the server's generated one, in the server's domain.
    dhcp = dict(DHCP, dns_assignment=[{"hostname": "host-192-168-206-2", "ip_address": "192.168.206.2",
                                       "fqdn": "host-192-168-206-2.example.org."}])
    # An assignment for another address, or a name unfit for dnsmasq's files, is not used.
    vm2 = dict(_port(VM2, "fa:16:3e:00:00:02", [(SUB, "192.168.206.13")]),
               dns_assignment=[{"hostname": "x", "ip_address": "192.168.206.99", "fqdn": "x.example.org."},
                               {"hostname": "a,b", "ip_address": "192.168.206.13", "fqdn": "a b\n"}])
    network = _network([sub, sub6], [dhcp, vm1, vm2])

    assert dnsmasq.render_hosts(network, settings) == (
        "fa:16:3e:ad:59:b9,host-192-168-206-2.example.org.,192.168.206.2\n"
        "fa:16:3e:27:c5:d2,my-vm.example.org.,192.168.206.12\n"
        "fa:16:3e:27:c5:d2,my-vm.example.org.,[2001:db8::12]\n"
        "fa:16:3e:00:00:02,host-192-168-206-13.openstacklocal,192.168.206.13\n")
    assert dnsmasq.render_addn_hosts(network, settings) == (
        "192.168.206.2\thost-192-168-206-2.example.org. host-192-168-206-2\n"
        "192.168.206.12\tmy-vm.example.org. my-vm\n"
        "2001:db8::12\tmy-vm.example.org. my-vm\n"
        "192.168.206.13\thost-192-168-206-13.openstacklocal host-192-168-206-13\n")


def test_no_gateway_no_routes_means_bare_router_option_and_own_dns(settings):
    network = _network([_subnet(SUB, "192.168.206.0/24", None)], [DHCP])
    assert dnsmasq.render_opts(network, DHCP, settings) == (
        "tag:subnet-{s},option:dns-server,192.168.206.2\n"
        "tag:subnet-{s},option:router\n").format(s=SUB)


def test_default_host_route_stands_in_for_a_missing_gateway(settings):
    sub = _subnet(SUB, "192.168.206.0/24", None,
                  host_routes=[{"destination": "0.0.0.0/0", "nexthop": "192.168.206.253"}])
    network = _network([sub], [DHCP])
    assert dnsmasq.render_opts(network, DHCP, settings).splitlines()[-1] == \
        "tag:subnet-%s,option:router,192.168.206.253" % SUB


def test_isolated_metadata_route_via_the_dhcp_port():
    settings = dhcp_config.DhcpSettings(enable_isolated_metadata=True)
    network = _network([_subnet(SUB, "192.168.206.0/24", None)], [DHCP])
    assert dnsmasq.should_enable_metadata(network, settings)
    assert dnsmasq.render_opts(network, DHCP, settings) == (
        "tag:subnet-{s},option:dns-server,192.168.206.2\n"
        "tag:subnet-{s},option:classless-static-route,169.254.169.254/32,192.168.206.2\n"
        "tag:subnet-{s},249,169.254.169.254/32,192.168.206.2\n"
        "tag:subnet-{s},option:router\n").format(s=SUB)


def test_routed_subnet_sends_metadata_through_the_router():
    settings = dhcp_config.DhcpSettings(enable_isolated_metadata=True)
    router = _port(ROUTER_PORT, "fa:16:3e:00:00:01", [(SUB, "192.168.206.1")], owner="network:router_interface")
    network = _network([_subnet(SUB, "192.168.206.0/24", "192.168.206.1")], [DHCP, router])
    assert dnsmasq.isolated_subnets(network) == {SUB: False}
    assert not dnsmasq.should_enable_metadata(network, settings)
    routes = "169.254.169.254/32,192.168.206.1,0.0.0.0/0,192.168.206.1"
    assert "tag:subnet-%s,option:classless-static-route,%s\n" % (SUB, routes) in \
        dnsmasq.render_opts(network, DHCP, settings)
    # force_metadata serves it from the DHCP port even so.
    forced = dhcp_config.DhcpSettings(force_metadata=True)
    assert dnsmasq.should_enable_metadata(network, forced)
    assert "169.254.169.254/32,192.168.206.2," in dnsmasq.render_opts(network, DHCP, forced)


def test_metadata_network_and_no_v4_dhcp():
    settings = dhcp_config.DhcpSettings(enable_isolated_metadata=True, enable_metadata_network=True)
    router = _port(ROUTER_PORT, "fa:16:3e:00:00:01", [(SUB, "169.254.10.1")], owner="network:router_interface")
    network = _network([_subnet(SUB, "169.254.10.0/24", "169.254.10.1")], [router])
    assert dnsmasq.should_enable_metadata(network, settings)
    v6_only = _network([_subnet(SUB6, "2001:db8::/64", "2001:db8::1", version=6)], [])
    assert not dnsmasq.should_enable_metadata(v6_only, dhcp_config.DhcpSettings(force_metadata=True))


def test_argv_golden(settings):
    sub6 = _subnet(SUB6, "2001:db8:1::/64", "2001:db8:1::1", version=6, ipv6_address_mode="dhcpv6-stateful",
                   ipv6_ra_mode="dhcpv6-stateful", dns_nameservers=["2001:db8::53"])
    slaac = _subnet("a1b2c3d4-0000-4000-8000-00000000005a", "2001:db8:2::/64", "2001:db8:2::1", version=6,
                    ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    network = _network([_subnet(SUB, "192.168.206.0/24", "192.168.206.1"), sub6, slaac], [DHCP])
    paths = dnsmasq.Paths("/var/lib/netweave", NET)
    argv = dnsmasq.build_argv(network, "ns-6c15d7b8-87", "/run/pid", paths, settings)
    d = "/var/lib/netweave/dhcp/" + NET
    assert argv == [
        "dnsmasq", "--no-hosts", "--no-resolv", "--strict-order", "--except-interface=lo",
        "--pid-file=/run/pid", "--dhcp-hostsfile=%s/host" % d, "--addn-hosts=%s/addn_hosts" % d,
        "--dhcp-optsfile=%s/opts" % d, "--dhcp-leasefile=%s/leases" % d,
        "--dhcp-match=set:ipxe,175", "--dhcp-userclass=set:ipxe6,iPXE", "--local-service",
        "--bind-interfaces", "--interface=ns-6c15d7b8-87",
        "--dhcp-range=set:subnet-%s,192.168.206.0,static,255.255.255.0,86400s" % SUB,
        "--dhcp-range=set:subnet-%s,2001:db8:1::,static,64,86400s" % SUB6,
        "--dhcp-option-force=option:mtu,1450",
        "--dhcp-lease-max=16777216",
        "--conf-file=/dev/null", "--domain=openstacklocal"]
    assert "tag:subnet-%s,option6:dns-server,[2001:db8::53]" % SUB6 in dnsmasq.render_opts(network, DHCP, settings)


def test_argv_options():
    settings = dhcp_config.DhcpSettings(dnsmasq_config_file="/etc/netweave/dnsmasq.conf",
                                        dnsmasq_dns_servers=("192.0.2.1", "192.0.2.2"), dhcp_lease_duration=-1,
                                        dns_domain="learningneutron.com", dhcp_broadcast_reply=True,
                                        dnsmasq_base_log_dir="/var/log/dnsmasq")
    network = _network([_subnet(SUB, "10.0.0.0/28", "10.0.0.1")], [], mtu=None)
    argv = dnsmasq.build_argv(network, "ns-x", "/p", dnsmasq.Paths("/s", NET), settings)
    assert "--dhcp-range=set:subnet-%s,10.0.0.0,static,255.255.255.240,infinite" % SUB in argv
    assert not [a for a in argv if a.startswith("--dhcp-option-force")]
    assert argv[argv.index("--dhcp-lease-max=16"):] == [
        "--dhcp-lease-max=16", "--conf-file=/etc/netweave/dnsmasq.conf", "--server=192.0.2.1",
        "--server=192.0.2.2", "--domain=learningneutron.com", "--dhcp-broadcast", "--log-queries", "--log-dhcp",
        "--log-facility=/var/log/dnsmasq/%s/dhcp_dns_log" % NET]


def test_served_ports_allocations_and_release():
    sub = _subnet(SUB, "192.168.206.0/24", "192.168.206.1")
    vm1 = _port(VM1, "fa:16:3e:00:00:01", [(SUB, "192.168.206.12")])
    vm2 = _port(VM2, "fa:16:3e:00:00:02", [(SUB_OFF, "10.9.9.9")])
    before = _network([sub], [DHCP, vm1, vm2])
    assert dnsmasq.served_ports(before) == [VM1]
    moved = _network([sub], [DHCP, _port(VM1, "fa:16:3e:00:00:01", [(SUB, "192.168.206.20")])])
    assert dnsmasq.released(before, moved) == [("192.168.206.12", "fa:16:3e:00:00:01")]
    assert dnsmasq.released(None, moved) == []
    leases = [("192.168.206.12", "fa:16:3e:00:00:01"), ("192.168.206.20", "fa:16:3e:00:00:01")]
    assert dhcp_driver.stale_leases(leases, moved) == [("192.168.206.12", "fa:16:3e:00:00:01")]


def test_needs_dhcp():
    sub = _subnet(SUB, "192.168.206.0/24", "192.168.206.1")
    assert dnsmasq.needs_dhcp(_network([sub], []))
    assert not dnsmasq.needs_dhcp(_network([dict(sub, enable_dhcp=False)], []))
    assert not dnsmasq.needs_dhcp(dict(_network([sub], []), admin_state_up=False))


def test_lease_file_parsing(tmp_path):
    path = tmp_path / "leases"
    path.write_text("1732500000 fa:16:3e:27:c5:d2 192.168.206.12 host-192-168-206-12 *\n"
                    "duid 00:01:00:01:2c:3d:4e:5f:aa:bb:cc:dd:ee:ff\n"
                    "1732500000 1234 2001:db8::5 * 00:01:00:01\n"
                    "1732500000 T99 2001:db8::6 host-2001-db8--6 00:03:00:01:fa:16:3e:00:00:01\n")
    leases = dhcp_driver.read_leases(str(path))
    assert leases.v4 == [("192.168.206.12", "fa:16:3e:27:c5:d2")]
    assert leases.v6 == [("2001:db8::5", "1234", "00:01:00:01"),
                         ("2001:db8::6", "99", "00:03:00:01:fa:16:3e:00:00:01")]
    assert leases.server_duid == "00:01:00:01:2c:3d:4e:5f:aa:bb:cc:dd:ee:ff"
    missing = dhcp_driver.read_leases(str(tmp_path / "missing"))
    assert (missing.v4, missing.v6, missing.server_duid) == ([], [], None)


def test_stale_ipv6_leases_are_those_of_addresses_no_longer_allocated():
    sub6 = dict(_subnet(SUB, "2001:db8:5::/64", "2001:db8:5::1"), ip_version=6)
    network = _network([sub6], [_port(VM1, "fa:16:3e:00:00:01", [(SUB, "2001:db8:5::10")])])
    kept = ("2001:db8:5:0::10", "1", "00:01")       # written differently, the same address
    gone = ("2001:db8:5::11", "2", "00:02")
    assert dhcp_driver.stale_v6_leases([kept, gone], network) == [gone]


def test_write_if_changed(tmp_path):
    path = str(tmp_path / "host")
    assert dhcp_driver.write_if_changed(path, "a\n")
    assert not dhcp_driver.write_if_changed(path, "a\n")
    assert dhcp_driver.write_if_changed(path, "b\n")
    assert open(path).read() == "b\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["host"]


def test_device_id_is_neutrons():
    # uuid5(NAMESPACE_DNS, "controller01") is fixed for ever.
    assert dhcp_rpc.dhcp_device_id("controller01", NET) == "dhcp%s-%s" % ("cdedd354-5b13-51e7-8b25-47e9fd5b6ad3", NET)
    assert dhcp_rpc.dhcp_device_id("controller02", NET) != dhcp_rpc.dhcp_device_id("controller01", NET)


def test_address_lines():
    lines = interface.address_lines("ns-x", ["10.0.0.2/24", "169.254.169.254/16"], ["10.0.0.3/24", "10.0.0.2/24"])
    assert lines == ["addr del 169.254.169.254/16 dev ns-x", "addr add 10.0.0.3/24 dev ns-x"]
    assert interface.address_lines("ns-x", ["10.0.0.2/24"], ["10.0.0.2/24"]) == []
    # A link-local address of ours skips duplicate address detection (each DHCP port has it).
    assert interface.address_lines("ns-x", [], ["fe80::a9fe:a9fe/64", "2001:db8::2/64"]) == [
        "addr add fe80::a9fe:a9fe/64 dev ns-x nodad", "addr add 2001:db8::2/64 dev ns-x"]
    assert interface.address_lines("ns-x", ["fe80::a9fe:a9fe/64"], []) == ["addr del fe80::a9fe:a9fe/64 dev ns-x"]
    info = {"address": "fa:16:3e:00:00:01", "mtu": 1500, "up": False}
    assert interface.device_fix_lines("ns-x", info, "FA:16:3E:00:00:01", 1450) == [
        "link set dev ns-x mtu 1450", "link set dev ns-x up"]
