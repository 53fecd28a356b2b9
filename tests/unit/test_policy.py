"""Default policies with Neutron's decisions, checked through the real oslo.policy engine."""
import importlib.metadata

import pytest
from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from netweave.core import context, exceptions, policy, policy_rules

NETWORK_ATTRIBUTES = ["id", "name", "tenant_id", "shared", "router:external",
                      "provider:network_type", "provider:physical_network",
                      "provider:segmentation_id"]
PROVIDER_ATTRIBUTES = ["provider:network_type", "provider:physical_network",
                       "provider:segmentation_id"]


@pytest.fixture(autouse=True)
def fresh_enforcer():
    policy.reset()
    yield
    policy.reset()


def member(project_id):
    return context.Context(project_id=project_id, user_id="user-" + project_id, roles=["member"])


ADMIN = context.Context(project_id="admin-project", user_id="admin", roles=["admin"])
OWNER = member("project-a")
OTHER = member("project-b")
ADVSVC = context.Context(project_id="service", user_id="svc", roles=["advsvc"])
SERVICE = context.Context(project_id="service", user_id="nova", roles=["service"])


def reader(project_id):
    return context.Context(project_id=project_id, user_id="reader-" + project_id, roles=["reader"])


def network(tenant_id="project-a", shared=False, external=False):
    return {"id": "net-1", "name": "net", "tenant_id": tenant_id, "project_id": tenant_id,
            "shared": shared, "router:external": external, "provider:network_type": "vxlan",
            "provider:physical_network": None, "provider:segmentation_id": 36}


def port_on(network_owner, port_owner, network_shared=False, **attributes):
    target = {"tenant_id": port_owner, "project_id": port_owner, "network_id": "net-1",
              "network:tenant_id": network_owner, "network:shared": network_shared}
    target.update(attributes)
    return target


def conf_with_policy_file(tmp_path, policy_text, policy_file_option=None):
    """A parsed configuration whose folder holds policy.yaml, as a deployment has it."""
    (tmp_path / "policy.yaml").write_text(policy_text)
    conf_file = tmp_path / "netweave.conf"
    conf_file.write_text("[oslo_policy]\npolicy_file = %s\n" % policy_file_option
                         if policy_file_option else "[DEFAULT]\n")
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(conf_file)], project="netweave", default_config_files=[])
    return conf


# -- the rule set itself ----------------------------------------------------

