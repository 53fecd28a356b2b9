"""Routers and floating IPs through openstacksdk against netweave-server with the router plugin,
on SQLite and PostgreSQL: the book's chapter 10 worked examples (T1-T3, T7-T9), policies and the
port API's refusals, with Neutron's bodies and error texts."""
import concurrent.futures
import ipaddress
import uuid

import pytest
import requests
from openstack import exceptions as sdk_exc

from harness import ml2_plugin
from harness import router_server as serving
from harness.sdk import connect, fault_of, unique

POOL = (ipaddress.ip_address("10.30.0.100"), ipaddress.ip_address("10.30.0.254"))


@pytest.fixture(scope="module", params=ml2_plugin.BACKENDS)
def router_server(request, tmp_path_factory):
    yield from serving.serve(request, tmp_path_factory)


@pytest.fixture(scope="module")
def admin(router_server):
    return connect(router_server.url)


@pytest.fixture
def project():
    return "l3p-" + uuid.uuid4().hex[:10]


def member_of(router_server, project):
    return connect(router_server.url, project=project, roles="member")


@pytest.fixture(scope="module")
def gateway_net(admin):
    net = admin.network.create_network(name=unique("GATEWAY_NET"), is_router_external=True,
                                       provider_network_type="flat", provider_physical_network="physnet1")
    subnet = admin.network.create_subnet(network_id=net.id, cidr="10.30.0.0/24", ip_version=4, is_dhcp_enabled=False,
                                         gateway_ip="10.30.0.1",
                                         allocation_pools=[{"start": "10.30.0.100", "end": "10.30.0.254"}])
    return net, subnet


@pytest.fixture
def project_net(router_server, project):
    conn = member_of(router_server, project)
    net = conn.network.create_network(name="PROJECT_NET")
    subnet = conn.network.create_subnet(network_id=net.id, cidr="192.168.200.0/24", ip_version=4,
                                        dns_nameservers=["8.8.8.8"], name="PROJECT_SUBNET")
    return conn, net, subnet


def in_pool(address):
    return POOL[0] <= ipaddress.ip_address(address) <= POOL[1]


def expect(error_class, call, *args, **kwargs):
    with pytest.raises(error_class) as raised:
        call(*args, **kwargs)
    return fault_of(raised.value)


