"""Security groups as Neutron serves them, where tempest and the clients rely on it.

Plain HTTP against the all-in-one server (SQLite, noauth): X-Project-Id picks the
project, ``X-Roles: member`` makes a non-admin; without X-Roles the caller is the
admin of project "admin".
"""
import uuid

import pytest
import requests
from openstack import exceptions as sdk_exc

from harness.sdk import connect, unique


class Api:
    def __init__(self, url, project="admin", roles=None):
        self.url = url + "/v2.0"
        self.headers = {"X-Project-Id": project}
        if roles:
            self.headers["X-Roles"] = roles
        self.project = project

    def call(self, method, path, body=None, expect=None):
        response = requests.request(method, self.url + path, json=body, headers=self.headers, timeout=30)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    def get(self, path, expect=200):
        return self.call("GET", path, expect=expect).json()

    def post(self, path, body, expect=201):
        return self.call("POST", path, body, expect=expect).json()

    def put(self, path, body, expect=200):
        return self.call("PUT", path, body, expect=expect).json()

    def delete(self, path, expect=204):
        return self.call("DELETE", path, expect=expect)


def fault(response):
    return response.json()["NeutronError"]


@pytest.fixture(scope="module")
def admin(aio_server):
    return Api(aio_server.url)


@pytest.fixture
def project_id():
    return "sgc-" + uuid.uuid4().hex[:10]


@pytest.fixture
def member(aio_server, project_id):
    return Api(aio_server.url, project_id, "member")


@pytest.fixture
def network(admin):
    net = admin.post("/networks", {"network": {"name": unique("sgc"), "shared": True}})["network"]
    admin.post("/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.77.0.0/24", "ip_version": 4}})
    yield net
    for port in admin.get("/ports?network_id=%s" % net["id"])["ports"]:
        admin.delete("/ports/%s" % port["id"])
    admin.delete("/networks/%s" % net["id"])


def default_group(api):
    groups = api.get("/security-groups?name=default&project_id=%s" % api.project)["security_groups"]
    assert len(groups) == 1, groups
    return groups[0]


def new_group(api, **extra):
    return api.post("/security-groups", {"security_group": dict({"name": unique("g")}, **extra)})["security_group"]


def add_rule(api, group_id, expect=201, **values):
    body = {"security_group_rule": dict({"security_group_id": group_id, "direction": "ingress"}, **values)}
    return api.call("POST", "/security-group-rules", body, expect=expect)


# --- 1. the default group ----------------------------------------------------------

def test_only_an_admin_deletes_a_default_group_and_it_comes_back(admin, member, network):
    default = default_group(member)
    refused = member.call("DELETE", "/security-groups/%s" % default["id"], expect=409)
    assert fault(refused)["type"] == "SecurityGroupCannotRemoveDefault"
    assert fault(refused)["message"] == "Insufficient rights for removing default security group."

    admin.delete("/security-groups/%s" % default["id"])
    admin.get("/security-groups/%s" % default["id"], expect=404)
    # A port of the project needs its default group: a new one is made for it.
    port = member.post("/ports", {"port": {"network_id": network["id"]}})["port"]
    recreated = default_group(member)
    assert recreated["id"] != default["id"]
    assert port["security_groups"] == [recreated["id"]]
    assert sorted((r["direction"], r["ethertype"], r["remote_group_id"])
                  for r in recreated["security_group_rules"]) == [
        ("egress", "IPv4", None), ("egress", "IPv6", None),
        ("ingress", "IPv4", recreated["id"]), ("ingress", "IPv6", recreated["id"])]


def test_a_list_recreates_a_default_group_the_admin_deleted(admin, member):
    default = default_group(member)
    admin.delete("/security-groups/%s" % default["id"])
    listed = member.get("/security-groups")["security_groups"]
    assert [g["name"] for g in listed] == ["default"]
    assert listed[0]["id"] != default["id"]


# --- 2. a remote group that does not exist ------------------------------------------

