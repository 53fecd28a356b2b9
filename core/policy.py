"""Policy enforcement with Neutron's semantics on top of oslo.policy.

The target of a check is the resource as a dict ("tenant_id"/"project_id" of the
resource). Subnets and ports also carry "network:tenant_id", the owner of their
network, and may carry "network:shared" for the ``rule:shared`` checks.

The defaults are Neutron's secure RBAC rules ([oslo_policy] enforce_new_defaults
is true unless the configuration says otherwise; false brings the legacy rules
back beside them). Every API rule is project-scoped: system- or domain-scoped
credentials fail them. Roles imply others as Keystone's default roles do
(IMPLIED_ROLES), so credentials naming only ``member`` also read.
"""
import re
import sys
import time
from typing import NamedTuple

from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_policy import _checks, policy
from oslo_policy import opts as policy_opts
from oslo_utils import strutils

from netweave.core import entry_points, exceptions

DEFAULT_POLICY_FILE = "policy.yaml"
POLICIES_GROUP = "oslo.policy.policies"
# The core's own entry point; plugins name theirs "netweave.<plugin>".
CORE_POLICIES = "netweave"
ADMIN_CTX_POLICY = "context_is_admin"
ADVSVC_CTX_POLICY = "context_is_advsvc"
# Keystone's default role hierarchy (admin implies manager, manager member, member
# reader): a token carries the implied roles, and credentials built from noauth
# headers or in code get them here, so one role name is enough everywhere.
IMPLIED_ROLES = {"admin": ("manager", "member", "reader"), "manager": ("member", "reader"),
                 "member": ("reader",)}

# How often enforce() looks at the policy files again. oslo.policy's own load_rules() does
# on every call: it searches the configuration folders for a policy.yaml and a policy.d it
# has not found, stats the files it has and walks every registered default, which was
# most of a project member's read.
POLICY_FILES_RECHECK_SECONDS = 1.0

# The answers an Enforcer keeps (per rule and value of what the rule reads, across
# requests): past that many it starts over rather than grow.
ANSWERS_KEPT = 4096

_ENFORCER = None


@policy.register("field")
class FieldCheck(policy.Check):
    """``field:<resource>:<attribute>=<value>``: compare an attribute of the target.

    A value starting with ``~`` is a regular expression matched at the start of
    the attribute. oslo.policy has no such check built in; Neutron registers one.
    """

    def __init__(self, kind, match):
        super().__init__(kind, match)
        self.resource, field_and_value = match.split(":", 1)
        self.field, value = field_and_value.split("=", 1)
        self.value = value
        self.regex = re.compile(value[1:]) if value.startswith("~") else None

    def _target_value(self, target):
        if self.field in target:
            return target[self.field]
        # Subnets and ports are checked against their network's attributes.
        if self.resource == "networks":
            return target.get("network:" + self.field)
        return None

    def __call__(self, target, creds, enforcer, current_rule=None):
        actual = self._target_value(target)
        if actual is None:
            return False
        if self.regex is not None:
            return bool(self.regex.match(str(actual)))
        if isinstance(actual, bool):
            return actual == strutils.bool_from_string(self.value)
        return str(actual) == self.value


