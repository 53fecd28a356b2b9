"""external-net: networks usable as router gateways and floating IP pools."""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import attrs

EXTENSION = Extension(
    alias="external-net", name="Neutron external network",
    description="Adds external network attribute to network resources.",
    updated="2013-01-14T10:00:00-00:00",
    extended_attributes={"networks": attrs(
        A("router:external", allow_post=True, allow_put=True, default=False, convert=v.boolean,
          enforce_policy=True, is_filter=True, is_sort_key=True, filter_convert=v.boolean),
    )},
)