def test_a_missing_remote_group_is_404(member):
    group = new_group(member)
    missing = str(uuid.uuid4())
    response = add_rule(member, group["id"], expect=404, remote_group_id=missing)
    assert fault(response)["type"] == "SecurityGroupNotFound"
    assert fault(response)["message"] == "Security group %s does not exist" % missing
    # Whatever the id looks like (tempest sends "bad_group_id").
    response = add_rule(member, group["id"], expect=404, remote_group_id="bad_group_id")
    assert fault(response)["message"] == "Security group bad_group_id does not exist"


# --- 5. protocols, port ranges and duplicates ---------------------------------------

PROTOCOL_NAMES = ["ah", "dccp", "egp", "esp", "gre", "hopopt", "icmp", "igmp", "ip", "ipip", "ipv6-encap",
                  "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "ospf", "pgm",
                  "rsvp", "sctp", "tcp", "udp", "udplite", "vrrp"]


def test_every_protocol_name_neutron_accepts(member):
    group = new_group(member)
    # Names of one protocol (ip/hopopt, icmpv6/ipv6-icmp) are one rule: a prefix each keeps them apart.
    for index, name in enumerate(PROTOCOL_NAMES):
        response = add_rule(member, group["id"], ethertype="IPv6", protocol=name,
                            remote_ip_prefix="2001:db8::%x/128" % (index + 1))
        assert response.status_code == 201, (name, response.text)
    stored = {r["protocol"] for r in member.get("/security-groups/%s" % group["id"])["security_group"]
              ["security_group_rules"]}
    assert "ipv6-opts" in stored


@pytest.mark.parametrize("number", ["0", "1", "6", "41", "132", "200", "255"])
def test_protocol_numbers_as_strings(member, number):
    group = new_group(member)
    rule = add_rule(member, group["id"], ethertype="IPv6", protocol=number, expect=201).json()
    assert rule["security_group_rule"]["protocol"] == number


@pytest.mark.parametrize("protocol", ["gre", "47", "esp", "vrrp", "icmp"])
def test_port_ranges_only_for_protocols_with_ports(member, protocol):
    group = new_group(member)
    response = add_rule(member, group["id"], expect=400, protocol=protocol, port_range_min=1000,
                        port_range_max=1000)
    if protocol == "icmp":
        assert fault(response)["type"] == "SecurityGroupInvalidIcmpValue"
    else:
        assert fault(response)["type"] == "SecurityGroupInvalidProtocolForPortRange"


@pytest.mark.parametrize("protocol", ["tcp", "udp", "sctp", "dccp", "udplite", "6", "132"])
def test_port_ranges_for_protocols_with_ports(member, protocol):
    group = new_group(member)
    add_rule(member, group["id"], expect=201, protocol=protocol, port_range_min=1000, port_range_max=2000)


def test_the_same_rule_twice_names_the_first(member):
    group = new_group(member)
    first = add_rule(member, group["id"], protocol="ipv6-opts", ethertype="IPv6").json()["security_group_rule"]
    again = add_rule(member, group["id"], expect=409, protocol="60", ethertype="IPv6")
    assert fault(again)["type"] == "SecurityGroupRuleExists"
    assert fault(again)["message"] == "Security group rule already exists. Rule id is %s." % first["id"]


# --- 6. a group named twice on a port ------------------------------------------------

def test_a_port_keeps_a_group_named_twice_once(member, network):
    group = new_group(member)
    port = member.post("/ports", {"port": {"network_id": network["id"],
                                           "security_groups": [group["id"], group["id"]]}})["port"]
    assert port["security_groups"] == [group["id"]]
    other = new_group(member)
    updated = member.put("/ports/%s" % port["id"], {"port": {
        "security_groups": [other["id"], group["id"], other["id"]]}})["port"]
    assert sorted(updated["security_groups"]) == sorted([group["id"], other["id"]])
    shown = member.get("/ports/%s" % port["id"])["port"]
    assert sorted(shown["security_groups"]) == sorted([group["id"], other["id"]])


# --- 3. quotas of security groups and rules ---------------------------------------

