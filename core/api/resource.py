"""Declarative descriptions of API resources and their attributes.

A resource is its collection name, member name and a map of ``Attribute``;
extensions add attributes to existing resources or declare new ones. The
controller derives all request checking and response shaping from these.
"""
import dataclasses
from typing import Any, Callable

MISSING = object()
# Marker for "the client did not send it": defaults only fill attributes with this value.
UNSET = MISSING


@dataclasses.dataclass(frozen=True)
class Attribute:
    name: str
    allow_post: bool = False
    allow_put: bool = False
    required: bool = False
    default: Any = MISSING
    convert: Callable[[Any], Any] | None = None
    is_visible: bool = True
    is_filter: bool = False
    is_sort_key: bool = False
    # Policy checks "<action>_<member>:<name>" when the attribute is sent.
    enforce_policy: bool = False
    # Filters on this attribute accept a comma-free list (?name=a&name=b).
    filter_convert: Callable[[str], Any] | None = None

    def has_default(self):
        return self.default is not MISSING


@dataclasses.dataclass
class Resource:
    collection: str
    member: str
    attributes: dict[str, Attribute]
    # Name used for policy actions and plugin methods ("network" -> create_network).
    plugin_name: str | None = None
    parent: dict | None = None
    allow_bulk: bool = True
    # Extra member actions: {"add_router_interface": "PUT"}.
    member_actions: dict = dataclasses.field(default_factory=dict)
    # Resource supports /{id}/tags.
    taggable: bool = False
    quota_name: str | None = None
    # The attribute naming a member in URLs and pagination markers.
    id_attribute: str = "id"
    # Served by GET only: POST, PUT and DELETE answer 405.
    read_only: bool = False
    # The collection's name in URLs when it is not the collection with "-" for "_"
    # (Neutron serves some with "_": /v2.0/availability_zones).
    path: str | None = None
    # A path segment before the collection: "metering" serves /v2.0/metering/metering-labels.
    path_prefix: str = ""

    @property
    def name(self):
        return self.plugin_name or self.member

    @property
    def url_name(self):
        """The collection's path under /v2.0: "networks", "metering/metering-labels"."""
        url = self.path or self.collection.replace("_", "-")
        return "%s/%s" % (self.path_prefix, url) if self.path_prefix else url

    @property
    def updatable(self):
        """Whether PUT on a member is served: some attribute may change."""
        return not self.read_only and any(attr.allow_put for attr in self.attributes.values())

    def extended(self, extra):
        merged = dict(self.attributes)
        for attr in extra.values():
            merged[attr.name] = attr
        return dataclasses.replace(self, attributes=merged)


def attrs(*items):
    return {a.name: a for a in items}


def standard_attributes(name_len=255, description=True):
    """id, name, project/tenant, description, timestamps and revision of standard resources."""
    from netweave.core.api import validators as v
    items = [
        Attribute("id", is_visible=True, is_filter=True, is_sort_key=True, convert=v.uuid_value,
                  filter_convert=v.id_filter),
        Attribute("name", allow_post=True, allow_put=True, default="", convert=v.string(name_len),
                  is_filter=True, is_sort_key=True),
        Attribute("tenant_id", allow_post=True, convert=v.project_id, is_filter=True,
                  is_sort_key=True, required=False),
        Attribute("project_id", allow_post=True, convert=v.project_id, is_filter=True,
                  is_sort_key=True, required=False),
        Attribute("created_at", is_filter=True, is_sort_key=True, filter_convert=v.datetime_value),
        Attribute("updated_at", is_filter=True, is_sort_key=True, filter_convert=v.datetime_value),
        Attribute("revision_number", is_filter=True, is_sort_key=True,
                  filter_convert=v.integer()),
    ]
    if description:
        items.append(Attribute("description", allow_post=True, allow_put=True, default="",
                               convert=v.string(255), is_filter=True, is_sort_key=True))
    return attrs(*items)
