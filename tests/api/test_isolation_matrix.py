"""The isolation matrix: who may list, show, create, update and delete what, by project and role.

Projects A, B and C each have an admin, a member and a reader. Every resource kind
netweave serves gets an item owned by project A; each of the nine callers then
lists, shows, updates, deletes it and creates one of its own, and the answer must
be what Neutron's secure RBAC defaults give: admins everything, A's member
everything of A's, A's reader only reads, B and C see nothing of A's (404).
Shared networks (RBAC access_as_shared), external networks (router:external and
RBAC access_as_external), quotas, tags and filters on hidden attributes have
tests of their own.

Callers are built by an identity fixture, and every test here runs under each
entry of IDENTITIES, with a server of its own: "noauth" sends the X-Project-Id and
X-Roles headers the noauth middleware reads; "keystone" runs the server with
auth_strategy = keystone (keystonemiddleware validating against a real Keystone)
and each caller is a Keystone user with one of Keystone's default roles (admin,
member, reader) on its project, sending that user's token in X-Auth-Token. Both
offer ``project(label)`` and ``caller(project_id, role)``. The Keystone users are
made once per module and each token is issued once.
"""
import itertools
import uuid

import pytest
import requests

from harness import keystone as harness_keystone
from harness import server as server_harness

PROJECTS = ("A", "B", "C")
ROLES = ("admin", "member", "reader")
ACTORS = list(itertools.product(PROJECTS, ROLES))
OWNER = "A"


class Caller:
    """HTTP calls to /v2.0 as one identity; answers are the raw responses."""

    def __init__(self, url, headers, project_id, role):
        self.url = url + "/v2.0"
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only, whatever the proxy variables say
        self.session.headers.update(headers)
        self.project_id = project_id
        self.role = role

    def get(self, path, **params):
        return self.session.get(self.url + path, params=params, timeout=30)

    def post(self, path, body):
        return self.session.post(self.url + path, json=body, timeout=30)

    def put(self, path, body=None):
        return self.session.put(self.url + path, json=body, timeout=30)

    def delete(self, path):
        return self.session.delete(self.url + path, timeout=30)


class NoauthIdentity:
    """Projects are fresh ids; a caller sends them with its role in the noauth headers."""

    # The X-Project-Id and X-Roles headers are who the caller is.
    headers_are_identity = True

    def __init__(self, url):
        self.url = url

    def project(self, label):
        return "%s-%s" % (label, uuid.uuid4().hex[:8])

    def caller(self, project_id, role):
        return Caller(self.url, {"X-Project-Id": project_id, "X-Roles": role}, project_id, role)


class KeystoneIdentity:
    """Projects are Keystone projects, one per label (made once, where noauth's are fresh
    per call; the matrix asks once per label and server); a caller is a user holding one of
    Keystone's default roles on the project and sends its project-scoped token.

    A token carries the roles the role implies (admin: member and reader too), as noauth
    credentials get them from the policy; an admin token is a cloud admin's, as the
    matrix expects of every project's admin.
    """

    # keystonemiddleware drops identity headers a client sends; only the token speaks.
    headers_are_identity = False

    def __init__(self, url, users):
        self.url = url
        self.users = users

    def project(self, label):
        return self.users.project(label)

    def caller(self, project_id, role):
        return Caller(self.url, {"X-Auth-Token": self.users.token(project_id, role)}, project_id, role)


def _noauth(request, tmp_path_factory, settings=None):
    directory = str(tmp_path_factory.mktemp("matrix-noauth"))
    if settings is None:
        running = server_harness.start_all_in_one(directory, ["--l2-agent", "none"])
    else:
        running = server_harness.start_server(directory, extra=settings)
    try:
        yield NoauthIdentity(running.url)
    finally:
        running.stop()


# The all-in-one's own single-node ML2 settings, which it applies only without ini files.
SINGLE_NODE_ML2 = """\
[ml2]
type_drivers = local,flat,vlan,vxlan,gre,geneve
tenant_network_types = vxlan,local

[ml2_type_flat]
flat_networks = *

[ml2_type_vlan]
network_vlan_ranges = physnet1:100:199

[ml2_type_vxlan]
vni_ranges = 1:1000

[ml2_type_gre]
tunnel_id_ranges = 1:1000

[ml2_type_geneve]
vni_ranges = 1:1000
"""


