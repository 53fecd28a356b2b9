"""The OpenAPI 3.1 description of the API served, derived from its definitions.

Everything here is a pure function of the resources and extensions the loaded
plugins serve (``extension.ApiDefinition``) and of what each attribute's check
accepts (``validators.schema_of``): the collections with their list, create,
show, update and delete operations, member actions, the tags sub-resource,
``*_links`` pagination, the quotas API when its extension is loaded, and
Neutron's error shape ``{"NeutronError": {"type", "message", "detail"}}`` for
every error. Schemas are JSON Schema 2020-12, as OpenAPI 3.1 has them, so a
response can be checked against them with any JSON Schema validator.
"""
import copy

from netweave.core.api import query
from netweave.core.api import validators as v

OPENAPI_VERSION = "3.1.0"
PATH = "/v2.0/openapi.json"

_UUID = {"type": "string", "format": "uuid"}
# Attributes the server fills in, which no check describes.
_READ_ONLY = {
    "id": _UUID,
    "created_at": {"type": "string"},
    "updated_at": {"type": "string"},
    "revision_number": {"type": "integer", "minimum": 0},
    "status": {"type": "string"},
    "tenant_id": {"type": "string"},
    "project_id": {"type": "string"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "segment_id": {"anyOf": [_UUID, {"type": "null"}]},
    "availability_zone_hints": {"type": "array", "items": {"type": "string"}},
}
# Attributes shown otherwise than requests set them: the ports of routers' gateways and
# of DHCP belong to no project ("").
_SHOWN_AS = {"tenant_id": {"type": "string"}, "project_id": {"type": "string"}}
_ERROR = {
    "type": "object", "required": ["NeutronError"], "additionalProperties": False,
    "properties": {"NeutronError": {
        "type": "object", "required": ["type", "message", "detail"], "additionalProperties": False,
        "properties": {"type": {"type": "string"}, "message": {"type": "string"},
                       "detail": {"type": "string"}}}},
}
_LINKS = {
    "type": "array",
    "items": {"type": "object", "required": ["rel", "href"], "additionalProperties": False,
              "properties": {"rel": {"enum": ["next", "previous"]}, "href": {"type": "string"}}},
}
_TAGS = {"type": "object", "required": ["tags"], "additionalProperties": False,
         "properties": {"tags": {"type": "array", "items": {"type": "string"}}}}
_ANY_OBJECT = {"type": "object"}


def document(definition, served, server_url=None):
    """The OpenAPI document of ``definition`` (an ApiDefinition); ``served`` are the
    Resources that have a controller (a plugin answering for them)."""
    schemas = {"NeutronError": copy.deepcopy(_ERROR), "Links": copy.deepcopy(_LINKS),
               "Tags": copy.deepcopy(_TAGS)}
    paths = {}
    for resource in sorted(served, key=lambda r: r.collection):
        schemas.update(resource_schemas(resource))
        paths.update(resource_paths(resource))
    paths.update(_meta_paths())
    if "quotas" in definition.extensions:
        paths.update(_quota_paths())
    doc = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "netweave Networking API", "version": "2.0",
                 "description": "OpenStack Networking (Neutron) v2.0 API. Extensions loaded: %s."
                                % (", ".join(sorted(definition.extensions)) or "none")},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas,
                       "responses": {"Error": _response("An error, in Neutron's shape", "NeutronError")}},
        "x-extensions": sorted(definition.extensions),
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


# --- schemas ---------------------------------------------------------------

def attribute_schema(attr):
    """What a request may send for ``attr``: its check's schema, else anything."""
    described = v.schema_of(attr.convert) if attr.convert is not None else None
    return copy.deepcopy(described) if described else {}


def response_attribute_schema(attr):
    """What a response shows for ``attr``: what a request may set it to, or, for what
    only the server sets, its known shape."""
    if attr.name in _SHOWN_AS:
        return copy.deepcopy(_SHOWN_AS[attr.name])
    if attr.name in _READ_ONLY and not attr.allow_post:
        return copy.deepcopy(_READ_ONLY[attr.name])
    described = attribute_schema(attr)
    if described:
        return described
    return copy.deepcopy(_READ_ONLY.get(attr.name, {}))


def schema_name(resource, suffix=""):
    return "".join(part.capitalize() for part in resource.member.split("_")) + suffix


def resource_schemas(resource):
    """The component schemas of one resource: the member as shown, its create and update bodies."""
    shown = {name: response_attribute_schema(attr)
             for name, attr in sorted(resource.attributes.items()) if attr.is_visible}
    if resource.taggable:
        # Tags are shown on whatever /{id}/tags serves, declared as an attribute or not.
        shown.setdefault("tags", copy.deepcopy(_READ_ONLY["tags"]))
    created = {name: attribute_schema(attr)
               for name, attr in sorted(resource.attributes.items()) if attr.allow_post}
    updated = {name: attribute_schema(attr)
               for name, attr in sorted(resource.attributes.items()) if attr.allow_put}
    required = sorted(name for name, attr in resource.attributes.items() if attr.allow_post and attr.required)
    create = {"type": "object", "properties": created, "additionalProperties": False}
    if required:
        create["required"] = required
    return {
        schema_name(resource): {"type": "object", "properties": shown, "additionalProperties": False},
        schema_name(resource, "Create"): create,
        schema_name(resource, "Update"): {"type": "object", "properties": updated, "additionalProperties": False},
    }


