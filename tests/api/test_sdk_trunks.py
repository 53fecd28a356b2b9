"""Trunks through openstacksdk against netweave-server with the trunk plugin and its ML2
extension driver, on SQLite and PostgreSQL: the book's chapter 14 worked example (B.7),
every validation rule of B.6 with Neutron's texts, the port API's refusals, policies and
quotas."""
import uuid

import pytest
import requests
from openstack import exceptions as sdk_exc

from harness import ml2_plugin
from harness import trunk_server as serving
from harness.sdk import connect, fault_of, unique


@pytest.fixture(scope="module", params=ml2_plugin.BACKENDS)
def trunk_server(request, tmp_path_factory):
    yield from serving.serve(request, tmp_path_factory)


@pytest.fixture(scope="module")
def admin(trunk_server):
    return connect(trunk_server.url)


def expect(error_class, call, *args, **kwargs):
    with pytest.raises(error_class) as raised:
        call(*args, **kwargs)
    return fault_of(raised.value)


@pytest.fixture(scope="module")
def book(admin):
    """RED_NET (vlan 42), BLUE_NET (vlan 41), GREEN_NET (vlan 40) with the book's subnets."""
    nets = {}
    for name, vlan, cidr in (("RED_NET", 142, "172.16.0.0/24"), ("BLUE_NET", 141, "192.168.150.0/24"),
                             ("GREEN_NET", 140, "172.24.100.0/24")):
        net = admin.network.create_network(name=unique(name), provider_network_type="vlan",
                                           provider_physical_network="physnet1", provider_segmentation_id=vlan)
        admin.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4)
        nets[name] = net
    return nets


def port(admin, net, name="p"):
    return admin.network.create_port(network_id=net.id, name=unique(name))


def test_chapter14_trunk_create_add_remove_and_details(trunk_server, admin, book):
    parent = port(admin, book["GREEN_NET"], "parent0")
    assert parent.trunk_details is None
    child = port(admin, book["RED_NET"], "child-p0c1")
    trunk = admin.network.create_trunk(
        name="trunk0", port_id=parent.id,
        sub_ports=[{"port_id": child.id, "segmentation_type": "vlan", "segmentation_id": 42}])
    assert (trunk.name, trunk.status, trunk.is_admin_state_up, trunk.port_id, trunk.revision_number) == (
        "trunk0", "DOWN", True, parent.id, 0)
    assert trunk.sub_ports == [{"port_id": child.id, "segmentation_type": "vlan", "segmentation_id": 42}]
    # The subport is stamped as the trunk's; the parent shows the trunk's details.
    shown = admin.network.get_port(child.id)
    assert (shown.device_owner, shown.device_id) == ("trunk:subport", trunk.id)
    details = admin.network.get_port(parent.id).trunk_details
    assert details == {"trunk_id": trunk.id, "sub_ports": [
        {"port_id": child.id, "segmentation_type": "vlan", "segmentation_id": 42,
         "mac_address": child.mac_address}]}
    listed = {p.id: p.trunk_details for p in admin.network.ports(network_id=book["GREEN_NET"].id)}
    assert listed[parent.id]["trunk_id"] == trunk.id
    # add_subports / get_subports / remove_subports.
    blue = port(admin, book["BLUE_NET"], "child-p0c2")
    admin.network.add_trunk_subports(trunk, [{"port_id": blue.id, "segmentation_type": "vlan",
                                              "segmentation_id": 41}])
    subs = admin.network.get_trunk_subports(trunk)["sub_ports"]
    assert sorted(s["segmentation_id"] for s in subs) == [41, 42]
    admin.network.delete_trunk_subports(trunk, [{"port_id": blue.id}])
    assert admin.network.get_port(blue.id).device_owner == ""
    assert [s["port_id"] for s in admin.network.get_trunk(trunk.id).sub_ports] == [child.id]
    assert [t.id for t in admin.network.trunks(port_id=parent.id)] == [trunk.id]
    updated = admin.network.update_trunk(trunk, name="trunk0b", description="d")
    assert (updated.name, updated.description) == ("trunk0b", "d")
    admin.network.delete_trunk(trunk)
    assert admin.network.get_port(child.id).device_owner == ""
    assert admin.network.get_port(parent.id).trunk_details is None