@pytest.fixture(scope="module")
def keystone_users(keystone_server):
    """The matrix's projects and callers in Keystone, made at once, and the service user
    netweave validates tokens as."""
    users = harness_keystone.ProjectUsers(keystone_server)
    service_user = "netweave-" + users.suffix
    keystone_server.create_service_user(service_user, "service-secret")
    for label in PROJECTS:
        users.add(label, ROLES)
    users.add("operator", ("admin",))
    return users, keystone_server.authtoken_options(service_user, "service-secret")


def _keystone(request, tmp_path_factory, settings=None):
    users, authtoken = request.getfixturevalue("keystone_users")
    directory = tmp_path_factory.mktemp("matrix-keystone")
    auth = "[DEFAULT]\nauth_strategy = keystone\n\n[keystone_authtoken]\n" + "".join(
        "%s = %s\n" % item for item in authtoken.items())
    # One file per part: ini sections are not repeated within a file.
    files = {"ml2.ini": SINGLE_NODE_ML2, "auth.ini": auth, "settings.ini": settings or ""}
    args = ["--l2-agent", "none"]
    for name, text in files.items():
        (directory / name).write_text(text)
        args += ["--config-file", str(directory / name)]
    running = server_harness.start_all_in_one(str(directory), args)
    try:
        yield KeystoneIdentity(running.url, users)
    finally:
        running.stop()


# name -> generator factory(request, tmp_path_factory, settings) yielding an identity; settings
# is netweave.conf text beyond the matrix's own (None: the server as the matrix runs it).
IDENTITIES = {"noauth": _noauth, "keystone": _keystone}


# The keystone variant starts Keystone (once per session) and waits on its answers.
IDENTITY_PARAMS = [pytest.param(name, marks=[pytest.mark.slow] if name == "keystone" else [])
                   for name in sorted(IDENTITIES)]


@pytest.fixture(scope="module", params=IDENTITY_PARAMS)
def identity(request, tmp_path_factory):
    yield from IDENTITIES[request.param](request, tmp_path_factory)


def _created(response, member):
    assert response.status_code == 201, response.text
    return response.json()[member]


class World:
    """Projects A, B, C with a network and subnet each, an external network, and the
    nine callers. ``operator`` is an admin of a project of its own."""

    def __init__(self, identity):
        self.projects = {label: identity.project(label) for label in PROJECTS}
        self.callers = {(label, role): identity.caller(self.projects[label], role) for label, role in ACTORS}
        self.operator = identity.caller(identity.project("operator"), "admin")
        self._counter = itertools.count(1)
        for project_id in self.projects.values():
            # The matrix makes more groups, networks and ports than the default quotas allow.
            limits = self.operator.get("/quotas/%s/default" % project_id).json()["quota"]
            response = self.operator.put("/quotas/" + project_id, {"quota": {name: -1 for name in limits}})
            assert response.status_code == 200, response.text
        self.networks, self.subnets = {}, {}
        for label, project_id in self.projects.items():
            self.networks[label] = self.make("networks", "network", {"name": "net-" + label}, project_id)["id"]
            self.subnets[label] = self.make("subnets", "subnet", {
                "network_id": self.networks[label], "ip_version": 4,
                "cidr": "10.%d.0.0/24" % (10 + PROJECTS.index(label))}, project_id)["id"]
        self.external = self.make("networks", "network", {"name": "public", "router:external": True},
                                  self.operator.project_id)["id"]
        self.make("subnets", "subnet", {"network_id": self.external, "ip_version": 4, "cidr": "172.24.4.0/24"},
                  self.operator.project_id)

    def next(self):
        return next(self._counter)

    def make(self, collection, member, body, project_id):
        """An item made by the operator for ``project_id``."""
        return _created(self.operator.post("/" + collection, {member: dict(body, project_id=project_id)}), member)

    def caller(self, actor):
        return self.callers[actor]


@pytest.fixture(scope="module")
def world(identity):
    return World(identity)


# --- the resource kinds -----------------------------------------------------------
# Each kind says how to build a new item's body for a project (making what it needs
# through the operator) and a harmless update.

def _port_body(world, label):
    return {"network_id": world.networks[label], "name": "p%d" % world.next()}