def _ref(name):
    return {"$ref": "#/components/schemas/%s" % name}


def _wrapped(key, schema):
    return {"type": "object", "required": [key], "additionalProperties": False, "properties": {key: schema}}


def _response(description, schema_name_or_schema=None):
    response = {"description": description}
    if schema_name_or_schema is not None:
        schema = (_ref(schema_name_or_schema) if isinstance(schema_name_or_schema, str)
                  else schema_name_or_schema)
        response["content"] = {"application/json": {"schema": schema}}
    return response


def _body(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_ERRORS = {"default": {"$ref": "#/components/responses/Error"}}


# --- parameters ---------------------------------------------------------------

def _query(name, schema, description=None, array=False):
    param = {"name": name, "in": "query", "required": False,
             "schema": {"type": "array", "items": schema} if array else schema}
    if array:
        param.update(style="form", explode=True)
    if description:
        param["description"] = description
    return param


def list_parameters(resource):
    """The query parameters of a collection's GET: fields, filters, sorting, pagination, tags."""
    sort_keys = sorted(name for name, attr in resource.attributes.items() if attr.is_sort_key)
    params = [
        _query("fields", {"type": "string"}, "attributes to show", array=True),
        _query("sort_key", {"enum": sort_keys}, "attributes to sort by", array=True),
        _query("sort_dir", {"enum": ["asc", "desc"]}, "one direction per sort_key", array=True),
        _query("limit", {"type": "integer", "minimum": 0, "maximum": query.MAX_LIMIT},
               "page size; 0 means no limit"),
        _query("marker", copy.deepcopy(_UUID), "the last item of the previous page"),
        _query("page_reverse", {"type": "boolean"}, "read the page before the marker"),
    ]
    if resource.taggable:
        params.extend(_query(name, {"type": "string"}, "comma-separated tags") for name in query.TAG_FILTERS)
    for name, attr in sorted(resource.attributes.items()):
        if attr.is_filter and name not in {param["name"] for param in params}:
            params.append(_query(name, filter_schema(attr), "filter: any of the values", array=True))
    return params


def filter_schema(attr):
    """What one value of a filter on ``attr`` may be, as a query string carries it."""
    if attr.filter_convert is not None:
        described = v.schema_of(attr.filter_convert)
        if described:
            return copy.deepcopy(described)
    return {"type": "string"}


def _fields_parameter():
    return _query("fields", {"type": "string"}, "attributes to show", array=True)


def _id_parameter(name="id"):
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
             "schema": {"type": "string", "pattern": "^revision_number=[0-9]+$"},
             "description": "fail with 412 unless the revision is this one"}


# --- paths -----------------------------------------------------------------------

def resource_paths(resource):
    """The paths of one collection: itself, its members, their actions and tags."""
    url = "/v2.0/" + resource.url_name
    member, collection = resource.member, resource.collection
    shown = _ref(schema_name(resource))
    listed = {"type": "object", "required": [collection], "additionalProperties": False,
              "properties": {collection: {"type": "array", "items": shown},
                             collection + "_links": _ref("Links")}}
    collection_ops = {"get": {
        "operationId": "list_%s" % collection, "tags": [collection],
        "parameters": list_parameters(resource),
        "responses": {"200": _response("The %s the caller may see" % collection, listed), **_ERRORS}}}
    member_ops = {"get": {
        "operationId": "show_%s" % member, "tags": [collection], "parameters": [_fields_parameter()],
        "responses": {"200": _response("The %s" % member, _wrapped(member, shown)), **_ERRORS}}}
    if not resource.read_only:
        one = _wrapped(member, _ref(schema_name(resource, "Create")))
        request = one
        created = _wrapped(member, shown)
        if resource.allow_bulk:
            many = _wrapped(collection, {"type": "array", "minItems": 1,
                                         "items": _ref(schema_name(resource, "Create"))})
            request = {"oneOf": [one, many]}
            created = {"oneOf": [created, _wrapped(collection, {"type": "array", "items": shown})]}
        collection_ops["post"] = {
            "operationId": "create_%s" % member, "tags": [collection], "requestBody": _body(request),
            "responses": {"201": _response("The %s created" % member, created), **_ERRORS}}
    if resource.updatable:
        member_ops["put"] = {
            "operationId": "update_%s" % member, "tags": [collection], "parameters": [_IF_MATCH],
            "requestBody": _body(_wrapped(member, _ref(schema_name(resource, "Update")))),
            "responses": {"200": _response("The %s updated" % member, _wrapped(member, shown)), **_ERRORS}}
    if not resource.read_only:
        member_ops["delete"] = {
            "operationId": "delete_%s" % member, "tags": [collection], "parameters": [_IF_MATCH],
            "responses": {"204": _response("Deleted"), **_ERRORS}}
    paths = {url: collection_ops,
             url + "/{id}": {"parameters": [_id_parameter()], **member_ops}}
    for action, verb in sorted(resource.member_actions.items()):
        operation = {"operationId": "%s_%s" % (action, member), "tags": [collection],
                     "responses": {"200": _response("The action's result", _ANY_OBJECT), **_ERRORS}}
        if verb in ("PUT", "POST"):
            operation["requestBody"] = _body(_ANY_OBJECT)
        paths["%s/{id}/%s" % (url, action)] = {"parameters": [_id_parameter()], verb.lower(): operation}
    if resource.taggable:
        paths.update(_tag_paths(url, resource))
    return paths


