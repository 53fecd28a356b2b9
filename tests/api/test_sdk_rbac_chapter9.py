"""Chapter 9 of the book (role-based access control) driven through openstacksdk.

Projects are told apart by the X-Project-Id header of noauth; a member of a
project sends ``X-Roles: member``. The admin (no X-Roles header) works in
project "admin", like the book's admin user.
"""

import pytest
from openstack import exceptions as sdk_exc

from harness.sdk import connect, fault_of, unique

PROVIDER_KEYS = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")


class Project:
    """A project with its own member connection."""

    def __init__(self, url, label):
        self.id = unique(label)
        self.conn = connect(url, project=self.id, roles="member")

    def network_ids(self, **query):
        return {n.id for n in self.conn.network.networks(**query)}

    def raw_network(self, network_id):
        response = self.conn.network.get("/networks/%s" % network_id)
        assert response.status_code == 200, response.text
        return response.json()["network"]


@pytest.fixture(scope="module")
def admin(aio_server):
    return connect(aio_server.url)


@pytest.fixture
def projects(aio_server):
    return [Project(aio_server.url, label) for label in ("ProjectA", "ProjectB", "ProjectC")]


@pytest.fixture
def open_networks(admin):
    """Networks the admin shares with everyone in a test; deleted afterwards so that the
    fresh projects of the next tests see only what those tests give them."""
    created = []
    yield created
    for network in created:
        for port in admin.network.ports(network_id=network.id):
            admin.network.delete_port(port)
        admin.network.delete_network(network.id, ignore_missing=True)


@pytest.fixture
def semi_shared(admin, open_networks):
    """The book's MySemiSharedNetwork with MySemiSharedSubnet, owned by the admin project."""
    network = admin.network.create_network(name="MySemiSharedNetwork")
    open_networks.append(network)
    subnet = admin.network.create_subnet(name="MySemiSharedSubnet", network_id=network.id,
                                         ip_version=4, cidr="192.168.99.0/24")
    return network, subnet


def policies_on(admin, network_id):
    return [(p.action, p.target_project_id) for p in admin.network.rbac_policies(object_id=network_id)]


def test_access_as_shared_to_one_project(admin, projects, semi_shared):
    project_a, project_b, project_c = projects
    network, subnet = semi_shared
    revision = admin.network.get_network(network.id).revision_number
    policy = admin.network.create_rbac_policy(object_type="network", object_id=network.id,
                                              action="access_as_shared",
                                              target_project_id=project_a.id)
    assert policy.action == "access_as_shared"
    assert policy.object_id == network.id
    assert policy.object_type == "network"
    assert policy.project_id == "admin"
    assert policy.target_project_id == project_a.id
    shown = admin.network.get_rbac_policy(policy.id)
    assert (shown.action, shown.target_project_id) == ("access_as_shared", project_a.id)

    assert project_a.network_ids() == {network.id}
    assert project_b.network_ids() == set()
    assert project_c.network_ids() == set()
    assert [n.subnet_ids for n in project_a.conn.network.networks()] == [[subnet.id]]
    with pytest.raises(sdk_exc.NotFoundException):
        project_b.conn.network.get_network(network.id)

    after = admin.network.get_network(network.id)
    assert after.is_shared is False
    assert after.revision_number >= revision

    port = project_a.conn.network.create_port(network_id=network.id)
    assert port.project_id == project_a.id
    assert port.fixed_ips[0]["subnet_id"] == subnet.id
    with pytest.raises(sdk_exc.NotFoundException) as raised:
        project_b.conn.network.create_port(network_id=network.id)
    assert fault_of(raised.value)["type"] == "NetworkNotFound"

    with pytest.raises(sdk_exc.ConflictException) as raised:
        admin.network.delete_rbac_policy(policy)
    fault = fault_of(raised.value)
    assert fault["type"] == "RbacPolicyInUse"
    assert "cannot be removed because other objects depend on it" in fault["message"]
    assert project_a.network_ids() == {network.id}

    project_a.conn.network.delete_port(port)
    admin.network.delete_rbac_policy(policy)
    assert project_a.network_ids() == set()
    assert policies_on(admin, network.id) == []