def _rule_body(world, label):
    group = world.make("security-groups", "security_group", {"name": "g%d" % world.next()},
                       world.projects[label])
    return {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
            "port_range_min": 22, "port_range_max": 22}


def _rbac_body(world, label):
    network = world.make("networks", "network", {"name": "r%d" % world.next()}, world.projects[label])
    # The target is a project outside the matrix: sharing must not change what A, B, C see.
    return {"object_type": "network", "object_id": network["id"], "action": "access_as_shared",
            "target_tenant": "outsider-%d" % world.next()}


def _trunk_body(world, label):
    parent = world.make("ports", "port", _port_body(world, label), world.projects[label])
    return {"port_id": parent["id"], "name": "t%d" % world.next()}


KINDS = {
    # collection path: (JSON member, body factory, update body)
    "networks": ("network", lambda w, p: {"name": "n%d" % w.next()}, {"name": "renamed"}),
    "subnets": ("subnet", lambda w, p: {"network_id": w.networks[p], "ip_version": 4,
                                        "cidr": "10.%d.%d.0/24" % (10 + PROJECTS.index(p), w.next() % 250 + 1)},
                {"name": "renamed"}),
    "ports": ("port", _port_body, {"name": "renamed"}),
    "subnetpools": ("subnetpool", lambda w, p: {"name": "sp%d" % w.next(), "prefixes": ["10.128.0.0/16"],
                                                "default_prefixlen": 24}, {"name": "renamed"}),
    "address-scopes": ("address_scope", lambda w, p: {"name": "as%d" % w.next(), "ip_version": 4},
                       {"name": "renamed"}),
    "security-groups": ("security_group", lambda w, p: {"name": "sg%d" % w.next()}, {"name": "renamed"}),
    "security-group-rules": ("security_group_rule", _rule_body, None),
    "rbac-policies": ("rbac_policy", _rbac_body, None),
    "routers": ("router", lambda w, p: {"name": "r%d" % w.next()}, {"name": "renamed"}),
    "floatingips": ("floatingip", lambda w, p: {"floating_network_id": w.external},
                    {"description": "renamed"}),
    "trunks": ("trunk", _trunk_body, {"name": "renamed"}),
}


def _actor_id(actor):
    return "%s-%s" % actor


def sees(actor):
    """Whether the caller sees what project A owns."""
    project, role = actor
    return role == "admin" or project == OWNER


def writes(actor):
    project, role = actor
    return role == "admin" or (project == OWNER and role == "member")


def expected_write_status(actor, success):
    if writes(actor):
        return success
    # A's reader sees the item and is refused; other projects do not find it.
    return 403 if sees(actor) else 404


@pytest.fixture(scope="module")
def owned(world):
    """One item of each kind owned by project A, made once (shows, lists, updates)."""
    cache = {}

    def item(collection):
        if collection not in cache:
            member, body, _update = KINDS[collection]
            cache[collection] = world.make(collection, member, body(world, OWNER), world.projects[OWNER])
        return cache[collection]
    return item


@pytest.mark.parametrize("actor", ACTORS, ids=_actor_id)
@pytest.mark.parametrize("collection", sorted(KINDS))
def test_show(world, owned, collection, actor):
    item = owned(collection)
    response = world.caller(actor).get("/%s/%s" % (collection, item["id"]))
    assert response.status_code == (200 if sees(actor) else 404), response.text


@pytest.mark.parametrize("actor", ACTORS, ids=_actor_id)
@pytest.mark.parametrize("collection", sorted(KINDS))
def test_list(world, owned, collection, actor):
    item = owned(collection)
    response = world.caller(actor).get("/" + collection, id=item["id"])
    assert response.status_code == 200, response.text
    listed = [i["id"] for i in response.json()[collection.replace("-", "_")]]
    assert listed == ([item["id"]] if sees(actor) else [])


@pytest.mark.parametrize("actor", ACTORS, ids=_actor_id)
@pytest.mark.parametrize("collection", sorted(c for c, kind in KINDS.items() if kind[2] is not None))
def test_update(world, owned, collection, actor):
    member, _body, update = KINDS[collection]
    item = owned(collection)
    response = world.caller(actor).put("/%s/%s" % (collection, item["id"]), {member: update})
    assert response.status_code == expected_write_status(actor, 200), response.text


