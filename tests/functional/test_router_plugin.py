"""The router service plugin against the real ML2 plugin on a real database (SQLite and
PostgreSQL): the book's chapter 10 flow and every refusal, with Neutron's texts."""
import threading

import netaddr
import pytest
import sqlalchemy as sa
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.service_plugins.router import exceptions as rexc
from netweave.service_plugins.router import l3_notifier, models
from netweave.service_plugins.router import plugin as plugin_mod

ADMIN = context_mod.get_admin_context()


def member(project):
    return context_mod.Context(project_id=project, roles=["member"])


class Cloud:
    """The book's fixture: GATEWAY_NET 10.30.0.0/24 (pool .100-.254), PROJECT_NET 192.168.200.0/24."""

    def __init__(self, core, l3):
        self.core = core
        self.l3 = l3
        self.ext = self.network("GATEWAY_NET", project="admin", **{"router:external": True})
        self.ext_subnet = self.subnet(self.ext, "10.30.0.0/24", gateway_ip="10.30.0.1",
                                      allocation_pools=[{"start": "10.30.0.100", "end": "10.30.0.254"}])
        self.net = self.network("PROJECT_NET")
        self.sub = self.subnet(self.net, "192.168.200.0/24")

    def network(self, name, project="p1", **extra):
        return self.core.create_network(ADMIN, {"network": dict(
            {"project_id": project, "name": name, "admin_state_up": True}, **extra)})

    def subnet(self, network, cidr, **extra):
        body = {"project_id": network["project_id"], "network_id": network["id"], "cidr": cidr, "ip_version": 4,
                "name": "", "enable_dhcp": False, "gateway_ip": "auto", "allocation_pools": None,
                "dns_nameservers": [], "host_routes": []}
        body.update(extra)
        return self.core.create_subnet(ADMIN, {"subnet": body})

    def port(self, network, project="p1", context=ADMIN, **extra):
        body = {"project_id": project, "network_id": network["id"], "name": "", "admin_state_up": True,
                "device_id": "", "device_owner": ""}
        body.update(extra)
        return self.core.create_port(context, {"port": body})

    def router(self, name="MyLegacyRouter", project="p1", context=ADMIN, **extra):
        body = {"project_id": project, "tenant_id": project, "name": name, "description": "",
                "admin_state_up": True, "external_gateway_info": None}
        body.update(extra)
        return self.l3.create_router(context, {"router": body})

    def set_gateway(self, router, network=None, context=ADMIN, **info):
        info["network_id"] = (network or self.ext)["id"]
        return self.l3.update_router(context, router["id"], {"router": {"external_gateway_info": info}})

    def fip(self, project="p1", context=ADMIN, network=None, **extra):
        body = {"project_id": project, "tenant_id": project, "floating_network_id": (network or self.ext)["id"],
                "description": "", "port_id": None, "fixed_ip_address": None, "floating_ip_address": None,
                "subnet_id": None}
        body.update(extra)
        return self.l3.create_floatingip(context, {"floatingip": body})

    def ports_of(self, device_id):
        return self.core.get_ports(ADMIN, filters={"device_id": [device_id]})

    def connected_router(self):
        router = self.router()
        self.set_gateway(router)
        self.l3.add_router_interface(ADMIN, router["id"], {"subnet_id": self.sub["id"]})
        return router