def test_security_group_quotas_are_set_and_shown(admin, member):
    aliases = {e["alias"] for e in admin.get("/extensions")["extensions"]}
    assert {"quotas", "quota_details", "quota-check-limit", "quota-check-limit-default"} <= aliases
    path = "/quotas/%s" % member.project
    shown = admin.get(path)["quota"]
    assert shown["security_group"] == 10 and shown["security_group_rule"] == 100
    updated = admin.put(path, {"quota": {"security_group": 3, "security_group_rule": 20,
                                         "check_limit": True}})["quota"]
    assert (updated["security_group"], updated["security_group_rule"]) == (3, 20)
    assert admin.get(path)["quota"]["security_group"] == 3
    assert admin.get(path + "/default")["quota"]["security_group"] == 10
    details = admin.get(path + "/details")["quota"]
    assert details["security_group"]["limit"] == 3


def test_a_limit_below_usage_needs_force(admin, member):
    path = "/quotas/%s" % member.project
    new_group(member)  # with the default group: 2 groups, 6 rules
    refused = admin.call("PUT", path, {"quota": {"security_group": 1}}, expect=400)
    assert fault(refused)["message"] == (
        "Quota limit 1 for security_group must be greater than or equal to already used 2")
    refused = admin.call("PUT", path, {"quota": {"security_group_rule": 5, "check_limit": True}}, expect=400)
    assert "already used 6" in fault(refused)["message"]
    assert admin.get(path)["quota"]["security_group"] == 10
    # Equal to usage, or unlimited, is fine without force.
    assert admin.put(path, {"quota": {"security_group": 2}})["quota"]["security_group"] == 2
    assert admin.put(path, {"quota": {"security_group": -1}})["quota"]["security_group"] == -1
    forced = admin.put(path, {"quota": {"security_group": 1, "force": True}})["quota"]
    assert forced["security_group"] == 1
    over = member.call("POST", "/security-groups", {"security_group": {"name": "x"}}, expect=409)
    assert fault(over)["type"] == "OverQuota"
    bad = admin.call("PUT", path, {"quota": {"security_group": 1, "force": "maybe"}}, expect=400)
    assert "force" in fault(bad)["message"]


def test_quota_set_as_the_openstack_cli_sends_it(aio_server, admin, member):
    """`openstack quota set --secgroups N --secgroup-rules M [--force]` resolves the project
    in Keystone, then calls openstacksdk's update_quota with check_limit=True, or force=True."""
    conn = connect(aio_server.url)
    new_group(member)
    conn.network.update_quota(member.project, security_groups=7, security_group_rules=70, check_limit=True)
    shown = conn.network.get_quota(member.project)
    assert (shown.security_groups, shown.security_group_rules) == (7, 70)
    with pytest.raises(sdk_exc.BadRequestException) as raised:
        conn.network.update_quota(member.project, security_groups=1, check_limit=True)
    assert "must be greater than or equal to already used 2" in str(raised.value)
    conn.network.update_quota(member.project, security_groups=1, force=True)
    assert admin.get("/quotas/%s" % member.project)["quota"]["security_group"] == 1


# --- 8. sharing security groups through rbac-policies --------------------------------