@pytest.mark.parametrize("actor", ACTORS, ids=_actor_id)
@pytest.mark.parametrize("collection", sorted(KINDS))
def test_delete(world, collection, actor):
    member, body, _update = KINDS[collection]
    item = world.make(collection, member, body(world, OWNER), world.projects[OWNER])
    path = "/%s/%s" % (collection, item["id"])
    try:
        response = world.caller(actor).delete(path)
        assert response.status_code == expected_write_status(actor, 204), response.text
        assert world.operator.get(path).status_code == (404 if writes(actor) else 200)
    finally:
        world.operator.delete(path)


@pytest.mark.parametrize("actor", ACTORS, ids=_actor_id)
@pytest.mark.parametrize("collection", sorted(KINDS))
def test_create_in_own_project(world, collection, actor):
    member, body, _update = KINDS[collection]
    project, role = actor
    response = world.caller(actor).post("/" + collection, {member: body(world, project)})
    assert response.status_code == (403 if role == "reader" else 201), response.text
    if response.status_code == 201:
        created = response.json()[member]
        assert created["project_id"] == world.projects[project]
        world.operator.delete("/%s/%s" % (collection, created["id"]))


@pytest.mark.parametrize("actor", ACTORS, ids=_actor_id)
@pytest.mark.parametrize("collection", sorted(KINDS))
def test_create_for_another_project(world, collection, actor):
    member, body, _update = KINDS[collection]
    project, role = actor
    other = "B" if project == "A" else "A"
    response = world.caller(actor).post("/" + collection, {member: dict(body(world, other),
                                                                        project_id=world.projects[other])})
    if role == "admin":
        created = _created(response, member)
        assert created["project_id"] == world.projects[other]
        world.operator.delete("/%s/%s" % (collection, created["id"]))
    else:
        # As Neutron: naming a project other than the token's needs admin, whatever the
        # role, and says so before any policy is asked.
        assert response.status_code == 400, response.text
        assert response.json()["NeutronError"]["type"] == "HTTPBadRequest"


# --- shared and external networks ---------------------------------------------------

@pytest.fixture(scope="module")
def shared_with_b(world):
    """A network of project A that A's member shares with project B (access_as_shared)."""
    a_member = world.caller(("A", "member"))
    network = _created(a_member.post("/networks", {"network": {"name": "semi-shared"}}), "network")
    subnet = _created(a_member.post("/subnets", {"subnet": {"network_id": network["id"], "ip_version": 4,
                                                            "cidr": "192.168.50.0/24"}}), "subnet")
    policy = _created(a_member.post("/rbac-policies", {"rbac_policy": {
        "object_type": "network", "object_id": network["id"], "action": "access_as_shared",
        "target_tenant": world.projects["B"]}}), "rbac_policy")
    return network, subnet, policy


@pytest.mark.parametrize("actor", ACTORS, ids=_actor_id)
def test_shared_network_and_subnet_are_seen_by_the_target_project(world, shared_with_b, actor):
    network, subnet, policy = shared_with_b
    caller = world.caller(actor)
    seen = sees(actor) or actor[0] == "B"
    assert caller.get("/networks/" + network["id"]).status_code == (200 if seen else 404)
    assert caller.get("/subnets/" + subnet["id"]).status_code == (200 if seen else 404)
    listed = [n["id"] for n in caller.get("/networks", id=network["id"]).json()["networks"]]
    assert listed == ([network["id"]] if seen else [])
    # The RBAC policy itself stays its owner's.
    assert caller.get("/rbac-policies/" + policy["id"]).status_code == (200 if sees(actor) else 404)


@pytest.mark.parametrize("actor", ACTORS, ids=_actor_id)
def test_ports_on_a_shared_network(world, shared_with_b, actor):
    network, subnet, _policy = shared_with_b
    project, role = actor
    response = world.caller(actor).post("/ports", {"port": {"network_id": network["id"],
                                                            "fixed_ips": [{"subnet_id": subnet["id"]}]}})
    if role != "admin" and project == "C":
        expected = 404  # C does not find the network
    elif role == "reader":
        expected = 403
    else:
        expected = 201
    assert response.status_code == expected, response.text
    if expected == 201:
        world.operator.delete("/ports/" + response.json()["port"]["id"])


