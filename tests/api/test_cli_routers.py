"""The book's chapter 10 with the real `openstack` CLI against netweave-server and the router
plugin (SQLite and PostgreSQL): routers, interfaces, the gateway, floating IPs and the guards.

The CLI runs as the noauth admin of project "admin". The installed client reports HTTP errors
as ``<Exception>: <code>: Client Error for url: ..., <server message>``.
"""
import ipaddress

import pytest

from harness import ml2_plugin
from harness import router_server as serving
from harness.cli import Cli


@pytest.fixture(scope="module", params=ml2_plugin.BACKENDS)
def router_server(request, tmp_path_factory):
    yield from serving.serve(request, tmp_path_factory)


@pytest.fixture(scope="module")
def cli(router_server):
    return Cli(router_server.url)


@pytest.fixture(scope="module")
def book(cli):
    """GATEWAY_NET (vlan 30, external) with its subnet, PROJECT_NET with its subnet, as in the book."""
    cli.run("network", "create", "--external", "--provider-network-type", "vlan", "--provider-physical-network",
            "physnet1", "--provider-segment", "30", "GATEWAY_NET")
    cli.run("subnet", "create", "--subnet-range", "10.30.0.0/24", "--no-dhcp", "--network", "GATEWAY_NET",
            "--allocation-pool", "start=10.30.0.100,end=10.30.0.254", "GATEWAY_SUBNET")
    cli.run("network", "create", "PROJECT_NET")
    cli.run("subnet", "create", "--subnet-range", "192.168.200.0/24", "--network", "PROJECT_NET",
            "--dns-nameserver", "8.8.8.8", "PROJECT_SUBNET")
    return {name: cli.json(kind, "show", name)["id"] for kind, name in (
        ("network", "GATEWAY_NET"), ("subnet", "GATEWAY_SUBNET"), ("network", "PROJECT_NET"),
        ("subnet", "PROJECT_SUBNET"))}