@pytest.fixture(params=ml2_plugin.BACKENDS)
def cloud(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    with ml2_plugin.plugin_overrides():
        core = ml2_plugin.in_process_plugin(url)
        l3 = plugin_mod.RouterPlugin(cfg.CONF)
        l3.initialize(core)
        try:
            yield Cloud(core, l3)
        finally:
            db_api.DATABASE.engine.dispose()


def fails(error_class, call, *args, **kwargs):
    with pytest.raises(error_class) as raised:
        call(*args, **kwargs)
    return raised.value


# --- routers (T1) -----------------------------------------------------------------

def test_router_create_has_neutrons_defaults(cloud):
    router = cloud.router()
    assert {k: router[k] for k in ("name", "admin_state_up", "status", "external_gateway_info", "routes",
                                   "distributed", "ha", "project_id", "tenant_id", "revision_number", "tags")} == {
        "name": "MyLegacyRouter", "admin_state_up": True, "status": "ACTIVE", "external_gateway_info": None,
        "routes": [], "distributed": False, "ha": False, "project_id": "p1", "tenant_id": "p1",
        "revision_number": 0, "tags": []}
    assert router["created_at"].endswith("Z")
    assert cloud.l3.get_routers(member("p1")) == [router]
    assert cloud.l3.get_routers(member("p2")) == []
    fails(rexc.RouterNotFound, cloud.l3.get_router, member("p2"), router["id"])
    renamed = cloud.l3.update_router(member("p1"), router["id"], {"router": {"name": "R", "admin_state_up": False}})
    assert (renamed["name"], renamed["admin_state_up"], renamed["revision_number"]) == ("R", False, 1)


def test_distributed_and_ha_routers_are_refused_for_now(cloud):
    assert cloud.router(distributed=False, ha=False)["distributed"] is False
    error = fails(exc.BadRequest, cloud.router, "d", "p1", ADMIN, distributed=True)
    assert error.msg == "Bad router request: Distributed routers are not supported by this server."
    error = fails(exc.BadRequest, cloud.router, "h", "p1", ADMIN, ha=True)
    assert error.msg == "Bad router request: HA routers are not supported by this server."
    existing = cloud.router("before")
    cfg.CONF.set_override("router_distributed", True)
    try:
        fails(exc.BadRequest, cloud.router)
        assert cloud.router(distributed=False)["distributed"] is False
        # Updates of existing routers are not affected by the default.
        assert cloud.l3.update_router(ADMIN, existing["id"], {"router": {"name": "after"}})["name"] == "after"
        fails(exc.BadRequest, cloud.l3.update_router, ADMIN, existing["id"], {"router": {"distributed": True}})
    finally:
        cfg.CONF.clear_override("router_distributed")


def test_router_quota(cloud):
    cfg.CONF.set_override("quota_router", 2, "quotas")
    try:
        cloud.router(project="pq")
        cloud.router(project="pq")
        error = fails(exc.OverQuota, cloud.router, "third", "pq")
        assert error.msg == "Quota exceeded for resources: router."
    finally:
        cfg.CONF.clear_override("quota_router", "quotas")


# --- gateway (T2) -----------------------------------------------------------------

def test_gateway_needs_an_external_network(cloud):
    router = cloud.router()
    error = fails(exc.BadRequest, cloud.set_gateway, router, cloud.net)
    assert error.msg == "Bad router request: Network %s is not an external network." % cloud.net["id"]
    fails(exc.NetworkNotFound, cloud.set_gateway, router, {"id": "8a6e3b0e-1111-4222-8333-444455556666"})
    assert cloud.l3.get_router(ADMIN, router["id"])["external_gateway_info"] is None
    assert cloud.ports_of(router["id"]) == []


def test_gateway_port_on_the_external_network(cloud):
    router = cloud.set_gateway(cloud.router())
    info = router["external_gateway_info"]
    assert info["network_id"] == cloud.ext["id"] and info["enable_snat"] is True
    [fixed] = info["external_fixed_ips"]
    assert fixed["subnet_id"] == cloud.ext_subnet["id"]
    assert netaddr.IPAddress(fixed["ip_address"]) in netaddr.IPRange("10.30.0.100", "10.30.0.254")
    [port] = cloud.ports_of(router["id"])
    assert (port["device_owner"], port["tenant_id"], port["network_id"], port["fixed_ips"]) == (
        "network:router_gateway", "", cloud.ext["id"], [fixed])
    # Hidden from the project's own port list.
    assert cloud.core.get_ports(member("p1"), filters={"device_id": [router["id"]]}) == []


def test_gateway_fixed_ip_snat_change_and_clear(cloud):
    router = cloud.set_gateway(cloud.router(), enable_snat=False,
                               external_fixed_ips=[{"subnet_id": cloud.ext_subnet["id"], "ip_address": "10.30.0.106"}])
    assert router["external_gateway_info"] == {
        "network_id": cloud.ext["id"], "enable_snat": False,
        "external_fixed_ips": [{"subnet_id": cloud.ext_subnet["id"], "ip_address": "10.30.0.106"}]}
    [first] = cloud.ports_of(router["id"])
    # Same network, another address: the same port gets it.
    router = cloud.set_gateway(router, external_fixed_ips=[{"ip_address": "10.30.0.107"}])
    assert router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"] == "10.30.0.107"
    assert router["external_gateway_info"]["enable_snat"] is True
    assert [p["id"] for p in cloud.ports_of(router["id"])] == [first["id"]]
    error = fails(exc.BadRequest, cloud.set_gateway, router, None, ADMIN,
                  external_fixed_ips=[{"ip_address": "10.30.0.1"}])
    assert error.msg == "Bad router request: External IP 10.30.0.1 is the same as the gateway IP."
    # Another external network: a new port there, the old one gone.
    other = cloud.network("OTHER_EXT", project="admin", **{"router:external": True})
    cloud.subnet(other, "10.40.0.0/24")
    router = cloud.set_gateway(router, other)
    assert router["external_gateway_info"]["network_id"] == other["id"]
    assert [p["network_id"] for p in cloud.ports_of(router["id"])] == [other["id"]]
    cleared = cloud.l3.update_router(ADMIN, router["id"], {"router": {"external_gateway_info": {}}})
    assert cleared["external_gateway_info"] is None
    assert cloud.ports_of(router["id"]) == []


def test_member_updates_a_router_whose_gateway_holds_admin_only_keys(cloud):
    # The gateway's enable_snat is admin-only to set, not to have: a rename does not send it.
    router = cloud.set_gateway(cloud.router(project="p1"))
    renamed = cloud.l3.update_router(member("p1"), router["id"], {"router": {"name": "renamed"}})
    assert renamed["name"] == "renamed" and renamed["external_gateway_info"]["enable_snat"] is True
    error = fails(exc.PolicyNotAuthorized, cloud.l3.update_router, member("p1"), router["id"],
                  {"router": {"external_gateway_info": {"network_id": cloud.ext["id"], "enable_snat": False}}})
    assert "update_router:external_gateway_info:enable_snat" in error.msg


def test_deleting_an_external_network_takes_its_unassociated_floating_ips(cloud):
    spare = cloud.network("SPARE_EXT", project="admin", **{"router:external": True})
    cloud.subnet(spare, "10.80.0.0/24")
    fip = cloud.fip(network=spare)
    cloud.core.delete_network(ADMIN, spare["id"])
    fails(rexc.FloatingIPNotFound, cloud.l3.get_floatingip, ADMIN, fip["id"])
    # An associated one keeps the network in use, like a gateway does.
    router = cloud.connected_router()
    vm = cloud.port(cloud.net)
    cloud.fip(port_id=vm["id"])
    fails(exc.NetworkInUse, cloud.core.delete_network, ADMIN, cloud.ext["id"])
    assert router["id"]


def test_external_network_with_gateways_stays_external(cloud):
    cloud.set_gateway(cloud.router())
    error = fails(exc.ExternalNetworkInUse, cloud.core.update_network, ADMIN, cloud.ext["id"],
                  {"network": {"router:external": False}})
    assert error.status == 409


# --- interfaces (T3) --------------------------------------------------------------

def test_add_subnet_interface_takes_the_gateway_ip(cloud):
    router = cloud.router()
    info = cloud.l3.add_router_interface(member("p1"), router["id"], {"subnet_id": cloud.sub["id"]})
    assert set(info) == {"id", "tenant_id", "project_id", "port_id", "subnet_id", "subnet_ids", "network_id"}
    assert (info["id"], info["tenant_id"], info["project_id"], info["network_id"], info["subnet_id"],
            info["subnet_ids"]) == (router["id"], "p1", "p1", cloud.net["id"], cloud.sub["id"], [cloud.sub["id"]])
    port = cloud.core.get_port(ADMIN, info["port_id"])
    assert port["fixed_ips"] == [{"subnet_id": cloud.sub["id"], "ip_address": "192.168.200.1"}]
    assert (port["device_owner"], port["device_id"], port["name"]) == ("network:router_interface", router["id"], "")
    error = fails(exc.BadRequest, cloud.l3.add_router_interface, ADMIN, router["id"], {"subnet_id": cloud.sub["id"]})
    assert error.msg == "Bad router request: Router already has a port on subnet %s." % cloud.sub["id"]


@pytest.mark.parametrize("body, message", [
    ({"subnet_id": "S", "port_id": "P"}, "Cannot specify both subnet-id and port-id"),
    ({}, "Either subnet_id or port_id must be specified"),
    ({"subnet_id": "nope"}, "'nope' is not a valid UUID"),
])
def test_interface_request_shape(cloud, body, message):
    router = cloud.router()
    body = {k: (cloud.sub["id"] if v == "S" else "6f1e0e1c-0d1a-4b5c-9d8e-7f6a5b4c3d2e" if v == "P" else v)
            for k, v in body.items()}
    error = fails(exc.BadRequest, cloud.l3.add_router_interface, ADMIN, router["id"], body)
    assert error.msg == "Bad router request: %s." % message


def test_subnet_without_gateway_and_overlaps_are_refused(cloud):
    router = cloud.router()
    no_gw = cloud.subnet(cloud.network("N2"), "10.9.0.0/24", gateway_ip=None)
    error = fails(exc.BadRequest, cloud.l3.add_router_interface, ADMIN, router["id"], {"subnet_id": no_gw["id"]})
    assert error.msg == "Bad router request: Subnet for router interface must have a gateway IP."
    cloud.l3.add_router_interface(ADMIN, router["id"], {"subnet_id": cloud.sub["id"]})
    overlapping = cloud.subnet(cloud.network("N3"), "192.168.200.0/25")
    error = fails(exc.BadRequest, cloud.l3.add_router_interface, ADMIN, router["id"], {"subnet_id": overlapping["id"]})
    assert error.msg == ("Bad router request: Cidr 192.168.200.0/25 of subnet %s overlaps with cidr 192.168.200.0/24 "
                         "of subnet %s." % (overlapping["id"], cloud.sub["id"]))
    # Nothing was left behind by the refusals.
    assert len(cloud.ports_of(router["id"])) == 1


def test_ipv6_subnet_taking_ras_from_outside_is_refused(cloud):
    router = cloud.router()
    v6 = cloud.subnet(cloud.network("V6"), "2001:db8:1::/64", ip_version=6, ipv6_address_mode="slaac",
                      enable_dhcp=True)
    error = fails(exc.BadRequest, cloud.l3.add_router_interface, ADMIN, router["id"], {"subnet_id": v6["id"]})
    assert error.msg == ("Bad router request: IPv6 subnet %s configured to receive RAs from an external router "
                         "cannot be added to Neutron Router.." % v6["id"])


def test_add_and_remove_interface_by_port(cloud):
    router = cloud.router()
    port = cloud.port(cloud.net, fixed_ips=[{"subnet_id": cloud.sub["id"], "ip_address": "192.168.200.254"}])
    info = cloud.l3.add_router_interface(member("p1"), router["id"], {"port_id": port["id"]})
    assert (info["port_id"], info["subnet_ids"]) == (port["id"], [cloud.sub["id"]])
    attached = cloud.core.get_port(ADMIN, port["id"])
    assert (attached["device_owner"], attached["device_id"]) == ("network:router_interface", router["id"])
    other = cloud.router("R2")
    error = fails(rexc.PortInUse, cloud.l3.add_router_interface, ADMIN, other["id"], {"port_id": port["id"]})
    assert error.msg == ("Unable to complete operation on port %s for network %s. Port already has an attached "
                         "device %s." % (port["id"], cloud.net["id"], router["id"]))
    bare = cloud.port(cloud.net, fixed_ips=[])
    error = fails(exc.BadRequest, cloud.l3.add_router_interface, ADMIN, other["id"], {"port_id": bare["id"]})
    assert error.msg == "Bad router request: Router port must have at least one fixed IP."
    error = fails(rexc.RouterInterfaceNotFound, cloud.l3.remove_router_interface, ADMIN, other["id"],
                  {"port_id": port["id"]})
    assert error.msg == "Router %s does not have an interface with id %s" % (other["id"], port["id"])
    error = fails(rexc.RouterInterfaceNotFoundForSubnet, cloud.l3.remove_router_interface, ADMIN, other["id"],
                  {"subnet_id": cloud.sub["id"]})
    assert error.msg == "Router %s has no interface on subnet %s" % (other["id"], cloud.sub["id"])
    removed = cloud.l3.remove_router_interface(member("p1"), router["id"], {"port_id": port["id"]})
    assert removed == info
    # Removing deletes the port, whichever way it came.
    fails(exc.PortNotFound, cloud.core.get_port, ADMIN, port["id"])


def test_subnet_gateway_ip_stays_while_a_router_holds_it(cloud):
    router = cloud.router()
    info = cloud.l3.add_router_interface(ADMIN, router["id"], {"subnet_id": cloud.sub["id"]})
    error = fails(rexc.GatewayIpInUse, cloud.core.update_subnet, ADMIN, cloud.sub["id"],
                  {"subnet": {"gateway_ip": "192.168.200.254"}})
    assert (error.status, error.msg) == (409, "Current gateway ip 192.168.200.1 already in use by port %s. "
                                              "Unable to update." % info["port_id"])
    assert cloud.core.update_subnet(ADMIN, cloud.sub["id"], {"subnet": {"name": "renamed"}})["name"] == "renamed"
    cloud.l3.remove_router_interface(ADMIN, router["id"], {"subnet_id": cloud.sub["id"]})
    moved = cloud.core.update_subnet(ADMIN, cloud.sub["id"], {"subnet": {"gateway_ip": None}})
    assert moved["gateway_ip"] is None


def test_router_with_interfaces_is_in_use_and_gateway_goes_with_it(cloud):
    router = cloud.connected_router()
    error = fails(rexc.RouterInUse, cloud.l3.delete_router, ADMIN, router["id"])
    assert (error.status, error.msg) == (409, "Router %s still has ports" % router["id"])
    cloud.l3.remove_router_interface(ADMIN, router["id"], {"subnet_id": cloud.sub["id"]})
    cloud.l3.delete_router(ADMIN, router["id"])
    assert cloud.ports_of(router["id"]) == []
    fails(rexc.RouterNotFound, cloud.l3.get_router, ADMIN, router["id"])


# --- the port API may not take a router's or floating IP's ports ------------------

def test_service_ports_cannot_be_deleted_through_the_port_api(cloud):
    router = cloud.connected_router()
    fip = cloud.fip()
    for port in cloud.ports_of(router["id"]) + cloud.ports_of(fip["id"]):
        error = fails(rexc.ServicePortInUse, cloud.core.ports.delete, ADMIN, port["id"], via_api=True)
        assert (error.status, error.msg) == (409, "Port %s cannot be deleted directly via the port API: has device "
                                                  "owner %s." % (port["id"], port["device_owner"]))
    error = fails(exc.SubnetInUse, cloud.core.delete_subnet, ADMIN, cloud.sub["id"])
    assert error.status == 409
    error = fails(exc.NetworkInUse, cloud.core.delete_network, ADMIN, cloud.net["id"])
    assert error.status == 409
    assert len(cloud.ports_of(router["id"])) == 2


def test_deleting_the_fixed_port_disassociates_its_floating_ip(cloud):
    cloud.connected_router()
    vm = cloud.port(cloud.net, device_id="vm1", device_owner="compute:nova")
    fip = cloud.fip(port_id=vm["id"])
    cloud.core.delete_port(ADMIN, vm["id"])
    after = cloud.l3.get_floatingip(ADMIN, fip["id"])
    assert (after["port_id"], after["fixed_ip_address"], after["router_id"]) == (None, None, None)
    assert after["revision_number"] == fip["revision_number"] + 1


# --- floating IPs (T7-T9) ---------------------------------------------------------

def test_floating_ip_associate_disassociate_delete(cloud):
    router = cloud.connected_router()
    vm1 = cloud.port(cloud.net, fixed_ips=[{"subnet_id": cloud.sub["id"], "ip_address": "192.168.200.6"}],
                     device_id="i1", device_owner="compute:nova", name="MyInstance1")
    vm2 = cloud.port(cloud.net, fixed_ips=[{"subnet_id": cloud.sub["id"], "ip_address": "192.168.200.10"}])
    fip = cloud.fip(context=member("p1"), port_id=vm1["id"])
    assert (fip["fixed_ip_address"], fip["port_id"], fip["router_id"], fip["status"], fip["floating_network_id"],
            fip["project_id"], fip["revision_number"]) == (
        "192.168.200.6", vm1["id"], router["id"], "DOWN", cloud.ext["id"], "p1", 0)
    assert netaddr.IPAddress(fip["floating_ip_address"]) in netaddr.IPRange("10.30.0.100", "10.30.0.254")
    assert fip["port_details"] == {"name": "MyInstance1", "network_id": cloud.net["id"],
                                   "mac_address": vm1["mac_address"], "admin_state_up": True, "status": "DOWN",
                                   "device_id": "i1", "device_owner": "compute:nova"}
    [hidden] = cloud.ports_of(fip["id"])
    assert (hidden["device_owner"], hidden["tenant_id"], hidden["fixed_ips"][0]["ip_address"]) == (
        "network:floatingip", "", fip["floating_ip_address"])
    assert cloud.l3.get_floatingips(member("p2")) == []
    fails(rexc.FloatingIPNotFound, cloud.l3.get_floatingip, member("p2"), fip["id"])
    free = cloud.l3.update_floatingip(member("p1"), fip["id"], {"floatingip": {"port_id": None}})
    assert (free["port_id"], free["fixed_ip_address"], free["router_id"], free["port_details"]) == (
        None, None, None, None)
    moved = cloud.l3.update_floatingip(member("p1"), fip["id"], {"floatingip": {"port_id": vm2["id"]}})
    assert (moved["fixed_ip_address"], moved["router_id"]) == ("192.168.200.10", router["id"])
    assert moved["floating_ip_address"] == fip["floating_ip_address"]
    listed = cloud.l3.get_floatingips(member("p1"), filters={"port_id": [vm2["id"]]})
    assert [f["id"] for f in listed] == [fip["id"]]
    cloud.l3.delete_floatingip(member("p1"), fip["id"])
    fails(rexc.FloatingIPNotFound, cloud.l3.get_floatingip, ADMIN, fip["id"])
    assert cloud.ports_of(fip["id"]) == []
    # The address is back in the pool: it can be asked for again.
    again = cloud.fip(floating_ip_address=fip["floating_ip_address"])
    assert again["floating_ip_address"] == fip["floating_ip_address"]


def test_floating_ip_refusals(cloud):
    router = cloud.connected_router()
    vm = cloud.port(cloud.net)
    error = fails(exc.BadRequest, cloud.fip, "p1", ADMIN, cloud.net)
    assert error.msg == "Bad floatingip request: Network %s is not a valid external network." % cloud.net["id"]
    error = fails(exc.BadRequest, cloud.fip, "p1", ADMIN, None, fixed_ip_address="192.168.200.5")
    assert error.msg == "Bad floatingip request: fixed_ip_address cannot be specified without a port_id."
    error = fails(exc.BadRequest, cloud.fip, "p1", ADMIN, None, port_id=vm["id"], fixed_ip_address="192.168.200.77")
    assert error.msg == "Bad floatingip request: Port %s does not have fixed ip 192.168.200.77." % vm["id"]
    theirs = cloud.port(cloud.net, project="p2")
    error = fails(exc.BadRequest, cloud.fip, "p1", member("p1"), None, port_id=theirs["id"])
    assert isinstance(error, exc.BadRequest) or isinstance(error, exc.PortNotFound)
    # A subnet no router joins to GATEWAY_NET.
    lonely_net = cloud.network("LONELY")
    lonely_sub = cloud.subnet(lonely_net, "172.16.0.0/24")
    lonely = cloud.port(lonely_net)
    error = fails(rexc.ExternalGatewayForFloatingIPNotFound, cloud.fip, "p1", ADMIN, None, port_id=lonely["id"])
    assert (error.status, error.msg) == (404, (
        "External network %s is not reachable from subnet %s.  Therefore, cannot associate Port %s with a "
        "Floating IP." % (cloud.ext["id"], lonely_sub["id"], lonely["id"])))
    first = cloud.fip(port_id=vm["id"])
    error = fails(rexc.FloatingIPPortAlreadyAssociated, cloud.fip, "p1", ADMIN, None, port_id=vm["id"])
    assert (error.status, error.msg) == (409, (
        "Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP already has a "
        "floating IP on external network %s." % (first["floating_ip_address"], first["id"], vm["id"],
                                                 first["fixed_ip_address"], cloud.ext["id"])))
    second = cloud.fip()
    fails(rexc.FloatingIPPortAlreadyAssociated, cloud.l3.update_floatingip, ADMIN, second["id"],
          {"floatingip": {"port_id": vm["id"]}})
    error = fails(exc.BadRequest, cloud.l3.update_floatingip, ADMIN, second["id"],
                  {"floatingip": {"fixed_ip_address": "192.168.200.5"}})
    assert error.msg == "Bad floatingip request: fixed_ip_address cannot be specified without a port_id."
    # Refusals leave no floating port behind.
    assert len(cloud.core.get_ports(ADMIN, filters={"device_owner": ["network:floatingip"]})) == 2
    assert router["id"] == first["router_id"]


def test_floating_ips_keep_the_gateway_and_interface_in_place(cloud):
    router = cloud.connected_router()
    vm = cloud.port(cloud.net)
    fip = cloud.fip(port_id=vm["id"])
    error = fails(rexc.RouterExternalGatewayInUseByFloatingIp, cloud.l3.update_router, ADMIN, router["id"],
                  {"router": {"external_gateway_info": {}}})
    assert (error.status, error.msg) == (409, (
        "Gateway cannot be updated for router %s, since a gateway to external network %s is required by one or "
        "more floating IPs." % (router["id"], cloud.ext["id"])))
    error = fails(rexc.RouterInterfaceInUseByFloatingIP, cloud.l3.remove_router_interface, ADMIN, router["id"],
                  {"subnet_id": cloud.sub["id"]})
    assert (error.status, error.msg) == (409, (
        "Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more floating "
        "IPs." % (cloud.sub["id"], router["id"])))
    cloud.l3.update_floatingip(ADMIN, fip["id"], {"floatingip": {"port_id": None}})
    cloud.l3.remove_router_interface(ADMIN, router["id"], {"subnet_id": cloud.sub["id"]})
    cloud.l3.delete_router(ADMIN, router["id"])


def test_floating_ip_quota_and_ipv4_need(cloud):
    v6 = cloud.network("V6EXT", project="admin", **{"router:external": True})
    cloud.subnet(v6, "2001:db8::/64", ip_version=6)
    error = fails(exc.BadRequest, cloud.fip, "p1", ADMIN, v6)
    assert error.msg == "Bad floatingip request: Network %s does not contain any IPv4 subnet." % v6["id"]
    cfg.CONF.set_override("quota_floatingip", 1, "quotas")
    try:
        cloud.fip(project="pq")
        error = fails(exc.OverQuota, cloud.fip, "pq")
        assert error.msg == "Quota exceeded for resources: floatingip."
    finally:
        cfg.CONF.clear_override("quota_floatingip", "quotas")
    assert len(cloud.core.get_ports(ADMIN, filters={"device_owner": ["network:floatingip"]})) == 1


def test_racing_creates_of_one_address_one_wins(cloud):
    results = []

    def create():
        try:
            results.append(cloud.fip(floating_ip_address="10.30.0.101")["id"])
        except exc.NeutronException as error:
            results.append(error)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if not isinstance(r, str)]
    assert len(winners) == 1 and len(losers) == 5
    assert {(e.status, type(e).__name__) for e in losers} == {(409, "IpAddressAlreadyAllocated")}
    with db_api.reader_scope() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(models.FloatingIP)) == 1
    assert len(cloud.core.get_ports(ADMIN, filters={"device_owner": ["network:floatingip"]})) == 1