def test_chapter10_router_gateway_interface_and_floating_ip(router_server, admin, gateway_net, project_net):
    ext, ext_subnet = gateway_net
    conn, net, subnet = project_net
    # T1: a router with Neutron's defaults; a member does not see ha/distributed.
    router = conn.network.create_router(name="MyLegacyRouter")
    assert (router.is_admin_state_up, router.status, router.external_gateway_info, router.routes) == (
        True, "ACTIVE", None, [])
    raw = requests.get("%s/v2.0/routers/%s" % (router_server.url, router.id),
                       headers={"X-Project-Id": router.project_id, "X-Roles": "member"}).json()["router"]
    assert "ha" not in raw and "distributed" not in raw
    shown = admin.network.get_router(router.id)
    assert (shown.is_distributed, shown.is_ha) == (False, False)
    # T2: the gateway needs an external network.
    fault = expect(sdk_exc.BadRequestException, conn.network.update_router, router,
                   external_gateway_info={"network_id": net.id})
    assert fault == {"type": "BadRequest", "detail": "",
                     "message": "Bad router request: Network %s is not an external network." % net.id}
    router = conn.network.update_router(router, external_gateway_info={"network_id": ext.id})
    info = router.external_gateway_info
    assert info["network_id"] == ext.id and info["enable_snat"] is True
    [fixed] = info["external_fixed_ips"]
    assert fixed["subnet_id"] == ext_subnet.id and in_pool(fixed["ip_address"])
    [gw_port] = admin.network.ports(device_id=router.id)
    assert (gw_port.device_owner, gw_port.project_id) == ("network:router_gateway", "")
    # T3: the subnet interface takes the gateway IP.
    reply = conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    assert set(reply) == {"id", "tenant_id", "project_id", "port_id", "subnet_id", "subnet_ids", "network_id"}
    assert (reply["id"], reply["subnet_id"], reply["subnet_ids"], reply["network_id"]) == (
        router.id, subnet.id, [subnet.id], net.id)
    port = conn.network.get_port(reply["port_id"])
    assert (port.device_owner, port.fixed_ips) == (
        "network:router_interface", [{"subnet_id": subnet.id, "ip_address": "192.168.200.1"}])
    fault = expect(sdk_exc.BadRequestException, conn.network.add_interface_to_router, router, subnet_id=subnet.id)
    assert fault["message"] == "Bad router request: Router already has a port on subnet %s." % subnet.id
    # T7: a floating IP for an instance's port.
    vm = conn.network.create_port(network_id=net.id, fixed_ips=[{"subnet_id": subnet.id,
                                                                 "ip_address": "192.168.200.6"}])
    fip = conn.network.create_ip(floating_network_id=ext.id, port_id=vm.id)
    assert (fip.fixed_ip_address, fip.router_id, fip.status, fip.port_id, fip.revision_number) == (
        "192.168.200.6", router.id, "DOWN", vm.id, 0)
    assert in_pool(fip.floating_ip_address) and fip.port_details["network_id"] == net.id
    # T8: disassociate, then associate with another port.
    fip = conn.network.update_ip(fip, port_id=None)
    assert (fip.port_id, fip.fixed_ip_address, fip.router_id) == (None, None, None)
    vm2 = conn.network.create_port(network_id=net.id, fixed_ips=[{"subnet_id": subnet.id,
                                                                  "ip_address": "192.168.200.10"}])
    fip = conn.network.update_ip(fip, port_id=vm2.id)
    assert (fip.fixed_ip_address, fip.router_id) == ("192.168.200.10", router.id)
    assert [f.id for f in conn.network.ips(port_id=vm2.id)] == [fip.id]
    # T9: what the floating IP keeps in place.
    fault = expect(sdk_exc.ConflictException, conn.network.update_router, router, external_gateway_info={})
    assert fault["type"] == "RouterExternalGatewayInUseByFloatingIp"
    assert fault["message"] == ("Gateway cannot be updated for router %s, since a gateway to external network %s "
                                "is required by one or more floating IPs." % (router.id, ext.id))
    fault = expect(sdk_exc.ConflictException, conn.network.remove_interface_from_router, router, subnet_id=subnet.id)
    assert fault["type"] == "RouterInterfaceInUseByFloatingIP"
    fault = expect(sdk_exc.ConflictException, conn.network.delete_router, router)
    assert fault == {"type": "RouterInUse", "message": "Router %s still has ports" % router.id, "detail": ""}
    fault = expect(sdk_exc.ConflictException, conn.network.create_ip, floating_network_id=ext.id, port_id=vm2.id)
    assert fault["type"] == "FloatingIPPortAlreadyAssociated"
    # The port API may not take the router's ports; the subnet and network stay in use.
    for owned in (reply["port_id"], gw_port.id):
        fault = expect(sdk_exc.ConflictException, admin.network.delete_port, owned)
        assert fault["type"] == "ServicePortInUse"
    fault = expect(sdk_exc.ConflictException, conn.network.delete_port, reply["port_id"])
    assert fault["message"] == ("Port %s cannot be deleted directly via the port API: has device owner "
                                "network:router_interface." % reply["port_id"])
    assert expect(sdk_exc.ConflictException, conn.network.delete_subnet, subnet)["type"] == "SubnetInUse"
    assert expect(sdk_exc.ConflictException, conn.network.delete_network, net)["type"] == "NetworkInUse"
    # Cleaning up in the book's order works, and takes the gateway port with the router.
    conn.network.delete_ip(fip)
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router)
    assert list(admin.network.ports(device_id=router.id)) == []
    conn.network.delete_port(vm)
    conn.network.delete_port(vm2)
    conn.network.delete_network(net)


def test_interface_and_floating_ip_refusals(router_server, admin, gateway_net, project_net):
    ext, _ext_subnet = gateway_net
    conn, net, subnet = project_net
    router = conn.network.create_router(name="R")
    for body, text in (({"subnet_id": subnet.id, "port_id": str(uuid.uuid4())},
                        "Cannot specify both subnet-id and port-id"),
                       ({}, "Either subnet_id or port_id must be specified")):
        response = requests.put("%s/v2.0/routers/%s/add_router_interface" % (router_server.url, router.id),
                                json=body)
        assert response.status_code == 400
        assert response.json()["NeutronError"]["message"] == "Bad router request: %s." % text
    no_gw = conn.network.create_subnet(network_id=conn.network.create_network(name="N").id, cidr="10.9.0.0/24",
                                       ip_version=4, gateway_ip=None)
    fault = expect(sdk_exc.BadRequestException, conn.network.add_interface_to_router, router, subnet_id=no_gw.id)
    assert fault["message"] == "Bad router request: Subnet for router interface must have a gateway IP."
    fault = expect(sdk_exc.NotFoundException, conn.network.remove_interface_from_router, router, subnet_id=subnet.id)
    assert fault == {"type": "RouterInterfaceNotFoundForSubnet", "detail": "",
                     "message": "Router %s has no interface on subnet %s" % (router.id, subnet.id)}
    vm = conn.network.create_port(network_id=net.id)
    fault = expect(sdk_exc.NotFoundException, conn.network.create_ip, floating_network_id=ext.id, port_id=vm.id)
    assert fault["type"] == "ExternalGatewayForFloatingIPNotFound"
    assert fault["message"] == ("External network %s is not reachable from subnet %s.  Therefore, cannot associate "
                                "Port %s with a Floating IP." % (ext.id, subnet.id, vm.id))
    fault = expect(sdk_exc.BadRequestException, conn.network.create_ip, floating_network_id=net.id)
    assert fault["message"] == "Bad floatingip request: Network %s is not a valid external network." % net.id
    fault = expect(sdk_exc.BadRequestException, conn.network.create_ip, floating_network_id=ext.id,
                   fixed_ip_address="192.168.200.5")
    assert fault["message"] == "Bad floatingip request: fixed_ip_address cannot be specified without a port_id."
    fault = expect(sdk_exc.NotFoundException, conn.network.get_ip, str(uuid.uuid4()))
    assert fault["type"] == "FloatingIPNotFound"


