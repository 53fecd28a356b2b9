"""Security groups, port security and address pairs on a real database (SQLite and PostgreSQL),
with the real ML2 plugin, its port_security extension driver and the port_security service plugin."""
import threading
import time

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.service_plugins.port_security import exceptions as sg_exc
from netweave.service_plugins.port_security import models
from netweave.service_plugins.port_security import plugin as plugin_mod
from netweave.service_plugins.port_security import topics as sg_topics

ADMIN = context_mod.get_admin_context()


def member(project):
    return context_mod.Context(project_id=project, roles=["member"])


class RecordingNotifier:
    """Stands in for the agent notifier: what would have been cast, in order."""

    def __init__(self):
        self.sent = []

    def security_groups_rule_updated(self, context, group_ids):
        self.sent.append(("rule", sorted(group_ids)))

    def security_groups_member_updated(self, context, group_ids):
        self.sent.append(("member", sorted(group_ids)))


class Cloud:
    def __init__(self, core, security):
        self.core = core
        self.security = security

    def network(self, project="p1", **extra):
        return self.core.create_network(ADMIN, {"network": dict({"project_id": project, "name": "net"}, **extra)})

    def subnet(self, network, cidr="10.0.0.0/24"):
        return self.core.create_subnet(ADMIN, {"subnet": {
            "project_id": network["project_id"], "network_id": network["id"], "cidr": cidr, "ip_version": 4,
            "name": "", "enable_dhcp": False, "gateway_ip": "auto", "allocation_pools": None,
            "dns_nameservers": [], "host_routes": []}})

    def port(self, network, context=ADMIN, **extra):
        body = {"project_id": network["project_id"], "network_id": network["id"]}
        body.update(extra)
        return self.core.create_port(context, {"port": body})

    def group(self, name, project="p1", context=ADMIN):
        return self.security.create_security_group(context, {"security_group": {
            "project_id": project, "name": name, "description": ""}})

    def rule(self, group, context=ADMIN, **values):
        body = {"security_group_id": group["id"], "project_id": group["project_id"], "direction": "ingress",
                "ethertype": "IPv4", "protocol": None, "port_range_min": None, "port_range_max": None,
                "remote_ip_prefix": None, "remote_group_id": None, "description": ""}
        body.update(values)
        return self.security.create_security_group_rule(context, {"security_group_rule": body})

    def default_group(self, project="p1"):
        groups = self.security.get_security_groups(member(project), filters={"name": ["default"]})
        assert len(groups) == 1
        return groups[0]


@pytest.fixture(params=ml2_plugin.BACKENDS)
def cloud(request, tmp_path):
    yield from _cloud(request, tmp_path)


@pytest.fixture(params=ml2_plugin.ALL_BACKENDS)
def racing_cloud(request, tmp_path):
    """``cloud`` on MariaDB too, for the races the database decides."""
    yield from _cloud(request, tmp_path)