def test_subnets_of_a_network_shared_with_a_project_are_visible_to_it(admin, projects, semi_shared):
    """Neutron shows the subnets of networks shared with the caller (subnet "shared" is
    computed for the caller, as for the network); other projects still get 404."""
    project_a, project_b, _ = projects
    network, subnet = semi_shared
    admin.network.create_rbac_policy(object_type="network", object_id=network.id,
                                     action="access_as_shared", target_project_id=project_a.id)
    assert [s.id for s in project_a.conn.network.subnets(network_id=network.id)] == [subnet.id]
    assert project_a.conn.network.get_subnet(subnet.id).cidr == "192.168.99.0/24"
    assert list(project_b.conn.network.subnets(network_id=network.id)) == []
    with pytest.raises(sdk_exc.NotFoundException):
        project_b.conn.network.get_subnet(subnet.id)


def test_subnets_of_a_network_shared_with_everyone_are_visible(admin, projects, open_networks):
    project_b = projects[1]
    network = admin.network.create_network(name=unique("shared"), is_shared=True)
    open_networks.append(network)
    subnet = admin.network.create_subnet(network_id=network.id, ip_version=4, cidr="192.168.78.0/24")
    assert [s.id for s in project_b.conn.network.subnets(network_id=network.id)] == [subnet.id]
    assert project_b.conn.network.get_subnet(subnet.id).gateway_ip == "192.168.78.1"


def test_policies_are_visible_to_their_owner_only(admin, projects, semi_shared):
    project_a, project_b, _ = projects
    network, _ = semi_shared
    policy = admin.network.create_rbac_policy(object_type="network", object_id=network.id,
                                              action="access_as_shared",
                                              target_project_id=project_a.id)
    assert policy.id in {p.id for p in admin.network.rbac_policies()}
    assert policy.id not in {p.id for p in project_a.conn.network.rbac_policies()}
    with pytest.raises(sdk_exc.NotFoundException):
        project_b.conn.network.get_rbac_policy(policy.id)


def test_duplicate_policy_conflicts(admin, projects, semi_shared):
    project_a = projects[0]
    network, _ = semi_shared
    admin.network.create_rbac_policy(object_type="network", object_id=network.id,
                                     action="access_as_shared", target_project_id=project_a.id)
    with pytest.raises(sdk_exc.ConflictException) as raised:
        admin.network.create_rbac_policy(object_type="network", object_id=network.id,
                                         action="access_as_shared", target_project_id=project_a.id)
    assert "An RBAC policy already exists with those values" in fault_of(raised.value)["message"]


def test_retargeting_a_policy_moves_access(admin, projects, semi_shared):
    project_a, _, project_c = projects
    network, _ = semi_shared
    policy = admin.network.create_rbac_policy(object_type="network", object_id=network.id,
                                              action="access_as_shared",
                                              target_project_id=project_a.id)
    port = project_a.conn.network.create_port(network_id=network.id)
    with pytest.raises(sdk_exc.ConflictException):
        admin.network.update_rbac_policy(policy.id, target_project_id=project_c.id)
    assert project_a.network_ids() == {network.id}
    project_a.conn.network.delete_port(port)
    updated = admin.network.update_rbac_policy(policy.id, target_project_id=project_c.id)
    assert updated.target_project_id == project_c.id
    assert project_a.network_ids() == set()
    assert project_c.network_ids() == {network.id}


