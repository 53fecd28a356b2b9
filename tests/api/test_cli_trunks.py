"""The book's chapter 14 trunk commands with the real `openstack` CLI against netweave-server
with the trunk plugin (SQLite and PostgreSQL): network trunk create/set/unset/show/list/delete
and network subport list, and the refusals as the CLI reports them."""
import pytest

from harness import ml2_plugin
from harness import trunk_server as serving
from harness.cli import Cli


@pytest.fixture(scope="module", params=ml2_plugin.BACKENDS)
def trunk_server(request, tmp_path_factory):
    yield from serving.serve(request, tmp_path_factory)


@pytest.fixture(scope="module")
def cli(trunk_server):
    return Cli(trunk_server.url)


@pytest.fixture(scope="module")
def book(cli):
    for name, vlan, cidr in (("RED_NET", "142", "172.16.0.0/24"), ("BLUE_NET", "141", "192.168.150.0/24"),
                             ("GREEN_NET", "140", "172.24.100.0/24")):
        cli.run("network", "create", "--provider-network-type", "vlan", "--provider-physical-network", "physnet1",
                "--provider-segment", vlan, name)
        cli.run("subnet", "create", "--subnet-range", cidr, "--network", name, name + "_SUBNET")
    ports = {}
    for name, net in (("parent0", "GREEN_NET"), ("child-p0c1", "RED_NET"), ("child-p0c2", "BLUE_NET")):
        ports[name] = cli.json("port", "create", "--network", net, name)
    return ports


def test_chapter14_trunk_commands(cli, book):
    assert book["parent0"]["trunk_details"] is None
    trunk = cli.json("network", "trunk", "create", "--parent-port", "parent0", "--subport",
                     "port=child-p0c1,segmentation-type=vlan,segmentation-id=42", "trunk0")
    assert (trunk["name"], trunk["status"], trunk["port_id"], trunk["revision_number"]) == (
        "trunk0", "DOWN", book["parent0"]["id"], 0)
    assert trunk["sub_ports"] == [{"port_id": book["child-p0c1"]["id"], "segmentation_type": "vlan",
                                   "segmentation_id": 42}]
    assert cli.json("port", "show", "child-p0c1")["device_owner"] == "trunk:subport"
    details = cli.json("port", "show", "parent0")["trunk_details"]
    assert details["trunk_id"] == trunk["id"] and details["sub_ports"][0]["segmentation_id"] == 42
    # set --subport prints nothing; subport list shows both.
    done = cli.run("network", "trunk", "set", "--subport",
                   "port=child-p0c2,segmentation-type=vlan,segmentation-id=41", "trunk0")
    assert done.stdout.strip() == ""
    subports = cli.json("network", "subport", "list", "--trunk", "trunk0")
    assert sorted(s["Segmentation ID"] for s in subports) == [41, 42]
    assert [t["Name"] for t in cli.json("network", "trunk", "list")] == ["trunk0"]
    cli.run("network", "trunk", "set", "--disable", "--description", "book", "trunk0")
    shown = cli.json("network", "trunk", "show", "trunk0")
    assert (shown["is_admin_state_up"], shown["description"]) == (False, "book")
    err = cli.fails("network", "trunk", "unset", "--subport", "child-p0c2", "trunk0")
    assert "Trunk %s is currently disabled." % trunk["id"] in err
    cli.run("network", "trunk", "set", "--enable", "trunk0")
    cli.run("network", "trunk", "unset", "--subport", "child-p0c2", "trunk0")
    assert [s["Port"] for s in cli.json("network", "subport", "list", "--trunk", "trunk0")] == [
        book["child-p0c1"]["id"]]
    # The guards as the CLI shows them.
    err = cli.fails("port", "delete", "child-p0c1")
    assert "is currently a subport for trunk %s" % trunk["id"] in err
    err = cli.fails("network", "trunk", "set", "--subport",
                    "port=child-p0c2,segmentation-type=vlan,segmentation-id=42", "trunk0")
    assert "segmentation_type vlan and segmentation_id 42 already in use on trunk %s." % trunk["id"] in err
    cli.run("network", "trunk", "delete", "trunk0")
    assert cli.json("network", "trunk", "list") == []
    assert cli.json("port", "show", "child-p0c1")["device_owner"] == ""
