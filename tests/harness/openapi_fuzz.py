"""Hypothesis strategies and response checks driven by netweave's OpenAPI description.

``Requests(doc, pool)`` turns the document served at /v2.0/openapi.json into a
strategy of ``FuzzRequest``: an operation of the description with its path ids,
query string, headers and body, each valid by the description or deliberately
not. Values of ``format: uuid`` come mostly from ``pool``, the ids of rows that
exist, so that valid requests reach past "not found". ``Conformance(doc)``
checks an answer against the description: the documented success status and
body, or an error in Neutron's shape.
"""
import dataclasses
import json
import urllib.parse
from typing import Any

import jsonschema
from hypothesis import strategies as st

NO_BODY = object()
ADMIN = {}
MEMBER = {"X-Project-Id": "fuzz-member-project", "X-Roles": "member"}
OTHER_MEMBER = {"X-Project-Id": "fuzz-other-project", "X-Roles": "member,reader"}


@dataclasses.dataclass
class FuzzRequest:
    operation: str          # operationId, or "undocumented"
    method: str
    template: str           # the documented path, e.g. /v2.0/networks/{id}
    path: str               # with the ids filled in, URL-quoted
    query: list             # [(name, value)]
    headers: dict
    body: Any = NO_BODY     # JSON-encodable, bytes sent as they are, or NO_BODY

    def encoded_body(self):
        if self.body is NO_BODY:
            return None
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode("utf-8")

    def describe(self):
        body = "" if self.body is NO_BODY else " body=%s" % (self.encoded_body()[:600],)
        query = "?" + urllib.parse.urlencode(self.query) if self.query else ""
        return "%s %s%s headers=%s%s" % (self.method, self.path, query, self.headers, body)

    def mentions(self, text):
        """Whether ``text`` appears in the path, query or body (decoded)."""
        encoded = self.encoded_body() or b""
        return (text in urllib.parse.unquote(self.path) or any(text in value for _k, value in self.query)
                or text.encode("utf-8") in encoded or json.dumps(text)[1:-1].encode() in encoded)


class IdPool:
    """Ids of rows that exist, by collection; a few ids of deleted rows stay as well."""

    def __init__(self):
        self.by_collection = {}

    def add(self, collection, item_id):
        ids = self.by_collection.setdefault(collection, [])
        if item_id not in ids:
            ids.append(item_id)

    def remove(self, collection, item_id):
        ids = self.by_collection.get(collection, [])
        if item_id in ids and len(ids) > 1:
            ids.remove(item_id)

    def all_ids(self):
        return [i for ids in self.by_collection.values() for i in ids]


def resolve(doc, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


# --- values ------------------------------------------------------------------------------

_NAME_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_SHORT_TEXT = st.one_of(st.sampled_from(["", "a", "fuzz", "ACTIVE", "true", "0", "-1", "vxlan", "flat",
                                         "physnet1", "ingress", "egress", "IPv4", "IPv6", "tcp", "icmp",
                                         "network:router_interface", "compute:nova", "*", "%", "_"]),
                        _NAME_TEXT)
# What a header value can carry: visible ASCII and Latin-1 as HTTP/1.1 sends it.
_HEADER_TEXT = st.text(alphabet=st.one_of(st.characters(min_codepoint=0x21, max_codepoint=0x7e),
                                          st.characters(min_codepoint=0xa1, max_codepoint=0xff)), max_size=30)
_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                          st.floats(allow_nan=False, allow_infinity=False), _SHORT_TEXT)
ANY_JSON = st.recursive(_JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_SHORT_TEXT, inner, max_size=3)), max_leaves=6)


def _ipv4():
    return st.one_of(st.builds("10.{}.{}.{}".format, st.integers(0, 3), st.integers(0, 3), st.integers(0, 255)),
                     st.ip_addresses(v=4).map(str))


def _ipv6():
    return st.one_of(st.builds("fd00:{:x}::{:x}".format, st.integers(0, 3), st.integers(0, 300)),
                     st.ip_addresses(v=6).map(str))


def _cidr():
    return st.one_of(
        st.builds("10.{}.{}.0/{}".format, st.integers(0, 255), st.integers(0, 255), st.sampled_from([16, 24, 26, 28])),
        st.builds("fd00:{:x}::/{}".format, st.integers(0, 0xffff), st.sampled_from([48, 56, 64])),
        st.builds("{}/{}".format, st.ip_addresses(v=4), st.integers(0, 32)),
        st.builds("{}/{}".format, st.ip_addresses(v=6), st.integers(0, 128)),
    )


