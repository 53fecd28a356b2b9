"""netweave-server behind a real Keystone: tokens, project scoping and admin-only attributes.

One netweave-server runs with auth_strategy = keystone; keystonemiddleware validates every
token against the session's Keystone as a service user. The callers are real Keystone
users: the bootstrap admin (admin role on the admin project) and one member in each of two
projects.
"""
import uuid

import pytest
import requests
from openstack import connection

from harness.server import start_server

pytestmark = pytest.mark.slow

PROVIDER_KEYS = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")
PASSWORD = "member-secret"


def authtoken_section(options):
    lines = ["", "[keystone_authtoken]"]
    lines += ["%s = %s" % item for item in options.items()]
    return "\n".join(lines) + "\n"


class Caller:
    """Talks to netweave with one user's Keystone token in X-Auth-Token."""

    def __init__(self, base_url, keystone_session, project_id, token=None):
        self.base_url = base_url
        self.keystone_session = keystone_session
        self.project_id = project_id
        self.token = token if token is not None else keystone_session.get_token()
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only, whatever the proxy variables say

    def request(self, method, path, body=None, service_token=None):
        headers = {"X-Auth-Token": self.token, "Accept": "application/json"}
        if service_token is not None:
            headers["X-Service-Token"] = service_token
        return self.http.request(method, self.base_url + "/v2.0" + path, headers=headers,
                                 json=body, timeout=30)

    def create_network(self, expect=201, **attributes):
        response = self.request("POST", "/networks", {"network": attributes})
        assert response.status_code == expect, response.text
        return response.json()["network"] if expect == 201 else response.json()

    def network_ids(self):
        response = self.request("GET", "/networks")
        assert response.status_code == 200, response.text
        return {network["id"] for network in response.json()["networks"]}


@pytest.fixture(scope="module")
def deployment(keystone_server, tmp_path_factory):
    """Identities in Keystone, then one netweave-server validating tokens against it."""
    suffix = uuid.uuid4().hex[:8]
    service_user = "netweave-%s" % suffix
    keystone_server.create_service_user(service_user, "service-secret")
    options = keystone_server.authtoken_options(service_user, "service-secret")
    options.update({
        "service_type": "network",
        # Service tokens (X-Service-Token) must carry the service role, as in Keystone's
        # recommended deployments; ordinary user tokens are unaffected.
        "service_token_roles_required": "true",
        # No memcached_servers: tokens are cached in each worker's memory.
    })
    server = start_server(str(tmp_path_factory.mktemp("keystone-server")), auth_strategy="keystone",
                          extra=authtoken_section(options))
    try:
        members = {}
        for label in ("A", "B"):
            project_name = "Project%s-%s" % (label, suffix)
            username = "User%s-%s" % (label, suffix)
            ids = keystone_server.create_project_user(project_name, username, PASSWORD)
            session = keystone_server.session(username, PASSWORD, project_name=project_name)
            members[label] = Caller(server.url, session, ids["project_id"])
        admin_session = keystone_server.session(keystone_server.admin_username,
                                                keystone_server.admin_password,
                                                project_name=keystone_server.admin_project_name)
        admin_project_id = admin_session.get_project_id()
        admin = Caller(server.url, admin_session, admin_project_id)
        service_token = keystone_server.get_token(service_user, "service-secret",
                                                  project_name="service")
        yield {"server": server, "admin": admin, "A": members["A"], "B": members["B"],
               "service_token": service_token}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def networks(deployment):
    """The admin's shared provider network and private network, and one network per member."""
    admin = deployment["admin"]
    created = {
        "shared": admin.create_network(name="admin-shared-vlan", shared=True,
                                       **{"provider:network_type": "vlan",
                                          "provider:physical_network": "physnet1",
                                          "provider:segmentation_id": 142}),
        "admin_private": admin.create_network(name="admin-private"),
        "A": deployment["A"].create_network(name="net-a"),
        "B": deployment["B"].create_network(name="net-b"),
    }
    return created


def _assert_unauthorized(response):
    assert response.status_code == 401, response.text
    error = response.json()["NeutronError"]
    assert error["type"] == "Unauthorized"
    assert set(error) == {"type", "message", "detail"}
    assert error["message"]
    # keystonemiddleware points the client at Keystone.
    assert response.headers["WWW-Authenticate"].startswith('Keystone uri="http://127.0.0.1:')


