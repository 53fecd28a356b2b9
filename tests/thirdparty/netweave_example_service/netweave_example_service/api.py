"""The example-widgets API extension: /v2.0/widgets."""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs

WIDGETS = Resource(
    collection="widgets", member="widget",
    attributes=attrs(
        A("id", is_filter=True, convert=v.uuid_value, filter_convert=v.id_filter),
        A("name", allow_post=True, allow_put=True, default="", convert=v.string(255), is_filter=True),
        A("tenant_id", allow_post=True, convert=v.project_id, is_filter=True),
        A("project_id", allow_post=True, convert=v.project_id, is_filter=True),
        A("network_id", allow_post=True, required=True, convert=v.uuid_value, is_filter=True,
          filter_convert=v.id_filter),
        # The port the widget owns: made with the widget, deleted with it.
        A("port_id", is_filter=True, filter_convert=v.id_filter),
    ))

WIDGETS_EXTENSION = Extension(
    alias="example-widgets", name="Example widgets",
    description="Widgets of the out-of-tree example service plugin, each owning a port.",
    updated="2026-12-05T00:00:00-00:00",
    resources=(WIDGETS,),
)