def test_policies_of_routers_and_floating_ips(router_server, admin, gateway_net, project):
    ext, _ext_subnet = gateway_net
    conn = member_of(router_server, project)
    for attrs in ({"is_ha": False}, {"is_distributed": False}):
        fault = expect(sdk_exc.ForbiddenException, conn.network.create_router, name="x", **attrs)
        assert fault["type"] == "PolicyNotAuthorized"
    fault = expect(sdk_exc.ForbiddenException, conn.network.create_router, name="x",
                   external_gateway_info={"network_id": ext.id, "enable_snat": False})
    assert fault["type"] == "PolicyNotAuthorized"
    fault = expect(sdk_exc.ForbiddenException, conn.network.create_ip, floating_network_id=ext.id,
                   floating_ip_address="10.30.0.240")
    assert fault["type"] == "PolicyNotAuthorized"
    # Admins may; true is refused until such routers exist.
    fault = expect(sdk_exc.BadRequestException, admin.network.create_router, name="x", is_ha=True)
    assert fault["message"] == "Bad router request: HA routers are not supported by this server."
    router = conn.network.create_router(name="mine", external_gateway_info={"network_id": ext.id})
    other = member_of(router_server, project + "-b")
    assert list(other.network.routers(name="mine")) == []
    assert expect(sdk_exc.NotFoundException, other.network.get_router, router.id)["type"] == "RouterNotFound"
    assert expect(sdk_exc.NotFoundException, other.network.add_interface_to_router, router,
                  subnet_id=str(uuid.uuid4()))["type"] == "RouterNotFound"
    fip = conn.network.create_ip(floating_network_id=ext.id)
    fault = expect(sdk_exc.NotFoundException, other.network.delete_ip, fip, ignore_missing=False)
    assert fault["type"] == "FloatingIPNotFound"
    conn.network.delete_ip(fip)
    conn.network.delete_router(router)


def test_router_tags_revisions_and_if_match(router_server, admin, project):
    conn = member_of(router_server, project)
    router = conn.network.create_router(name="tagged")
    conn.network.set_tags(router, ["blue", "l3"])
    assert sorted(conn.network.get_router(router.id).tags) == ["blue", "l3"]
    assert [r.id for r in conn.network.routers(tags="blue")] == [router.id]
    current = conn.network.get_router(router.id).revision_number
    url = "%s/v2.0/routers/%s" % (router_server.url, router.id)
    headers = {"X-Project-Id": project, "X-Roles": "member"}
    stale = requests.put(url, json={"router": {"name": "x"}},
                         headers=dict(headers, **{"If-Match": "revision_number=%d" % (current + 5)}))
    assert stale.status_code == 412
    fresh = requests.put(url, json={"router": {"name": "renamed"}},
                         headers=dict(headers, **{"If-Match": "revision_number=%d" % current}))
    assert fresh.status_code == 200 and fresh.json()["router"]["revision_number"] > current
    conn.network.delete_router(router)


def test_extra_routes_atomic(router_server, admin, gateway_net, project_net):
    conn, net, subnet = project_net
    router = conn.network.create_router(name="routes")
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    route = {"destination": "10.50.0.0/24", "nexthop": "192.168.200.20"}
    router = conn.network.add_extra_routes_to_router(router, {"router": {"routes": [route]}})
    assert router.routes == [route]
    router = conn.network.remove_extra_routes_from_router(router, {"router": {"routes": [route]}})
    assert router.routes == []
    fault = expect(sdk_exc.BadRequestException, conn.network.update_router, router,
                   routes=[{"destination": "10.60.0.0/24", "nexthop": "172.31.0.1"}])
    assert fault["type"] == "InvalidRoutes"
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router)


def test_racing_creates_for_one_address(router_server, admin, gateway_net):
    ext, _ext_subnet = gateway_net
    url = "%s/v2.0/floatingips" % router_server.url
    body = {"floatingip": {"floating_network_id": ext.id, "floating_ip_address": "10.30.0.250"}}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _i: requests.post(url, json=body, timeout=60), range(8)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7
    assert {r.json()["NeutronError"]["type"] for r in responses if r.status_code == 409} == {
        "IpAddressAlreadyAllocated"}
    [winner] = [r.json()["floatingip"] for r in responses if r.status_code == 201]
    assert [f.id for f in admin.network.ips(floating_ip_address="10.30.0.250")] == [winner["id"]]
    assert len(list(admin.network.ports(device_owner="network:floatingip", network_id=ext.id,
                                        fixed_ips="ip_address=10.30.0.250"))) == 1
    admin.network.delete_ip(winner["id"])
