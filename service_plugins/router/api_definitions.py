"""API extensions of the router plugin, declared as data (netweave.api_extensions entry points).

router              routers, floating IPs and the interface member actions
ext-gw-mode         enable_snat in a router's external_gateway_info
extraroute          a router's extra routes
extraroute-atomic   add_extraroutes / remove_extraroutes member actions
fip-port-details    port_details of a floating IP
dvr, l3-ha          the admin-only ``distributed`` and ``ha`` router attributes
"""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs, standard_attributes

_fixed_ip = v.dict_of({"subnet_id": v.uuid_value, "ip_address": v.ip_address})
_gateway = v.dict_of({"network_id": v.uuid_value, "enable_snat": v.boolean,
                      "external_fixed_ips": v.list_of(_fixed_ip)}, required=("network_id",))
_route = v.dict_of({"destination": v.cidr, "nexthop": v.ip_address}, required=("destination", "nexthop"))


def gateway_info(value):
    """external_gateway_info: null or {} clears the gateway, else a dict naming its network."""
    if value is None or value == {}:
        return {}
    return _gateway(value)


def routes(value):
    """routes: a list of {destination, nexthop}; null means none."""
    if value is None:
        return []
    return v.list_of(_route, unique=True)(value)


INTERFACE_ACTIONS = {"add_router_interface": "PUT", "remove_router_interface": "PUT"}
EXTRAROUTE_ACTIONS = {"add_extraroutes": "PUT", "remove_extraroutes": "PUT"}

ROUTERS = Resource(
    collection="routers", member="router", taggable=True, quota_name="router",
    member_actions={**INTERFACE_ACTIONS, **EXTRAROUTE_ACTIONS},
    attributes={
        **standard_attributes(),
        **attrs(
            A("admin_state_up", allow_post=True, allow_put=True, default=True, convert=v.boolean,
              is_filter=True, is_sort_key=True, filter_convert=v.boolean),
            A("status", is_filter=True, is_sort_key=True),
            A("external_gateway_info", allow_post=True, allow_put=True, default=None, convert=gateway_info,
              enforce_policy=True),
        ),
    })

_FIP_STANDARD = {name: attr for name, attr in standard_attributes().items() if name != "name"}

FLOATINGIPS = Resource(
    collection="floatingips", member="floatingip", taggable=True, quota_name="floatingip",
    attributes={
        **_FIP_STANDARD,
        **attrs(
            A("floating_ip_address", allow_post=True, default=None, convert=v.ip_address_or_none,
              is_filter=True, is_sort_key=True, enforce_policy=True),
            # Where to take the address from; not shown, as in Neutron.
            A("subnet_id", allow_post=True, default=None, convert=v.uuid_or_none, is_visible=False),
            A("floating_network_id", allow_post=True, required=True, convert=v.uuid_value, is_filter=True,
              is_sort_key=True, filter_convert=v.id_filter),
            A("router_id", is_filter=True, is_sort_key=True),
            A("port_id", allow_post=True, allow_put=True, default=None, convert=v.uuid_or_none,
              is_filter=True, is_sort_key=True),
            A("fixed_ip_address", allow_post=True, allow_put=True, default=None, convert=v.ip_address_or_none,
              is_filter=True, is_sort_key=True),
            A("status", is_filter=True, is_sort_key=True),
        ),
    })

ROUTER = Extension(
    alias="router", name="Neutron L3 Router",
    description="Router abstraction for basic L3 forwarding between L2 Neutron networks and access to "
                "external networks via a NAT gateway.",
    updated="2012-07-20T10:00:00-00:00",
    resources=(ROUTERS, FLOATINGIPS),
    requires=("external-net",),
)

EXT_GW_MODE = Extension(
    alias="ext-gw-mode", name="Neutron L3 Configurable external gateway mode",
    description="Extension of the router abstraction for specifying whether SNAT should occur on the "
                "external gateway",
    updated="2013-03-28T10:00:00-00:00",
    requires=("router",),
)

EXTRAROUTE = Extension(
    alias="extraroute", name="Neutron Extra Route",
    description="Extra routes configuration for L3 router",
    updated="2013-02-01T10:00:00-00:00",
    extended_attributes={"routers": attrs(
        A("routes", allow_put=True, default=[], convert=routes),
    )},
    requires=("router",),
)

EXTRAROUTE_ATOMIC = Extension(
    alias="extraroute-atomic", name="Atomically add/remove extra routes",
    description="Edit extra routes of a router on server side by atomically adding/removing extra routes",
    updated="2019-07-10T00:00:00-00:00",
    requires=("router", "extraroute"),
)

FIP_PORT_DETAILS = Extension(
    alias="fip-port-details", name="Floating IP Port Details Extension",
    description="Add port_details attribute to Floating IP resource",
    updated="2018-04-09T10:00:00-00:00",
    extended_attributes={"floatingips": attrs(A("port_details"))},
    requires=("router",),
)

DVR = Extension(
    alias="dvr", name="Distributed Virtual Router",
    description="Enables configuration of Distributed Virtual Routers.",
    updated="2014-06-1T10:00:00-00:00",
    extended_attributes={"routers": attrs(
        A("distributed", allow_post=True, allow_put=True, convert=v.boolean, enforce_policy=True,
          is_filter=True, is_sort_key=True, filter_convert=v.boolean),
    )},
    requires=("router",),
)

L3_HA = Extension(
    alias="l3-ha", name="HA Router extension",
    description="Adds HA capability to routers.",
    updated="2014-04-26T00:00:00-00:00",
    extended_attributes={"routers": attrs(
        A("ha", allow_post=True, allow_put=True, convert=v.boolean, enforce_policy=True,
          is_filter=True, is_sort_key=True, filter_convert=v.boolean),
    )},
    requires=("router",),
)

EXTENSIONS = (ROUTER, EXT_GW_MODE, EXTRAROUTE, EXTRAROUTE_ATOMIC, FIP_PORT_DETAILS, DVR, L3_HA)