@pytest.mark.parametrize("actor", [("B", "member"), ("B", "reader")], ids=_actor_id)
def test_target_project_may_not_change_a_shared_network(world, shared_with_b, actor):
    network, subnet, _policy = shared_with_b
    caller = world.caller(actor)
    assert caller.put("/networks/" + network["id"], {"network": {"name": "taken"}}).status_code == 403
    assert caller.delete("/networks/" + network["id"]).status_code == 403
    assert caller.put("/subnets/" + subnet["id"], {"subnet": {"name": "taken"}}).status_code == 403
    response = caller.post("/subnets", {"subnet": {"network_id": network["id"], "ip_version": 4,
                                                   "cidr": "192.168.51.0/24"}})
    assert response.status_code == 403, response.text
    # Nor share it further: a reader may create no policy, a member none on a network it does not own.
    response = caller.post("/rbac-policies", {"rbac_policy": {
        "object_type": "network", "object_id": network["id"], "action": "access_as_shared",
        "target_tenant": world.projects["C"]}})
    assert response.status_code == (400 if actor[1] == "member" else 403), response.text
    assert world.caller(("C", "member")).get("/networks/" + network["id"]).status_code == 404


@pytest.fixture(scope="module")
def external_for_b(world):
    """An operator's network made external to project B only (access_as_external)."""
    network = world.make("networks", "network", {"name": "ext-b"}, world.operator.project_id)
    world.make("subnets", "subnet", {"network_id": network["id"], "ip_version": 4, "cidr": "172.25.0.0/24"},
               world.operator.project_id)
    world.make("rbac-policies", "rbac_policy", {"object_type": "network", "object_id": network["id"],
                                                "action": "access_as_external",
                                                "target_tenant": world.projects["B"]}, world.operator.project_id)
    return network


@pytest.mark.parametrize("actor", ACTORS, ids=_actor_id)
def test_external_networks(world, external_for_b, actor):
    project, role = actor
    caller = world.caller(actor)
    # router:external is seen by every project; access_as_external only by its target.
    assert caller.get("/networks/" + world.external).status_code == 200
    seen = role == "admin" or project == "B"
    assert caller.get("/networks/" + external_for_b["id"]).status_code == (200 if seen else 404)
    # Floating IPs come from either when seen, to members and admins.
    for network_id, visible in ((world.external, True), (external_for_b["id"], seen)):
        response = caller.post("/floatingips", {"floatingip": {"floating_network_id": network_id}})
        if role == "reader":
            expected = 403  # the create rule refuses before the network is looked for
        else:
            expected = 201 if visible else 404
        assert response.status_code == expected, response.text
        if expected == 201:
            world.operator.delete("/floatingips/" + response.json()["floatingip"]["id"])
    # Nobody but an admin changes the operator's external network.
    response = caller.put("/networks/" + world.external, {"network": {"name": "mine"}})
    assert response.status_code == (200 if role == "admin" else 403), response.text


# --- quotas and tags -------------------------------------------------------------------

@pytest.mark.parametrize("actor", ACTORS, ids=_actor_id)
def test_quotas(world, actor):
    project, role = actor
    caller = world.caller(actor)
    a_quota = "/quotas/" + world.projects["A"]
    assert caller.get(a_quota).status_code == (200 if sees(actor) else 403)
    assert caller.get("/quotas/%s" % world.projects[project]).status_code == 200
    response = caller.put(a_quota, {"quota": {"network": -1}})
    assert response.status_code == (200 if role == "admin" else 403), response.text
    assert caller.get("/quotas").status_code == (200 if role == "admin" else 403)


@pytest.mark.parametrize("actor", ACTORS, ids=_actor_id)
@pytest.mark.parametrize("collection", ["networks", "subnets", "ports", "routers", "security-groups",
                                        "subnetpools", "floatingips", "trunks"])
def test_tags(world, owned, collection, actor):
    item = owned(collection)
    tag = "t-%s-%s" % actor
    caller = world.caller(actor)
    path = "/%s/%s/tags" % (collection, item["id"])
    assert caller.get(path).status_code == (200 if sees(actor) else 404)
    response = caller.put("%s/%s" % (path, tag))
    assert response.status_code == expected_write_status(actor, 201), response.text
    if response.status_code == 201:
        assert tag in world.operator.get(path).json()["tags"]
        assert caller.delete("%s/%s" % (path, tag)).status_code == 204