class Enforcer(policy.Enforcer):
    """oslo.policy's Enforcer whose enforce() looks at the policy files at most once every
    POLICY_FILES_RECHECK_SECONDS rather than on every call: a new or changed policy.yaml
    (or policy.d file) still takes effect, within that time. ``clock`` gives seconds
    (time.monotonic); ``files_looked_at`` counts the looks (oslo.policy's load_rules)."""

    def __init__(self, conf, policy_file=None, clock=time.monotonic):
        self._facts = {}  # action -> RuleFacts, for the rules as they are now
        self._answers = {}  # (RuleFacts.answers_as, values of what the rule reads) -> answer
        self._rules_generation = 0  # how many times the rules were replaced
        super().__init__(conf, policy_file=policy_file)
        self._clock = clock
        self._looked_at = None  # the clock when the files were last looked at
        self.files_looked_at = 0

    def load_rules(self, force_reload=False):
        now = self._clock()
        if (force_reload or self._looked_at is None
                or now - self._looked_at >= POLICY_FILES_RECHECK_SECONDS):
            generation = self._rules_generation
            super().load_rules(force_reload)
            self._looked_at = now
            self.files_looked_at += 1
            if self._rules_generation != generation:
                # Forgotten again: load_rules adds the defaults after its set_rules.
                self._forget_rules()

    def set_rules(self, rules, overwrite=True, use_conf=False):
        super().set_rules(rules, overwrite=overwrite, use_conf=use_conf)
        self._forget_rules()

    def _forget_rules(self):
        # Replaced rather than cleared: a request still holding the old dicts fills those.
        self._facts = {}
        self._answers = {}
        self._rules_generation += 1

    def refresh(self):
        """What enforce() does first: look at the policy files if it is time to. Callers
        answering from remembered_answer() call it once per request."""
        self.load_rules()

    def facts(self, action):
        """The RuleFacts of ``action`` under the rules as they are now."""
        known = self._facts
        found = known.get(action)
        if found is None:
            found = known[action] = _rule_facts(self, action)
        return found

    def remembered_answer(self, action, facts, target, credentials):
        """enforce() of ``action``, whose RuleFacts ``facts`` name what its rule reads of
        the target and of the credentials (known, not None): remembered per value of
        those until the rules change, so requests of the same caller on the same kind of
        item (and a member's attribute rules, context_is_admin) are answered once."""
        answers = self._answers
        try:
            key = ((facts.answers_as,) + tuple(_frozen(target.get(name, _ABSENT)) for name in facts.target_keys)
                   + tuple(_frozen(credentials.get(name, _ABSENT)) for name in facts.credential_keys))
            answer = answers.get(key)
        except TypeError:  # a value that cannot be a key (a dict)
            return bool(self.enforce(action, target, credentials))
        if answer is None:
            if len(answers) >= ANSWERS_KEPT:
                answers.clear()
            answer = answers[key] = bool(self.enforce(action, target, credentials))
        return answer


class PolicyLoadError(RuntimeError):
    """An oslo.policy.policies entry point of netweave that gives no usable rules."""


def _policy_entry_points():
    """Every entry point of the group whose name starts with netweave, the core's first."""
    ours = [ep for ep in entry_points.installed(POLICIES_GROUP) if ep.name.startswith(CORE_POLICIES)]
    return sorted(ours, key=lambda ep: ep.name != CORE_POLICIES)


def default_rules():
    """The default rules of the core and of every installed plugin.

    A broken entry point, or a rule name two of them declare, is a PolicyLoadError
    naming the entry point.
    """
    rules = []
    seen = {}
    for entry_point in _policy_entry_points():
        where = entry_points.describe(entry_point)
        try:
            declared = list(entry_point.load()())
        except Exception as error:  # whatever a broken package raises
            raise PolicyLoadError("policy rules %s cannot be loaded: %s: %s"
                                  % (where, type(error).__name__, error)) from error
        for rule in declared:
            if not isinstance(rule, policy.RuleDefault):
                raise PolicyLoadError("policy rules %s: %r is not an oslo.policy RuleDefault" % (where, rule))
            if rule.name in seen:
                raise PolicyLoadError("policy rule '%s' is declared by %s and by %s"
                                      % (rule.name, seen[rule.name], where))
            seen[rule.name] = where
            rules.append(rule)
    return rules


def _is_parsed(conf):
    try:
        conf.find_file(DEFAULT_POLICY_FILE)
    except cfg.NotInitializedError:
        return False
    return True


