"""The OpenAPI description derived from the resource definitions (core/api/openapi.py)."""
import jsonschema
import pydantic
import pytest
from openapi_pydantic.v3.v3_1 import OpenAPI

from netweave.core.api import extension, faults, openapi
from netweave.core.api import router as router_mod
from netweave.core.api import validators as v
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs, standard_attributes

WIDGETS = Resource(
    collection="widget_boxes", member="widget_box", taggable=True,
    member_actions={"add_gadget": "PUT", "get_gadgets": "GET"},
    attributes={**standard_attributes(), **attrs(
        A("size", allow_post=True, allow_put=True, default=1, convert=v.integer(1, 10), is_filter=True,
          is_sort_key=True, filter_convert=v.integer()),
        A("network_id", allow_post=True, required=True, convert=v.uuid_value, is_filter=True),
        A("secret", allow_post=True, convert=v.string(8), is_visible=False),
    )})
STAMPS = Resource(collection="stamps", member="stamp",
                  attributes=attrs(A("id", convert=v.uuid_value), A("ink", allow_post=True, convert=v.string(8))))
GAUGES = Resource(collection="gauges", member="gauge", read_only=True, allow_bulk=False,
                  attributes=attrs(A("id", convert=v.uuid_value), A("level")))


def _document(aliases, available, served=None):
    definition = extension.ApiDefinition(aliases, available)
    resources = definition.resources.values() if served is None else served
    return openapi.document(definition, resources)


def _all_installed():
    available = extension.discover()
    return _document(list(available), available)


def _resolve(doc, schema):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return doc["components"]["schemas"][name]
    return schema


def _validator(doc, schema):
    # The components travel with the schema so that its $refs resolve.
    return jsonschema.Draft202012Validator({**schema, "components": doc["components"]},
                                           format_checker=jsonschema.FormatChecker())


# --- what each check accepts -------------------------------------------------------------

@pytest.mark.parametrize("check, good, bad", [
    (v.string(4), "abcd", "abcde"),
    (v.string_or_none(4), None, 3),
    (v.integer(0, 10), 10, 11),
    (v.integer_or_none(0), None, -1),
    (v.boolean, True, "maybe"),
    (v.one_of("a", "b"), "b", "c"),
    (v.uuid_value, "0b7fa8c6-3b7a-4c5f-9a4b-9f4e2e0a1c11", "not-a-uuid"),
    (v.ip_address, "10.0.0.1", "10.0.0.256"),
    (v.cidr_or_none, None, 5),
    (v.list_of(v.ip_address, max_items=1), ["::1"], ["::1", "::2"]),
    (v.dict_of({"start": v.ip_address}, required=("start",)), {"start": "10.0.0.1"}, {"stop": "10.0.0.1"}),
])
def test_each_check_describes_what_it_accepts(check, good, bad):
    validator = jsonschema.Draft202012Validator(v.schema_of(check), format_checker=jsonschema.FormatChecker())
    check(good)
    assert validator.is_valid(good)
    with pytest.raises(v.AttributeInvalid):
        check(bad)
    assert not validator.is_valid(bad)


def test_a_check_nobody_described_has_no_schema():
    assert v.schema_of(lambda value: value) is None


# --- the document -------------------------------------------------------------------------

def test_a_resource_has_its_collection_member_action_and_tag_paths():
    doc = _document([], {}, served=[WIDGETS, GAUGES])
    paths = doc["paths"]
    assert set(paths["/v2.0/widget-boxes"]) == {"get", "post"}
    assert set(paths["/v2.0/widget-boxes/{id}"]) == {"parameters", "get", "put", "delete"}
    assert "put" in paths["/v2.0/widget-boxes/{id}/add_gadget"]
    assert "get" in paths["/v2.0/widget-boxes/{id}/get_gadgets"]
    assert set(paths["/v2.0/widget-boxes/{id}/tags/{tag}"]) == {"parameters", "get", "put", "delete"}
    # Read-only resources are only read.
    assert set(paths["/v2.0/gauges"]) == {"get"}
    assert set(paths["/v2.0/gauges/{id}"]) == {"parameters", "get"}
    assert "/v2.0/gauges/{id}/tags" not in paths


def test_a_resource_with_nothing_to_change_has_no_update():
    doc = _document([], {}, served=[STAMPS])
    assert not STAMPS.updatable and WIDGETS.updatable and not GAUGES.updatable
    assert set(doc["paths"]["/v2.0/stamps/{id}"]) == {"parameters", "get", "delete"}