# --- extra routes -----------------------------------------------------------------

def test_extra_routes(cloud):
    router = cloud.connected_router()
    route = {"destination": "10.50.0.0/24", "nexthop": "192.168.200.20"}
    updated = cloud.l3.update_router(ADMIN, router["id"], {"router": {"routes": [route]}})
    assert updated["routes"] == [route]
    away = [{"destination": "10.60.0.0/24", "nexthop": "172.31.0.1"}]
    error = fails(rexc.InvalidRoutes, cloud.l3.update_router, ADMIN, router["id"], {"router": {"routes": away}})
    assert (error.status, error.msg) == (400, "Invalid format for routes: %s, the nexthop is not connected with "
                                              "router" % (away,))
    error = fails(rexc.InvalidRoutes, cloud.l3.update_router, ADMIN, router["id"],
                  {"router": {"routes": [{"destination": "10.60.0.0/24", "nexthop": "192.168.200.1"}]}})
    assert error.msg.endswith(", the nexthop is used by router")
    error = fails(rexc.RouterInterfaceInUseByRoute, cloud.l3.remove_router_interface, ADMIN, router["id"],
                  {"subnet_id": cloud.sub["id"]})
    assert error.status == 409
    extra = {"destination": "10.70.0.0/24", "nexthop": "192.168.200.30"}
    added = cloud.l3.add_extraroutes(ADMIN, router["id"], {"router": {"routes": [extra, route]}})["router"]
    assert added["routes"] == sorted([route, extra], key=lambda r: (r["destination"], r["nexthop"]))
    removed = cloud.l3.remove_extraroutes(ADMIN, router["id"], {"router": {"routes": [route]}})["router"]
    assert removed["routes"] == [extra]
    assert cloud.l3.update_router(ADMIN, router["id"], {"router": {"routes": []}})["routes"] == []


