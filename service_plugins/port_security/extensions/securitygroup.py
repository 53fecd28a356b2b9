"""security-group: security groups, their rules and the groups of a port."""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import MISSING, Resource, attrs, standard_attributes
from netweave.core.api.resource import Attribute as A
from netweave.service_plugins.port_security import exceptions as sg_exc
from netweave.service_plugins.port_security import rules


def _name_not_default(value):
    value = v.string(255)(value)
    if value.lower() == "default":
        raise sg_exc.SecurityGroupDefaultAlreadyExists()
    return value


def _uuid_list_or_none(value):
    if value is None:
        return None
    return v.list_of(v.uuid_value)(value)


def _direction(value):
    return v.one_of(*rules.DIRECTIONS)(value)


SECURITY_GROUPS = Resource(
    collection="security_groups", member="security_group", taggable=True, quota_name="security_group",
    attributes={
        **standard_attributes(),
        **attrs(
            A("name", allow_post=True, allow_put=True, default="", convert=_name_not_default, is_filter=True,
              is_sort_key=True),
            A("security_group_rules", default=[]),
            A("tags", default=[]),
        ),
    })

_RULE_STANDARD = {name: attr for name, attr in standard_attributes().items() if name != "name"}

SECURITY_GROUP_RULES = Resource(
    collection="security_group_rules", member="security_group_rule", quota_name="security_group_rule",
    attributes={
        **_RULE_STANDARD,
        **attrs(
            A("security_group_id", allow_post=True, required=True, convert=v.uuid_value, is_filter=True,
              is_sort_key=True, filter_convert=v.uuid_value),
            A("remote_group_id", allow_post=True, default=None, convert=v.uuid_or_none, is_filter=True,
              is_sort_key=True),
            A("direction", allow_post=True, required=True, convert=_direction, is_filter=True,
              is_sort_key=True),
            A("protocol", allow_post=True, default=None, convert=rules.convert_protocol, is_filter=True,
              is_sort_key=True),
            A("port_range_min", allow_post=True, default=None, convert=rules.convert_port, is_filter=True,
              is_sort_key=True, filter_convert=v.integer()),
            A("port_range_max", allow_post=True, default=None, convert=rules.convert_port, is_filter=True,
              is_sort_key=True, filter_convert=v.integer()),
            A("ethertype", allow_post=True, default=rules.IPV4, convert=rules.convert_ethertype,
              is_filter=True, is_sort_key=True),
            A("remote_ip_prefix", allow_post=True, default=None, convert=rules.convert_ip_prefix,
              is_filter=True, is_sort_key=True),
            A("normalized_cidr", is_filter=True),
        ),
    })

SECURITY_GROUP = Extension(
    alias="security-group", name="security-group", description="The security groups extension.",
    updated="2012-10-05T10:00:00-00:00",
    resources=(SECURITY_GROUPS, SECURITY_GROUP_RULES),
    extended_attributes={"ports": attrs(
        A("security_groups", allow_post=True, allow_put=True, default=MISSING,
          convert=_uuid_list_or_none, is_filter=True))},
)
NORMALIZED_CIDR = Extension(
    alias="security-groups-normalized-cidr", name="Security group rule normalized CIDR",
    description="Add new field with normalized remote_ip_prefix cidr in SG rule",
    updated="2019-07-29T10:00:00-00:00", requires=("security-group",),
)