def _tag_paths(url, resource):
    tags = [resource.collection]
    member = resource.member
    return {
        url + "/{id}/tags": {
            "parameters": [_id_parameter()],
            "get": {"operationId": "list_%s_tags" % member, "tags": tags,
                    "responses": {"200": _response("The tags", "Tags"), **_ERRORS}},
            "put": {"operationId": "replace_%s_tags" % member, "tags": tags, "requestBody": _body(_ref("Tags")),
                    "responses": {"200": _response("The tags now", "Tags"), **_ERRORS}},
            "delete": {"operationId": "remove_%s_tags" % member, "tags": tags,
                       "responses": {"204": _response("Every tag removed"), **_ERRORS}},
        },
        url + "/{id}/tags/{tag}": {
            "parameters": [_id_parameter(), _id_parameter("tag")],
            "get": {"operationId": "check_%s_tag" % member, "tags": tags,
                    "responses": {"204": _response("The tag is set"), **_ERRORS}},
            "put": {"operationId": "add_%s_tag" % member, "tags": tags,
                    "responses": {"201": _response("The tag is set"), **_ERRORS}},
            "delete": {"operationId": "remove_%s_tag" % member, "tags": tags,
                       "responses": {"204": _response("The tag is removed"), **_ERRORS}},
        },
    }


def _meta_paths():
    extension = {"type": "object", "required": ["name", "alias", "description", "updated", "links"],
                 "properties": {"name": {"type": "string"}, "alias": {"type": "string"},
                                "description": {"type": "string"}, "updated": {"type": "string"},
                                "links": {"type": "array"}}}
    return {
        "/v2.0/extensions": {"get": {
            "operationId": "list_extensions", "tags": ["extensions"],
            "responses": {"200": _response("The extensions loaded",
                                           _wrapped("extensions", {"type": "array", "items": extension})),
                          **_ERRORS}}},
        "/v2.0/extensions/{alias}": {
            "parameters": [_id_parameter("alias")],
            "get": {"operationId": "show_extension", "tags": ["extensions"],
                    "responses": {"200": _response("One extension", _wrapped("extension", extension)),
                                  **_ERRORS}}},
        PATH: {"get": {"operationId": "show_openapi", "tags": ["meta"], "security": [],
                       "responses": {"200": _response("This document", _ANY_OBJECT)}}},
    }


def _quota_paths():
    limits = {"type": "object", "additionalProperties": {"type": "integer"}}
    quota = _wrapped("quota", limits)
    changes = {"type": "object", "minProperties": 1,
               "properties": {"force": {"type": "boolean"}, "check_limit": {"type": "boolean"}},
               "additionalProperties": {"type": "integer", "minimum": -1, "maximum": 2 ** 31 - 1}}
    tags = ["quotas"]
    project = [_id_parameter("project_id")]
    return {
        "/v2.0/quotas": {"get": {
            "operationId": "list_quotas", "tags": tags,
            "responses": {"200": _response("Every project's quotas", _wrapped("quotas", {"type": "array"})),
                          **_ERRORS}}},
        "/v2.0/quotas/{project_id}": {
            "parameters": project,
            "get": {"operationId": "show_quota", "tags": tags,
                    "responses": {"200": _response("A project's limits", quota), **_ERRORS}},
            "put": {"operationId": "update_quota", "tags": tags, "requestBody": _body(_wrapped("quota", changes)),
                    "responses": {"200": _response("A project's limits now", quota), **_ERRORS}},
            "delete": {"operationId": "reset_quota", "tags": tags,
                       "responses": {"204": _response("Back to the defaults"), **_ERRORS}}},
        "/v2.0/quotas/{project_id}/default": {
            "parameters": project,
            "get": {"operationId": "show_quota_default", "tags": tags,
                    "responses": {"200": _response("The default limits", quota), **_ERRORS}}},
        "/v2.0/quotas/{project_id}/details": {
            "parameters": project,
            "get": {"operationId": "show_quota_details", "tags": tags,
                    "responses": {"200": _response("Used, reserved and limit per resource",
                                                   _wrapped("quota", _ANY_OBJECT)), **_ERRORS}}},
    }