def _cloud(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    cfg.CONF.set_override("extension_drivers", ["port_security"], "ml2")
    try:
        with ml2_plugin.plugin_overrides():
            core = ml2_plugin.in_process_plugin(url)
            security = plugin_mod.PortSecurityPlugin()
            security.initialize(core)
            security.notifier = security.groups.notifier = security.membership.notifier = RecordingNotifier()
            try:
                yield Cloud(core, security)
            finally:
                db_api.DATABASE.engine.dispose()
    finally:
        cfg.CONF.clear_override("extension_drivers", "ml2")


def _rule_shapes(group):
    return sorted((r["direction"], r["ethertype"], r["protocol"], r["remote_ip_prefix"],
                   r["remote_group_id"] == group["id"]) for r in group["security_group_rules"])


# --- groups and the default group ------------------------------------------------

def test_default_group_appears_on_first_list_with_neutrons_four_rules(cloud):
    default = cloud.default_group("p1")
    assert default["name"] == "default" and default["description"] == "Default security group"
    assert default["project_id"] == default["tenant_id"] == "p1"
    assert _rule_shapes(default) == [("egress", "IPv4", None, None, False), ("egress", "IPv6", None, None, False),
                                     ("ingress", "IPv4", None, None, True), ("ingress", "IPv6", None, None, True)]
    # Listing again neither duplicates it nor touches it.
    assert cloud.default_group("p1")["revision_number"] == default["revision_number"]
    # Another project sees only its own default group.
    other = cloud.security.get_security_groups(member("p2"))
    assert [g["project_id"] for g in other] == ["p2"] and other[0]["id"] != default["id"]


def test_a_new_group_starts_with_the_two_egress_rules(cloud):
    group = cloud.group("WEB_SERVERS")
    assert _rule_shapes(group) == [("egress", "IPv4", None, None, False), ("egress", "IPv6", None, None, False)]
    assert group["revision_number"] == 0 and group["tags"] == [] and group["created_at"].endswith("Z")
    # Creating a group made the project's default group too.
    assert cloud.default_group("p1")["id"] != group["id"]


def test_default_group_cannot_be_renamed_or_deleted_by_its_project_but_its_description_changes(cloud):
    default = cloud.default_group("p1")
    with pytest.raises(sg_exc.SecurityGroupCannotRemoveDefault) as error:
        cloud.security.delete_security_group(member("p1"), default["id"])
    assert error.value.status == 409
    with pytest.raises(sg_exc.SecurityGroupCannotUpdateDefault):
        cloud.security.update_security_group(member("p1"), default["id"], {"security_group": {"name": "x"}})
    updated = cloud.security.update_security_group(member("p1"), default["id"],
                                                   {"security_group": {"description": "mine"}})
    assert updated["description"] == "mine" and updated["revision_number"] > default["revision_number"]
    # Its rules can go, as the book says.
    for rule in default["security_group_rules"]:
        cloud.security.delete_security_group_rule(member("p1"), rule["id"])
    assert cloud.default_group("p1")["security_group_rules"] == []


def test_group_in_use_by_a_port_cannot_be_deleted_until_the_port_is_gone(cloud):
    network = cloud.network()
    group = cloud.group("DB")
    port = cloud.port(network, security_groups=[group["id"]])
    with pytest.raises(sg_exc.SecurityGroupInUse) as error:
        cloud.security.delete_security_group(ADMIN, group["id"])
    assert error.value.msg == "Security Group %s in use." % group["id"]
    cloud.core.delete_port(ADMIN, port["id"])
    cloud.security.delete_security_group(ADMIN, group["id"])
    with pytest.raises(sg_exc.SecurityGroupNotFound):
        cloud.security.get_security_group(ADMIN, group["id"])
    with db_api.reader_scope() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(models.SecurityGroupRule).where(
            models.SecurityGroupRule.security_group_id == group["id"])) == 0


def test_deleting_a_group_removes_rules_naming_it_as_remote_and_tells_the_agents(cloud):
    web, db = cloud.group("WEB"), cloud.group("DB")
    rule = cloud.rule(db, protocol="tcp", port_range_min=5432, port_range_max=5432, remote_group_id=web["id"])
    cloud.security.notifier.sent.clear()
    cloud.security.delete_security_group(ADMIN, web["id"])
    with pytest.raises(sg_exc.SecurityGroupRuleNotFound):
        cloud.security.get_security_group_rule(ADMIN, rule["id"])
    assert cloud.security.notifier.sent == [("rule", [db["id"]])]


def test_quota_counts_groups_and_rules_of_the_project(cloud):
    cfg.CONF.set_override("quota_security_group", 3, "quotas")
    cfg.CONF.set_override("quota_security_group_rule", 9, "quotas")
    try:
        cloud.group("one")      # default (4 rules) + one (2 rules)
        cloud.group("two")      # + 2 rules = 8 rules, 3 groups
        with pytest.raises(exc.OverQuota) as error:
            cloud.group("three")
        assert error.value.msg == "Quota exceeded for resources: security_group."
        two = [g for g in cloud.security.get_security_groups(member("p1")) if g["name"] == "two"][0]
        cloud.rule(two, protocol="tcp", port_range_min=22, port_range_max=22)
        with pytest.raises(exc.OverQuota):
            cloud.rule(two, protocol="tcp", port_range_min=80, port_range_max=80)
        # Another project has its own count.
        cloud.group("one", project="p2")
    finally:
        cfg.CONF.clear_override("quota_security_group", "quotas")
        cfg.CONF.clear_override("quota_security_group_rule", "quotas")