def test_chapter10_with_the_cli(cli, book):
    router = cli.json("router", "create", "MyLegacyRouter")
    assert (router["name"], router["admin_state_up"], router["status"], router["distributed"], router["ha"],
            router["external_gateway_info"], router["routes"]) == ("MyLegacyRouter", True, "ACTIVE", False, False,
                                                                   None, [])
    # Attaching the project subnet prints nothing.
    done = cli.run("router", "add", "subnet", "MyLegacyRouter", "PROJECT_SUBNET")
    assert done.stdout == ""
    error = cli.fails("router", "set", "--external-gateway", "PROJECT_NET", "MyLegacyRouter")
    assert "Network %s is not an external network" % book["PROJECT_NET"] in error
    cli.run("router", "set", "--external-gateway", "GATEWAY_NET", "MyLegacyRouter")
    shown = cli.json("router", "show", "MyLegacyRouter")
    info = shown["external_gateway_info"]
    assert (info["network_id"], info["enable_snat"]) == (book["GATEWAY_NET"], True)
    gw_ip = ipaddress.ip_address(info["external_fixed_ips"][0]["ip_address"])
    assert ipaddress.ip_address("10.30.0.100") <= gw_ip <= ipaddress.ip_address("10.30.0.254")
    ports = cli.json("port", "list", "--router", "MyLegacyRouter")
    addresses = sorted(ip["ip_address"] for p in ports for ip in p["Fixed IP Addresses"])
    assert addresses == sorted([str(gw_ip), "192.168.200.1"])
    assert {p["Name"] for p in ports} == {""}
    # An instance's port gets a floating IP.
    vm = cli.json("port", "create", "--network", "PROJECT_NET", "--fixed-ip",
                  "subnet=PROJECT_SUBNET,ip-address=192.168.200.6", "MyInstance1")
    fip = cli.json("floating", "ip", "create", "--port", vm["id"], "GATEWAY_NET")
    assert (fip["fixed_ip_address"], fip["port_id"], fip["router_id"], fip["status"], fip["floating_network_id"]) == (
        "192.168.200.6", vm["id"], router["id"], "DOWN", book["GATEWAY_NET"])
    [listed] = cli.json("floating", "ip", "list")
    assert (listed["ID"], listed["Floating IP Address"], listed["Fixed IP Address"], listed["Port"],
            listed["Floating Network"]) == (fip["id"], fip["floating_ip_address"], "192.168.200.6", vm["id"],
                                            book["GATEWAY_NET"])
    # The guards of T9.
    error = cli.fails("router", "unset", "--external-gateway", "MyLegacyRouter")
    assert "is required by one or more floating IPs" in error
    error = cli.fails("router", "remove", "subnet", "MyLegacyRouter", "PROJECT_SUBNET")
    assert ("Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more "
            "floating IPs." % (book["PROJECT_SUBNET"], router["id"])) in error
    error = cli.fails("router", "delete", "MyLegacyRouter")
    assert "Router %s still has ports" % router["id"] in error
    interface = [p for p in ports if p["Fixed IP Addresses"][0]["ip_address"] == "192.168.200.1"][0]
    error = cli.fails("port", "delete", interface["ID"])
    assert ("Port %s cannot be deleted directly via the port API: has device owner network:router_interface."
            % interface["ID"]) in error
    # Unset, then set on another instance's port (T8), both silently.
    assert cli.run("floating", "ip", "unset", "--port", fip["id"]).stdout == ""
    [listed] = cli.json("floating", "ip", "list")
    assert (listed["Fixed IP Address"], listed["Port"]) == (None, None)
    vm2 = cli.json("port", "create", "--network", "PROJECT_NET", "--fixed-ip",
                   "subnet=PROJECT_SUBNET,ip-address=192.168.200.10", "MyInstance2")
    assert cli.run("floating", "ip", "set", "--port", vm2["id"], fip["id"]).stdout == ""
    assert cli.json("floating", "ip", "show", fip["id"])["fixed_ip_address"] == "192.168.200.10"
    # Tear down in the book's order.
    cli.run("floating", "ip", "delete", fip["id"])
    cli.run("router", "remove", "subnet", "MyLegacyRouter", "PROJECT_SUBNET")
    cli.run("router", "unset", "--external-gateway", "MyLegacyRouter")
    assert cli.json("router", "show", "MyLegacyRouter")["external_gateway_info"] is None
    cli.run("router", "delete", "MyLegacyRouter")
    assert cli.json("port", "list", "--device-owner", "network:router_gateway") == []
    cli.run("port", "delete", vm["id"], vm2["id"])


def test_router_options_with_the_cli(cli, book):
    router = cli.json("router", "create", "--disable", "--description", "edge", "MyOtherRouter")
    assert (router["admin_state_up"], router["description"]) == (False, "edge")
    cli.run("router", "set", "--enable", "--external-gateway", "GATEWAY_NET", "--disable-snat", "--fixed-ip",
            "subnet=GATEWAY_SUBNET,ip-address=10.30.0.106", "MyOtherRouter")
    info = cli.json("router", "show", "MyOtherRouter")["external_gateway_info"]
    assert info == {"network_id": book["GATEWAY_NET"], "enable_snat": False,
                    "external_fixed_ips": [{"subnet_id": book["GATEWAY_SUBNET"], "ip_address": "10.30.0.106"}]}
    cli.run("router", "add", "subnet", "MyOtherRouter", "PROJECT_SUBNET")
    cli.run("router", "set", "--route", "destination=10.50.0.0/24,gateway=192.168.200.20", "MyOtherRouter")
    assert cli.json("router", "show", "MyOtherRouter")["routes"] == [
        {"destination": "10.50.0.0/24", "nexthop": "192.168.200.20"}]
    cli.run("router", "unset", "--route", "destination=10.50.0.0/24,gateway=192.168.200.20", "MyOtherRouter")
    assert cli.json("router", "show", "MyOtherRouter")["routes"] == []
    error = cli.fails("router", "create", "--ha", "MyHighlyAvailableRouter")
    assert "HA routers are not supported by this server" in error
    [row] = [r for r in cli.json("router", "list", "--long") if r["Name"] == "MyOtherRouter"]
    assert (row["Status"], row["State"], row["Distributed"], row["HA"]) == ("ACTIVE", True, False, False)
    cli.run("router", "remove", "subnet", "MyOtherRouter", "PROJECT_SUBNET")
    cli.run("router", "delete", "MyOtherRouter")