# --- the L3 agents' side: sync_routers, floating IP statuses, notifications --------

class RecordingCasts:
    """Stands in for the cast client: what would have been sent, in order."""

    connected = True

    def __init__(self):
        self.sent = []

    def cast(self, context, method, fanout=False, **kwargs):
        self.sent.append((method, fanout, kwargs))


def test_sync_routers_describes_the_router_as_the_agent_contract_says(cloud):
    from netweave.service_plugins.router import l3_rpc

    cloud.core.update_subnet(ADMIN, cloud.sub["id"], {"subnet": {"dns_nameservers": ["8.8.8.8"]}})
    cloud.core.agents.report_state(ADMIN, {"agent_type": "L3 agent", "binary": "netweave-l3-agent",
                                           "host": "controller01", "topic": "l3_agent",
                                           "configurations": {"agent_mode": "legacy"}})
    router = cloud.connected_router()
    cloud.l3.update_router(ADMIN, router["id"], {"router": {"routes": [
        {"destination": "198.51.100.0/24", "nexthop": "192.168.200.254"}]}})
    vm = cloud.port(cloud.net, fixed_ips=[{"subnet_id": cloud.sub["id"], "ip_address": "192.168.200.6"}])
    fip = cloud.fip(port_id=vm["id"])
    bare = cloud.router("no-gateway")
    endpoint = l3_rpc.L3RpcEndpoint(cloud.l3.scheduler, cloud.core.ports)
    # The connected router was scheduled to the only agent; one without ports is not scheduled.
    assert [r["id"] for r in endpoint.sync_routers(ADMIN, host="controller01")] == [router["id"]]
    (agent,) = cloud.core.agents.list(ADMIN)
    cloud.l3.scheduler.add_router(agent["id"], bare["id"])
    described = {r["id"]: r for r in endpoint.sync_routers(ADMIN, host="controller01")}
    assert set(described) == {router["id"], bare["id"]}
    legacy = described[router["id"]]
    assert {k: legacy[k] for k in ("name", "admin_state_up", "status", "project_id", "distributed", "ha",
                                   "enable_snat", "routes")} == {
        "name": "MyLegacyRouter", "admin_state_up": True, "status": "ACTIVE", "project_id": "p1",
        "distributed": False, "ha": False, "enable_snat": True,
        "routes": [{"destination": "198.51.100.0/24", "nexthop": "192.168.200.254"}]}
    gw = legacy["gw_port"]
    assert legacy["external_gateway_info"]["network_id"] == gw["network_id"] == cloud.ext["id"]
    assert gw["device_owner"] == "network:router_gateway" and gw["mtu"] == cloud.ext["mtu"]
    [gw_ip] = gw["fixed_ips"]
    assert gw_ip["prefixlen"] == 24 and gw_ip == dict(legacy["external_gateway_info"]["external_fixed_ips"][0],
                                                      prefixlen=24)
    assert gw["subnets"] == [{"id": cloud.ext_subnet["id"], "cidr": "10.30.0.0/24", "gateway_ip": "10.30.0.1",
                              "ip_version": 4, "ipv6_ra_mode": None, "ipv6_address_mode": None,
                              "dns_nameservers": []}]
    [interface] = legacy["_interfaces"]
    assert (interface["device_owner"], interface["fixed_ips"], interface["mac_address"].startswith("fa:16:3e")) == (
        "network:router_interface",
        [{"subnet_id": cloud.sub["id"], "ip_address": "192.168.200.1", "prefixlen": 24}], True)
    assert interface["subnets"][0]["dns_nameservers"] == ["8.8.8.8"]
    assert legacy["_floatingips"] == [{"id": fip["id"], "floating_ip_address": fip["floating_ip_address"],
                                       "fixed_ip_address": "192.168.200.6", "port_id": vm["id"],
                                       "router_id": router["id"], "status": "DOWN",
                                       "floating_network_id": cloud.ext["id"]}]
    plain = described[bare["id"]]
    assert (plain["external_gateway_info"], "gw_port" in plain, plain["_interfaces"], plain["_floatingips"]) == (
        None, False, [], [])
    # sync_routers bound the router's ports to the agent's host.
    assert {p["binding:host_id"] for p in cloud.ports_of(router["id"])} == {"controller01"}
    assert [r["id"] for r in endpoint.sync_routers(ADMIN, host="controller01", router_ids=[bare["id"]])] == [
        bare["id"]]
    assert endpoint.get_router_ids(ADMIN, host="controller01") == sorted([router["id"], bare["id"]])
    # Another host's agent hosts none of them.
    assert endpoint.sync_routers(ADMIN, host="h") == [] and endpoint.get_router_ids(ADMIN, host="h") == []
    # A router that is gone is left out: the agent then removes it.
    assert endpoint.sync_routers(ADMIN, host="controller01",
                                 router_ids=["0b3f5c1e-1d7e-4e5a-8f36-1c1e6f0a9b2d"]) == []
    # The agent reports the floating IP wired; statuses of other routers or unknown ones change nothing.
    endpoint.update_floatingip_statuses(ADMIN, router_id=router["id"], fip_statuses={fip["id"]: "ACTIVE"})
    active = cloud.l3.get_floatingip(ADMIN, fip["id"])
    assert (active["status"], active["revision_number"]) == ("ACTIVE", fip["revision_number"] + 1)
    endpoint.update_floatingip_statuses(ADMIN, router_id=bare["id"], fip_statuses={fip["id"]: "ERROR"})
    endpoint.update_floatingip_statuses(ADMIN, router_id=router["id"], fip_statuses={fip["id"]: "BROKEN"})
    assert cloud.l3.get_floatingip(ADMIN, fip["id"])["status"] == "ACTIVE"