def test_two_racing_first_requests_create_exactly_one_default_group(racing_cloud):
    network = racing_cloud.network(project="race")
    racing_cloud.subnet(network)
    barrier = threading.Barrier(4)
    errors, ports = [], []

    def first_look():
        barrier.wait()
        try:
            racing_cloud.security.get_security_groups(member("race"))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def first_port():
        barrier.wait()
        try:
            ports.append(racing_cloud.port(network))
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=f) for f in (first_look, first_look, first_port, first_port)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with db_api.reader_scope() as session:
        defaults = session.scalars(sa.select(models.SecurityGroup.id).where(
            models.SecurityGroup.project_id == "race", models.SecurityGroup.name == "default")).all()
    assert len(defaults) == 1
    assert [p["security_groups"] for p in ports] == [[defaults[0]], [defaults[0]]]


def test_a_default_group_made_by_a_failed_port_create_is_not_remembered(cloud):
    """The first port of a project creates its default group; if its request fails
    later on (here: a bulk create whose second port names no network), the group
    rolls back with it and the next port must get a group that really exists."""
    network = cloud.network(project="p9")
    cloud.subnet(network)
    with pytest.raises(exc.NetworkNotFound):
        cloud.core.create_port_bulk(ADMIN, {"ports": [
            {"port": {"project_id": "p9", "network_id": network["id"]}},
            {"port": {"project_id": "p9", "network_id": "00000000-0000-0000-0000-00000000dead"}}]})
    with db_api.reader_scope() as session:
        assert session.scalars(sa.select(models.SecurityGroup.id).where(
            models.SecurityGroup.project_id == "p9")).all() == []
    port = cloud.port(network)
    assert port["security_groups"] == [cloud.default_group("p9")["id"]]


def test_an_admin_deletes_a_default_group_and_the_next_port_gets_a_new_one(cloud):
    network = cloud.network(project="p8")
    cloud.subnet(network)
    first = cloud.default_group("p8")
    cloud.security.delete_security_group(ADMIN, first["id"])
    with db_api.reader_scope() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(models.DefaultSecurityGroup).where(
            models.DefaultSecurityGroup.project_id == "p8")) == 0
    port = cloud.port(network)
    second = cloud.default_group("p8")
    assert second["id"] != first["id"] and port["security_groups"] == [second["id"]]
    # Bound to a port, it is in use like any group.
    with pytest.raises(sg_exc.SecurityGroupInUse):
        cloud.security.delete_security_group(ADMIN, second["id"])
    # Deleted by another server process (here: behind this service's back), it is not
    # remembered either: the next port makes a third.
    cloud.core.delete_port(ADMIN, port["id"])
    with db_api.session_scope() as session:
        session.execute(sa.delete(models.SecurityGroup).where(models.SecurityGroup.id == second["id"]))
    third = cloud.port(network)["security_groups"]
    assert third == [cloud.default_group("p8")["id"]] and third != [second["id"]]


# --- rules ----------------------------------------------------------------------

def test_rule_create_shows_neutrons_attributes(cloud):
    group = cloud.group("WEB_SERVERS")
    rule = cloud.rule(group, protocol="tcp", port_range_min=80, port_range_max=80, remote_ip_prefix="0.0.0.0/0")
    assert {k: rule[k] for k in ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
                                 "remote_ip_prefix", "remote_group_id", "security_group_id", "project_id",
                                 "normalized_cidr", "revision_number", "description")} == {
        "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80,
        "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": None, "security_group_id": group["id"],
        "project_id": "p1", "normalized_cidr": "0.0.0.0/0", "revision_number": 0, "description": ""}
    host_bits = cloud.rule(group, protocol="udp", port_range_min=53, port_range_max=53,
                           remote_ip_prefix="192.0.2.7/24")
    assert (host_bits["remote_ip_prefix"], host_bits["normalized_cidr"]) == ("192.0.2.7/24", "192.0.2.0/24")
    shown = cloud.security.get_security_group(ADMIN, group["id"])
    assert rule["id"] in [r["id"] for r in shown["security_group_rules"]]
    assert shown["revision_number"] > group["revision_number"]