def test_request_without_token_is_unauthorized(deployment):
    http = requests.Session()
    http.trust_env = False
    response = http.get(deployment["server"].url + "/v2.0/networks", timeout=30)
    _assert_unauthorized(response)


def test_garbage_token_is_unauthorized(deployment):
    caller = Caller(deployment["server"].url, None, None, token="gAAAAAB-not-a-real-token")
    _assert_unauthorized(caller.request("GET", "/networks"))


def test_service_token_must_be_valid_too(deployment):
    member = deployment["A"]
    _assert_unauthorized(member.request("GET", "/networks", service_token="gAAAAAB-forged"))
    response = member.request("GET", "/networks", service_token=deployment["service_token"])
    assert response.status_code == 200, response.text


def test_admin_creates_provider_network_in_own_project(deployment, networks):
    admin = deployment["admin"]
    network = networks["shared"]
    assert network["project_id"] == admin.project_id == network["tenant_id"]
    assert network["shared"] is True
    assert network["provider:network_type"] == "vlan"
    assert network["provider:physical_network"] == "physnet1"
    assert network["provider:segmentation_id"] == 142
    shown = admin.request("GET", "/networks/" + network["id"])
    assert shown.status_code == 200, shown.text
    assert {key: shown.json()["network"][key] for key in PROVIDER_KEYS} == {
        "provider:network_type": "vlan", "provider:physical_network": "physnet1",
        "provider:segmentation_id": 142}
    # The admin sees every project's networks.
    assert {n["id"] for n in networks.values()} <= admin.network_ids()


def test_members_create_in_their_own_project(deployment, networks):
    for label in ("A", "B"):
        network = networks[label]
        assert network["project_id"] == deployment[label].project_id
        assert network["shared"] is False
        # A member's own network still hides the admin-only provider attributes.
        assert not set(PROVIDER_KEYS) & set(network)
    assert deployment["A"].project_id != deployment["B"].project_id


def test_members_list_only_their_networks_and_shared_ones(deployment, networks):
    assert deployment["A"].network_ids() == {networks["A"]["id"], networks["shared"]["id"]}
    assert deployment["B"].network_ids() == {networks["B"]["id"], networks["shared"]["id"]}


def test_member_sees_shared_provider_network_without_provider_attributes(deployment, networks):
    response = deployment["A"].request("GET", "/networks/" + networks["shared"]["id"])
    assert response.status_code == 200, response.text
    network = response.json()["network"]
    assert network["name"] == "admin-shared-vlan" and network["shared"] is True
    assert not set(PROVIDER_KEYS) & set(network)
    listed = deployment["B"].request("GET", "/networks", None).json()["networks"]
    shared = [n for n in listed if n["id"] == networks["shared"]["id"]]
    assert shared and not set(PROVIDER_KEYS) & set(shared[0])


def test_member_cannot_set_provider_attributes(deployment, networks):
    member = deployment["A"]
    before = member.network_ids()
    error = member.create_network(expect=403, name="sneaky", **{"provider:network_type": "vlan"})
    assert error["NeutronError"]["type"] in ("PolicyNotAuthorized", "Forbidden")
    assert member.network_ids() == before


def test_member_cannot_see_other_projects_networks(deployment, networks):
    response = deployment["A"].request("GET", "/networks/" + networks["B"]["id"])
    assert response.status_code == 404, response.text
    assert response.json()["NeutronError"]["type"] == "NetworkNotFound"
    response = deployment["B"].request("GET", "/networks/" + networks["admin_private"]["id"])
    assert response.status_code == 404, response.text


def test_openstacksdk_with_keystone_session(deployment, networks):
    member = deployment["B"]
    conn = connection.Connection(session=member.keystone_session,
                                 network_endpoint_override=deployment["server"].url + "/")
    listed = {network.id: network for network in conn.network.networks()}
    assert set(listed) == {networks["B"]["id"], networks["shared"]["id"]}
    assert listed[networks["shared"]["id"]].provider_network_type is None
    created = conn.network.create_network(name="via-sdk")
    try:
        assert created.project_id == member.project_id
        assert created.id in member.network_ids()
        assert created.id not in deployment["A"].network_ids()
    finally:
        conn.network.delete_network(created, ignore_missing=False)
    assert created.id not in member.network_ids()
