"""The book's `openstack` commands, run with the real python-openstackclient against a live server.

The CLI talks to the all-in-one server with ``--os-auth-type none --os-endpoint
<url>``, so every command runs as the noauth admin of project "admin".

What this client cannot do without Keystone, and is therefore not exercised here:

* ``network rbac create --target-project <project>``: OSC resolves the project
  name or id through the identity API before sending anything to the network
  service, so only ``--target-all-projects`` (target ``*``) works; policies for
  chosen projects are covered through openstacksdk in test_sdk_rbac_chapter9.py.
* ``quota show`` / ``quota set``: OSC resolves the project through the identity
  API as well (and ``quota show`` without a project needs the project of a
  Keystone token), so both fail before reaching the network endpoint. Network
  quotas are covered through openstacksdk in test_sdk_chapter6.py.

The installed OSC (openstacksdk based) reports HTTP errors as
``ConflictException: 409: Client Error for url: ..., <server message>`` rather
than the book's ``Conflict (HTTP 409) (Request-ID: req-...)`` of the Pike-era
client; the request id is checked in the ``--debug`` trace instead.
"""
import ipaddress
import re

import pytest

from harness.cli import Cli

REQUEST_ID_RE = re.compile(
    r"X-Openstack-Request-Id: req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    re.IGNORECASE)


@pytest.fixture(scope="module")
def cli(aio_server):
    return Cli(aio_server.url)


@pytest.fixture(scope="module")
def flat_network(cli):
    return cli.json("network", "create", "--provider-network-type", "flat",
                    "--provider-physical-network", "physnet1", "--share", "MyFlatNetwork")


@pytest.fixture(scope="module")
def vlan_network(cli):
    return cli.json("network", "create", "--provider-network-type", "vlan",
                    "--provider-physical-network", "physnet1", "--provider-segment", "300",
                    "MyVLANNetwork")


@pytest.fixture(scope="module")
def flat_subnet(cli, flat_network):
    return cli.json("subnet", "create", "--subnet-range", "192.168.100.0/24",
                    "--gateway", "192.168.100.1", "--ip-version", "4", "--network", "MyFlatNetwork",
                    "--dns-nameserver", "8.8.8.8", "--dns-nameserver", "8.8.4.4",
                    "--allocation-pool", "start=192.168.100.10,end=192.168.100.200",
                    "--host-route", "destination=10.0.0.0/8,gateway=192.168.100.254",
                    "MyFlatSubnet")


def test_flat_network_create(flat_network):
    assert flat_network["name"] == "MyFlatNetwork"
    assert flat_network["provider:network_type"] == "flat"
    assert flat_network["provider:physical_network"] == "physnet1"
    assert flat_network["provider:segmentation_id"] is None
    assert flat_network["shared"] is True
    assert flat_network["router:external"] is False
    assert flat_network["mtu"] == 1500
    assert flat_network["status"] == "ACTIVE"
    assert flat_network["admin_state_up"] is True
    assert flat_network["project_id"] == "admin"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", flat_network["created_at"])


def test_second_flat_network_on_the_same_physnet_conflicts(cli, flat_network):
    done = cli.run("--debug", "network", "create", "--provider-network-type", "flat",
                   "--provider-physical-network", "physnet1", "MyFlatNetwork2", check=False)
    assert done.returncode != 0
    assert "ConflictException: 409" in done.stderr
    assert "Unable to create the flat network. Physical network physnet1 is in use." in done.stderr
    # The 409 answer carries a req-<uuid4> request id.
    conflict_lines = [line for line in done.stderr.splitlines() if line.startswith("RESP: [409]")]
    assert len(conflict_lines) == 1
    assert REQUEST_ID_RE.search(conflict_lines[0])


def test_network_show_set_list_delete(cli):
    created = cli.json("network", "create", "--description", "before", "MyRenamedNetwork")
    assert created["provider:network_type"] == "vxlan"
    assert created["mtu"] == 1450
    done = cli.run("network", "set", "--name", "MyRenamedNetwork2", "--description", "after",
                   "--disable", "MyRenamedNetwork")
    assert done.stdout == ""
    shown = cli.json("network", "show", "MyRenamedNetwork2")
    assert shown["id"] == created["id"]
    assert shown["description"] == "after"
    assert shown["admin_state_up"] is False
    assert shown["revision_number"] > created["revision_number"]
    listed = {row["Name"]: row for row in cli.json("network", "list")}
    assert listed["MyRenamedNetwork2"]["ID"] == created["id"]
    assert listed["MyRenamedNetwork2"]["Subnets"] == []
    assert "MyRenamedNetwork" not in listed
    cli.run("network", "delete", "MyRenamedNetwork2")
    gone = cli.run("network", "show", created["id"], check=False)
    assert gone.returncode != 0
    assert "No Network found" in gone.stderr


def test_vlan_network(vlan_network):
    assert vlan_network["provider:network_type"] == "vlan"
    assert vlan_network["provider:physical_network"] == "physnet1"
    assert vlan_network["provider:segmentation_id"] == 300
    assert vlan_network["shared"] is False
    assert vlan_network["mtu"] == 1500


def test_subnet_create_with_the_book_options(flat_subnet, flat_network):
    assert flat_subnet["network_id"] == flat_network["id"]
    assert flat_subnet["cidr"] == "192.168.100.0/24"
    assert flat_subnet["gateway_ip"] == "192.168.100.1"
    assert flat_subnet["ip_version"] == 4
    assert flat_subnet["enable_dhcp"] is True
    assert flat_subnet["dns_nameservers"] == ["8.8.8.8", "8.8.4.4"]
    assert flat_subnet["allocation_pools"] == [{"start": "192.168.100.10", "end": "192.168.100.200"}]
    assert flat_subnet["host_routes"] == [{"destination": "10.0.0.0/8", "nexthop": "192.168.100.254"}]
    assert flat_subnet["revision_number"] == 0
    assert flat_subnet["subnetpool_id"] is None


def test_subnet_pool_flow(cli, vlan_network):
    pool = cli.json("subnet", "pool", "create", "--pool-prefix", "172.31.0.0/16", "MySubnetPool")
    assert pool["prefixes"] == ["172.31.0.0/16"]
    assert pool["default_prefixlen"] == 8
    assert pool["min_prefixlen"] == 8
    assert pool["max_prefixlen"] == 32
    assert pool["ip_version"] == 4
    assert pool["is_default"] is False
    assert pool["shared"] is False
    assert pool["address_scope_id"] is None
    assert pool["default_quota"] is None
    assert pool["revision_number"] == 0

    carved = cli.json("subnet", "create", "--subnet-pool", "MySubnetPool", "--prefix-length", "28",
                      "--network", "MyVLANNetwork", "MySubnetFromPool")
    assert carved["cidr"] == "172.31.0.0/28"
    assert carved["gateway_ip"] == "172.31.0.1"
    assert carved["allocation_pools"] == [{"start": "172.31.0.2", "end": "172.31.0.14"}]
    assert carved["subnetpool_id"] == pool["id"]
    assert carved["network_id"] == vlan_network["id"]

    done = cli.run("subnet", "pool", "set", "--default", "--default-prefix-length", "28", "MySubnetPool")
    assert done.stdout == ""
    from_default = cli.json("subnet", "create", "--use-default-subnet-pool", "--network",
                            "MyVLANNetwork", "MySubnetFromDefaultPool")
    assert from_default["subnetpool_id"] == pool["id"]
    block = ipaddress.ip_network(from_default["cidr"])
    assert block.prefixlen == 28
    assert block.subnet_of(ipaddress.ip_network("172.31.0.0/16"))
    assert not block.overlaps(ipaddress.ip_network(carved["cidr"]))
    assert from_default["gateway_ip"] == str(block.network_address + 1)

    refused = cli.run("subnet", "pool", "delete", "MySubnetPool", check=False)
    assert refused.returncode != 0
    assert "409" in refused.stderr


def test_port_create_and_show(cli, flat_network, flat_subnet):
    port = cli.json("port", "create", "--network", "MyFlatNetwork", "--fixed-ip",
                    "subnet=MyFlatSubnet,ip-address=192.168.100.20", "TestPort")
    assert port["fixed_ips"] == [{"subnet_id": flat_subnet["id"], "ip_address": "192.168.100.20"}]
    assert port["network_id"] == flat_network["id"]
    shown = cli.json("port", "show", "TestPort")
    for seen in (port, shown):
        assert seen["status"] == "DOWN"
        assert seen["binding_vif_type"] == "unbound"
        assert seen["binding_vnic_type"] == "normal"
        assert seen["binding_host_id"] == ""
        assert seen["device_owner"] == ""
        assert seen["admin_state_up"] is True
        assert re.match(r"^fa:16:3e(:[0-9a-f]{2}){3}$", seen["mac_address"])
    assert shown["id"] == port["id"]
    assert shown["mac_address"] == port["mac_address"]


def test_network_rbac_create_list_show_delete(cli, flat_network, vlan_network):
    policy = cli.json("network", "rbac", "create", "--type", "network", "--action", "access_as_shared",
                      "--target-all-projects", "MyVLANNetwork")
    assert policy["object_type"] == "network"
    assert policy["object_id"] == vlan_network["id"]
    assert policy["action"] == "access_as_shared"
    assert policy["target_project_id"] == "*"
    assert policy["project_id"] == "admin"

    listed = {row["ID"]: row for row in cli.json("network", "rbac", "list")}
    assert listed[policy["id"]]["Object ID"] == vlan_network["id"]
    assert listed[policy["id"]]["Object Type"] == "network"
    # --share on MyFlatNetwork is an access_as_shared policy for everyone as well.
    assert flat_network["id"] in {row["Object ID"] for row in listed.values()}

    shown = cli.json("network", "rbac", "show", policy["id"])
    assert shown["target_project_id"] == "*"
    assert shown["object_id"] == vlan_network["id"]
    assert cli.json("network", "show", "MyVLANNetwork")["shared"] is True

    cli.run("network", "rbac", "delete", policy["id"])
    remaining = {row["ID"] for row in cli.json("network", "rbac", "list")}
    assert policy["id"] not in remaining


def test_network_tags(cli, vlan_network, flat_network):
    cli.run("network", "set", "--tag", "red", "--tag", "blue", "MyVLANNetwork")
    tagged = cli.json("network", "list", "--tags", "red,blue")
    assert [row["ID"] for row in tagged] == [vlan_network["id"]]
    assert sorted(cli.json("network", "show", "MyVLANNetwork")["tags"]) == ["blue", "red"]


def test_extension_list(cli):
    aliases = {row["Alias"] for row in cli.json("extension", "list", "--network")}
    assert {"provider", "external-net", "binding", "rbac-policies", "quotas", "tag"} <= aliases


def test_external_network_list_is_empty(cli, flat_network, vlan_network):
    done = cli.run("network", "list", "--external")
    # OSC draws no table for an empty list; only its line end remains.
    assert done.stdout.strip() == ""