def test_validation_rules_of_b6(trunk_server, admin, book):
    parent = port(admin, book["GREEN_NET"])
    a, b = port(admin, book["RED_NET"]), port(admin, book["BLUE_NET"])
    trunk = admin.network.create_trunk(port_id=parent.id, sub_ports=[
        {"port_id": a.id, "segmentation_type": "vlan", "segmentation_id": 100}])
    # Parent already a trunk's parent; a subport as parent.
    fault = expect(sdk_exc.ConflictException, admin.network.create_trunk, port_id=parent.id)
    assert fault["message"] == "Port %s is currently in use and is not eligible for use as a parent port." % parent.id
    fault = expect(sdk_exc.ConflictException, admin.network.create_trunk, port_id=a.id)
    assert fault["type"] == "ParentPortInUse"
    # Subport already a subport.
    other = admin.network.create_trunk(port_id=port(admin, book["GREEN_NET"]).id)
    fault = expect(sdk_exc.ConflictException, admin.network.add_trunk_subports, other,
                   [{"port_id": a.id, "segmentation_type": "vlan", "segmentation_id": 5}])
    assert fault["message"] == "Port %s is in use by another trunk." % a.id
    # Same segmentation twice.
    fault = expect(sdk_exc.ConflictException, admin.network.add_trunk_subports, trunk,
                   [{"port_id": b.id, "segmentation_type": "vlan", "segmentation_id": 100}])
    assert fault["message"] == ("segmentation_type vlan and segmentation_id 100 already in use on trunk %s."
                                % trunk.id)
    # Missing, unknown and out-of-range segmentation.
    fault = expect(sdk_exc.BadRequestException, admin.network.add_trunk_subports, trunk, [{"port_id": b.id}])
    assert "missing segmentation information. Must specify both segmentation_id and segmentation_type" \
        in fault["message"]
    fault = expect(sdk_exc.BadRequestException, admin.network.add_trunk_subports, trunk,
                   [{"port_id": b.id, "segmentation_type": "vxlan", "segmentation_id": 5}])
    assert "Unknown segmentation_type 'vxlan'" in fault["message"]
    for bad in (0, 4095, "x"):
        fault = expect(sdk_exc.BadRequestException, admin.network.add_trunk_subports, trunk,
                       [{"port_id": b.id, "segmentation_type": "vlan", "segmentation_id": bad}])
        assert "Segmentation ID '%s' is not in range" % bad in fault["message"]
    fault = expect(sdk_exc.BadRequestException, admin.network.create_trunk, port_id=port(admin, book["RED_NET"]).id,
                   sub_ports=[{"port_id": b.id, "segmentation_type": "vlan", "segmentation_id": 4095}])
    assert "Segmentation ID '4095' is not in range" in fault["message"]
    # A port with a device is not a subport.
    used = admin.network.create_port(network_id=book["BLUE_NET"].id, device_id="vm-1", device_owner="compute:nova")
    fault = expect(sdk_exc.ConflictException, admin.network.add_trunk_subports, trunk,
                   [{"port_id": used.id, "segmentation_type": "vlan", "segmentation_id": 7}])
    assert fault["type"] == "PortInUse" and used.id in fault["message"]
    # MTU of the subport network above the parent's.
    big = admin.network.create_network(name=unique("BIG"), mtu=1450)
    small = admin.network.create_network(name=unique("SMALL"), mtu=1400)
    small_parent = admin.network.create_port(network_id=small.id)
    big_child = admin.network.create_port(network_id=big.id)
    fault = expect(sdk_exc.ConflictException, admin.network.create_trunk, port_id=small_parent.id, sub_ports=[
        {"port_id": big_child.id, "segmentation_type": "vlan", "segmentation_id": 9}])
    assert fault["message"].startswith("MTU 1450 of subport %s cannot be greater than MTU 1400 of trunk "
                                       % big_child.id)
    assert admin.network.get_port(small_parent.id).trunk_details is None  # nothing half-written
    # A disabled trunk takes no subport change.
    admin.network.update_trunk(trunk, is_admin_state_up=False)
    fault = expect(sdk_exc.ConflictException, admin.network.add_trunk_subports, trunk,
                   [{"port_id": b.id, "segmentation_type": "vlan", "segmentation_id": 8}])
    assert fault["message"] == "Trunk %s is currently disabled." % trunk.id
    fault = expect(sdk_exc.ConflictException, admin.network.delete_trunk_subports, trunk, [{"port_id": a.id}])
    assert fault["type"] == "TrunkDisabled"
    admin.network.update_trunk(trunk, is_admin_state_up=True)
    # Unknown subport on remove; unknown port on add.
    fault = expect(sdk_exc.NotFoundException, admin.network.delete_trunk_subports, trunk, [{"port_id": b.id}])
    assert fault["type"] == "SubPortNotFound"
    missing = str(uuid.uuid4())
    fault = expect(sdk_exc.NotFoundException, admin.network.add_trunk_subports, trunk,
                   [{"port_id": missing, "segmentation_type": "vlan", "segmentation_id": 8}])
    assert fault["message"] == "Port %s could not be found." % missing
    # A missing trunk, found missing by the actions themselves (an admin's skip the read).
    for action, args in ((admin.network.add_trunk_subports,
                          ([{"port_id": b.id, "segmentation_type": "vlan", "segmentation_id": 8}],)),
                         (admin.network.delete_trunk_subports, ([{"port_id": a.id}],)),
                         (admin.network.get_trunk_subports, ())):
        fault = expect(sdk_exc.NotFoundException, action, missing, *args)
        assert (fault["type"], fault["message"]) == ("TrunkNotFound", "Trunk %s could not be found." % missing)