def test_rule_names_are_unique_and_documented():
    rules = policy_rules.list_rules()
    names = [rule.name for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        if isinstance(rule, oslo_policy.DocumentedRuleDefault):
            assert rule.description and rule.operations


def test_every_rule_reference_is_defined():
    enforcer = policy.init()
    assert enforcer.check_rules(raise_on_violation=True)


def test_new_default_check_strings_match_neutron():
    check_strings = {rule.name: rule.check_str for rule in policy_rules.list_rules()}
    assert check_strings["admin_or_project_member"] == "(rule:admin_only) or (rule:project_member)"
    assert check_strings["project_member"] == "role:member and project_id:%(project_id)s"
    assert check_strings["project_reader"] == "role:reader and project_id:%(project_id)s"
    assert check_strings["service_api"] == "role:service"
    assert check_strings["net_owner_member"] == "role:member and rule:network_owner"
    assert check_strings["get_network"] == (
        "rule:admin_or_project_reader or rule:shared or rule:external or rule:service_api")
    assert check_strings["create_network"] == "rule:admin_or_project_member"
    assert check_strings["create_subnet"] == "rule:admin_or_net_owner_member"
    assert check_strings["create_port:binding:host_id"] == "rule:admin_or_service"
    assert check_strings["create_network:shared"] == "rule:admin_only"
    assert check_strings["default"] == "rule:admin_or_owner"


def test_legacy_check_strings_match_neutron():
    legacy = {rule.name: rule.deprecated_rule.check_str for rule in policy_rules.list_rules()
              if getattr(rule, "deprecated_rule", None) is not None}
    assert legacy["get_network"] == (
        "rule:admin_or_owner or rule:shared or rule:external or rule:context_is_advsvc")
    assert legacy["create_network"] == "rule:regular_user"
    assert legacy["update_network"] == "rule:admin_or_owner"
    assert legacy["create_subnet"] == "rule:admin_or_network_owner"
    assert legacy["get_port"] == "rule:context_is_advsvc or rule:admin_owner_or_network_owner"
    base = {rule.name: rule.check_str for rule in policy_rules.list_rules()}
    assert base["admin_or_network_owner"] == "rule:context_is_admin or tenant_id:%(network:tenant_id)s"
    assert base["restrict_wildcard"] == "(not field:rbac_policy:target_tenant=*) or rule:admin_only"


def test_api_rules_are_project_scoped_and_unchanged_rules_have_no_deprecated_rule():
    rules = {rule.name: rule for rule in policy_rules.list_rules()}
    assert rules["get_network"].scope_types == ["project"]
    assert rules["create_network:shared"].deprecated_rule is None
    assert rules["context_is_admin"].scope_types is None


def test_operations_follow_the_rule_name():
    rules = {rule.name: rule for rule in policy_rules.list_rules()}
    assert rules["get_network"].operations == [
        {"method": "GET", "path": "/networks"}, {"method": "GET", "path": "/networks/{id}"}]
    assert rules["update_rbac_policy:target_tenant"].operations == [
        {"method": "PUT", "path": "/rbac-policies/{id}"}]


def test_entry_points_reach_the_rules_and_the_enforcer():
    policies = importlib.metadata.entry_points(group="oslo.policy.policies", name="netweave")
    enforcers = importlib.metadata.entry_points(group="oslo.policy.enforcer", name="netweave")
    assert list(policies)[0].load() is policy_rules.list_rules
    assert list(enforcers)[0].load() is policy.get_enforcer


# -- networks ------------------------------------------------------------------

@pytest.mark.parametrize("caller, allowed", [(ADMIN, True), (OWNER, True), (OTHER, False),
                                             (SERVICE, True), (ADVSVC, False),
                                             (reader("project-a"), True), (reader("project-b"), False)])
def test_private_network_is_seen_by_its_project_admin_and_service_only(caller, allowed):
    assert policy.check(caller, "get_network", network()) is allowed


@pytest.mark.parametrize("shared, external", [(True, False), (False, True)])
def test_shared_or_external_network_is_seen_by_other_projects(shared, external):
    assert policy.check(OTHER, "get_network", network(shared=shared, external=external))


def test_member_may_create_a_plain_network():
    target = network()
    policy.enforce(OWNER, "create_network", target)
    # shared/router:external at their defaults are not checked, as in Neutron.
    assert policy.enforce_attributes(OWNER, "create_network", target, ["name", "shared", "router:external"],
                                     defaults={"shared": False, "router:external": False})


@pytest.mark.parametrize("attribute", ["shared", "router:external", "provider:network_type"])
def test_member_may_not_set_admin_attributes_on_create(attribute):
    target = dict(network(), **{attribute: True if attribute != "provider:network_type" else "vlan"})
    with pytest.raises(exceptions.PolicyNotAuthorized) as raised:
        policy.enforce_attributes(OWNER, "create_network", target, [attribute],
                                  defaults={"shared": False, "router:external": False})
    assert raised.value.status == 403
    assert str(raised.value) == (
        "(rule:create_network and rule:create_network:%s) is disallowed by policy" % attribute)


def test_admin_may_create_shared_provider_network():
    target = dict(network(shared=True), **{"provider:network_type": "vlan"})
    assert policy.enforce_attributes(ADMIN, "create_network", target, ["shared", "provider:network_type"])


def test_other_project_may_not_update_or_delete_a_network():
    for action in ("update_network", "delete_network"):
        with pytest.raises(exceptions.PolicyNotAuthorized) as raised:
            policy.enforce(OTHER, action, network(shared=True))
        assert str(raised.value) == "(rule:%s) is disallowed by policy" % action
        assert policy.check(OWNER, action, network())


def test_owner_may_not_update_shared_flag():
    with pytest.raises(exceptions.PolicyNotAuthorized):
        policy.enforce_attributes(OWNER, "update_network", network(shared=True), ["shared"])


def test_provider_attributes_are_hidden_from_non_admins():
    visible = policy.filter_visible_attributes(OTHER, "get_network", network(external=True),
                                               NETWORK_ATTRIBUTES)
    assert not set(PROVIDER_ATTRIBUTES) & set(visible)
    assert {"id", "name", "shared", "router:external"} <= set(visible)
    assert policy.filter_visible_attributes(ADMIN, "get_network", network(),
                                            NETWORK_ATTRIBUTES) == NETWORK_ATTRIBUTES


# -- subnets -------------------------------------------------------------------

def test_subnet_create_needs_the_network_owner():
    subnet = {"tenant_id": "project-b", "network_id": "net-1", "network:tenant_id": "project-a"}
    assert not policy.check(OTHER, "create_subnet", subnet)
    assert policy.check(OWNER, "create_subnet", dict(subnet, tenant_id="project-a"))
    assert policy.check(ADMIN, "create_subnet", subnet)


def test_subnet_of_shared_network_is_visible_to_everyone():
    subnet = {"tenant_id": "project-a", "network:tenant_id": "project-a"}
    assert not policy.check(OTHER, "get_subnet", dict(subnet, shared=False))
    assert policy.check(OTHER, "get_subnet", dict(subnet, shared=True))


def test_only_admin_sets_subnet_service_types():
    subnet = {"tenant_id": "project-a", "network:tenant_id": "project-a",
              "service_types": ["compute:nova"]}
    with pytest.raises(exceptions.PolicyNotAuthorized):
        policy.enforce_attributes(OWNER, "create_subnet", subnet, ["service_types"])


# -- subnet pools --------------------------------------------------------------

def test_shared_subnetpool_is_visible_and_only_admin_makes_one():
    pool = {"tenant_id": "project-a", "shared": True}
    assert policy.check(OTHER, "get_subnetpool", pool)
    assert not policy.check(OTHER, "get_subnetpool", dict(pool, shared=False))
    with pytest.raises(exceptions.PolicyNotAuthorized):
        policy.enforce_attributes(OWNER, "create_subnetpool", pool, ["shared"])


# -- ports ---------------------------------------------------------------------

def test_network_owner_may_choose_mac_and_addresses_others_may_not():
    attributes = {"mac_address": "fa:16:3e:00:00:01",
                  "fixed_ips": [{"subnet_id": "sub-1", "ip_address": "10.0.0.5"}]}
    names = list(attributes)
    owner_port = port_on("project-a", "project-a", **attributes)
    assert policy.enforce_attributes(OWNER, "create_port", owner_port, names)
    other_port = port_on("project-a", "project-b", **attributes)
    with pytest.raises(exceptions.PolicyNotAuthorized):
        policy.enforce_attributes(OTHER, "create_port", other_port, names)


def test_on_shared_network_others_may_pick_a_subnet_but_not_an_address():
    by_subnet = port_on("project-a", "project-b", network_shared=True,
                        fixed_ips=[{"subnet_id": "sub-1"}])
    assert policy.enforce_attributes(OTHER, "create_port", by_subnet, ["fixed_ips"])
    by_address = port_on("project-a", "project-b", network_shared=True,
                         fixed_ips=[{"subnet_id": "sub-1", "ip_address": "10.0.0.5"}])
    with pytest.raises(exceptions.PolicyNotAuthorized) as raised:
        policy.enforce_attributes(OTHER, "create_port", by_address, ["fixed_ips"])
    assert "create_port:fixed_ips:ip_address" in str(raised.value)


def test_network_device_owner_is_reserved_to_network_owner():
    dhcp_port = port_on("project-a", "project-b", device_owner="network:dhcp")
    with pytest.raises(exceptions.PolicyNotAuthorized):
        policy.enforce_attributes(OTHER, "create_port", dhcp_port, ["device_owner"])
    compute_port = port_on("project-a", "project-b", device_owner="compute:nova")
    assert policy.enforce_attributes(OTHER, "create_port", compute_port, ["device_owner"])
    assert policy.enforce_attributes(OWNER, "create_port", dict(dhcp_port, tenant_id="project-a"),
                                     ["device_owner"])


def test_network_owner_sees_ports_of_other_projects_on_its_network():
    port = port_on("project-a", "project-b")
    assert policy.check(OWNER, "get_port", port)
    assert policy.check(OTHER, "get_port", port)
    assert not policy.check(member("project-c"), "get_port", port)
    assert policy.check(SERVICE, "get_port", port)


def test_binding_attributes_are_admin_only():
    port = port_on("project-a", "project-a", **{"binding:host_id": "compute01"})
    names = ["id", "binding:host_id", "binding:vif_type", "binding:profile", "binding:vif_details"]
    assert policy.filter_visible_attributes(OWNER, "get_port", port, names) == ["id"]
    with pytest.raises(exceptions.PolicyNotAuthorized):
        policy.enforce_attributes(OWNER, "create_port", port, ["binding:host_id"])


# -- RBAC policies -------------------------------------------------------------

def test_only_admin_may_share_with_every_project():
    wildcard = {"tenant_id": "project-a", "target_tenant": "*", "object_id": "net-1"}
    with pytest.raises(exceptions.PolicyNotAuthorized) as raised:
        policy.enforce_attributes(OWNER, "create_rbac_policy", wildcard, ["target_tenant"])
    assert str(raised.value) == (
        "(rule:create_rbac_policy and rule:create_rbac_policy:target_tenant) is disallowed by policy")
    assert policy.enforce_attributes(ADMIN, "create_rbac_policy", wildcard, ["target_tenant"])
    one_project = dict(wildcard, target_tenant="project-b")
    assert policy.enforce_attributes(OWNER, "create_rbac_policy", one_project, ["target_tenant"])


def test_rbac_policy_belongs_to_its_owner():
    rbac = {"tenant_id": "project-a", "target_tenant": "project-b"}
    assert policy.check(OWNER, "get_rbac_policy", rbac)
    # The target project does not see the policy that shares with it.
    assert not policy.check(OTHER, "get_rbac_policy", rbac)
    with pytest.raises(exceptions.PolicyNotAuthorized):
        policy.enforce_attributes(OTHER, "update_rbac_policy", rbac, ["target_tenant"])


# -- quotas, agents, fallbacks --------------------------------------------------

def test_quota_read_by_its_project_changed_by_admin_only():
    target = {"tenant_id": "project-a"}
    assert policy.check(OWNER, "get_quota", target)
    assert not policy.check(OTHER, "get_quota", target)
    assert not policy.check(OWNER, "update_quota", target)
    assert policy.check(ADMIN, "delete_quota", target)


def test_agents_are_admin_only():
    assert not policy.check(OWNER, "get_agent", {"tenant_id": "project-a"})
    assert policy.check(ADMIN, "update_agent", {})


def test_action_without_rule_falls_back_to_default():
    assert policy.check(OWNER, "get_widget", {"tenant_id": "project-a"})
    assert not policy.check(OTHER, "get_widget", {"tenant_id": "project-a"})
    assert policy.check(OTHER, "get_widget", {"tenant_id": "project-a"}, might_not_exist=True)


def test_check_is_admin_follows_roles():
    assert policy.check_is_admin(ADMIN)
    assert not policy.check_is_admin(OWNER)
    assert policy.check_is_advsvc(ADVSVC)


# -- policy.yaml overrides ------------------------------------------------------

def test_policy_file_in_config_folder_changes_a_decision(tmp_path):
    assert policy.check(OWNER, "create_network", network())
    policy.reset()
    conf = conf_with_policy_file(tmp_path, '"create_network": "rule:admin_only"\n')
    policy.init(conf)
    assert not policy.check(OWNER, "create_network", network())
    assert policy.check(ADMIN, "create_network", network())
    # Rules not in the file keep their defaults.
    assert policy.check(OTHER, "get_network", network(shared=True))


def test_policy_file_can_redefine_the_admin_role(tmp_path):
    conf = conf_with_policy_file(tmp_path, '"context_is_admin": "role:cloud-admin"\n')
    policy.init(conf)
    cloud_admin = context.Context(project_id="p", user_id="u", roles=["cloud-admin"])
    assert policy.check_is_admin(cloud_admin)
    assert not policy.check_is_admin(context.Context(project_id="p", user_id="u", roles=["member"],
                                                     is_admin=False))


def test_policy_file_option_names_another_file(tmp_path):
    custom = tmp_path / "custom-policy.yaml"
    custom.write_text('"get_network": "rule:admin_only"\n')
    conf = conf_with_policy_file(tmp_path, "{}\n", policy_file_option=str(custom))
    policy.init(conf)
    assert not policy.check(OWNER, "get_network", network())


# -- secure RBAC: readers, the service role, scopes, the legacy rules ----------------

@pytest.mark.parametrize("action, target", [
    ("create_network", network()), ("update_network", network()), ("delete_network", network()),
    ("create_subnet", {"tenant_id": "project-a", "network:tenant_id": "project-a"}),
    ("create_port", port_on("project-a", "project-a")), ("update_port", port_on("project-a", "project-a")),
    ("delete_port", port_on("project-a", "project-a")), ("create_subnetpool", {"tenant_id": "project-a"}),
    ("create_address_scope", {"tenant_id": "project-a"}), ("create_rbac_policy", {"tenant_id": "project-a"}),
    ("delete_rbac_policy", {"tenant_id": "project-a"}),
])
def test_reader_may_not_write_what_its_project_owns(action, target):
    assert not policy.check(reader("project-a"), action, target)
    assert policy.check(OWNER, action, target)


@pytest.mark.parametrize("action, target", [
    ("get_network", network()), ("get_subnet", {"tenant_id": "project-a"}),
    ("get_port", port_on("project-a", "project-a")), ("get_quota", {"tenant_id": "project-a"}),
    ("get_rbac_policy", {"tenant_id": "project-a"}), ("get_subnetpool", {"tenant_id": "project-a"}),
])
def test_reader_reads_what_its_project_owns(action, target):
    assert policy.check(reader("project-a"), action, target)
    assert not policy.check(reader("project-b"), action, target)


def test_roles_imply_the_ones_below_them_as_keystone_defaults_do():
    assert policy.with_implied_roles(["Member"]) == ["member", "reader"]
    assert policy.with_implied_roles(["admin"]) == ["admin", "manager", "member", "reader"]
    assert policy.with_implied_roles(["service"]) == ["service"]
    # A manager writes as a member does.
    manager = context.Context(project_id="project-a", user_id="m", roles=["manager"])
    assert policy.check(manager, "update_network", network())


def test_service_role_binds_ports_but_members_may_not():
    port = port_on("project-a", "project-a", **{"binding:host_id": "compute01"})
    assert policy.enforce_attributes(SERVICE, "update_port", port, ["binding:host_id"])
    assert policy.check(SERVICE, "get_port:binding:vif_type", port)
    with pytest.raises(exceptions.PolicyNotAuthorized):
        policy.enforce_attributes(OWNER, "update_port", port, ["binding:host_id"])


def test_project_owner_key_is_either_project_id_or_tenant_id():
    assert policy.check(OWNER, "update_network", {"tenant_id": "project-a"})
    assert policy.check(OWNER, "update_network", {"project_id": "project-a"})


def test_system_scoped_credentials_fail_project_scoped_rules():
    system_reader = context.Context(user_id="auditor", roles=["reader"], system_scope="all")
    assert not policy.check(system_reader, "get_network", network(shared=True))
    assert not policy.check(system_reader, "get_service_provider", {})


def _legacy_conf(tmp_path, policy_text=None):
    conf_file = tmp_path / "netweave.conf"
    conf_file.write_text("[oslo_policy]\nenforce_new_defaults = false\n")
    if policy_text is not None:
        (tmp_path / "policy.yaml").write_text(policy_text)
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(conf_file)], project="netweave", default_config_files=[])
    return conf


