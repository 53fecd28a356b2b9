"""The all-in-one command serves the API: versions, resource index and a network round trip."""
import requests

ADMIN = {"X-Project-Id": "p-admin", "Content-Type": "application/json"}


def test_versions_and_index(aio_server):
    versions = requests.get(aio_server.url + "/").json()
    assert versions["versions"][0]["id"] == "v2.0"
    index = requests.get(aio_server.url + "/v2.0", headers=ADMIN).json()
    collections = {r["collection"] for r in index["resources"]}
    assert {"networks", "subnets", "ports", "subnetpools", "rbac-policies"} <= collections


def test_network_round_trip_has_request_id(aio_server):
    created = requests.post(aio_server.url + "/v2.0/networks", headers=ADMIN,
                            json={"network": {"name": "smoke"}})
    assert created.status_code == 201
    assert created.headers["X-Openstack-Request-Id"].startswith("req-")
    network = created.json()["network"]
    assert network["mtu"] == 1450 and network["provider:network_type"] == "vxlan"
    shown = requests.get(aio_server.url + "/v2.0/networks/" + network["id"], headers=ADMIN).json()
    assert shown["network"]["name"] == "smoke"
    assert requests.delete(aio_server.url + "/v2.0/networks/" + network["id"], headers=ADMIN).status_code == 204
    missing = requests.get(aio_server.url + "/v2.0/networks/" + network["id"], headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json()["NeutronError"]["type"] == "NetworkNotFound"


def test_bulk_create_is_all_or_nothing(aio_server):
    url = aio_server.url + "/v2.0/networks"
    created = requests.post(url, headers=ADMIN, json={"networks": [{"name": "bulk-a"}, {"name": "bulk-b"}]})
    assert created.status_code == 201
    assert [n["name"] for n in created.json()["networks"]] == ["bulk-a", "bulk-b"]
    network_id = created.json()["networks"][0]["id"]
    ports = requests.post(aio_server.url + "/v2.0/ports", headers=ADMIN, json={"ports": [
        {"network_id": network_id, "name": "ok"},
        {"network_id": network_id, "mac_address": "not-a-mac"}]})
    assert ports.status_code == 400
    listed = requests.get(aio_server.url + "/v2.0/ports", headers=ADMIN,
                          params={"network_id": network_id}).json()["ports"]
    assert listed == []