@pytest.mark.parametrize("first, second", [
    ({"protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
     {"protocol": "6", "port_range_min": 22, "port_range_max": 22}),
    ({"protocol": None, "remote_ip_prefix": None}, {"protocol": None, "remote_ip_prefix": "0.0.0.0/0"}),
    ({"ethertype": "IPv6", "protocol": "ipv6-icmp"}, {"ethertype": "IPv6", "protocol": "58"}),
    ({"remote_ip_prefix": "10.0.0.0/8"}, {"remote_ip_prefix": "10.1.2.3/8"}),
])
def test_same_rule_written_differently_is_a_duplicate(cloud, first, second):
    group = cloud.group("dups")
    existing = cloud.rule(group, **first)
    with pytest.raises(sg_exc.SecurityGroupRuleExists) as error:
        cloud.rule(group, **second)
    assert error.value.status == 409
    assert error.value.msg == "Security group rule already exists. Rule id is %s." % existing["id"]


def test_invalid_rules_are_refused_before_anything_is_written(cloud):
    group = cloud.group("bad")
    cases = [
        ({"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": group["id"]},
         sg_exc.SecurityGroupRemoteGroupAndRemoteIpPrefix),
        ({"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}, sg_exc.SecurityGroupRuleParameterConflict),
        ({"protocol": "tcp", "port_range_min": 90, "port_range_max": 80}, sg_exc.SecurityGroupInvalidPortRange),
        ({"port_range_min": 80, "port_range_max": 80}, sg_exc.SecurityGroupProtocolRequiredWithPorts),
        ({"protocol": "ipv6-icmp"}, sg_exc.SecurityGroupEthertypeConflictWithProtocol),
    ]
    before = cloud.security.get_security_group(ADMIN, group["id"])
    for values, error in cases:
        with pytest.raises(error):
            cloud.rule(group, **values)
    assert cloud.security.get_security_group(ADMIN, group["id"]) == before


def test_racing_creates_of_the_same_rule_store_it_once(racing_cloud):
    group = racing_cloud.group("race")
    racers = 6
    barrier = threading.Barrier(racers)
    created, refused, other = [], [], []

    def create():
        barrier.wait()
        try:
            created.append(racing_cloud.rule(group, protocol="tcp", port_range_min=22, port_range_max=22,
                                             remote_ip_prefix="192.0.2.0/24"))
        except sg_exc.SecurityGroupRuleExists as error:
            refused.append(error)
        except Exception as error:  # noqa: BLE001 - reported below
            other.append(error)

    threads = [threading.Thread(target=create) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert other == []
    assert (len(created), len(refused)) == (1, racers - 1)
    stored = [r for r in racing_cloud.security.get_security_group(ADMIN, group["id"])["security_group_rules"]
              if r["protocol"] == "tcp"]
    assert [r["id"] for r in stored] == [created[0]["id"]]


def test_rules_in_another_projects_group_are_refused(cloud):
    theirs = cloud.group("theirs", project="p2")
    mine = cloud.group("mine", project="p1")
    with pytest.raises(sg_exc.SecurityGroupNotFound):
        cloud.rule(theirs, context=member("p1"), project_id="p1")
    with pytest.raises(sg_exc.SecurityGroupNotFound):
        cloud.rule(mine, context=member("p1"), remote_group_id=theirs["id"])
    # An admin may add a rule to any group; it belongs to the group's project.
    rule = cloud.rule(theirs, project_id="admin")
    assert rule["project_id"] == "p2"
    assert rule["id"] in [r["id"] for r in cloud.security.get_security_group_rules(member("p2"))]
    assert rule["id"] not in [r["id"] for r in cloud.security.get_security_group_rules(member("p1"))]


def test_bulk_rule_create_is_all_or_nothing(cloud):
    group = cloud.group("bulk")
    good = {"security_group_id": group["id"], "project_id": "p1", "direction": "ingress", "ethertype": "IPv4",
            "protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": None,
            "remote_group_id": None}
    with pytest.raises(sg_exc.SecurityGroupRuleExists):
        cloud.security.create_security_group_rule_bulk(ADMIN, {"security_group_rules": [
            {"security_group_rule": good}, {"security_group_rule": dict(good)}]})
    assert len(cloud.security.get_security_group(ADMIN, group["id"])["security_group_rules"]) == 2
    created = cloud.security.create_security_group_rule_bulk(ADMIN, {"security_group_rules": [
        {"security_group_rule": good}, {"security_group_rule": dict(good, port_range_min=80, port_range_max=80)}]})
    assert [r["port_range_min"] for r in created] == [22, 80]


def test_rule_list_filters_sorts_and_pages(cloud):
    group = cloud.group("paged")
    for port in (22, 80, 443):
        cloud.rule(group, protocol="tcp", port_range_min=port, port_range_max=port)
    listed = cloud.security.get_security_group_rules(
        ADMIN, filters={"security_group_id": [group["id"]], "protocol": ["tcp"]},
        sorts=[("port_range_min", False)])
    assert [r["port_range_min"] for r in listed] == [443, 80, 22]
    page = cloud.security.get_security_group_rules(
        ADMIN, filters={"security_group_id": [group["id"]], "protocol": ["tcp"]},
        sorts=[("port_range_min", True)], limit=2, fields=["id", "port_range_min"])
    assert [r["port_range_min"] for r in page] == [22, 80] and set(page[0]) == {"id", "port_range_min"}
    rest = cloud.security.get_security_group_rules(
        ADMIN, filters={"security_group_id": [group["id"]], "protocol": ["tcp"]},
        sorts=[("port_range_min", True)], limit=2, marker=page[-1]["id"])
    assert [r["port_range_min"] for r in rest] == [443]
    by_cidr = cloud.security.get_security_group_rules(ADMIN, filters={"normalized_cidr": ["0.0.0.0/0"]})
    assert by_cidr == []


# --- ports ---------------------------------------------------------------------

def test_port_security_is_inherited_from_the_network(cloud):
    secured, open_net = cloud.network(), cloud.network(port_security_enabled=False)
    assert (secured["port_security_enabled"], open_net["port_security_enabled"]) == (True, False)
    assert cloud.core.get_network(ADMIN, open_net["id"])["port_security_enabled"] is False
    plain = cloud.port(open_net)
    assert (plain["port_security_enabled"], plain["security_groups"], plain["allowed_address_pairs"]) == (
        False, [], [])
    default = cloud.default_group("p1")
    port = cloud.port(secured)
    assert port["port_security_enabled"] is True and port["security_groups"] == [default["id"]]
    dhcp = cloud.port(secured, device_owner="network:dhcp")
    assert dhcp["security_groups"] == [] and dhcp["port_security_enabled"] is True
    # Changing the network later leaves its ports as they are.
    cloud.core.update_network(ADMIN, secured["id"], {"network": {"port_security_enabled": False}})
    assert cloud.core.get_port(ADMIN, port["id"])["port_security_enabled"] is True
    assert cloud.port(secured)["port_security_enabled"] is False


def test_groups_and_pairs_need_port_security(cloud):
    network = cloud.network()
    group = cloud.group("web")
    with pytest.raises(sg_exc.PortSecurityAndIPRequiredForSecurityGroups) as error:
        cloud.port(network, port_security_enabled=False, security_groups=[group["id"]])
    assert error.value.status == 400
    with pytest.raises(sg_exc.AddressPairAndPortSecurityRequired) as error:
        cloud.port(network, port_security_enabled=False, allowed_address_pairs=[{"ip_address": "10.0.0.9"}])
    assert error.value.status == 409
    port = cloud.port(network, security_groups=[group["id"]])
    with pytest.raises(sg_exc.PortSecurityPortHasSecurityGroup) as error:
        cloud.core.update_port(ADMIN, port["id"], {"port": {"port_security_enabled": False}})
    assert error.value.status == 409
    updated = cloud.core.update_port(ADMIN, port["id"], {"port": {"port_security_enabled": False,
                                                                   "security_groups": []}})
    assert (updated["port_security_enabled"], updated["security_groups"]) == (False, [])
    with pytest.raises(sg_exc.PortSecurityAndIPRequiredForSecurityGroups):
        cloud.core.update_port(ADMIN, port["id"], {"port": {"security_groups": [group["id"]]}})
    with pytest.raises(sg_exc.AddressPairAndPortSecurityRequired):
        cloud.core.update_port(ADMIN, port["id"], {"port": {"allowed_address_pairs": [{"ip_address": "10.0.0.9"}]}})
    # Nothing of the refused updates was kept.
    assert cloud.core.get_port(ADMIN, port["id"])["revision_number"] == updated["revision_number"]


def test_port_groups_must_exist_and_belong_to_the_ports_project(cloud):
    network = cloud.network()
    theirs = cloud.group("theirs", project="p2")
    with pytest.raises(sg_exc.SecurityGroupNotFound) as error:
        cloud.port(network, context=member("p1"), security_groups=[theirs["id"]])
    assert theirs["id"] in error.value.msg
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(sg_exc.SecurityGroupNotFound):
        cloud.port(network, security_groups=[missing])
    with db_api.reader_scope() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(models.SecurityGroupPortBinding)) == 0


def test_address_pairs_take_the_ports_mac_and_are_checked(cloud):
    network = cloud.network()
    port = cloud.port(network, allowed_address_pairs=[
        {"ip_address": "10.0.0.200"}, {"ip_address": "10.0.1.0/24", "mac_address": "fa:16:3e:00:00:09"}])
    assert port["allowed_address_pairs"] == [
        {"ip_address": "10.0.0.200", "mac_address": port["mac_address"]},
        {"ip_address": "10.0.1.0/24", "mac_address": "fa:16:3e:00:00:09"}]
    with pytest.raises(sg_exc.DuplicateAddressPairInRequest):
        cloud.core.update_port(ADMIN, port["id"], {"port": {"allowed_address_pairs": [
            {"ip_address": "10.0.0.5"}, {"ip_address": "10.0.0.5", "mac_address": port["mac_address"]}]}})
    with pytest.raises(sg_exc.AllowedAddressPairExhausted):
        cloud.core.update_port(ADMIN, port["id"], {"port": {"allowed_address_pairs": [
            {"ip_address": "10.0.0.%d" % i} for i in range(11)]}})
    cleared = cloud.core.update_port(ADMIN, port["id"], {"port": {"allowed_address_pairs": []}})
    assert cleared["allowed_address_pairs"] == []


def test_port_membership_changes_are_told_after_commit(cloud):
    network = cloud.network()
    cloud.subnet(network)
    web, db = cloud.group("web"), cloud.group("db")
    sent = cloud.security.notifier.sent
    sent.clear()
    port = cloud.port(network, security_groups=[web["id"]])
    assert sent == [("member", [web["id"]])]
    cloud.core.update_port(ADMIN, port["id"], {"port": {"name": "renamed"}})
    assert sent == [("member", [web["id"]])]
    cloud.core.update_port(ADMIN, port["id"], {"port": {"security_groups": [db["id"]]}})
    assert sent[-1] == ("member", sorted([web["id"], db["id"]]))
    cloud.core.update_port(ADMIN, port["id"], {"port": {"allowed_address_pairs": [{"ip_address": "10.0.0.99"}]}})
    assert sent[-1] == ("member", [db["id"]])
    cloud.rule(web, protocol="icmp")
    assert sent[-1] == ("rule", [web["id"]])
    cloud.core.delete_port(ADMIN, port["id"])
    assert sent[-1] == ("member", [db["id"]])
    refused = len(sent)
    with pytest.raises(sg_exc.SecurityGroupRuleExists):
        cloud.rule(web, protocol="icmp")
    assert len(sent) == refused


def test_listing_many_ports_reads_each_side_table_once(cloud):
    network = cloud.network()
    group = cloud.group("many")

    def create(count):
        cloud.core.create_port_bulk(ADMIN, {"ports": [{"port": {
            "project_id": "p1", "network_id": network["id"], "security_groups": [group["id"]],
            "allowed_address_pairs": [{"ip_address": "10.9.0.%d" % (i % 250 + 1)}]}} for i in range(count)]})

    def statements_to_list():
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
        sa.event.listen(db_api.get_engine(), "before_cursor_execute", listener)
        try:
            started = time.monotonic()
            ports = cloud.core.get_ports(ADMIN)
            return ports, len(seen), time.monotonic() - started
        finally:
            sa.event.remove(db_api.get_engine(), "before_cursor_execute", listener)

    create(20)
    few, few_statements, _ = statements_to_list()
    create(480)
    many, many_statements, elapsed = statements_to_list()
    assert len(few) == 20 and len(many) == 500
    assert all(p["security_groups"] == [group["id"]] and len(p["allowed_address_pairs"]) == 1 for p in many)
    # One chunk of 500 ids each way: no query per port.
    assert many_statements == few_statements
    assert elapsed < 20


# --- what the agents get -----------------------------------------------------------

def test_security_group_info_for_devices_has_the_contracts_shape(cloud):
    network = cloud.network()
    subnet = cloud.subnet(network)
    web, db = cloud.group("web"), cloud.group("db")
    cloud.rule(db, protocol="tcp", port_range_min=5432, port_range_max=5432, remote_group_id=web["id"])
    cloud.rule(db, ethertype="IPv6", protocol="icmpv6")
    app = cloud.port(network, security_groups=[web["id"]],
                     allowed_address_pairs=[{"ip_address": "10.0.0.200"}])
    database = cloud.port(network, security_groups=[db["id"]], device_owner="compute:nova")
    endpoint = cloud.security.rpc_endpoints()["q-plugin"][0]
    info = endpoint.security_group_info_for_devices(ADMIN, devices=[database["id"], "not-a-port"])
    assert set(info) == {"devices", "security_groups", "sg_member_ips"}
    assert info["devices"] == {database["id"]: {
        "id": database["id"], "device": database["id"], "network_id": network["id"],
        "mac_address": database["mac_address"], "fixed_ips": [database["fixed_ips"][0]["ip_address"]],
        "allowed_address_pairs": [], "port_security_enabled": True, "security_groups": [db["id"]],
        "device_owner": "compute:nova", "stateful": True}}
    assert database["fixed_ips"][0]["subnet_id"] == subnet["id"]
    rules = info["security_groups"][db["id"]]
    assert {(r["direction"], r["ethertype"], r["protocol"], r["port_range_min"], r["remote_group_id"])
            for r in rules} == {("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None),
                                ("ingress", "IPv4", "tcp", 5432, web["id"]),
                                ("ingress", "IPv6", "ipv6-icmp", None, None)}
    assert set(rules[0]) == {"id", "security_group_id", "direction", "ethertype", "protocol", "port_range_min",
                             "port_range_max", "remote_ip_prefix", "remote_group_id"}
    assert info["sg_member_ips"] == {web["id"]: {
        "IPv4": sorted([app["fixed_ips"][0]["ip_address"], "10.0.0.200"]), "IPv6": []}}


def test_rpc_answers_and_casts_travel_over_the_in_process_transport(cloud):
    import queue

    import oslo_messaging

    from netweave.core.agent import notifications
    from netweave.core.rpc import serializer, topics
    from netweave.core.rpc import servers as rpc_servers
    from netweave.core.rpc import transport as rpc_transport
    from netweave.service_plugins.port_security import notifier as sg_notifier

    rpc_transport.register_opts(cfg.CONF)
    bus = oslo_messaging.get_rpc_transport(cfg.CONF, url="fake://")
    notifier = sg_notifier.SecurityGroupAgentNotifier()
    notifier.connect(bus)
    cloud.security.notifier = cloud.security.groups.notifier = cloud.security.membership.notifier = notifier
    received = queue.Queue()

    class Agent:
        def security_groups_rule_updated(self, context, security_groups=None, **_kwargs):
            received.put(("rule", security_groups))

        def security_groups_member_updated(self, context, security_groups=None, **_kwargs):
            received.put(("member", security_groups))

    server = rpc_servers.RpcServers(bus, rpc_servers.collect_endpoints([cloud.core, cloud.security]), "sg-server")
    consumers = notifications.create_consumers(bus, "sg-agent", [Agent()],
                                               subscriptions=[(sg_topics.SECURITY_GROUP, topics.UPDATE)])
    server.start()
    consumers.start()
    try:
        network = cloud.network()
        cloud.subnet(network)
        group = cloud.group("rpc")
        port = cloud.port(network, security_groups=[group["id"]])
        assert received.get(timeout=30) == ("member", [group["id"]])
        rule = cloud.rule(group, protocol="tcp", port_range_min=22, port_range_max=22)
        assert received.get(timeout=30) == ("rule", [group["id"]])
        client = oslo_messaging.get_rpc_client(bus, oslo_messaging.Target(topic=topics.PLUGIN, version="1.3"),
                                               serializer=serializer.ContextSerializer())
        info = client.prepare(timeout=60).call(ADMIN, "security_group_info_for_devices", devices=[port["id"]])
        assert list(info["devices"]) == [port["id"]]
        assert info["devices"][port["id"]]["fixed_ips"] == [port["fixed_ips"][0]["ip_address"]]
        assert rule["id"] in [r["id"] for r in info["security_groups"][group["id"]]]
        assert info["sg_member_ips"] == {}
        # The agents' own client of this call gets the same answer.
        from netweave.service_plugins.port_security import agent_rpc
        assert agent_rpc.SecurityGroupServerApi(bus).security_group_info_for_devices(ADMIN, [port["id"]]) == info
    finally:
        consumers.stop()
        server.stop()
        bus.cleanup()


def test_device_details_carry_port_security_and_address_pairs_to_the_l2_agents(cloud):
    from netweave.core import naming

    cloud.core.agents.report_state(ADMIN, ml2_plugin.linuxbridge_state("sg-host"))
    network = cloud.network()
    cloud.subnet(network)
    filtered = cloud.port(network, **{"binding:host_id": "sg-host",
                                      "allowed_address_pairs": [{"ip_address": "10.0.0.0/28"}]})
    open_port = cloud.port(network, **{"binding:host_id": "sg-host", "port_security_enabled": False,
                                       "security_groups": []})
    details = {d["port_id"]: d for d in cloud.core.devices.get_devices_details_list(
        ADMIN, [naming.tap_device(filtered["id"]), naming.tap_device(open_port["id"])], "lb-sg", "sg-host")}
    assert details[filtered["id"]]["port_security_enabled"] is True
    assert details[filtered["id"]]["allowed_address_pairs"] == [
        {"ip_address": "10.0.0.0/28", "mac_address": filtered["mac_address"]}]
    assert (details[open_port["id"]]["port_security_enabled"], details[open_port["id"]]["allowed_address_pairs"]) == (
        False, [])


# --- sharing through rbac-policies -------------------------------------------------

def _share(cloud, group, target, context=ADMIN):
    return cloud.core.create_rbac_policy(context, {"rbac_policy": {
        "project_id": group["project_id"], "object_type": "security_group", "object_id": group["id"],
        "action": "access_as_shared", "target_tenant": target}})


def test_a_policy_shares_a_group_until_the_group_goes(cloud):
    network = cloud.network(project="p1", shared=True)
    cloud.subnet(network)
    group = cloud.group("SHARED", project="p1")
    with pytest.raises(sg_exc.SecurityGroupNotFound):
        cloud.port(network, member("p2"), project_id="p2", security_groups=[group["id"]])
    everyone = _share(cloud, group, "*")
    one = _share(cloud, group, "p2", context=member("p1"))
    with pytest.raises(exc.DuplicateRbacPolicy):
        _share(cloud, group, "p2")
    port = cloud.port(network, member("p2"), project_id="p2", security_groups=[group["id"]])
    assert port["security_groups"] == [group["id"]]
    # Another policy still lets p2 in: either may go, but not both.
    cloud.core.delete_rbac_policy(ADMIN, everyone["id"])
    with pytest.raises(exc.RbacPolicyInUse):
        cloud.core.delete_rbac_policy(ADMIN, one["id"])
    seen = cloud.security.get_security_group(member("p2"), group["id"])
    assert seen["shared"] is True and seen["id"] == group["id"]
    cloud.core.delete_port(ADMIN, port["id"])
    # The group's policies go with it (foreign key cascade).
    cloud.security.delete_security_group(ADMIN, group["id"])
    with db_api.reader_scope() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(models.SecurityGroupRBAC)) == 0
    assert cloud.core.get_rbac_policies(ADMIN, filters={"object_type": ["security_group"]}) == []


def test_a_port_of_stateless_groups_is_stateless_for_its_agent(cloud):
    network = cloud.network()
    cloud.subnet(network)
    group = cloud.security.create_security_group(ADMIN, {"security_group": {
        "project_id": "p1", "name": "UDP", "description": "", "stateful": False}})
    port = cloud.port(network, security_groups=[group["id"]])
    plain = cloud.port(network)
    info = cloud.security.groups.info_for_devices([port["id"], plain["id"]])
    assert info["devices"][port["id"]]["stateful"] is False
    assert info["devices"][plain["id"]]["stateful"] is True
    with pytest.raises(sg_exc.SecurityGroupInUse):
        cloud.security.update_security_group(ADMIN, group["id"], {"security_group": {"stateful": True}})