def test_sync_routers_as_the_rpc_server_runs_it_binds_the_ports_after_answering(cloud):
    from netweave.service_plugins.router import l3_rpc
    cloud.core.agents.report_state(ADMIN, {"agent_type": "L3 agent", "binary": "netweave-l3-agent",
                                           "host": "controller01", "topic": "l3_agent",
                                           "configurations": {"agent_mode": "legacy"}})
    router = cloud.connected_router()
    [endpoint] = cloud.l3.rpc_endpoints()[l3_rpc.L3_PLUGIN_TOPIC]
    [described] = endpoint.sync_routers(ADMIN, host="controller01")
    assert described["id"] == router["id"] and described["gw_port"] and described["_interfaces"]
    assert endpoint.wait_bound(30)
    assert {p["binding:host_id"] for p in cloud.ports_of(router["id"])} == {"controller01"}
    # Asked again, nothing is left to bind.
    endpoint.sync_routers(ADMIN, host="controller01")
    assert endpoint.wait_bound(30)
    assert {p["binding:host_id"] for p in cloud.ports_of(router["id"])} == {"controller01"}


def test_l3_agents_are_told_after_each_change(cloud):
    recorder = RecordingCasts()
    cloud.l3.notifier = l3_notifier.L3AgentNotifier(recorder)
    cloud.l3.notifier.subscribe(cloud.core.events)
    router = cloud.router()
    cloud.set_gateway(router)
    cloud.l3.add_router_interface(ADMIN, router["id"], {"subnet_id": cloud.sub["id"]})
    vm = cloud.port(cloud.net)
    fip = cloud.fip(port_id=vm["id"])
    cloud.l3.update_floatingip(ADMIN, fip["id"], {"floatingip": {"port_id": None}})
    cloud.l3.delete_floatingip(ADMIN, fip["id"])
    cloud.l3.remove_router_interface(ADMIN, router["id"], {"subnet_id": cloud.sub["id"]})
    cloud.l3.delete_router(ADMIN, router["id"])
    updated = ("routers_updated", True, {"routers": [router["id"]]})
    assert recorder.sent == [updated] * 6 + [("router_deleted", True, {"router_id": router["id"]})]
    # A floating IP without a router tells nobody.
    cloud.fip()
    assert len(recorder.sent) == 7
    # An instance port deleted on a routed subnet tells its router when it took floating
    # IPs with it, and nobody otherwise.
    other = cloud.connected_router()
    vm = cloud.port(cloud.net)
    del recorder.sent[:]
    cloud.core.delete_port(ADMIN, vm["id"])
    assert recorder.sent == []
    vm = cloud.port(cloud.net)
    cloud.fip(port_id=vm["id"])
    del recorder.sent[:]
    cloud.core.delete_port(ADMIN, vm["id"])
    assert recorder.sent == [("routers_updated", True, {"routers": [other["id"]]})]


