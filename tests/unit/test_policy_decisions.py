"""policy.Decisions: the answers policy.check gives, each rule evaluated once per kind of target."""
import itertools
import os

import pytest
from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from harness import policy_probe
from netweave.core import context, policy

CALLERS = [context.Context(project_id=p, user_id="u-" + p, roles=roles)
           for p, roles in (("project-a", ["member"]), ("project-b", ["member"]), ("project-a", ["reader"]),
                            ("service", ["service"]), ("project-c", []))] + [
    context.Context(user_id="auditor", roles=["reader"], system_scope="all", is_admin=False)]
RULES = ["get_port", "get_port:binding:host_id", "get_port:binding:profile", "update_port", "delete_port",
         "get_network", "get_network:provider:segmentation_id", "no_such_rule"]


def targets():
    owners = ["project-a", "project-b", "project-c", None]
    for port_owner, network_owner, shared in itertools.product(owners, owners, (True, False)):
        target = {"id": "p", "network_id": "n", "network:shared": shared, "shared": shared}
        if port_owner is not None:
            target["tenant_id"] = target["project_id"] = port_owner
        if network_owner is not None:
            target["network:tenant_id"] = network_owner
        yield target


@pytest.fixture(autouse=True)
def fresh_enforcer():
    policy.reset()
    yield
    policy.reset()


def _conf_with_policy(tmp_path, text):
    (tmp_path / "policy.yaml").write_text(text)
    conf_file = tmp_path / "netweave.conf"
    conf_file.write_text("[DEFAULT]\n")
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(conf_file)], project="netweave", default_config_files=[])
    return conf


def _same_answers():
    for caller in CALLERS:
        decisions = policy.decisions(caller)
        for target, rule in itertools.product(list(targets()) * 2, RULES):
            assert decisions.check(rule, target) == policy.check(caller, rule, target), (caller.roles, rule, target)


def test_same_answers_as_check_with_the_defaults():
    _same_answers()


def test_same_answers_with_rules_reading_other_attributes(tmp_path):
    # A field check, a generic check on the device, a negation and a rule naming a rule.
    policy.init(_conf_with_policy(tmp_path, "\n".join([
        '"get_port": "not field:ports:device_owner=~^network: and (rule:owner or rule:network_owner)"',
        '"get_port:binding:host_id": "role:member and True:%(network:shared)s"',
        '"delete_port": "rule:get_port or tenant_id:%(device_id)s"',
        '"get_network": "field:networks:shared=True or rule:owner"',
    ]) + "\n"))
    _same_answers()
    for caller in CALLERS:
        decisions = policy.decisions(caller)
        for device_owner, device_id in itertools.product(("network:dhcp", "compute:nova"), ("project-a", "x")):
            target = {"tenant_id": "project-a", "network:tenant_id": "project-a", "device_owner": device_owner,
                      "device_id": device_id}
            for rule in ("get_port", "delete_port"):
                assert decisions.check(rule, target) == policy.check(caller, rule, target)


def test_a_rule_is_evaluated_once_per_kind_of_target(monkeypatch):
    calls = policy_probe.count_enforce(monkeypatch, policy.init())
    decisions = policy.decisions(CALLERS[0])
    own = {"tenant_id": "project-a", "network:tenant_id": "project-a"}
    theirs = {"tenant_id": "project-b", "network:tenant_id": "project-a"}
    for index in range(50):
        for target in (own, theirs):
            row = dict(target, id="port-%d" % index, name="p%d" % index)
            assert decisions.check("get_port", row)
            assert not decisions.check("get_port:binding:host_id", row)
    # get_port reads the owners: once per kind of row; the binding's rule reads nothing of the row.
    assert sorted(calls) == ["get_port", "get_port", "get_port:binding:host_id"]


def test_unknown_check_types_are_evaluated_every_time(monkeypatch):
    enforcer = policy.init()
    enforcer.set_rules(oslo_policy.Rules.from_dict({"get_port": "http://127.0.0.1:9/check"}), use_conf=False)
    calls = []
    monkeypatch.setattr(enforcer, "enforce", lambda rule, target, creds, *a, **k: calls.append(rule) or True)
    decisions = policy.decisions(CALLERS[0])
    for index in range(3):
        assert decisions.check("get_port", {"tenant_id": "project-a", "id": str(index)})
    assert calls == ["get_port"] * 3


def test_admin_passes_without_evaluating():
    admin = context.Context(project_id="x", user_id="admin", roles=["admin"])
    assert admin.is_admin
    assert policy.decisions(admin).check("get_port:binding:host_id", {"tenant_id": "other"})


BINDING_RULES = ["get_port:binding:vif_type", "get_port:binding:vif_details", "get_port:binding:host_id",
                 "get_port:binding:profile"]


def test_actions_with_the_same_rule_expression_share_one_evaluation(monkeypatch):
    calls = policy_probe.count_enforce(monkeypatch, policy.init())
    port = {"tenant_id": "project-a", "network:tenant_id": "project-a"}
    member, service = CALLERS[0], CALLERS[3]
    decisions = policy.decisions(member)
    assert [decisions.check(rule, port) for rule in BINDING_RULES] == [False] * 4
    assert calls == BINDING_RULES[:1]
    assert [policy.decisions(service).check(rule, port) for rule in BINDING_RULES] == [True] * 4
    assert calls == BINDING_RULES[:1] * 2
    # The next request of a member, whatever its project, is answered from that memory.
    other_member = CALLERS[1]
    assert [policy.decisions(other_member).check(rule, port) for rule in BINDING_RULES] == [False] * 4
    assert calls == BINDING_RULES[:1] * 2