def _mac():
    return st.builds(lambda octets: ":".join("%02x" % o for o in octets),
                     st.lists(st.integers(0, 255), min_size=6, max_size=6)).map(lambda m: "fa" + m[2:])


# Values that make sense together more often than the schema's own would.
_PLAUSIBLE = {
    "ip_version": st.sampled_from([4, 6]),
    "prefixes": st.lists(_cidr(), min_size=1, max_size=1),
    "default_prefixlen": st.integers(8, 30), "min_prefixlen": st.integers(8, 16),
    "max_prefixlen": st.integers(24, 32), "prefixlen": st.integers(20, 30),
    "segmentation_id": st.integers(1, 4094), "segmentation_type": st.just("vlan"),
    "sub_ports": st.just([]),
}
PROJECTS = ["admin", MEMBER["X-Project-Id"], OTHER_MEMBER["X-Project-Id"]]
_PROJECT_ATTRIBUTES = {"tenant_id", "project_id", "target_tenant"}
# Attributes naming a row of another collection.
_ID_COLLECTIONS = {"network_id": "networks", "floating_network_id": "networks", "subnet_id": "subnets",
                   "port_id": "ports", "router_id": "routers", "subnetpool_id": "subnetpools",
                   "address_scope_id": "address_scopes", "security_group_id": "security_groups",
                   "remote_group_id": "security_groups", "trunk_id": "trunks", "agent_id": "agents",
                   "object_id": "networks"}
_ONE_IN_FOUR = st.integers(0, 2 ** 16).map(lambda index: index % 4 == 0)