class HeldCasts(RecordingCasts):
    """RecordingCasts whose first cast waits until ``release`` is set."""

    def __init__(self):
        super().__init__()
        self.holding = threading.Event()
        self.release = threading.Event()

    def cast(self, context, method, fanout=False, **kwargs):
        if not self.sent and not self.release.is_set():
            self.holding.set()
            assert self.release.wait(10)
        super().cast(context, method, fanout=fanout, **kwargs)


def test_l3_agents_are_told_from_the_background_in_batches(cloud):
    recorder = HeldCasts()
    cloud.l3.notifier = l3_notifier.L3AgentNotifier(recorder)
    cloud.l3.notifier.send_in_background()
    cloud.l3.notifier.subscribe(cloud.core.events)
    try:
        router = cloud.connected_router()
        assert recorder.holding.wait(10)
        # The first cast is held: the calls meanwhile return without waiting for it.
        fips = [cloud.fip(port_id=cloud.port(cloud.net)["id"]) for _ in range(3)]
        assert {f["router_id"] for f in fips} == {router["id"]}
        assert recorder.sent == []
    finally:
        recorder.release.set()
    assert cloud.l3.notifier.wait_sent(10)
    # The router's later changes went out together, in one cast.
    updated = ("routers_updated", True, {"routers": [router["id"]]})
    assert recorder.sent == [updated, updated]


