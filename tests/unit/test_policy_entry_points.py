"""The enforcer's defaults come from every ``netweave*`` oslo.policy.policies entry point.

The core declares its own rules; port_security's (security groups, port security,
allowed address pairs) come from its ``netweave.port_security`` entry point. Broken
entry points are declared by a real tiny distribution (a ``*.dist-info`` folder on
sys.path) and must be named in the error.
"""
import importlib
import importlib.metadata

import pytest

from netweave.core import context, exceptions, policy, policy_rules
from netweave.service_plugins.port_security import policies as port_security_policies

PORT_SECURITY_RULES = {"create_security_group", "get_security_group", "update_security_group",
                       "delete_security_group", "create_security_group_rule", "get_security_group_rule",
                       "update_security_group_rule", "delete_security_group_rule",
                       "create_network:port_security_enabled", "update_network:port_security_enabled",
                       "create_port:port_security_enabled", "update_port:port_security_enabled",
                       "create_port:allowed_address_pairs", "update_port:allowed_address_pairs",
                       "shared_security_group", "create_default_security_group_rule",
                       "get_default_security_group_rule", "delete_default_security_group_rule"}


@pytest.fixture(autouse=True)
def fresh_enforcer():
    policy.reset()
    yield
    policy.reset()


def _install_distribution(tmp_path, monkeypatch, lines, modules=None):
    info = tmp_path / "broken_policies-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-policies\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[oslo.policy.policies]\n%s\n" % "\n".join(lines))
    for name, text in (modules or {}).items():
        (tmp_path / (name + ".py")).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()


def test_port_security_rules_are_the_plugins_not_the_cores():
    core = {rule.name for rule in policy_rules.list_rules()}
    plugin = {rule.name for rule in port_security_policies.list_rules()}
    assert plugin == PORT_SECURITY_RULES
    assert not core & plugin


def test_plugin_rules_document_their_operations():
    rules = {rule.name: rule for rule in port_security_policies.list_rules()}
    assert rules["get_security_group"].operations == [
        {"method": "GET", "path": "/security-groups"}, {"method": "GET", "path": "/security-groups/{id}"}]
    assert rules["update_port:allowed_address_pairs"].operations == [{"method": "PUT", "path": "/ports/{id}"}]


def test_entry_point_names_the_plugin_rules():
    (entry_point,) = importlib.metadata.entry_points(group="oslo.policy.policies", name="netweave.port_security")
    assert entry_point.load() is port_security_policies.list_rules


def test_enforcer_registers_core_and_plugin_defaults():
    names = [rule.name for rule in policy.default_rules()]
    assert names[:len(policy_rules.list_rules())] == [r.name for r in policy_rules.list_rules()]
    assert PORT_SECURITY_RULES <= set(names)
    enforcer = policy.init()
    assert PORT_SECURITY_RULES <= set(enforcer.rules)
    assert enforcer.check_rules(raise_on_violation=True)


def test_plugin_rules_are_enforced():
    owner = context.Context(user_id="u", project_id="project-a", roles=["member"])
    other = context.Context(user_id="v", project_id="project-b", roles=["member"])
    group = {"tenant_id": "project-a", "project_id": "project-a"}
    assert policy.check(owner, "get_security_group", group)
    assert not policy.check(other, "get_security_group", group)
    port = {"tenant_id": "project-b", "network:tenant_id": "project-a", "allowed_address_pairs": []}
    with pytest.raises(exceptions.PolicyNotAuthorized, match="create_port:allowed_address_pairs"):
        policy.enforce_attributes(other, "create_port", port, ["allowed_address_pairs"])


def test_other_projects_policy_entry_points_are_ignored(tmp_path, monkeypatch):
    _install_distribution(tmp_path, monkeypatch, ["somebody_else = no_such_module_at_all:list_rules"])
    assert PORT_SECURITY_RULES <= {rule.name for rule in policy.default_rules()}


def test_broken_netweave_policy_entry_point_is_named(tmp_path, monkeypatch):
    _install_distribution(tmp_path, monkeypatch, ["netweave.broken = no_such_module_at_all:list_rules"])
    with pytest.raises(policy.PolicyLoadError) as raised:
        policy.init()
    assert "'netweave.broken = no_such_module_at_all:list_rules'" in str(raised.value)
    assert "oslo.policy.policies" in str(raised.value)
    # Nothing half-built was kept: the next try fails the same way.
    with pytest.raises(policy.PolicyLoadError):
        policy.init()


def test_rule_declared_twice_is_refused(tmp_path, monkeypatch):
    _install_distribution(tmp_path, monkeypatch, ["netweave.copycat = broken_policy_copy:list_rules"], {
        "broken_policy_copy": ("from oslo_policy import policy\n"
                               "def list_rules():\n"
                               "    return [policy.RuleDefault('get_security_group', 'rule:admin_only')]\n")})
    with pytest.raises(policy.PolicyLoadError) as raised:
        policy.default_rules()
    message = str(raised.value)
    assert "'get_security_group' is declared by" in message
    assert "'netweave.copycat = broken_policy_copy:list_rules'" in message and "netweave.port_security" in message