class Values:
    """Strategies of values that match a schema of the description, or do not."""

    def __init__(self, doc, pool, names):
        self.doc = doc
        self.pool = pool
        self.names = sorted(names)  # every attribute name the description knows
        # Building strategies costs more than drawing from them: one per schema.
        self._valid = {}
        self._invalid = {}
        fresh = st.uuids().map(str)
        self._uuid = st.one_of(st.integers(0, 2 ** 16).map(self._known_id), st.integers(0, 2 ** 16).map(self._known_id),
                               fresh)

    def _known_id(self, index):
        known = self.pool.all_ids()
        return known[index % len(known)] if known else "00000000-0000-4000-8000-000000000000"

    def uuid(self):
        return self._uuid

    def valid(self, schema, depth=0):
        key = (json.dumps(schema, sort_keys=True), depth)
        if key not in self._valid:
            self._valid[key] = self._build_valid(schema, depth)
        return self._valid[key]

    def _build_valid(self, schema, depth):
        schema = resolve(self.doc, schema)
        if not schema or depth > 4:
            return ANY_JSON
        for key in ("anyOf", "oneOf"):
            if key in schema:
                base = {k: val for k, val in schema.items() if k != key}
                return st.one_of([self.valid({**base, **resolve(self.doc, branch)}, depth + 1)
                                  for branch in schema[key]])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        kind = schema.get("type")
        if isinstance(kind, list):
            return st.one_of([self.valid({**schema, "type": k}, depth + 1) for k in kind])
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            low, high = schema.get("minimum"), schema.get("maximum")
            small = st.integers(max(low if low is not None else -5, -5), min(high if high is not None else 100, 100))
            return st.one_of(small, st.integers(low, high)) if (low is None or high is None or low <= 100) else \
                st.integers(low, high)
        if kind == "string":
            return self._string(schema)
        if kind == "array":
            items = self.valid(schema.get("items", {}), depth + 1)
            lists = st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 3), 3))
            if schema.get("uniqueItems"):
                lists = lists.map(_unique)
            return lists
        if kind == "object" or "properties" in schema:
            return self._object(schema, depth)
        return ANY_JSON

    def _string(self, schema):
        form = schema.get("format")
        if form == "uuid":
            return self.uuid()
        if form == "ipv4":
            return _ipv4()
        if form == "ipv6":
            return _ipv6()
        if form == "cidr":
            return _cidr()
        if "pattern" in schema and "revision_number" in schema["pattern"]:
            return st.integers(0, 30).map("revision_number={}".format)
        if "pattern" in schema and ":" in schema["pattern"]:
            return _mac()
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        low, high = schema.get("minLength", 0), schema.get("maxLength", 40)
        return st.one_of(_SHORT_TEXT, st.text(min_size=low, max_size=min(high, 40))).filter(
            lambda text: low <= len(text) <= high)

    def _object(self, schema, depth):
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        extra = schema.get("additionalProperties", True)
        if not properties and extra in (True, None):
            # An object the description leaves open (a member action's body): keys
            # it knows elsewhere, so that some bodies mean something.
            return st.lists(st.sampled_from(self.names), max_size=3, unique=True).flatmap(self._open_object)

        @st.composite
        def build(draw):
            result = {}
            for name, sub in properties.items():
                # An attribute the description leaves open would mostly be sent wrong.
                if name in required or (resolve(self.doc, sub) and draw(_ONE_IN_FOUR)):
                    result[name] = draw(self._named(name, sub, depth + 1))
            if isinstance(extra, dict):
                for name in draw(st.lists(st.sampled_from(self.names), max_size=2)):
                    result.setdefault(name, draw(self.valid(extra, depth + 1)))
            return result
        return build()

    def _open_object(self, names):
        return st.fixed_dictionaries({name: self._named(name, {}, 1) for name in names})

    def _named(self, name, schema, depth):
        """Values for the attribute ``name``: ids of its collection for "<member>_id", the
        fuzzer's projects for project ids."""
        if name in _PROJECT_ATTRIBUTES:
            return _weighted([(st.sampled_from(PROJECTS), 8), (self.valid(schema, depth), 1)])
        if name in _PLAUSIBLE:
            return _weighted([(_PLAUSIBLE[name], 8), (self.valid(schema, depth), 1)])
        collection = _ID_COLLECTIONS.get(name)
        if collection is None or (schema and "uuid" not in json.dumps(schema)):
            return self.valid(schema, depth)
        key = ("named", name)
        if key not in self._valid:
            known = st.integers(0, 2 ** 16).map(lambda index: self.known_in(collection, index))
            self._valid[key] = _weighted([(known, 8), (self.valid(schema, depth), 2)])
        return self._valid[key]

    def known_in(self, collection, index):
        """An id of ``collection`` (of any, when it has none yet), chosen by ``index``."""
        known = self.pool.by_collection.get(collection) or self.pool.all_ids()
        return known[index % len(known)] if known else "00000000-0000-4000-8000-000000000000"

    def invalid(self, schema):
        """A value the schema refuses, most of the time (wrong type, range, format, length)."""
        key = json.dumps(schema, sort_keys=True)
        if key not in self._invalid:
            self._invalid[key] = self._build_invalid(schema)
        return self._invalid[key]

    def _build_invalid(self, schema):
        schema = resolve(self.doc, schema)
        kind = schema.get("type")
        wrong_type = ANY_JSON.filter(lambda value: not _is_type(value, kind))
        choices = [wrong_type]
        if kind == "string" or "format" in schema:
            choices += [st.text(min_size=256, max_size=300), st.sampled_from(
                ["", " ", "not-a-uuid", "10.0.0.256", "10.1", "::g", "1.2.3.4/33", "00:00:00:00:00:00",
                 "01:00:5e:00:00:01", "1" * 255, "x" * 256, "a\x00b", "\ud7ff\ue000", "ñandú"])]
        if kind == "integer":
            choices += [st.sampled_from([-1, 2 ** 31, 2 ** 32, 2 ** 63, -2 ** 63 - 1, 10 ** 30, 1.5, "1"]),
                        st.integers(2 ** 63, 2 ** 80)]
        if "enum" in schema:
            choices.append(_SHORT_TEXT.filter(lambda value: value not in schema["enum"]))
        if kind == "array" or "items" in schema:
            choices.append(st.lists(ANY_JSON, min_size=1, max_size=3))
        if kind == "object" or "properties" in schema:
            choices.append(st.dictionaries(_SHORT_TEXT, ANY_JSON, min_size=1, max_size=3))
        return st.one_of(choices)


def _unique(items):
    seen, result = set(), []
    for item in items:
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


def _is_type(value, kind):
    checks = {"string": lambda x: isinstance(x, str),
              "integer": lambda x: isinstance(x, int) and not isinstance(x, bool),
              "boolean": lambda x: isinstance(x, bool), "array": lambda x: isinstance(x, list),
              "object": lambda x: isinstance(x, dict), "null": lambda x: x is None}
    kinds = kind if isinstance(kind, list) else [kind]
    return any(checks[k](value) for k in kinds if k in checks)


