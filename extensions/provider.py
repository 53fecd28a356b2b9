"""provider: the physical realisation of a network (type, physnet, segment id)."""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import MISSING, attrs
from netweave.core.api.resource import Attribute as A


def _segmentation_id(value):
    return v.integer_or_none(0, 2 ** 32 - 1)(value)


EXTENSION = Extension(
    alias="provider", name="Provider Network",
    description="Expose mapping of virtual networks to physical networks",
    updated="2012-09-07T10:00:00-00:00",
    extended_attributes={"networks": attrs(
        A("provider:network_type", allow_post=True, allow_put=True, default=MISSING,
          convert=v.string(255), enforce_policy=True, is_filter=True, is_sort_key=True),
        A("provider:physical_network", allow_post=True, allow_put=True, default=MISSING,
          convert=v.string_or_none(64), enforce_policy=True, is_filter=True, is_sort_key=True),
        A("provider:segmentation_id", allow_post=True, allow_put=True, default=MISSING,
          convert=_segmentation_id, enforce_policy=True, is_filter=True, is_sort_key=True,
          filter_convert=v.integer()),
    )},
)
