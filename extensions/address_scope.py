"""address-scope: address scopes and the subnet pools in them.

A subnet pool's ``address_scope_id`` (core attribute) names its scope; the pools
of one scope may not overlap and have the scope's IP version. Networks show the
scope of their subnets' pools (read-only ``ipv4_address_scope`` /
``ipv6_address_scope``).
"""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs


@v.described({"enum": [4, 6]})
def _ip_version(value):
    return v.one_of(4, 6)(v.integer()(value))


ADDRESS_SCOPES = Resource(
    collection="address_scopes", member="address_scope", allow_bulk=False,
    attributes=attrs(
        A("id", is_filter=True, is_sort_key=True, filter_convert=v.id_filter),
        A("name", allow_post=True, allow_put=True, required=True, convert=v.string(255), is_filter=True,
          is_sort_key=True),
        A("tenant_id", allow_post=True, convert=v.project_id, is_filter=True, is_sort_key=True),
        A("project_id", allow_post=True, convert=v.project_id, is_filter=True, is_sort_key=True),
        A("shared", allow_post=True, allow_put=True, default=False, convert=v.boolean, is_filter=True,
          is_sort_key=True, enforce_policy=True, filter_convert=v.boolean),
        A("ip_version", allow_post=True, required=True, convert=_ip_version, is_filter=True,
          is_sort_key=True, filter_convert=v.integer()),
    ))

EXTENSION = Extension(
    alias="address-scope", name="Address scope",
    description="Address scopes extension.",
    updated="2015-07-26T10:00:00-00:00", requires=("subnet_allocation",),
    resources=(ADDRESS_SCOPES,),
    extended_attributes={"networks": attrs(A("ipv4_address_scope"), A("ipv6_address_scope"))},
)