# --- requests ----------------------------------------------------------------------------

_TRUE_TEXTS = ["true", "True", "1", "TRUE"]
_FALSE_TEXTS = ["false", "False", "0", "no"]


def _query_text(parts):
    """A value as a query string carries it; ``parts`` is (value, a spelling choice for booleans)."""
    value, spelling = parts
    if isinstance(value, bool):
        return (_TRUE_TEXTS if value else _FALSE_TEXTS)[spelling % 4]
    return value if isinstance(value, str) else json.dumps(value)


def _weighted(choices):
    """One of the strategies, chosen in proportion to the weights of ``choices`` [(strategy, weight)]."""
    strategies = [strategy for strategy, weight in choices for _ in range(weight)]
    return st.integers(0, 2 ** 16).flatmap(lambda index: strategies[index % len(strategies)])


class Requests:
    """The strategy of requests to the operations of ``doc`` (``self.strategy``), built once."""

    def __init__(self, doc, pool, collection_of_path):
        self.doc = doc
        self.pool = pool
        self.collection_of_path = collection_of_path  # template -> collection whose ids fill {id}
        names = set()
        for schema in doc["components"]["schemas"].values():
            names.update(schema.get("properties", {}))
        self.values = Values(doc, pool, names)
        self._identity = st.sampled_from([ADMIN, ADMIN, ADMIN, MEMBER, OTHER_MEMBER])
        operations = []
        for template, item in sorted(doc["paths"].items()):
            undocumented = sorted({"PATCH", "POST", "PUT", "DELETE", "HEAD"} - {verb.upper() for verb in item})
            for verb, operation in item.items():
                if verb != "parameters":
                    params = list(item.get("parameters", [])) + list(operation.get("parameters", []))
                    operations.append(self._operation(template, verb.upper(), operation, params, undocumented))
        self.operations = operations
        # One request per operation in each example: Hypothesis favours some branches of a
        # one_of and copies spans between the items of a list, which would starve others.
        self.strategy = st.tuples(*operations)

    def _operation(self, template, method, operation, params, undocumented):
        path = st.tuples(*[self._path_value(template, p) for p in params if p["in"] == "path"])
        queries = [p for p in params if p["in"] == "query"]
        query = self._query(queries) if method == "GET" else _weighted([(st.just([]), 9), (self._query(queries), 1)])
        if_match = next((p for p in params if p["in"] == "header"), None)
        headers = self._identity
        if if_match is not None:
            match = _weighted([(st.none(), 6), (self.values.valid(if_match["schema"]), 3), (_HEADER_TEXT, 1)])
            headers = st.tuples(self._identity, match).map(
                lambda pair: dict(pair[0], **({"If-Match": pair[1]} if pair[1] is not None else {})))
        if "requestBody" in operation:
            body = self._body(operation["requestBody"]["content"]["application/json"]["schema"])
        else:
            body = _weighted([(st.just(NO_BODY), 19), (ANY_JSON, 1)])
        odd = st.sampled_from([None] * 49 + undocumented)
        names = [p["name"] for p in params if p["in"] == "path"]

        def build(parts):
            values, query_value, headers_value, body_value, odd_method = parts
            path = template
            for name, value in zip(names, values):
                path = path.replace("{%s}" % name, urllib.parse.quote(value, safe=""))
            if odd_method is not None:
                return FuzzRequest("undocumented", odd_method, template, path, query_value, dict(headers_value),
                                   body_value)
            return FuzzRequest(operation["operationId"], method, template, path, query_value, dict(headers_value),
                               body_value)
        return st.tuples(path, query, headers, body, odd).map(build)

    def _path_value(self, template, param):
        name = param["name"]
        collection = self.collection_of_path.get(template) if name == "id" else None
        choices = [(st.uuids().map(str), 1), (_NAME_TEXT.filter(bool), 1)]
        if collection:
            choices.append((st.integers(0, 2 ** 16).map(lambda index: self.values.known_in(collection, index)), 16))
        if name == "alias":
            choices.append((st.sampled_from(self.doc["x-extensions"] or ["none"]), 4))
        if name == "project_id":
            choices.append((st.sampled_from(["admin", "fuzz-member-project", "fuzz-other-project"]), 4))
        if name == "tag":
            choices.append((st.sampled_from(["red", "blue", "a,b"]), 2))
        return _weighted(choices)

    def _query(self, params):
        if not params:
            return st.just([])
        pairs = [self._query_pair(p) for p in params]
        unknown = st.tuples(st.sampled_from(self.values.names), _SHORT_TEXT).map(lambda pair: [pair])
        extra = _weighted([(st.just([]), 19), (unknown, 1)])
        return st.tuples(st.lists(st.one_of(pairs), max_size=5), extra).map(lambda parts: parts[0] + parts[1])

    def _query_pair(self, param):
        name = param["name"]
        schema = param["schema"]
        item = schema.get("items", schema)
        if name == "fields":
            value = st.one_of(st.sampled_from(self.values.names), _SHORT_TEXT)
        else:
            valid = st.tuples(self.values.valid(item), st.integers(0, 3)).map(_query_text)
            value = _weighted([(valid, 4), (_SHORT_TEXT, 1)])
        return value.map(lambda text: (name, text))

    def _body(self, schema):
        valid = self.values.valid(schema)
        garbage = st.one_of(ANY_JSON, st.binary(max_size=20), st.just(b"{\"a\": "), st.just(b"\xff\xfe"))
        return _weighted([(valid, 13), (self._one_wrong(schema), 5), (garbage, 2)])

    def _one_wrong(self, schema):
        """A valid body with one attribute of its member replaced by a bad value, or one unknown."""
        schema = resolve(self.doc, schema)
        if "oneOf" in schema:
            schema = resolve(self.doc, schema["oneOf"][0])
        properties = schema.get("properties", {})
        if len(properties) != 1:
            return self.values.valid(schema)
        (key, member_schema), = properties.items()
        fields = resolve(self.doc, member_schema).get("properties", {})
        if not fields:
            return self.values.valid(schema)
        changes = [st.tuples(st.just(name), self.values.invalid(sub)) for name, sub in sorted(fields.items())]
        changes.append(st.tuples(_SHORT_TEXT, ANY_JSON))

        def apply(parts):
            body, (name, value) = parts
            member = body.get(key)
            if not isinstance(member, dict):
                return body
            return {key: dict(member, **{name: value})}
        return st.tuples(self.values.valid(schema), st.one_of(changes)).map(apply)