def init(conf=None, policy_file=None, clock=time.monotonic):
    """Create the process-wide enforcer once, with the defaults in code registered.

    The defaults are those of every ``oslo.policy.policies`` entry point whose name
    starts with ``netweave`` (the core's and each installed plugin's).

    The policy file ([oslo_policy] policy_file, policy.yaml) is looked up in the
    directories of the parsed configuration files. Before the configuration is
    parsed there is nowhere to look, so only the defaults in code apply until
    reset() is called. Once created, the enforcer is returned whatever is passed.
    ``clock``: when the enforcer looks at the policy files again (Enforcer).
    """
    global _ENFORCER
    if _ENFORCER is None:
        conf = conf if conf is not None else cfg.CONF
        defaults = default_rules()
        # Neutron's new defaults are netweave's defaults whatever oslo.policy's own are.
        policy_opts.set_defaults(conf, policy_file=DEFAULT_POLICY_FILE, enforce_new_defaults=True)
        _ENFORCER = Enforcer(conf, policy_file=policy_file, clock=clock)
        _ENFORCER.register_defaults(defaults)
        if _is_parsed(conf):
            _ENFORCER.load_rules()
        else:
            new_only = conf.oslo_policy.enforce_new_defaults
            checks = {rule.name: _default_check_str(rule, new_only) for rule in defaults}
            _ENFORCER.set_rules(policy.Rules.from_dict(checks), use_conf=False)
    return _ENFORCER


def _default_check_str(rule, new_only):
    """The check string of a default in code; without ``new_only``, that or its deprecated
    rule's, as oslo.policy's load_rules() combines them for a parsed configuration."""
    deprecated = rule.deprecated_rule
    if new_only or deprecated is None or deprecated.check_str == rule.check_str:
        return rule.check_str
    if "" in (rule.check_str, deprecated.check_str):
        return ""
    return "(%s) or (%s)" % (rule.check_str, deprecated.check_str)


def reset():
    """Forget the enforcer, so that the next call reads the configuration again."""
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
        _ENFORCER = None


def get_enforcer():
    """The enforcer for the oslopolicy-* tools (oslo.policy.enforcer entry point).

    Those tools put their own options in sys.argv; they are removed before
    parsing the service configuration, which would reject them.
    """
    tool_options = ("namespace", "output-file")
    conf_args = []
    args = sys.argv[1:]
    index = 0
    while index < len(args):
        name = args[index].lstrip("-")
        if name.split("=", 1)[0] in tool_options:
            index += 1 if "=" in name else 2
            continue
        conf_args.append(args[index])
        index += 1
    cfg.CONF(conf_args, project="netweave")
    return init()


def _credentials(context):
    """The caller's policy values as a plain dict, with Neutron's tenant_id and is_admin.

    oslo.context warns on every read of keys it considers deprecated, and the
    legacy rules read tenant_id in nearly every check; a plain dict stays quiet.
    """
    credentials = dict(oslo_context.RequestContext.to_policy_values(context))
    credentials["tenant_id"] = context.project_id
    credentials["is_admin"] = context.is_admin
    credentials["roles"] = with_implied_roles(credentials.get("roles") or [])
    return credentials


def with_implied_roles(roles):
    """``roles`` (lower-cased, as oslo.policy compares them) plus those they imply."""
    expanded = []
    for role in roles:
        for name in (role.lower(),) + IMPLIED_ROLES.get(role.lower(), ()):
            if name not in expanded:
                expanded.append(name)
    return expanded


def _project_scoped(context):
    """Whether the credentials are not system- or domain-scoped: every API rule is
    project-scoped, and a system-scoped admin token fails them as Neutron's do."""
    return not context.system_scope and not context.domain_id


def _owner_keys(target):
    """Neutron's rules name the owner ``project_id``, the legacy ones ``tenant_id``: a target
    carrying one gets the other too."""
    if "tenant_id" in target and "project_id" not in target:
        return dict(target, project_id=target["tenant_id"])
    if "project_id" in target and "tenant_id" not in target:
        return dict(target, tenant_id=target["project_id"])
    return target


