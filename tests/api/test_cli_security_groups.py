"""The book's chapter 8 commands (security groups, rules, port security, address pairs) with the
real `openstack` CLI against an all-in-one server, as the noauth admin of project "admin".

Every command starts the CLI afresh (seconds each), so the module is marked slow; the same
API paths are covered quickly through openstacksdk in test_sdk_security_groups.py.
"""
import pytest

from harness.cli import Cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cli(aio_server):
    return Cli(aio_server.url)


@pytest.fixture(scope="module")
def web_servers(cli):
    return cli.json("security", "group", "create", "WEB_SERVERS")


@pytest.fixture(scope="module")
def network(cli):
    created = cli.json("network", "create", "SgNetwork")
    cli.run("subnet", "create", "--network", "SgNetwork", "--subnet-range", "192.168.206.0/24", "SgSubnet")
    return created


def test_group_create_shows_two_egress_rules_and_list_has_the_default_group(cli, web_servers):
    assert web_servers["name"] == "WEB_SERVERS" and web_servers["description"] == "WEB_SERVERS"
    assert web_servers["project_id"] == "admin"
    assert sorted((r["direction"], r["ethertype"]) for r in web_servers["rules"]) == [
        ("egress", "IPv4"), ("egress", "IPv6")]
    listed = {row["Name"]: row for row in cli.json("security", "group", "list")}
    assert listed["default"]["Description"] == "Default security group"
    assert listed["default"]["Project"] == "admin"
    assert listed["WEB_SERVERS"]["ID"] == web_servers["id"]


def test_book_rule_create_output(cli, web_servers):
    rule = cli.json("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80",
                    "--remote-ip", "0.0.0.0/0", "WEB_SERVERS")
    assert {k: rule[k] for k in ("direction", "ether_type", "port_range_max", "port_range_min", "protocol",
                                 "remote_group_id", "remote_ip_prefix", "security_group_id", "project_id",
                                 "revision_number", "description")} == {
        "direction": "ingress", "ether_type": "IPv4", "port_range_max": 80, "port_range_min": 80,
        "protocol": "tcp", "remote_group_id": None, "remote_ip_prefix": "0.0.0.0/0",
        "security_group_id": web_servers["id"], "project_id": "admin", "revision_number": 0, "description": ""}
    stderr = cli.fails("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80",
                       "--remote-ip", "0.0.0.0/0", "WEB_SERVERS")
    assert "409" in stderr and "Security group rule already exists. Rule id is %s." % rule["id"] in stderr


def test_rule_options_egress_ipv6_ranges_remote_group_list_show_and_delete(cli, web_servers):
    egress = cli.json("security", "group", "rule", "create", "--egress", "--ethertype", "IPv6", "--protocol",
                      "udp", "--dst-port", "137:139", "--remote-ip", "fd00::/64", "WEB_SERVERS")
    assert (egress["direction"], egress["ether_type"], egress["port_range_min"], egress["port_range_max"],
            egress["remote_ip_prefix"]) == ("egress", "IPv6", 137, 139, "fd00::/64")
    ping = cli.json("security", "group", "rule", "create", "--ingress", "--protocol", "icmp", "--icmp-type", "8",
                    "--icmp-code", "0", "--remote-group", "default", "WEB_SERVERS")
    assert (ping["protocol"], ping["port_range_min"], ping["port_range_max"]) == ("icmp", 8, 0)
    listed = {row["ID"]: row for row in cli.json("security", "group", "rule", "list", "--long", "WEB_SERVERS")}
    assert listed[egress["id"]]["Direction"] == "egress" and listed[egress["id"]]["Port Range"] == "137:139"
    assert listed[ping["id"]]["Remote Security Group"] == ping["remote_group_id"] is not None
    assert listed[ping["id"]]["IP Protocol"] == "icmp"
    shown = cli.json("security", "group", "rule", "show", ping["id"])
    assert shown["security_group_id"] == web_servers["id"] and shown["port_range_min"] == 8
    cli.run("security", "group", "rule", "delete", egress["id"], ping["id"])
    assert "No SecurityGroupRule found for %s" % ping["id"] in cli.fails("security", "group", "rule", "show",
                                                                       ping["id"])


def test_group_set_show_and_delete(cli):
    created = cli.json("security", "group", "create", "--description", "temporary", "MySampleSecGrp")
    done = cli.run("security", "group", "set", "--name", "MySampleSecGrp2", "--description", "changed",
                   "MySampleSecGrp")
    assert done.stdout == ""
    shown = cli.json("security", "group", "show", "MySampleSecGrp2")
    assert shown["id"] == created["id"] and shown["description"] == "changed"
    assert shown["revision_number"] > created["revision_number"]
    cli.run("security", "group", "delete", "MySampleSecGrp2")
    assert created["id"] not in [g["ID"] for g in cli.json("security", "group", "list")]