# --- checking answers --------------------------------------------------------------------

class Conformance:
    """Whether a response is what the description promises."""

    def __init__(self, doc):
        self.doc = doc
        self._validators = {}
        self._error = self._validator({"$ref": "#/components/schemas/NeutronError"})

    def _validator(self, schema):
        return jsonschema.Draft202012Validator({**schema, "components": self.doc["components"]},
                                               format_checker=jsonschema.FormatChecker())

    def problem(self, request, status, body_bytes):
        """None when the answer conforms, else what is wrong with it."""
        if status >= 500:
            return "HTTP %d" % status
        if request.method == "HEAD":
            return None
        if status >= 400:
            return self._check(self._error, body_bytes, "error body")
        if request.operation == "undocumented":
            return "HTTP %d for an undocumented method" % status
        template, verb = request.template, request.method.lower()
        responses = self.doc["paths"][template][verb]["responses"]
        documented = responses.get(str(status))
        if documented is None:
            return "HTTP %d is not a documented answer of %s" % (status, request.operation)
        content = documented.get("content")
        if content is None:
            return None if not body_bytes else "a body in a %d answer" % status
        key = (template, verb, status)
        if key not in self._validators:
            self._validators[key] = self._validator(content["application/json"]["schema"])
        return self._check(self._validators[key], body_bytes, "%s %d body" % (request.operation, status))

    @staticmethod
    def _check(validator, body_bytes, what):
        try:
            body = json.loads(body_bytes)
        except ValueError:
            return "%s is not JSON: %r" % (what, body_bytes[:200])
        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
        if error is None:
            return None
        return "%s does not conform at %s: %s" % (what, "/".join(str(p) for p in error.absolute_path),
                                                   error.message[:300])


def member_schema_collections(doc):
    """{path template: collection} for the templates whose {id} is a member of a collection."""
    result = {}
    for template in doc["paths"]:
        parts = template.split("/")
        if len(parts) >= 4 and parts[3] == "{id}":
            result[template] = parts[2].replace("-", "_")
    return result