def _race(calls):
    """Run the calls together; returns their results or NeutronExceptions, in order."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except exc.NeutronException as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_racing_overlapping_interfaces_one_wins(cloud):
    router = cloud.router()
    subnets = [cloud.subnet(cloud.network("RACE%d" % i), "172.20.0.0/%d" % (24 + i)) for i in range(4)]
    results = _race([lambda s=s: cloud.l3.add_router_interface(ADMIN, router["id"], {"subnet_id": s["id"]})
                     for s in subnets])
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if not isinstance(r, dict)]
    assert len(won) == 1 and len(lost) == 3
    assert all(isinstance(e, exc.BadRequest) and "overlaps with cidr" in e.msg for e in lost)
    assert [p["id"] for p in cloud.ports_of(router["id"])] == [won[0]["port_id"]]


def test_racing_associations_of_one_fixed_ip_one_wins(cloud):
    cloud.connected_router()
    vm = cloud.port(cloud.net)
    fips = [cloud.fip() for _ in range(4)]
    results = _race([lambda f=f: cloud.l3.update_floatingip(ADMIN, f["id"], {"floatingip": {"port_id": vm["id"]}})
                     for f in fips])
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if not isinstance(r, dict)]
    assert len(won) == 1 and len(lost) == 3
    assert {type(e).__name__ for e in lost} == {"FloatingIPPortAlreadyAssociated"}
    assert [f["id"] for f in cloud.l3.get_floatingips(ADMIN, filters={"port_id": [vm["id"]]})] == [won[0]["id"]]


def test_racing_creates_for_one_fixed_ip_one_wins_and_the_losers_leave_no_port(cloud):
    cloud.connected_router()
    vm = cloud.port(cloud.net)
    results = _race([lambda: cloud.fip(port_id=vm["id"]) for _ in range(4)])
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if not isinstance(r, dict)]
    assert len(won) == 1 and len(lost) == 3
    assert {type(e).__name__ for e in lost} == {"FloatingIPPortAlreadyAssociated"}
    # The floating IP and its port are written in one transaction: a loser's port went with it.
    floating_ports = cloud.core.get_ports(ADMIN, filters={"device_owner": ["network:floatingip"]})
    assert [p["device_id"] for p in floating_ports] == [won[0]["id"]]


def test_fixed_port_deleted_while_a_floating_ip_is_written(cloud):
    """The port goes after the association was checked and before it is written: the write
    fails on the foreign key, the association is asked again and the caller gets the 404."""
    from netweave.core import events

    cloud.connected_router()
    vm = cloud.port(cloud.net)
    other = cloud.port(cloud.net)
    doomed = {"port": vm["id"]}

    def delete_the_port(resource, event, payload):
        if doomed.get("port"):
            cloud.core.delete_port(ADMIN, doomed.pop("port"))

    for event in (events.Event.BEFORE_CREATE, events.Event.BEFORE_UPDATE):
        cloud.core.events.subscribe(delete_the_port, "floatingip", event)
    fails(exc.PortNotFound, cloud.fip, port_id=vm["id"])
    assert cloud.core.get_ports(ADMIN, filters={"device_owner": ["network:floatingip"]}) == []
    fip = cloud.fip()
    doomed["port"] = other["id"]
    fails(exc.PortNotFound, cloud.l3.update_floatingip, ADMIN, fip["id"], {"floatingip": {"port_id": other["id"]}})
    assert cloud.l3.get_floatingip(ADMIN, fip["id"])["port_id"] is None


def test_router_deleted_while_its_gateway_is_set(cloud):
    from netweave.core import events

    router = cloud.router()

    def delete_the_router(resource, event, payload):
        if payload.current["device_owner"] == "network:router_gateway":
            cloud.l3.delete_router(ADMIN, router["id"])

    cloud.core.events.subscribe(delete_the_router, "port", events.Event.AFTER_CREATE)
    fails(rexc.RouterNotFound, cloud.set_gateway, router)
    # The gateway port made for it is gone again.
    assert cloud.core.get_ports(ADMIN, filters={"device_owner": ["network:router_gateway"]}) == []
