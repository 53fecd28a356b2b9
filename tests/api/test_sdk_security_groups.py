"""Security groups, rules, port security and allowed address pairs through openstacksdk.

The all-in-one server enables the port_security service plugin and extension
driver by default. Without X-Roles the caller is the admin of project "admin";
members of other projects are made from headers.
"""
import uuid

import pytest
import requests
from openstack import exceptions as sdk_exc

from harness.sdk import connect, fault_of, unique


@pytest.fixture(scope="module")
def admin(aio_server):
    return connect(aio_server.url)


def member_of(aio_server, project):
    return connect(aio_server.url, project=project, roles="member")


@pytest.fixture
def project(aio_server):
    return "sgp-" + uuid.uuid4().hex[:10]


@pytest.fixture
def network(admin):
    net = admin.network.create_network(name=unique("sgnet"))
    admin.network.create_subnet(network_id=net.id, cidr="10.31.0.0/24", ip_version=4)
    yield net
    for port in admin.network.ports(network_id=net.id):
        admin.network.delete_port(port)
    admin.network.delete_network(net)


def rule_tuples(group):
    return sorted((r["direction"], r["ethertype"], r["protocol"], r["remote_ip_prefix"], r["remote_group_id"])
                  for r in group.security_group_rules)


def test_each_project_gets_its_default_group_on_first_list(aio_server, project):
    conn = member_of(aio_server, project)
    groups = list(conn.network.security_groups())
    assert [(g.name, g.description, g.project_id) for g in groups] == [
        ("default", "Default security group", project)]
    default = groups[0]
    assert rule_tuples(default) == [("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None),
                                    ("ingress", "IPv4", None, None, default.id),
                                    ("ingress", "IPv6", None, None, default.id)]
    assert [g.id for g in conn.network.security_groups()] == [default.id]


def test_group_create_update_tags_and_delete(aio_server, project):
    conn = member_of(aio_server, project)
    group = conn.network.create_security_group(name="WEB_SERVERS", description="web tier")
    assert rule_tuples(group) == [("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None)]
    assert group.project_id == project and group.revision_number == 0
    updated = conn.network.update_security_group(group.id, name="WEB", description="renamed")
    assert (updated.name, updated.description) == ("WEB", "renamed")
    assert updated.revision_number > 0
    conn.network.set_tags(updated, ["tier-web", "prod"])
    assert sorted(conn.network.get_security_group(group.id).tags) == ["prod", "tier-web"]
    assert [g.id for g in conn.network.security_groups(tags="prod")] == [group.id]
    with pytest.raises(sdk_exc.ConflictException) as raised:
        conn.network.update_security_group(group, name="default")
    assert fault_of(raised.value) == {"type": "SecurityGroupDefaultAlreadyExists",
                                      "message": "Default security group already exists.", "detail": ""}
    conn.network.delete_security_group(group)
    with pytest.raises(sdk_exc.NotFoundException) as raised:
        conn.network.get_security_group(group.id)
    assert fault_of(raised.value)["type"] == "SecurityGroupNotFound"


def test_projects_do_not_see_or_use_each_others_groups(aio_server, admin, project, network):
    mine = member_of(aio_server, project)
    theirs = member_of(aio_server, project + "-b")
    group = theirs.network.create_security_group(name="private")
    assert group.id not in [g.id for g in mine.network.security_groups()]
    with pytest.raises(sdk_exc.NotFoundException):
        mine.network.create_security_group_rule(security_group_id=group.id, direction="ingress")
    own = mine.network.create_security_group(name="own")
    with pytest.raises(sdk_exc.NotFoundException):
        mine.network.create_security_group_rule(security_group_id=own.id, direction="ingress",
                                                remote_group_id=group.id)
    assert group.id in [g.id for g in admin.network.security_groups()]
    assert {r.security_group_id for r in mine.network.security_group_rules()} <= {
        g.id for g in mine.network.security_groups()}


@pytest.mark.parametrize("values, status, error_type, message", [
    ({"protocol": "tcpx"}, 400, "SecurityGroupRuleInvalidProtocol", "Security group rule protocol tcpx not supported"),
    ({"protocol": "tcp", "port_range_min": 70000, "port_range_max": 70000}, 400,
     "SecurityGroupInvalidPortValue", "Invalid value for port 70000"),
    ({"protocol": "tcp", "port_range_min": 90, "port_range_max": 80}, 400, "SecurityGroupInvalidPortRange",
     "For TCP/UDP protocols, port_range_min must be <= port_range_max"),
    ({"ether_type": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}, 400, "SecurityGroupRuleParameterConflict",
     "Conflicting value ethertype IPv6 for CIDR 10.0.0.0/8"),
    ({"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": "SELF"}, 400,
     "SecurityGroupRemoteGroupAndRemoteIpPrefix", "Only remote_ip_prefix or remote_group_id may be provided."),
    ({"protocol": "icmp", "port_range_min": 300}, 400, "SecurityGroupInvalidIcmpValue",
     "Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255."),
    ({"port_range_min": 22, "port_range_max": 22}, 400, "SecurityGroupProtocolRequiredWithPorts",
     "Must also specify protocol if port range is given."),
    ({"remote_ip_prefix": "10.0.0.300/8"}, 400, "InvalidCIDR", "Invalid CIDR 10.0.0.300/8 given as IP prefix."),
    ({"ether_type": "IPv5"}, 400, "SecurityGroupRuleInvalidEtherType",
     "Security group rule for ethertype 'IPv5' not supported."),
    ({"direction": "sideways"}, 400, "HTTPBadRequest", "Invalid input for direction."),
])
def test_bad_rules_get_neutrons_errors(admin, values, status, error_type, message):
    group = admin.network.create_security_group(name=unique("bad"))
    try:
        body = {"security_group_id": group.id, "direction": "ingress"}
        body.update({k: (group.id if v == "SELF" else v) for k, v in values.items()})
        with pytest.raises(sdk_exc.HttpException) as raised:
            admin.network.create_security_group_rule(**body)
        assert raised.value.status_code == status
        fault = fault_of(raised.value)
        assert fault["type"] == error_type and fault["message"].startswith(message)
        assert len(admin.network.get_security_group(group.id).security_group_rules) == 2
    finally:
        admin.network.delete_security_group(group)


def test_rules_by_name_number_and_any_with_duplicates_refused(admin):
    group = admin.network.create_security_group(name=unique("rules"))
    try:
        ssh = admin.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                       protocol="TCP", port_range_min=22, port_range_max=22,
                                                       remote_ip_prefix="192.0.2.9/24")
        assert (ssh.protocol, ssh.remote_ip_prefix, ssh.ether_type) == ("tcp", "192.0.2.9/24", "IPv4")
        with pytest.raises(sdk_exc.ConflictException) as raised:
            admin.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                     protocol="6", port_range_min=22, port_range_max=22,
                                                     remote_ip_prefix="192.0.2.0/24")
        assert fault_of(raised.value) == {
            "type": "SecurityGroupRuleExists", "detail": "",
            "message": "Security group rule already exists. Rule id is %s." % ssh.id}
        ping6 = admin.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                         ether_type="ipv6", protocol="icmpv6",
                                                         port_range_min=128, port_range_max=0)
        assert (ping6.protocol, ping6.ether_type, ping6.port_range_min, ping6.port_range_max) == (
            "ipv6-icmp", "IPv6", 128, 0)
        everything = admin.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                              protocol="any", remote_group_id=group.id)
        assert everything.protocol is None and everything.remote_group_id == group.id
        listed = list(admin.network.security_group_rules(security_group_id=group.id, direction="ingress"))
        assert sorted(r.id for r in listed) == sorted([ssh.id, ping6.id, everything.id])
        admin.network.delete_security_group_rule(ssh)
        with pytest.raises(sdk_exc.NotFoundException) as raised:
            admin.network.get_security_group_rule(ssh.id)
        assert fault_of(raised.value)["type"] == "SecurityGroupRuleNotFound"
    finally:
        admin.network.delete_security_group(group)


