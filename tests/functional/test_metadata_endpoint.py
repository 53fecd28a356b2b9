"""get_ports for the metadata agent, answered by the real ML2 plugin on SQLite (and PostgreSQL)."""
import pytest

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.rpc import metadata_endpoint, topics

CTX = context_mod.get_admin_context()


@pytest.fixture(params=ml2_plugin.BACKENDS)
def plugin(request, tmp_path):
    with ml2_plugin.running_plugin(ml2_plugin.database_url(request, tmp_path)) as plugin:
        yield plugin


def _network(plugin, project, cidr):
    net = plugin.create_network(CTX, {"network": {"project_id": project, "name": "md"}})
    subnet = plugin.create_subnet(CTX, {"subnet": {"project_id": project, "network_id": net["id"],
                                                   "ip_version": 4, "cidr": cidr}})
    return net, subnet


def _port(plugin, net, project, device_id, ip=None, owner="compute:nova"):
    body = {"project_id": project, "network_id": net["id"], "device_id": device_id, "device_owner": owner}
    if ip:
        body["fixed_ips"] = [{"ip_address": ip}]
    return plugin.create_port(CTX, {"port": body})


def test_plugin_serves_get_ports_on_the_plugin_topic(plugin):
    endpoints = plugin.rpc_endpoints()[topics.PLUGIN]
    assert any(isinstance(e, metadata_endpoint.MetadataEndpoint) for e in endpoints)
    # Still there: the L2 agents' endpoints.
    assert any(hasattr(e, "get_device_details") for e in endpoints)


def test_port_is_found_by_address_and_network(plugin):
    endpoint = metadata_endpoint.MetadataEndpoint(plugin.ports)
    net1, _ = _network(plugin, "proj-a", "10.50.0.0/24")
    net2, _ = _network(plugin, "proj-b", "10.50.0.0/24")  # overlapping addresses, other network
    vm1 = _port(plugin, net1, "proj-a", "vm-1", "10.50.0.10")
    _port(plugin, net2, "proj-b", "vm-2", "10.50.0.10")
    # The agent's context is elevated: ports of every project are found.
    member = context_mod.Context(user_id="u", project_id="proj-zzz", roles=["member"])
    found = endpoint.get_ports(member, filters={"network_id": [net1["id"]],
                                                "fixed_ips": {"ip_address": ["10.50.0.10"]}})
    assert len(found) == 1
    port = found[0]
    assert set(port) == set(metadata_endpoint.PORT_KEYS)
    assert (port["id"], port["device_id"], port["network_id"]) == (vm1["id"], "vm-1", net1["id"])
    assert port["project_id"] == port["tenant_id"] == "proj-a"
    assert port["fixed_ips"][0]["ip_address"] == "10.50.0.10"
    assert port["mac_address"] == vm1["mac_address"]
    both = endpoint.get_ports(CTX, filters={"network_id": [net1["id"], net2["id"]],
                                            "fixed_ips": {"ip_address": ["10.50.0.10"]}})
    assert sorted(p["device_id"] for p in both) == ["vm-1", "vm-2"]
    assert endpoint.get_ports(CTX, filters={"network_id": [net1["id"]],
                                            "fixed_ips": {"ip_address": ["10.50.0.11"]}}) == []


def test_several_addresses_match_any_and_string_filters_work(plugin):
    endpoint = metadata_endpoint.MetadataEndpoint(plugin.ports)
    net, subnet = _network(plugin, "proj-a", "10.51.0.0/24")
    _port(plugin, net, "proj-a", "vm-1", "10.51.0.10")
    _port(plugin, net, "proj-a", "vm-2", "10.51.0.11")
    found = endpoint.get_ports(CTX, filters={"fixed_ips": {"ip_address": ["10.51.0.10", "10.51.0.11"]}})
    assert sorted(p["device_id"] for p in found) == ["vm-1", "vm-2"]
    found = endpoint.get_ports(CTX, filters={"fixed_ips": ["ip_address=10.51.0.11",
                                                            "subnet_id=%s" % subnet["id"]]})
    assert [p["device_id"] for p in found] == ["vm-2"]
    found = endpoint.get_ports(CTX, filters={"network_id": net["id"], "device_id": "vm-1"})
    assert [p["device_id"] for p in found] == ["vm-1"]


def test_router_interfaces_are_found_by_device_id_and_owner(plugin):
    endpoint = metadata_endpoint.MetadataEndpoint(plugin.ports)
    net1, _ = _network(plugin, "proj-a", "10.52.0.0/24")
    net2, _ = _network(plugin, "proj-a", "10.53.0.0/24")
    _port(plugin, net1, "proj-a", "router-1", "10.52.0.1", owner="network:router_interface")
    _port(plugin, net2, "proj-a", "router-1", "10.53.0.1", owner="network:router_interface")
    _port(plugin, net2, "proj-a", "router-1", None, owner="network:router_gateway")
    found = endpoint.get_ports(CTX, filters={"device_id": ["router-1"],
                                             "device_owner": ["network:router_interface",
                                                              "network:router_interface_distributed"]})
    assert sorted(p["network_id"] for p in found) == sorted([net1["id"], net2["id"]])