def test_default_group_cannot_be_renamed_and_only_an_admin_deletes_it(cli):
    stderr = cli.fails("security", "group", "set", "--name", "renamed", "default")
    assert "Updating default security group not allowed." in stderr
    stderr = cli.fails("security", "group", "create", "default")
    assert "Default security group already exists." in stderr
    # As in Neutron an admin may delete a default group (a member gets 409, see
    # test_security_group_conformance.py); the project's next list makes a new one.
    before = [g["ID"] for g in cli.json("security", "group", "list") if g["Name"] == "default"]
    assert cli.run("security", "group", "delete", "default").stdout == ""
    after = [g["ID"] for g in cli.json("security", "group", "list") if g["Name"] == "default"]
    assert len(before) == len(after) == 1 and before != after


def test_port_groups_address_pairs_and_port_security(cli, network, web_servers):
    default_id = [g["ID"] for g in cli.json("security", "group", "list") if g["Name"] == "default"][0]
    port = cli.json("port", "create", "--network", "SgNetwork", "WEB1-port")
    assert port["security_group_ids"] == [default_id] and port["port_security_enabled"] is True
    assert cli.run("port", "set", "--security-group", "WEB_SERVERS", "WEB1-port").stdout == ""
    shown = cli.json("port", "show", "WEB1-port")
    assert sorted(shown["security_group_ids"]) == sorted([default_id, web_servers["id"]])
    stderr = cli.fails("security", "group", "delete", "WEB_SERVERS")
    assert "Security Group %s in use." % web_servers["id"] in stderr
    cli.run("port", "unset", "--security-group", "default", "WEB1-port")
    cli.run("port", "set", "--allowed-address", "ip-address=192.168.206.200",
            "--allowed-address", "ip-address=192.168.207.0/24,mac-address=fa:16:3e:00:00:01", "WEB1-port")
    shown = cli.json("port", "show", "WEB1-port")
    assert shown["security_group_ids"] == [web_servers["id"]]
    pairs = shown["allowed_address_pairs"]
    assert pairs == [{"ip_address": "192.168.206.200", "mac_address": port["mac_address"]},
                     {"ip_address": "192.168.207.0/24", "mac_address": "fa:16:3e:00:00:01"}]
    stderr = cli.fails("port", "set", "--disable-port-security", "WEB1-port")
    assert "Port has security group associated." in stderr
    cli.run("port", "set", "--no-security-group", "--no-allowed-address", "--disable-port-security",
            "WEB1-port")
    shown = cli.json("port", "show", "WEB1-port")
    assert (shown["security_group_ids"], shown["allowed_address_pairs"], shown["port_security_enabled"]) == (
        [], [], False)
    stderr = cli.fails("port", "set", "--security-group", "WEB_SERVERS", "WEB1-port")
    assert "Port security must be enabled and port must have an IP address in order to use security groups." \
        in stderr
    cli.run("port", "delete", "WEB1-port")


def test_network_without_port_security(cli, web_servers):
    net = cli.json("network", "create", "--disable-port-security", "NetworkWithoutPortSecurity")
    assert net["port_security_enabled"] is False
    port = cli.json("port", "create", "--network", "NetworkWithoutPortSecurity", "TestPort")
    assert (port["port_security_enabled"], port["security_group_ids"], port["status"]) == (False, [], "DOWN")
    cli.run("port", "set", "--enable-port-security", "TestPort")
    assert cli.json("port", "show", "TestPort")["port_security_enabled"] is True
    secured = cli.json("port", "create", "--network", "NetworkWithoutPortSecurity", "--enable-port-security",
                       "--security-group", "WEB_SERVERS", "SecuredPort")
    assert secured["port_security_enabled"] is True and len(secured["security_group_ids"]) == 1
    cli.run("port", "delete", "TestPort", "SecuredPort")
    cli.run("network", "delete", "NetworkWithoutPortSecurity")


def test_extension_list_has_the_books_rows(cli):
    rows = {(e["Name"], e["Alias"], e["Description"]) for e in cli.json("extension", "list", "--network")}
    assert ("security-group", "security-group", "The security groups extension.") in rows
    assert ("Port Security", "port-security", "Provides port security.") in rows
    assert ("Allowed Address Pairs", "allowed-address-pairs", "Provides allowed address pairs.") in rows