def check_is_admin(context):
    """Whether the caller matches ``context_is_admin`` (the policy file may redefine it)
    with project-scoped credentials: a system- or domain-scoped token is no admin of the
    project-scoped API (enforce_scope)."""
    enforcer = init()
    if ADMIN_CTX_POLICY not in enforcer.rules or not _project_scoped(context):
        return False
    credentials = _credentials(context)
    enforcer.refresh()
    facts = enforcer.facts(ADMIN_CTX_POLICY)
    if facts.known:
        return enforcer.remembered_answer(ADMIN_CTX_POLICY, facts, credentials, credentials)
    return bool(enforcer.enforce(ADMIN_CTX_POLICY, credentials, credentials))


def check_is_advsvc(context):
    """Whether the caller matches ``context_is_advsvc``."""
    enforcer = init()
    if ADVSVC_CTX_POLICY not in enforcer.rules:
        return False
    credentials = _credentials(context)
    return bool(enforcer.enforce(ADVSVC_CTX_POLICY, credentials, credentials))


def check(context, action, target, might_not_exist=False):
    """True when the policy allows ``action``; an action with no rule falls back to ``default``.

    With ``might_not_exist`` an action that has no rule is allowed instead.
    """
    # Admins skip the rules, as in Neutron, unless their token is not project-scoped.
    if context.is_admin and _project_scoped(context):
        return True
    enforcer = init()
    if might_not_exist and action not in enforcer.rules:
        return True
    return bool(enforcer.enforce(action, _owner_keys(target), _credentials(context)))


class _RecordingTarget(dict):
    """Formats a check's match as oslo.policy does (``match % target``), noting the keys read."""

    def __missing__(self, key):
        self.setdefault("\0read", []).append(key)
        return ""


def _match_keys(match):
    recorder = _RecordingTarget()
    try:
        match % recorder
    except (TypeError, ValueError):
        return None
    return tuple(recorder.get("\0read", ()))


def _inputs(check, rules, seen=()):
    """(target keys, credential keys) that ``check`` (an oslo.policy check tree) can read,
    or None when that is not known (a check type other than the ones below, a rule naming
    itself)."""
    if isinstance(check, (_checks.TrueCheck, _checks.FalseCheck)):
        return (), ()
    if isinstance(check, (_checks.AndCheck, _checks.OrCheck)):
        target_keys, credential_keys = (), ()
        for rule in check.rules:
            found = _inputs(rule, rules, seen)
            if found is None:
                return None
            target_keys += found[0]
            credential_keys += found[1]
        return target_keys, credential_keys
    if type(check) is _checks.NotCheck:
        return _inputs(check.rule, rules, seen)
    if type(check) is _checks.RuleCheck:
        if check.match in seen:
            return None
        try:
            named = rules[check.match]
        except KeyError:
            return (), ()  # oslo.policy fails a rule naming nothing, whatever the target
        return _inputs(named, rules, seen + (check.match,))
    if type(check) in (_checks.GenericCheck, _checks.RoleCheck):
        target_keys = _match_keys(check.match)
        if target_keys is None:
            return None
        # A generic check compares the credential its kind names (its first part for a path).
        return target_keys, ("roles",) if type(check) is _checks.RoleCheck else (check.kind.split(".")[0],)
    if type(check) is FieldCheck:
        return (check.field, "network:" + check.field), ()
    return None


# What enforce() reads of the credentials to check a token's scope against a rule's.
_SCOPE_CREDENTIALS = ("system", "system_scope", "domain_id")


class RuleFacts(NamedTuple):
    """What the answers of an action depend on. ``answers_as``: its rule's expression and
    the action's scope types, the same for actions that always answer alike;
    ``target_keys``, ``credential_keys``: what the rule reads (None: not known)."""
    answers_as: object
    target_keys: tuple | None
    credential_keys: tuple | None

    @property
    def known(self):
        return self.target_keys is not None


def _rule_facts(enforcer, action):
    rules = enforcer.rules
    try:
        rule = rules[action]
    except KeyError:
        return RuleFacts(action, (), ())  # enforce() fails it whatever it is given
    inputs = _inputs(rule, rules, (action,))
    # enforce() also checks the token's scope against the action's registered scope types.
    registered = enforcer.registered_rules.get(action)
    scope_types = tuple(registered.scope_types or ()) if registered is not None else ()
    if inputs is None:
        return RuleFacts((str(rule), scope_types), None, None)
    target_keys, credential_keys = inputs
    return RuleFacts((str(rule), scope_types), tuple(dict.fromkeys(target_keys)),
                     tuple(dict.fromkeys(credential_keys + _SCOPE_CREDENTIALS)))