def test_new_defaults_are_the_default_of_a_parsed_configuration(tmp_path):
    conf = conf_with_policy_file(tmp_path, "{}\n")
    policy.init(conf)
    assert conf.oslo_policy.enforce_new_defaults is True
    assert not policy.check(reader("project-a"), "update_network", network())


def test_enforce_new_defaults_false_brings_the_legacy_rules_back(tmp_path):
    policy.init(_legacy_conf(tmp_path))
    # Legacy rules know owners, not roles: a reader writes, advsvc reads.
    assert policy.check(reader("project-a"), "update_network", network())
    assert policy.check(reader("project-a"), "create_network", network())
    assert policy.check(ADVSVC, "get_network", network())
    assert not policy.check(reader("project-b"), "update_network", network())
    # The new defaults still apply beside them.
    assert policy.check(SERVICE, "get_network", network())


def test_legacy_mode_keeps_a_policy_file_rule_as_written(tmp_path):
    policy.init(_legacy_conf(tmp_path, '"update_network": "rule:admin_only"\n'))
    assert not policy.check(OWNER, "update_network", network())
    assert policy.check(reader("project-a"), "delete_network", network())


def test_legacy_mode_without_parsed_configuration():
    conf = cfg.ConfigOpts()
    policy.init(conf)
    assert not policy.check(reader("project-a"), "delete_network", network())
    policy.reset()
    conf.set_override("enforce_new_defaults", False, group="oslo_policy")
    policy.init(conf)
    assert policy.check(reader("project-a"), "delete_network", network())


def test_plugin_rules_without_a_legacy_string_keep_their_check():
    rules = policy_rules.api_rules([("create_widget", "rule:admin_or_owner", "Create a widget"),
                                    ("get_widget", "rule:admin_or_project_reader", "rule:admin_or_owner",
                                     "Get a widget")], {"widget": "/widgets"})
    assert [(r.name, r.check_str, r.deprecated_rule) for r in rules][0] == (
        "create_widget", "rule:admin_or_owner", None)
    assert rules[1].deprecated_rule.check_str == "rule:admin_or_owner"
    assert rules[1].operations == [{"method": "GET", "path": "/widgets"}, {"method": "GET", "path": "/widgets/{id}"}]


def test_system_scoped_admin_does_not_skip_project_scoped_rules():
    system_admin = context.Context(user_id="root", roles=["admin"], system_scope="all")
    assert system_admin.is_admin
    assert not policy.check(system_admin, "get_network", network())
    assert policy.check(ADMIN, "get_network", network())
    assert policy.check(context.get_admin_context(), "update_network", network())
    # The middlewares ask check_is_admin, which wants project scope.
    assert not policy.check_is_admin(system_admin)
    assert policy.check_is_admin(ADMIN)