# --- filters on what the policy hides ------------------------------------------------

def test_member_filter_on_segmentation_id_is_ignored(world):
    network_id = world.networks["A"]
    segment = world.operator.get("/networks/" + network_id).json()["network"]["provider:segmentation_id"]
    a_member = world.caller(("A", "member"))
    found = {}
    for value in (segment, segment + 1):
        response = a_member.get("/networks", **{"provider:segmentation_id": value, "id": network_id})
        assert response.status_code == 200, response.text
        found[value] = response.json()["networks"]
    # Both answers are the same: the filter tells the member nothing.
    assert [n["id"] for n in found[segment]] == [n["id"] for n in found[segment + 1]] == [network_id]
    assert "provider:segmentation_id" not in found[segment][0]
    # The admin's filter works.
    admin = world.caller(("A", "admin"))
    assert admin.get("/networks", **{"provider:segmentation_id": segment + 1, "id": network_id}
                     ).json()["networks"] == []


def test_member_filter_on_binding_host_is_ignored(world):
    port = world.make("ports", "port", {"network_id": world.networks["A"], "binding:host_id": "compute-7"},
                      world.projects["A"])
    a_member = world.caller(("A", "member"))
    for host in ("compute-7", "elsewhere"):
        response = a_member.get("/ports", **{"binding:host_id": host, "id": port["id"]})
        assert response.status_code == 200, response.text
        ports = response.json()["ports"]
        assert [p["id"] for p in ports] == [port["id"]]
        assert "binding:host_id" not in ports[0]
    admin = world.caller(("B", "admin"))
    assert admin.get("/ports", **{"binding:host_id": "elsewhere", "id": port["id"]}).json()["ports"] == []
    assert [p["id"] for p in admin.get("/ports", **{"binding:host_id": "compute-7", "id": port["id"]}
                                       ).json()["ports"]] == [port["id"]]
    # Sorting by it is ignored too, not refused.
    assert a_member.get("/ports", sort_key="binding:host_id", id=port["id"]).status_code == 200


# --- identity headers beside the caller's own -----------------------------------------

def test_identity_headers_a_caller_adds(world, identity):
    """A's reader adds the headers that would make it B's admin. Under noauth those
    headers are the identity, by design (nothing is authenticated); behind Keystone they
    are dropped and the token alone says who calls."""
    forged = {"X-Project-Id": world.projects["B"], "X-Tenant-Id": world.projects["B"],
              "X-Roles": "admin", "X-Is-Admin-Project": "True"}
    reader = world.caller(("A", "reader"))
    b_network = reader.session.get("%s/networks/%s" % (reader.url, world.networks["B"]),
                                   headers=forged, timeout=30)
    renamed = reader.session.put("%s/networks/%s" % (reader.url, world.networks["A"]),
                                 json={"network": {"name": "net-A"}}, headers=forged, timeout=30)
    if identity.headers_are_identity:
        assert (b_network.status_code, renamed.status_code) == (200, 200), renamed.text
    else:
        assert b_network.status_code == 404, b_network.text
        assert renamed.status_code == 403, renamed.text


# --- the legacy rules, by configuration ----------------------------------------------

LEGACY_DEFAULTS = "\n[oslo_policy]\nenforce_new_defaults = false\n"


@pytest.fixture(scope="module", params=IDENTITY_PARAMS)
def legacy_identity(request, tmp_path_factory):
    yield from IDENTITIES[request.param](request, tmp_path_factory, LEGACY_DEFAULTS)


def test_enforce_new_defaults_false_gives_readers_the_legacy_write_access(legacy_identity):
    project = legacy_identity.project("A")
    reader = legacy_identity.caller(project, "reader")
    network = _created(reader.post("/networks", {"network": {"name": "legacy"}}), "network")
    assert reader.put("/networks/" + network["id"], {"network": {"name": "still-legacy"}}).status_code == 200
    # Owners only: another project's reader still finds nothing.
    other = legacy_identity.caller(legacy_identity.project("B"), "reader")
    assert other.get("/networks/" + network["id"]).status_code == 404
    assert other.delete("/networks/" + network["id"]).status_code == 404
    assert reader.delete("/networks/" + network["id"]).status_code == 204