def _frozen(value):
    """A value as a key: a list (the roles) as a tuple, told apart from a tuple."""
    return (list, tuple(value)) if isinstance(value, list) else value


class Decisions:
    """One request's answers to ``check``, those ``check`` gives. A rule is evaluated once
    per distinct value of what it reads of the target and the credentials (a port's
    owner and its network's owner, the caller's roles and project), and the Enforcer
    remembers the answer across requests until its rules change: the rows of a list, a
    member's attribute rules and the next show of the same kind of item cost a lookup.
    Actions whose rules are the same expression with the same scope types
    (``get_port:binding:host_id`` and ``get_port:binding:profile``) share their answers.
    A rule whose inputs cannot be told (a check type not known here) is evaluated every
    time."""

    def __init__(self, context):
        self._context = context
        self._admin = context.is_admin and _project_scoped(context)
        self._enforcer = None if self._admin else init()
        if self._enforcer is not None:
            self._enforcer.refresh()
        self._credentials = None

    def check(self, action, target, might_not_exist=False):
        if self._admin:
            return True
        enforcer = self._enforcer
        if might_not_exist and action not in enforcer.rules:
            return True
        facts = enforcer.facts(action)
        target = _owner_keys(target)
        if self._credentials is None:
            self._credentials = _credentials(self._context)
        if not facts.known:
            return bool(enforcer.enforce(action, target, self._credentials))
        return enforcer.remembered_answer(action, facts, target, self._credentials)


_ABSENT = object()


def decisions(context):
    """A Decisions for one request of ``context``."""
    return Decisions(context)


def enforce(context, action, target, plugin=None):
    """Raise PolicyNotAuthorized unless the policy allows ``action`` on ``target``.

    ``plugin`` is accepted for Neutron's signature; targets here are complete.
    """
    if not check(context, action, target):
        raise exceptions.PolicyNotAuthorized(action=action)
    return True


def _attribute_rules(action, name, value):
    """Rule names guarding one attribute of a request, sub-attributes included.

    Sub-attribute rules (``create_port:fixed_ips:ip_address``) apply to each key
    of a dict value or of the dicts in a list value.
    """
    attribute_rule = "%s:%s" % (action, name)
    names = [attribute_rule]
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict):
            names += ["%s:%s" % (attribute_rule, key) for key in item]
    return names


def enforce_attributes(context, action, target, attribute_names, defaults=None):
    """Check ``<action>:<attribute>`` for the given attributes present in ``target``.

    Only attributes with a registered rule are checked, as Neutron does for its
    ``enforce_policy`` attributes. ``defaults`` maps attribute names to their
    default values: on create Neutron does not check an attribute explicitly set
    to its default (``"shared": false`` needs no admin).
    On failure the message names both rules, as Neutron prints its combined check.
    """
    if context.is_admin and _project_scoped(context):
        return True
    enforcer = init()
    credentials = _credentials(context)
    target = _owner_keys(target)
    defaults = defaults or {}
    for name in attribute_names:
        if name not in target:
            continue
        value = target[name]
        if name in defaults and value == defaults[name]:
            continue
        for rule in _attribute_rules(action, name, value):
            if rule not in enforcer.rules:
                continue
            if not enforcer.enforce(rule, target, credentials):
                raise exceptions.PolicyNotAuthorized(action="%s and rule:%s" % (action, rule))
    return True


def filter_visible_attributes(context, action, target, attribute_names):
    """The attribute names the caller may see; ``action`` is the show action (``get_network``).

    An attribute without a ``<action>:<attribute>`` rule is visible to anyone
    who may see the resource.
    """
    return [name for name in attribute_names
            if check(context, "%s:%s" % (action, name), target, might_not_exist=True)]