def test_access_as_external_turns_the_network_external(admin, projects, open_networks):
    _, project_b, project_c = projects
    network = admin.network.create_network(
        name="MySemiSharedExternalNetwork", provider_network_type="vlan",
        provider_physical_network="physnet1", provider_segmentation_id=31)
    open_networks.append(network)
    assert network.is_router_external is False
    assert network.is_shared is False
    assert network.mtu == 1500
    revision = network.revision_number
    assert network.id not in {n.id for n in admin.network.networks(is_router_external=True)}

    policy = admin.network.create_rbac_policy(object_type="network", object_id=network.id,
                                              action="access_as_external",
                                              target_project_id=project_b.id)
    assert policy.action == "access_as_external"
    assert policy.object_id == network.id
    assert policy.target_project_id == project_b.id

    after = admin.network.get_network(network.id)
    assert after.is_router_external is True
    assert after.is_shared is False
    assert after.revision_number > revision
    assert network.id in {n.id for n in admin.network.networks(is_router_external=True)}
    # Only the targeted entry: converting to external must not open it to everyone.
    assert policies_on(admin, network.id) == [("access_as_external", project_b.id)]

    assert project_b.network_ids(is_router_external=True) == {network.id}
    assert project_c.network_ids(is_router_external=True) == set()
    assert project_c.network_ids() == set()

    seen_by_b = project_b.conn.network.get_network(network.id)
    assert seen_by_b.is_router_external is True
    assert seen_by_b.is_shared is False
    assert seen_by_b.provider_network_type is None
    assert seen_by_b.provider_physical_network is None
    assert seen_by_b.provider_segmentation_id is None
    raw = project_b.raw_network(network.id)
    for key in PROVIDER_KEYS:
        assert key not in raw
    assert raw["router:external"] is True


def test_member_cannot_write_policies_on_a_network_it_does_not_own(admin, projects, semi_shared):
    project_a, project_b, project_c = projects
    network, _ = semi_shared
    admin.network.create_rbac_policy(object_type="network", object_id=network.id,
                                     action="access_as_shared", target_project_id=project_a.id)
    # ProjectA can see and use the network but does not own it.
    with pytest.raises(sdk_exc.BadRequestException) as raised:
        project_a.conn.network.create_rbac_policy(object_type="network", object_id=network.id,
                                                  action="access_as_shared",
                                                  target_project_id=project_b.id)
    assert ("Only admins can manipulate policies on networks they do not own"
            in fault_of(raised.value)["message"])
    assert project_b.network_ids() == set()
    # A network it cannot see at all is simply not found.
    hidden = admin.network.create_network(name=unique("hidden"))
    with pytest.raises(sdk_exc.SDKException) as raised:
        project_c.conn.network.create_rbac_policy(object_type="network", object_id=hidden.id,
                                                  action="access_as_shared",
                                                  target_project_id=project_c.id)
    assert raised.value.status_code in (400, 404)
    assert project_c.network_ids() == set()


def test_owner_shares_its_own_network(projects):
    project_a, project_b, project_c = projects
    own = project_a.conn.network.create_network(name=unique("a-net"))
    policy = project_a.conn.network.create_rbac_policy(object_type="network", object_id=own.id,
                                                       action="access_as_shared",
                                                       target_project_id=project_b.id)
    assert policy.project_id == project_a.id
    assert project_b.network_ids() == {own.id}
    assert project_c.network_ids() == set()
    with pytest.raises(sdk_exc.SDKException) as raised:
        project_a.conn.network.create_rbac_policy(object_type="network", object_id=own.id,
                                                  action="access_as_shared", target_project_id="*")
    assert raised.value.status_code == 403
    assert project_c.network_ids() == set()


def test_share_flag_is_a_wildcard_policy(admin, projects, open_networks):
    project_a = projects[0]
    shared = admin.network.create_network(name=unique("shared"), is_shared=True)
    open_networks.append(shared)
    assert policies_on(admin, shared.id) == [("access_as_shared", "*")]
    policy = next(iter(admin.network.rbac_policies(object_id=shared.id)))
    assert policy.object_type == "network"
    assert shared.id in project_a.network_ids()
    assert project_a.conn.network.get_network(shared.id).is_shared is True

    external = admin.network.create_network(name=unique("external"), is_router_external=True)
    open_networks.append(external)
    assert policies_on(admin, external.id) == [("access_as_external", "*")]
    assert external.id in project_a.network_ids(is_router_external=True)

    admin.network.update_network(shared.id, is_shared=False)
    assert policies_on(admin, shared.id) == []
    assert shared.id not in project_a.network_ids()


