"""API extensions of the az plugin (Neutron's aliases, names and attributes).

* ``availability_zone``: ``/v2.0/availability_zones`` (name, resource, state),
  read only;
* ``network_availability_zone``: ``availability_zone_hints`` (POST only) and
  ``availability_zones`` (read only) on networks;
* ``router_availability_zone``: the same on routers.
The agents' ``availability_zone`` attribute is the agent extension's own.
"""
from netweave.core import exceptions as exc
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs
from netweave.service_plugins.az import hints as hints_mod

# Hints are stored as their JSON text in a 255-character column (Neutron's AZ_HINTS_DB_LEN).
HINTS_DB_LEN = 255

_unique_strings = v.list_of(v.string(None), unique=True)


def hint_list(value):
    hints = _unique_strings(value)
    if len(hints_mod.encode(hints)) > HINTS_DB_LEN:
        raise exc.InvalidInput(error_message="Too many availability_zone_hints specified")
    return hints


AVAILABILITY_ZONES = Resource(
    collection="availability_zones", member="availability_zone", allow_bulk=False, read_only=True,
    # Zones have no id; their name is what pagination markers carry.
    id_attribute="name", path="availability_zones",
    attributes=attrs(
        A("name", is_filter=True, is_sort_key=True),
        A("resource", is_filter=True, is_sort_key=True),
        A("state", is_filter=True, is_sort_key=True),
    ))


def _zone_attributes():
    return attrs(
        A(hints_mod.HINTS, allow_post=True, default=[], convert=hint_list),
        A(hints_mod.ZONES),
    )


AVAILABILITY_ZONE = Extension(
    alias="availability_zone", name="Availability Zone", description="The availability zone extension.",
    updated="2015-01-01T10:00:00-00:00",
    resources=(AVAILABILITY_ZONES,),
)

NETWORK_AVAILABILITY_ZONE = Extension(
    alias="network_availability_zone", name="Network Availability Zone",
    description="Availability zone support for network.", updated="2015-01-01T10:00:00-00:00",
    extended_attributes={"networks": _zone_attributes()},
    requires=("availability_zone",),
)

ROUTER_AVAILABILITY_ZONE = Extension(
    alias="router_availability_zone", name="Router Availability Zone",
    description="Availability zone support for router.", updated="2015-01-01T10:00:00-00:00",
    extended_attributes={"routers": _zone_attributes()},
    requires=("router", "availability_zone"),
)