def test_the_router_answers_405_to_an_update_of_what_cannot_change():
    class Controller:
        resource = STAMPS
        index = create = show = update = delete = object()

        @staticmethod
        def member_id(raw):
            return raw

    router = router_mod.Router()
    router.add_collection(Controller)
    assert router.dispatch("DELETE", "/v2.0/stamps/x") == (Controller.delete, {"item_id": "x"}, False)
    with pytest.raises(faults.HTTPError) as refused:
        router.dispatch("PUT", "/v2.0/stamps/x")
    assert refused.value.status == 405


def test_bodies_and_members_follow_the_attributes():
    doc = _document([], {}, served=[WIDGETS])
    schemas = doc["components"]["schemas"]
    shown, create, update = schemas["WidgetBox"], schemas["WidgetBoxCreate"], schemas["WidgetBoxUpdate"]
    assert "secret" not in shown["properties"] and "secret" in create["properties"]
    assert create["required"] == ["network_id"]
    assert set(update["properties"]) == {"name", "description", "size"}
    assert shown["properties"]["size"] == {"type": "integer", "minimum": 1, "maximum": 10}
    assert shown["additionalProperties"] is False


def test_list_parameters_and_pagination_links():
    doc = _document([], {}, served=[WIDGETS])
    operation = doc["paths"]["/v2.0/widget-boxes"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse", "tags", "not-tags-any",
            "size", "network_id", "id"} <= set(params)
    assert "secret" not in params  # not a filter
    assert params["size"]["schema"]["items"]["type"] == "integer"
    assert "size" in params["sort_key"]["schema"]["items"]["enum"]
    listed = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["properties"]["widget_boxes_links"] == {"$ref": "#/components/schemas/Links"}


def test_every_error_is_in_neutron_shape():
    doc = _document([], {}, served=[WIDGETS])
    error = _validator(doc, {"$ref": "#/components/schemas/NeutronError"})
    assert error.is_valid({"NeutronError": {"type": "HTTPNotFound", "message": "gone", "detail": ""}})
    assert not error.is_valid({"NeutronError": {"type": "HTTPNotFound", "message": "gone"}})
    assert not error.is_valid({"error": "gone"})
    for path, item in doc["paths"].items():
        for verb, operation in item.items():
            if verb != "parameters" and path != openapi.PATH:
                assert operation["responses"]["default"] == {"$ref": "#/components/responses/Error"}, (path, verb)


def test_only_loaded_extensions_appear():
    available = extension.discover()
    without = _document([], available)
    with_provider = _document(["provider"], available)
    assert "provider:network_type" not in without["components"]["schemas"]["Network"]["properties"]
    assert "provider:network_type" in with_provider["components"]["schemas"]["Network"]["properties"]
    assert "/v2.0/routers" not in without["paths"]
    assert with_provider["x-extensions"] == ["provider"]


def test_the_whole_description_is_a_valid_openapi_3_1_document():
    doc = _all_installed()
    OpenAPI.model_validate(doc)
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    assert "/v2.0/routers/{id}/add_router_interface" in doc["paths"]
    assert "/v2.0/quotas/{project_id}" in doc["paths"]


def test_the_validator_refuses_a_broken_document():
    doc = _all_installed()
    doc["paths"]["/v2.0/networks"]["get"]["responses"] = "none"
    with pytest.raises(pydantic.ValidationError):
        OpenAPI.model_validate(doc)


def test_every_reference_resolves():
    doc = _all_installed()
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(doc)
    assert refs
    for ref in refs:
        _root, section, kind, name = ref.split("/")
        assert name in doc[section][kind], ref


def test_a_created_network_as_shown_conforms():
    doc = _document(["provider", "external-net"], extension.discover())
    network = {"id": "0b7fa8c6-3b7a-4c5f-9a4b-9f4e2e0a1c11", "name": "net", "tenant_id": "p", "project_id": "p",
               "admin_state_up": True, "status": "ACTIVE", "subnets": [], "shared": False,
               "description": "", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
               "revision_number": 1, "provider:network_type": "vxlan", "provider:physical_network": None,
               "provider:segmentation_id": 7, "router:external": False}
    shown = doc["paths"]["/v2.0/networks/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
    validator = _validator(doc, shown["schema"])
    assert validator.is_valid({"network": network})
    assert not validator.is_valid({"network": dict(network, surprise=1)})
    assert not validator.is_valid({"network": dict(network, revision_number="1")})