def test_a_shared_group_is_seen_and_used_by_the_target_project_only(aio_server, admin, member, network):
    owner = member
    target = Api(aio_server.url, "sgt-" + uuid.uuid4().hex[:10], "member")
    outsider = Api(aio_server.url, "sgo-" + uuid.uuid4().hex[:10], "member")
    group = new_group(owner)
    add_rule(owner, group["id"], protocol="tcp", port_range_min=22, port_range_max=22)
    assert "security-groups-rbac" in {e["alias"] for e in admin.get("/extensions")["extensions"]}

    # Not shared yet: the target project cannot see or use it.
    target.get("/security-groups/%s" % group["id"], expect=404)
    refused = target.call("POST", "/ports", {"port": {"network_id": network["id"],
                                                      "security_groups": [group["id"]]}}, expect=404)
    assert fault(refused)["type"] == "SecurityGroupNotFound"

    policy = owner.post("/rbac-policies", {"rbac_policy": {
        "object_type": "security_group", "object_id": group["id"], "action": "access_as_shared",
        "target_tenant": target.project}})["rbac_policy"]
    assert (policy["object_type"], policy["object_id"], policy["project_id"]) == (
        "security_group", group["id"], owner.project)
    assert owner.get("/rbac-policies/%s" % policy["id"])["rbac_policy"]["object_type"] == "security_group"
    listed = owner.get("/rbac-policies?object_type=security_group")["rbac_policies"]
    assert [p["id"] for p in listed] == [policy["id"]]
    assert policy["id"] not in [p["id"] for p in owner.get("/rbac-policies?object_type=network")["rbac_policies"]]

    seen = target.get("/security-groups/%s" % group["id"])["security_group"]
    assert len(seen["security_group_rules"]) == 3 and seen["shared"] is True
    assert owner.get("/security-groups/%s" % group["id"])["security_group"]["shared"] is False
    assert group["id"] in [g["id"] for g in target.get("/security-groups")["security_groups"]]
    assert [g["id"] for g in target.get("/security-groups?shared=true")["security_groups"]] == [group["id"]]
    assert group["id"] not in [g["id"] for g in target.get("/security-groups?shared=false")["security_groups"]]
    outsider.get("/security-groups/%s" % group["id"], expect=404)
    # Seen and used, not changed (as in Neutron: visible, so the policy refuses with 403).
    refused = target.call("PUT", "/security-groups/%s" % group["id"], {"security_group": {"name": "mine"}},
                          expect=403)
    assert fault(refused)["type"] == "PolicyNotAuthorized"
    target.call("DELETE", "/security-groups/%s" % group["id"], expect=403)
    add_rule(target, group["id"], expect=404, protocol="udp")
    port = target.post("/ports", {"port": {"network_id": network["id"],
                                           "security_groups": [group["id"]]}})["port"]
    assert port["security_groups"] == [group["id"]]

    # The policy cannot go while the target's port uses the group.
    in_use = owner.call("DELETE", "/rbac-policies/%s" % policy["id"], expect=409)
    assert fault(in_use)["type"] == "RbacPolicyInUse"
    moved = owner.call("PUT", "/rbac-policies/%s" % policy["id"],
                       {"rbac_policy": {"target_tenant": outsider.project}}, expect=409)
    assert fault(moved)["type"] == "RbacPolicyInUse"
    target.delete("/ports/%s" % port["id"])
    owner.delete("/rbac-policies/%s" % policy["id"])
    target.get("/security-groups/%s" % group["id"], expect=404)


def test_security_group_policies_only_share(member):
    group = new_group(member)
    response = member.call("POST", "/rbac-policies", {"rbac_policy": {
        "object_type": "security_group", "object_id": group["id"], "action": "access_as_external",
        "target_tenant": "someone"}}, expect=400)
    assert fault(response)["type"] == "InvalidActionForType"
    missing = str(uuid.uuid4())
    response = member.call("POST", "/rbac-policies", {"rbac_policy": {
        "object_type": "security_group", "object_id": missing, "action": "access_as_shared",
        "target_tenant": "someone"}}, expect=404)
    assert fault(response)["type"] == "SecurityGroupNotFound"
    response = member.call("POST", "/rbac-policies", {"rbac_policy": {
        "object_type": "router", "object_id": missing, "action": "access_as_shared",
        "target_tenant": "someone"}}, expect=400)
    assert "'router' is not in" in fault(response)["message"]


# --- 4. stateful and stateless groups --------------------------------------------------