def test_a_rule_the_policy_file_changes_is_evaluated_apart(tmp_path, monkeypatch):
    enforcer = policy.init(_conf_with_policy(tmp_path, '"get_port:binding:host_id": "role:member"\n'))
    calls = policy_probe.count_enforce(monkeypatch, enforcer)
    decisions = policy.decisions(CALLERS[0])
    port = {"tenant_id": "project-a", "network:tenant_id": "project-a"}
    assert [decisions.check(rule, port) for rule in BINDING_RULES] == [False, False, True, False]
    assert calls == [BINDING_RULES[0], "get_port:binding:host_id"]


def test_the_same_expression_under_other_scope_types_is_evaluated_apart(tmp_path, monkeypatch):
    # context_is_admin has no scope types, the API rules are project-scoped: a system-scoped
    # token passes the first and fails the second although both read "role:reader".
    policy.init(_conf_with_policy(tmp_path, '"context_is_admin": "role:reader"\n'
                                            '"get_port:binding:host_id": "role:reader"\n'))
    calls = policy_probe.count_enforce(monkeypatch, policy.init())
    auditor = context.Context(user_id="auditor", roles=["reader"], system_scope="all", is_admin=False)
    decisions = policy.decisions(auditor)
    assert decisions.check("context_is_admin", {}) is True
    assert decisions.check("get_port:binding:host_id", {}) is False
    assert calls == ["context_is_admin", "get_port:binding:host_id"]


def test_remembered_answers_are_forgotten_when_the_policy_file_changes(tmp_path):
    clock = FakeClock()
    conf = _conf_with_policy(tmp_path, "{}\n")
    policy.init(conf, clock=clock)
    member, port = CALLERS[0], {"tenant_id": "project-a", "network:tenant_id": "project-a"}
    assert not policy.decisions(member).check("get_port:binding:host_id", port)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"get_port:binding:host_id": "role:member"\n')
    mtime = policy_file.stat().st_mtime + 5
    os.utime(policy_file, (mtime, mtime))
    clock.now += policy.POLICY_FILES_RECHECK_SECONDS
    assert policy.decisions(member).check("get_port:binding:host_id", port)


def test_the_next_request_on_the_same_kind_of_item_is_answered_from_memory(monkeypatch):
    calls = policy_probe.count_enforce(monkeypatch, policy.init())
    member_a, member_b, reader_a = CALLERS[0], CALLERS[1], CALLERS[2]
    own = {"id": "port-1", "tenant_id": "project-a", "network:tenant_id": "project-a"}
    assert policy.decisions(member_a).check("get_port", own)
    assert policy.decisions(member_a).check("get_port", dict(own, id="port-2", name="other"))
    assert calls == ["get_port"]
    # Another caller, or the same caller on another kind of item, is evaluated.
    assert not policy.decisions(member_b).check("get_port", own)
    assert policy.decisions(reader_a).check("get_port", own)
    assert not policy.decisions(reader_a).check("update_port", own)
    assert policy.decisions(member_a).check("get_port", dict(own, tenant_id="project-b", project_id="project-b"))
    assert calls == ["get_port", "get_port", "get_port", "update_port", "get_port"]


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_policy_files_are_looked_at_once_a_recheck_interval_and_changes_still_apply(tmp_path):
    clock = FakeClock()
    enforcer = policy.init(_conf_with_policy(tmp_path, '"get_port:binding:host_id": "rule:admin_only"\n'),
                           clock=clock)
    member = CALLERS[0]
    port = {"tenant_id": "project-a", "network:tenant_id": "project-a"}
    looked_at = enforcer.files_looked_at
    for _ in range(20):
        assert not policy.check(member, "get_port:binding:host_id", port)
        assert policy.decisions(member).check("get_port", port)
    assert enforcer.files_looked_at == looked_at
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"get_port:binding:host_id": "role:member"\n')
    mtime = policy_file.stat().st_mtime + 5  # a change the file's modification time shows
    os.utime(policy_file, (mtime, mtime))
    clock.now += policy.POLICY_FILES_RECHECK_SECONDS
    assert policy.check(member, "get_port:binding:host_id", port)
    assert enforcer.files_looked_at == looked_at + 1


def test_a_policy_file_created_later_applies(tmp_path):
    clock = FakeClock()
    conf_file = tmp_path / "netweave.conf"
    conf_file.write_text("[DEFAULT]\n")
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(conf_file)], project="netweave", default_config_files=[])
    policy.init(conf, clock=clock)
    member, port = CALLERS[0], {"tenant_id": "project-a", "network:tenant_id": "project-a"}
    assert policy.check(member, "update_port", port)
    (tmp_path / "policy.yaml").write_text('"update_port": "rule:admin_only"\n')
    clock.now += policy.POLICY_FILES_RECHECK_SECONDS
    assert not policy.check(member, "update_port", port)
