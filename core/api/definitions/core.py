"""Core v2.0 resources: networks, subnets, subnetpools, ports."""
from netweave.core.api import validators as v
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs, standard_attributes

IPV6_MODES = ("dhcpv6-stateful", "dhcpv6-stateless", "slaac")

_fixed_ip = v.dict_of({"subnet_id": v.uuid_value, "ip_address": v.ip_address})
_pool = v.dict_of({"start": v.ip_address, "end": v.ip_address}, required=("start", "end"))
_route = v.dict_of({"destination": v.cidr, "nexthop": v.ip_address}, required=("destination", "nexthop"))


def _allocation_pools(value):
    return None if value is None else v.list_of(_pool)(value)


NETWORKS = Resource(
    collection="networks", member="network", taggable=True, quota_name="network",
    attributes={
        **standard_attributes(),
        **attrs(
            A("admin_state_up", allow_post=True, allow_put=True, default=True, convert=v.boolean,
              is_filter=True, is_sort_key=True, filter_convert=v.boolean),
            A("status", is_filter=True, is_sort_key=True),
            A("subnets", is_filter=True, default=[]),
            A("shared", allow_post=True, allow_put=True, default=False, convert=v.boolean,
              is_filter=True, is_sort_key=True, enforce_policy=True, filter_convert=v.boolean),
            # Shown as stored; set only with network_availability_zone, which is not served.
            A("availability_zone_hints"),
        ),
    })

SUBNETS = Resource(
    collection="subnets", member="subnet", taggable=True, quota_name="subnet",
    attributes={
        **standard_attributes(),
        **attrs(
            A("network_id", allow_post=True, required=True, convert=v.uuid_value, is_filter=True,
              is_sort_key=True, filter_convert=v.id_filter),
            A("ip_version", allow_post=True, default=4, convert=v.integer(), is_filter=True,
              is_sort_key=True, filter_convert=v.integer()),
            A("cidr", allow_post=True, default=None, convert=v.cidr_or_none, is_filter=True,
              is_sort_key=True),
            A("prefixlen", allow_post=True, default=None, convert=v.integer_or_none(0, 128),
              is_visible=False),
            A("subnetpool_id", allow_post=True, default=None, convert=v.uuid_or_none, is_filter=True,
              is_sort_key=True),
            A("use_default_subnetpool", allow_post=True, default=False, convert=v.boolean,
              is_visible=False),
            A("gateway_ip", allow_post=True, allow_put=True, default="auto", convert=v.subnet_gateway,
              is_filter=True, is_sort_key=True),
            A("allocation_pools", allow_post=True, allow_put=True, default=None,
              convert=_allocation_pools),
            A("dns_nameservers", allow_post=True, allow_put=True, default=[],
              convert=v.list_of(v.ip_address)),
            A("host_routes", allow_post=True, allow_put=True, default=[], convert=v.list_of(_route)),
            A("enable_dhcp", allow_post=True, allow_put=True, default=True, convert=v.boolean,
              is_filter=True, is_sort_key=True, filter_convert=v.boolean),
            A("ipv6_ra_mode", allow_post=True, default=None, convert=v.one_of_or_none(*IPV6_MODES),
              is_filter=True, is_sort_key=True),
            A("ipv6_address_mode", allow_post=True, default=None,
              convert=v.one_of_or_none(*IPV6_MODES), is_filter=True, is_sort_key=True),
            # Whether the network is shared with the caller: policy input, not shown (as in Neutron).
            A("shared", is_filter=True, is_visible=False, filter_convert=v.boolean),
            # The routed networks' segment: shown to those get_subnet:segment_id allows (admins).
            A("segment_id", is_filter=True, is_sort_key=True, enforce_policy=True, filter_convert=v.id_filter),
        ),
    })

SUBNETPOOLS = Resource(
    collection="subnetpools", member="subnetpool", taggable=True, quota_name="subnetpool",
    attributes={
        **standard_attributes(),
        **attrs(
            A("prefixes", allow_post=True, allow_put=True, required=True,
              convert=v.list_of(v.cidr)),
            A("default_quota", allow_post=True, allow_put=True, default=None,
              convert=v.integer_or_none(0), is_filter=True, is_sort_key=True, filter_convert=v.integer()),
            A("ip_version", is_filter=True, is_sort_key=True, filter_convert=v.integer()),
            A("default_prefixlen", allow_post=True, allow_put=True, default=None,
              convert=v.integer_or_none(0, 128), is_filter=True, is_sort_key=True,
              filter_convert=v.integer()),
            A("min_prefixlen", allow_post=True, allow_put=True, default=None,
              convert=v.integer_or_none(0, 128), is_filter=True, is_sort_key=True,
              filter_convert=v.integer()),
            A("max_prefixlen", allow_post=True, allow_put=True, default=None,
              convert=v.integer_or_none(0, 128), is_filter=True, is_sort_key=True,
              filter_convert=v.integer()),
            A("is_default", allow_post=True, allow_put=True, default=False, convert=v.boolean,
              is_filter=True, is_sort_key=True, enforce_policy=True, filter_convert=v.boolean),
            A("shared", allow_post=True, default=False, convert=v.boolean, is_filter=True,
              is_sort_key=True, enforce_policy=True, filter_convert=v.boolean),
            A("address_scope_id", allow_post=True, allow_put=True, default=None,
              convert=v.uuid_or_none, is_filter=True, is_sort_key=True),
        ),
    })

PORTS = Resource(
    collection="ports", member="port", taggable=True, quota_name="port",
    attributes={
        **standard_attributes(),
        **attrs(
            A("network_id", allow_post=True, required=True, convert=v.uuid_value, is_filter=True,
              is_sort_key=True, filter_convert=v.id_filter),
            A("admin_state_up", allow_post=True, allow_put=True, default=True, convert=v.boolean,
              is_filter=True, is_sort_key=True, filter_convert=v.boolean),
            A("mac_address", allow_post=True, allow_put=True, default=None, convert=v.mac_address,
              is_filter=True, is_sort_key=True, enforce_policy=True),
            A("fixed_ips", allow_post=True, allow_put=True, default=None,
              convert=v.list_of(_fixed_ip), is_filter=True, enforce_policy=True),
            A("device_id", allow_post=True, allow_put=True, default="", convert=v.string(255),
              is_filter=True, is_sort_key=True),
            A("device_owner", allow_post=True, allow_put=True, default="", convert=v.string(255),
              is_filter=True, is_sort_key=True, enforce_policy=True),
            A("status", is_filter=True, is_sort_key=True),
        ),
    })

CORE_RESOURCES = (NETWORKS, SUBNETS, SUBNETPOOLS, PORTS)
