"""Generic controller: one instance per resource, turning HTTP verbs into plugin calls.

It checks bodies against the attribute map, asks the policy engine, calls the
plugin method Neutron would (``create_network``, ``get_ports`` ...) and shapes
the answer: hidden and policy-protected attributes removed, ``fields`` applied.
"""
import logging
import re

from netweave.core import exceptions as exc
from netweave.core.api import body as body_checks
from netweave.core.api import faults
from netweave.core.api import query as query_parser
from netweave.core.api import validators as v
from netweave.core.services import common

LOG = logging.getLogger(__name__)

_IF_MATCH_RE = re.compile(r"^revision_number=(\d+)$")


class ResourceController:
    def __init__(self, resource, plugin, core_plugin, policy, conf, show_with_network_owner=None,
                 list_with_network_owners=None):
        self.resource = resource
        self.plugin = plugin
        self.core_plugin = core_plugin
        self.policy = policy
        self.conf = conf
        name = resource.name
        self._create = "create_%s" % name
        self._create_bulk = "create_%s_bulk" % name
        self._update = "update_%s" % name
        self._delete = "delete_%s" % name
        self._show = "get_%s" % name
        # Reads an item with the owner of its network, which a member's policy target needs,
        # in one query: (context, id, fields) -> (item, owner or None when the caller does
        # not see the network). None: the owner is read apart.
        self._show_with_network_owner = show_with_network_owner
        # Lists items with the owners of their networks where the read has them at hand:
        # (context, **list arguments) -> (items, {network id: owner}). None: read apart.
        self._list_with_network_owners = list_with_network_owners
        self._list = "get_%s" % resource.collection
        self._has_network = "network_id" in resource.attributes
        # Attributes whose visibility a policy rule may decide ("get_port:binding:host_id").
        self._guarded = [n for n, a in resource.attributes.items() if a.enforce_policy]
        self._show_rules = [(n, "%s:%s" % (self._show, n)) for n in self._guarded]
        self._hidden = {n for n, a in resource.attributes.items() if not a.is_visible}

    # --- read ------------------------------------------------------------

    def index(self, request, context):
        q = query_parser.parse(request.params, self.resource, self.conf)
        # The request's policy answers, shared by its checks: the rows' owners repeat.
        decisions = self.policy.decisions(context)
        self._ignore_hidden_terms(context, q, decisions)
        known_owners = {}  # the network owners the request has read
        if q.marker and q.limit:
            # Like Neutron: a marker naming nothing the caller can see is a 404, not page one.
            self._fetch_visible(context, q.marker, self._fields_to_fetch([self.resource.id_attribute]),
                                owners=known_owners, decisions=decisions)
        fetch_fields = self._fields_to_fetch(q.fields)
        kwargs = {"filters": q.filters, "fields": fetch_fields, "sorts": q.sorts, "limit": q.limit,
                  "marker": q.marker, "page_reverse": q.page_reverse}
        if q.tag_filters:
            kwargs["tag_filters"] = q.tag_filters
        if self._list_with_network_owners is not None and not context.is_admin:
            items, owners = self._list_with_network_owners(context, **kwargs)
            known_owners.update(owners)
        else:
            items = getattr(self.plugin, self._list)(context, **kwargs)
        kept = {}
        if context.is_admin:
            # Admins see everything the plugin returned, every attribute the policy guards.
            visible = [self._shape(context, item, item, q.fields, (), kept) for item in items]
        else:
            owners = self._network_owners(context, items, known_owners)
            guards = self._show_guards()
            allowed, visible = [], []
            for item in items:
                target = self._target(item, owners)
                if decisions.check(self._show, target):
                    allowed.append(item)
                    visible.append(self._shape(context, item, target, q.fields, guards, kept, decisions))
            items = allowed
        result = {self.resource.collection: visible}
        if q.limit:
            # Markers come from the items as fetched: ?fields=name shapes the id away.
            key = self.resource.id_attribute
            result[self.resource.collection + "_links"] = self._links(request, [item[key] for item in items], q)
        return result

    def show(self, request, context, item_id):
        fields = query_parser.parse_fields(request.params)
        owners = {}
        # The request's policy answers: the show rule's and the attribute rules' share them.
        decisions = self.policy.decisions(context)
        item = self._fetch_visible(context, item_id, self._fields_to_fetch(fields), owners=owners,
                                   decisions=decisions)
        target = self._target(item, self._network_owners(context, [item], owners))
        return {self.resource.member: self._shape(context, item, target, fields, decisions=decisions)}

    def _ignore_hidden_terms(self, context, q, decisions):
        """Drop the filters and sort keys on attributes the policy hides from the caller.

        Matching or ordering on ``provider:segmentation_id`` or ``binding:host_id``
        would tell a member what the show rules keep from it; like an unknown value,
        such a filter is ignored rather than answered. An attribute counts as hidden
        when its show rule refuses the caller even on its own project's items.
        """
        if context.is_admin:
            return
        guards = self._show_guards()
        if not guards:
            return
        own = {"tenant_id": context.project_id, "project_id": context.project_id,
               "network:tenant_id": context.project_id}
        hidden = {name for name, rule in guards if not decisions.check(rule, own)}
        if hidden:
            q.filters = {name: values for name, values in q.filters.items() if name not in hidden}
            q.sorts = [(name, ascending) for name, ascending in q.sorts if name not in hidden]

    def _fetch_visible(self, context, item_id, fields=None, owners=None, decisions=None):
        """The item if the caller may see it. ``owners``, a dict, receives the network
        owners looked up on the way, so the rest of the request need not ask again;
        ``decisions``: the request's policy answers, when it has some."""
        if owners is not None and self._show_with_network_owner is not None and not context.is_admin:
            item, owner = self._show_with_network_owner(context, item_id, fields=fields)
            if owner is not None:
                owners[item.get("network_id")] = owner
        else:
            item = getattr(self.plugin, self._show)(context, item_id, fields=fields)
        target = self._target(item, self._network_owners(context, [item], owners))
        allowed = self._allowed(context, self._show, target) if decisions is None else decisions.check(
            self._show, target)
        if not allowed:
            raise self._not_found(item_id)
        return item

    # --- write -----------------------------------------------------------

    def create(self, request, context, body):
        members, is_bulk = body_checks.members_of(self.resource, body, self.conf.allow_bulk)
        prepared = []
        owners = {}
        for data in members:
            item, sent = body_checks.prepare_create(self.resource, data, context)
            if not context.is_admin:
                # Admins pass every rule: no target to build, no network owner to read
                # (the plugin still answers NetworkNotFound for a missing network).
                target = dict(item)
                self._add_network_owner(context, target, owners)
                self.policy.enforce(context, self._create, target)
                self._enforce_attributes(context, self._create, target, sent)
            prepared.append(item)
        if is_bulk:
            created = self._create_many(context, prepared)
            return 201, {self.resource.collection: [self._shape_own(context, c, owners) for c in created]}
        created = getattr(self.plugin, self._create)(context, {self.resource.member: prepared[0]})
        return 201, {self.resource.member: self._shape_own(context, created, owners)}

    def _create_many(self, context, items):
        bulk = getattr(self.plugin, self._create_bulk, None)
        if bulk is not None:
            return bulk(context, {self.resource.collection: [{self.resource.member: i} for i in items]})
        created = []
        try:
            for item in items:
                created.append(getattr(self.plugin, self._create)(context, {self.resource.member: item}))
        except Exception:
            # All or nothing: undo what the earlier items created.
            for done in reversed(created):
                try:
                    getattr(self.plugin, self._delete)(context, done["id"])
                except Exception:  # noqa: BLE001 - best effort, the original error wins
                    LOG.exception("Could not undo bulk create of %s %s", self.resource.member, done["id"])
            raise
        return created

    def update(self, request, context, item_id, body):
        data = body_checks.update_member(self.resource, body)
        changes = body_checks.prepare_update(self.resource, data)
        owners = {}
        expected = None
        if self._reads_before_write(request, context):
            original = self._fetch_visible(context, item_id, owners=owners)
            target = dict(original)
            self._add_network_owner(context, target, owners)
            target.update(changes)
            self.policy.enforce(context, self._update, target)
            self._enforce_attributes(context, self._update, target, set(changes))
            expected = self._check_if_match(request, original)
        # The check above fails early; only the one in the update's own transaction
        # decides, as a compare-and-swap on the revision (concurrent updates).
        with common.revision_precondition(item_id, expected) as precondition:
            updated = getattr(self.plugin, self._update)(context, item_id, {self.resource.member: changes})
        self._note_unchecked(precondition, "update")
        return {self.resource.member: self._shape_own(context, updated, owners)}

    def delete(self, request, context, item_id):
        expected = None
        if self._reads_before_write(request, context):
            owners = {}
            original = self._fetch_visible(context, item_id, owners=owners)
            target = dict(original)
            self._add_network_owner(context, target, owners)
            self.policy.enforce(context, self._delete, target)
            expected = self._check_if_match(request, original)
        with common.revision_precondition(item_id, expected) as precondition:
            getattr(self.plugin, self._delete)(context, item_id)
        self._note_unchecked(precondition, "delete")

    @staticmethod
    def _reads_before_write(request, context):
        """Whether an update or delete reads the item first: for the policy target, and
        for an If-Match header's revision. Admins pass every rule, so without the
        header they skip the read (the plugin answers NotFound itself), as a create
        skips building a target for them."""
        return not context.is_admin or bool(request.headers.get("If-Match"))

    # --- member actions --------------------------------------------------

    def member_action(self, action, verb):
        """The handler of ``<verb> /<collection>/{id}/<action>``: the plugin's method of the
        action's name, called as (context, id, body) for PUT and (context, id) for GET,
        after the item is found visible and the action's policy rule passes."""
        method = getattr(self.plugin, action)

        def check(context, item_id):
            # Hidden items are not found; visible ones need the action's rule. Admins pass
            # every rule, so they skip the read, as their updates and deletes do: the
            # action answers NotFound for a missing item itself.
            if not context.is_admin:
                self.policy.enforce(context, action, self._fetch_visible(context, item_id))

        if verb == "GET":
            def read(request, context, item_id):
                check(context, item_id)
                return method(context, item_id)
            return read

        def write(request, context, item_id, body):
            check(context, item_id)
            return method(context, item_id, body)
        return write

    # --- helpers ---------------------------------------------------------

    def member_id(self, raw):
        """The id in a member URL as the id attribute's type; a value no member can
        have (not a UUID, a NUL, too long) names nothing: 404, before any query."""
        attr = self.resource.attributes.get(self.resource.id_attribute)
        convert = attr.convert if attr is not None and attr.convert is not None else v.path_segment
        try:
            return convert(raw)
        except v.AttributeInvalid:
            raise self._not_found(raw)

    def _not_found(self, item_id):
        return faults.HTTPError(404, "%s %s could not be found." % (
            self.resource.member.replace("_", " ").capitalize(), item_id),
            type_name="%sNotFound" % "".join(p.capitalize() for p in self.resource.member.split("_")))

    def _check_if_match(self, request, original):
        """The revision an If-Match header expects (None without one), checked against
        the item as read before the write: a mismatch fails without writing."""
        header = request.headers.get("If-Match")
        if not header:
            return None
        match = _IF_MATCH_RE.match(header.strip())
        if not match:
            raise faults.bad_request("If-Match header must be in the form revision_number=<int>")
        expected = int(match.group(1))
        if original.get("revision_number") != expected:
            raise exc.RevisionNumberConstraintFailed(expected=expected, current=original.get("revision_number"))
        return expected

    def _note_unchecked(self, precondition, action):
        if precondition is not None and not precondition.settled:
            # The plugin wrote the resource without flushing its row through the ORM:
            # only the check before the write held, which concurrent writers can pass.
            LOG.warning("If-Match on %s %s %s was not checked inside its transaction", action,
                        self.resource.member, precondition.resource_id)

    def _fields_to_fetch(self, fields):
        if not fields:
            return None
        # Policy decisions need the owner fields even when the client did not ask for them,
        # and pagination the id.
        wanted = set(fields) | {self.resource.id_attribute, "tenant_id", "project_id"}
        if self._has_network:
            wanted.add("network_id")
        # Inputs of the default visibility rules (shared, external), when the resource has them.
        wanted |= {"shared", "router:external"}
        return sorted(w for w in wanted if w in self.resource.attributes)

    def _network_owners(self, context, items, known=None):
        """{network_id: owner} of the items' networks visible to the caller.

        ``known``, when given, is a per-request dict of owners already looked up
        (a network's owner cannot change): only the other networks are asked
        for, and what is found is added to it.
        """
        if not self._has_network or not items or context.is_admin:
            # Owners only feed policy targets, and admins skip the rules.
            return {}
        ids = {i.get("network_id") for i in items if i.get("network_id")}
        if known is None:
            return self.core_plugin.get_network_owners(context, ids)
        missing = ids - set(known)
        if missing:
            known.update(self.core_plugin.get_network_owners(context, missing))
        return {i: known[i] for i in ids if i in known}

    def _add_network_owner(self, context, target, known=None):
        if not self._has_network or "network_id" not in target or context.is_admin:
            return
        owners = self._network_owners(context, [target], known)
        if target["network_id"] not in owners:
            raise exc.NetworkNotFound(net_id=target["network_id"])
        owner = target["network:tenant_id"] = owners[target["network_id"]]
        if owner != context.project_id:
            # ``rule:shared`` (fixed_ips on another project's network) asks whether the
            # network is shared with the caller, globally or through an RBAC policy.
            network = self.core_plugin.get_network(context, target["network_id"], fields=["id", "shared"])
            target["network:shared"] = bool(network.get("shared"))

    def _target(self, item, owners):
        if not owners:
            return item
        target = dict(item)
        owner = owners.get(item.get("network_id"))
        if owner is not None:
            target["network:tenant_id"] = owner
        return target

    def _allowed(self, context, action, target):
        return self.policy.check(context, action, target)

    def _enforce_attributes(self, context, action, target, sent):
        for name in self._guarded:
            if name in sent:
                rule = "%s:%s" % (action, name)
                if self.policy.rule_exists(rule):
                    self.policy.enforce(context, rule, target)

    def _shape_own(self, context, item, known_owners=None):
        target = self._target(item, self._network_owners(context, [item], known_owners))
        return self._shape(context, item, target, None)

    def _show_guards(self):
        """(attribute, rule) of the guarded attributes that have a show rule in the policy now."""
        return [(name, rule) for name, rule in self._show_rules if self.policy.rule_exists(rule)]

    def _kept_keys(self, keys, fields):
        hidden = self._hidden
        return [key for key in keys
                if key not in hidden and not key.startswith("_") and (not fields or key in fields)]

    def _shape(self, context, item, target, fields, guards=None, kept=None, decisions=None):
        """The item as the caller may see it. For many items of one request pass
        ``guards`` (what _show_guards() returns), ``kept``, a dict remembering
        which keys stay for each set of item keys, and ``decisions`` (the request's
        policy.decisions)."""
        if kept is None:
            names = self._kept_keys(item, fields)
        else:
            keys = tuple(item)
            names = kept.get(keys)
            if names is None:
                names = kept[keys] = self._kept_keys(keys, fields)
        if context.is_admin:
            # Admins pass every show rule; an item keeping all its keys needs no copy.
            return item if len(names) == len(item) else {key: item[key] for key in names}
        shaped = {key: item[key] for key in names}
        if decisions is None:
            decisions = self.policy.decisions(context)
        for name, rule in self._show_guards() if guards is None else guards:
            if name in shaped and not decisions.check(rule, target):
                del shaped[name]
        return shaped

    def _links(self, request, ids, q):
        """Neutron's rule: a short page has no link onward in the direction it was read,
        every other page links both ways; an empty page's links carry no marker."""
        short = len(ids) < q.limit
        base = [(k, v) for k, v in request.params.items() if k not in ("marker", "page_reverse")]
        links = []
        if not (short and not q.page_reverse):
            links.append({"rel": "next", "href": _url(request, base + [("marker", ids[-1])] if ids else base)})
        if not (short and q.page_reverse):
            params = base + ([("marker", ids[0])] if ids else []) + [("page_reverse", "True")]
            links.append({"rel": "previous", "href": _url(request, params)})
        return links


def _url(request, params):
    from urllib.parse import urlencode
    return "%s?%s" % (request.path_url, urlencode(params))