def test_groups_are_stateful_unless_created_stateless(admin, member, network):
    assert "stateful-security-group" in {e["alias"] for e in admin.get("/extensions")["extensions"]}
    assert new_group(member)["stateful"] is True
    assert default_group(member)["stateful"] is True
    stateless = new_group(member, stateful=False)
    assert stateless["stateful"] is False
    assert member.get("/security-groups/%s" % stateless["id"])["security_group"]["stateful"] is False
    listed = member.get("/security-groups?stateful=false")["security_groups"]
    assert [g["id"] for g in listed] == [stateless["id"]]
    bad = member.call("POST", "/security-groups", {"security_group": {"name": "x", "stateful": "maybe"}},
                      expect=400)
    assert "stateful" in fault(bad)["message"]

    # Unused, it may change; used by a port, not.
    assert member.put("/security-groups/%s" % stateless["id"],
                      {"security_group": {"stateful": True}})["security_group"]["stateful"] is True
    member.put("/security-groups/%s" % stateless["id"], {"security_group": {"stateful": False}})
    port = member.post("/ports", {"port": {"network_id": network["id"],
                                           "security_groups": [stateless["id"]]}})["port"]
    refused = member.call("PUT", "/security-groups/%s" % stateless["id"],
                          {"security_group": {"stateful": True}}, expect=409)
    assert fault(refused)["type"] == "SecurityGroupInUse"
    assert fault(refused)["message"] == "Security Group %s in use." % stateless["id"]
    # The same value, or another attribute, is fine.
    member.put("/security-groups/%s" % stateless["id"], {"security_group": {"stateful": False,
                                                                            "description": "udp only"}})
    # A port cannot mix stateful and stateless groups.
    stateful = new_group(member)
    mixed = member.call("PUT", "/ports/%s" % port["id"],
                        {"port": {"security_groups": [stateless["id"], stateful["id"]]}}, expect=409)
    assert fault(mixed)["type"] == "SecurityGroupConflict"
    member.delete("/ports/%s" % port["id"])


# --- 7. default-security-group-rules -----------------------------------------------------

def test_default_rule_templates_shape_new_groups(admin, member):
    listed = admin.get("/default-security-group-rules")["default_security_group_rules"]
    assert sorted((t["direction"], t["ethertype"], t["remote_group_id"], t["used_in_default_sg"],
                   t["used_in_non_default_sg"]) for t in listed) == [
        ("egress", "IPv4", None, True, True), ("egress", "IPv6", None, True, True),
        ("ingress", "IPv4", "PARENT", True, False), ("ingress", "IPv6", "PARENT", True, False)]
    assert member.get("/default-security-group-rules/%s" % listed[0]["id"])["default_security_group_rule"]
    refused = member.call("POST", "/default-security-group-rules", {"default_security_group_rule": {
        "direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22}}, expect=403)
    assert fault(refused)["type"] == "PolicyNotAuthorized"

    ssh = admin.post("/default-security-group-rules", {"default_security_group_rule": {
        "direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
        "used_in_default_sg": False}})["default_security_group_rule"]
    try:
        assert (ssh["used_in_default_sg"], ssh["used_in_non_default_sg"]) == (False, True)
        again = admin.call("POST", "/default-security-group-rules", {"default_security_group_rule": {
            "direction": "ingress", "protocol": "6", "port_range_min": 22, "port_range_max": 22,
            "used_in_default_sg": False}}, expect=409)
        assert fault(again)["type"] == "DefaultSecurityGroupRuleExists"
        assert ssh["id"] in fault(again)["message"]
        group = new_group(member)
        assert ("ingress", "tcp", 22) in {(r["direction"], r["protocol"], r["port_range_min"])
                                          for r in group["security_group_rules"]}
        default = default_group(member)
        assert len(default["security_group_rules"]) == 4
        assert {r["remote_group_id"] for r in default["security_group_rules"]} == {None, default["id"]}
    finally:
        admin.delete("/default-security-group-rules/%s" % ssh["id"])
    admin.get("/default-security-group-rules/%s" % ssh["id"], expect=404)
    missing = admin.call("DELETE", "/default-security-group-rules/%s" % ssh["id"], expect=404)
    assert fault(missing)["type"] == "DefaultSecurityGroupRuleNotFound"
    assert len(new_group(member)["security_group_rules"]) == 2