def test_group_pagination_sorting_and_fields(aio_server):
    url = aio_server.url + "/v2.0/security-groups"
    names = sorted(unique("page") for _ in range(3))
    prefix_admin = connect(aio_server.url)
    created = [prefix_admin.network.create_security_group(name=name) for name in names]
    try:
        first = requests.get(url, params={"limit": 2, "sort_key": "name", "sort_dir": "asc",
                                          "fields": ["id", "name"]}, timeout=60).json()
        assert len(first["security_groups"]) == 2 and set(first["security_groups"][0]) == {"id", "name"}
        assert first["security_groups_links"][0]["rel"] == "next"
        by_name = requests.get(url, params={"name": names[1]}, timeout=60).json()["security_groups"]
        assert [g["id"] for g in by_name] == [created[1].id]
        bad = requests.get(url, params={"colour": "red"}, timeout=60)
        assert bad.status_code == 400
    finally:
        for group in created:
            prefix_admin.network.delete_security_group(group)


def test_ports_get_default_group_pairs_and_port_security(admin, network):
    default = [g for g in admin.network.security_groups(name="default", project_id="admin")][0]
    web = admin.network.create_security_group(name=unique("web"))
    try:
        port = admin.network.create_port(network_id=network.id)
        assert port.security_group_ids == [default.id] and port.is_port_security_enabled is True
        assert port.allowed_address_pairs == []
        port = admin.network.update_port(port, security_group_ids=[web.id, default.id],
                                         allowed_address_pairs=[{"ip_address": "10.31.0.200"}])
        assert sorted(port.security_group_ids) == sorted([web.id, default.id])
        assert port.allowed_address_pairs == [{"ip_address": "10.31.0.200", "mac_address": port.mac_address}]
        with pytest.raises(sdk_exc.ConflictException) as raised:
            admin.network.delete_security_group(web)
        assert fault_of(raised.value) == {"type": "SecurityGroupInUse", "detail": "",
                                          "message": "Security Group %s in use." % web.id}
        with pytest.raises(sdk_exc.ConflictException) as raised:
            admin.network.update_port(port, is_port_security_enabled=False)
        assert fault_of(raised.value)["type"] == "PortSecurityPortHasSecurityGroup"
        port = admin.network.update_port(port, is_port_security_enabled=False, security_group_ids=[],
                                         allowed_address_pairs=[])
        assert (port.is_port_security_enabled, port.security_group_ids) == (False, [])
        with pytest.raises(sdk_exc.BadRequestException) as raised:
            admin.network.update_port(port, security_group_ids=[web.id])
        assert fault_of(raised.value)["type"] == "PortSecurityAndIPRequiredForSecurityGroups"
        listed = {p.id: p for p in admin.network.ports(network_id=network.id)}
        assert listed[port.id].is_port_security_enabled is False
        admin.network.delete_port(port)
    finally:
        admin.network.delete_security_group(web)