def test_ports_of_trunks_are_not_deleted_through_the_port_api(trunk_server, admin, book):
    parent, child = port(admin, book["GREEN_NET"]), port(admin, book["RED_NET"])
    trunk = admin.network.create_trunk(port_id=parent.id, sub_ports=[
        {"port_id": child.id, "segmentation_type": "vlan", "segmentation_id": 42}])
    fault = expect(sdk_exc.ConflictException, admin.network.delete_port, parent)
    assert fault["message"] == "Port %s is currently a parent port for trunk %s." % (parent.id, trunk.id)
    fault = expect(sdk_exc.ConflictException, admin.network.delete_port, child)
    assert fault["message"] == "Port %s is currently a subport for trunk %s." % (child.id, trunk.id)
    # A trunk whose parent is bound to a host is in use.
    admin.network.update_port(parent, binding_host_id="compute01")
    fault = expect(sdk_exc.ConflictException, admin.network.delete_trunk, trunk)
    assert fault["message"] == "Trunk %s is currently in use." % trunk.id
    admin.network.update_port(parent, binding_host_id="")
    admin.network.delete_trunk(trunk)
    admin.network.delete_port(child)
    admin.network.delete_port(parent)


def test_malformed_bodies_get_400(trunk_server, admin, book):
    parent = port(admin, book["GREEN_NET"])
    trunk = admin.network.create_trunk(port_id=parent.id)
    url = "%s/v2.0/trunks/%s/" % (trunk_server.url, trunk.id)
    for action, body in (("add_subports", {}), ("add_subports", {"sub_ports": "x"}),
                         ("add_subports", {"sub_ports": [1]}), ("remove_subports", {"sub_ports": [{}]}),
                         ("add_subports", {"sub_ports": [{"port_id": "nope", "segmentation_type": "vlan",
                                                          "segmentation_id": 1}]}),
                         ("add_subports", [])):
        answer = requests.put(url + action, json=body)
        assert answer.status_code == 400, (action, body, answer.text)
        assert "NeutronError" in answer.json()
    assert requests.get(url + "get_subports").json() == {"sub_ports": []}
    assert requests.post(url + "get_subports").status_code == 405


def test_policies_and_quota(trunk_server, book):
    project = "trk-" + uuid.uuid4().hex[:8]
    member = connect(trunk_server.url, project=project, roles="member")
    other = connect(trunk_server.url, project="trk-" + uuid.uuid4().hex[:8], roles="member")
    net = member.network.create_network(name="N")
    member.network.create_subnet(network_id=net.id, cidr="10.9.0.0/24", ip_version=4)
    trunks = [member.network.create_trunk(port_id=member.network.create_port(network_id=net.id).id)
              for _ in range(3)]
    assert all(t.project_id == project for t in trunks)
    fault = expect(sdk_exc.ConflictException, member.network.create_trunk,
                   port_id=member.network.create_port(network_id=net.id).id)
    assert fault["type"] == "OverQuota"
    # Another project neither sees nor changes them.
    assert list(other.network.trunks()) == []
    expect(sdk_exc.NotFoundException, other.network.get_trunk, trunks[0].id)
    expect(sdk_exc.NotFoundException, other.network.add_trunk_subports, trunks[0], [])
    # Nor uses a port it cannot see.
    fault = expect(sdk_exc.NotFoundException, other.network.create_trunk, port_id=trunks[0].port_id)
    assert fault["message"] == "Port %s could not be found." % trunks[0].port_id