def test_member_never_sees_provider_attributes(admin, projects, open_networks):
    project_a = projects[0]
    shared = admin.network.create_network(name=unique("shared"), is_shared=True)
    open_networks.append(shared)
    own = project_a.conn.network.create_network(name=unique("own"))
    for network_id in (shared.id, own.id):
        raw = project_a.raw_network(network_id)
        for key in PROVIDER_KEYS:
            assert key not in raw
    listed = project_a.conn.network.get("/networks").json()["networks"]
    assert {n["id"] for n in listed} >= {shared.id, own.id}
    for network in listed:
        for key in PROVIDER_KEYS:
            assert key not in network
    # The admin sees them on the same networks.
    assert admin.network.get_network(own.id).provider_network_type == "vxlan"


def test_unsharing_refused_while_another_project_has_a_port(admin, projects, open_networks):
    project_a = projects[0]
    network = admin.network.create_network(name=unique("shared"), is_shared=True)
    open_networks.append(network)
    admin.network.create_subnet(network_id=network.id, ip_version=4, cidr="192.168.77.0/24")
    port = project_a.conn.network.create_port(network_id=network.id)
    with pytest.raises(sdk_exc.ConflictException) as raised:
        admin.network.update_network(network.id, is_shared=False)
    fault = fault_of(raised.value)
    assert fault["type"] == "InvalidSharedSetting"
    assert "Unable to reconfigure sharing settings for network" in fault["message"]
    assert "Multiple tenants are using it" in fault["message"]
    assert admin.network.get_network(network.id).is_shared is True
    wildcard = [p for p in admin.network.rbac_policies(object_id=network.id)]
    with pytest.raises(sdk_exc.ConflictException):
        admin.network.delete_rbac_policy(wildcard[0])

    project_a.conn.network.delete_port(port)
    assert admin.network.update_network(network.id, is_shared=False).is_shared is False
    assert policies_on(admin, network.id) == []


def test_owner_ports_do_not_block_unsharing(admin, open_networks):
    network = admin.network.create_network(name=unique("shared"), is_shared=True)
    open_networks.append(network)
    admin.network.create_port(network_id=network.id)
    assert admin.network.update_network(network.id, is_shared=False).is_shared is False


def test_member_cannot_share_or_externalise(projects):
    project_a = projects[0]
    with pytest.raises(sdk_exc.ForbiddenException):
        project_a.conn.network.create_network(name=unique("n"), is_shared=True)
    own = project_a.conn.network.create_network(name=unique("n"))
    with pytest.raises(sdk_exc.ForbiddenException):
        project_a.conn.network.update_network(own.id, is_router_external=True)
    assert project_a.conn.network.get_network(own.id).is_router_external is False


def test_invalid_object_type_and_action(admin, semi_shared):
    network, _ = semi_shared
    with pytest.raises(sdk_exc.BadRequestException):
        admin.network.create_rbac_policy(object_type="router", object_id=network.id,
                                         action="access_as_shared", target_project_id="x")
    with pytest.raises(sdk_exc.BadRequestException):
        admin.network.create_rbac_policy(object_type="network", object_id=network.id,
                                         action="access_as_owner", target_project_id="x")
    assert policies_on(admin, network.id) == []


def test_member_pages_past_a_network_shared_with_it(admin, projects, open_networks):
    project_a = projects[0]
    shared = admin.network.create_network(name="page-b-shared", is_shared=True)
    open_networks.append(shared)
    first = project_a.conn.network.create_network(name="page-a-own")
    last = project_a.conn.network.create_network(name="page-c-own")
    query = "/networks?limit=1&sort_key=name&sort_dir=asc&name=page-a-own&name=page-b-shared&name=page-c-own"
    seen = []
    marker = None
    while True:
        response = project_a.conn.network.get(query + ("&marker=" + marker if marker else ""))
        assert response.status_code == 200, response.text
        page = response.json()["networks"]
        if not page:
            break
        seen.append(page[0]["id"])
        marker = page[0]["id"]
        assert len(seen) <= 3
    assert seen == [first.id, shared.id, last.id]
    hidden = admin.network.create_network(name=unique("hidden"))
    response = project_a.conn.network.get("/networks?limit=1&marker=" + hidden.id)
    assert response.status_code == 404