def test_network_port_security_is_inherited_by_new_ports(admin):
    net = admin.network.create_network(name=unique("nops"), is_port_security_enabled=False)
    try:
        assert net.is_port_security_enabled is False
        port = admin.network.create_port(network_id=net.id)
        assert (port.is_port_security_enabled, port.security_group_ids) == (False, [])
        with pytest.raises(sdk_exc.ConflictException) as raised:
            admin.network.create_port(network_id=net.id, allowed_address_pairs=[{"ip_address": "10.0.0.5"}])
        assert fault_of(raised.value) == {
            "type": "AddressPairAndPortSecurityRequired", "detail": "",
            "message": "Port Security must be enabled in order to have allowed address pairs on a port."}
        secured = admin.network.create_port(network_id=net.id, is_port_security_enabled=True)
        assert secured.is_port_security_enabled is True and len(secured.security_group_ids) == 1
        admin.network.delete_port(port)
        admin.network.delete_port(secured)
    finally:
        admin.network.delete_network(net)


def test_quotas_and_extensions_are_listed(aio_server, admin, project):
    extensions = {e.alias: e.name for e in admin.network.extensions()}
    assert extensions["security-group"] == "security-group"
    assert extensions["port-security"] == "Port Security"
    assert extensions["allowed-address-pairs"] == "Allowed Address Pairs"
    quota = admin.network.get_quota(project, details=True)
    assert quota.security_groups["limit"] == 10 and quota.security_group_rules["limit"] == 100
    member_of(aio_server, project).network.create_security_group(name="counted")
    usage = admin.network.get_quota(project, details=True)
    assert usage.security_groups["used"] == 2 and usage.security_group_rules["used"] == 6


def test_a_rules_description_is_its_only_updatable_attribute(aio_server, admin):
    group = admin.network.create_security_group(name=unique("desc"))
    try:
        rule = admin.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                        protocol="udp", port_range_min=53, port_range_max=53)
        url = "%s/v2.0/security-group-rules/%s" % (aio_server.url, rule.id)
        changed = requests.put(url, json={"security_group_rule": {"description": "dns"}}, timeout=60)
        assert changed.status_code == 200
        body = changed.json()["security_group_rule"]
        assert body["description"] == "dns" and body["revision_number"] == rule.revision_number + 1
        refused = requests.put(url, json={"security_group_rule": {"protocol": "tcp"}}, timeout=60)
        assert refused.status_code == 400
        assert refused.json()["NeutronError"]["message"] == "Cannot update read-only attribute protocol"
        assert admin.network.get_security_group_rule(rule.id).protocol == "udp"
    finally:
        admin.network.delete_security_group(group)
