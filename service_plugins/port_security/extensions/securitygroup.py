"""security-group: security groups, their rules and the groups of a port."""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import MISSING, Resource, attrs, standard_attributes
from netweave.core.api.resource import Attribute as A
from netweave.service_plugins.port_security import exceptions as sg_exc
from netweave.service_plugins.port_security import rules


@v.described({"type": "string", "maxLength": 255})
def _name_not_default(value):
    value = v.string(255)(value)
    if value.lower() == "default":
        raise sg_exc.SecurityGroupDefaultAlreadyExists()
    return value


@v.described({"anyOf": [{"type": "null"}, {"type": "array", "items": {"type": "string", "format": "uuid"}}]})
def _uuid_list_or_none(value):
    if value is None:
        return None
    return v.list_of(v.uuid_value)(value)


@v.described({"enum": list(rules.DIRECTIONS)})
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
            A("shared", is_filter=True, filter_convert=v.boolean),
            A("stateful", allow_post=True, allow_put=True, default=True, convert=v.boolean, is_filter=True,
              filter_convert=v.boolean),
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
              is_sort_key=True, filter_convert=v.id_filter),
            # Neutron does not check this id's form: one naming no group, whatever it
            # looks like, is a 404 (SecurityGroupNotFound) when the rule is created.
            A("remote_group_id", allow_post=True, default=None, convert=v.string_or_none(255), is_filter=True,
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
SECURITY_GROUPS_RBAC = Extension(
    alias="security-groups-rbac", name="Add security_group type to network RBAC",
    description="Add security_group type to network RBAC", updated="2019-04-11T10:00:00-00:00",
    requires=("rbac-policies", "security-group"),
)
SECURITY_GROUPS_SHARED_FILTERING = Extension(
    alias="security-groups-shared-filtering", name="Security group filtering on the shared field",
    description="Support filtering security groups on the shared field",
    updated="2022-01-31T10:00:00-00:00", requires=("security-groups-rbac",),
)
STATEFUL_SECURITY_GROUP = Extension(
    alias="stateful-security-group", name="Stateful security group",
    description="Indicates if the security group is stateful or not",
    updated="2019-11-26T09:00:00-00:00", requires=("security-group",),
)


def _remote_group_or_parent(value):
    if value == "PARENT":
        return value
    return v.uuid_or_none(value)


DEFAULT_SECURITY_GROUP_RULES = Resource(
    collection="default_security_group_rules", member="default_security_group_rule",
    attributes=attrs(
        A("id", is_filter=True, is_sort_key=True, filter_convert=v.id_filter),
        A("description", allow_post=True, default="", convert=v.string(255), is_filter=True, is_sort_key=True),
        A("remote_group_id", allow_post=True, default=None, convert=_remote_group_or_parent, is_filter=True,
          is_sort_key=True),
        A("remote_address_group_id", allow_post=True, default=None, convert=v.one_of_or_none(None)),
        A("direction", allow_post=True, required=True, convert=_direction, is_filter=True, is_sort_key=True),
        A("protocol", allow_post=True, default=None, convert=rules.convert_protocol, is_filter=True,
          is_sort_key=True),
        A("port_range_min", allow_post=True, default=None, convert=rules.convert_port, is_filter=True,
          is_sort_key=True, filter_convert=v.integer()),
        A("port_range_max", allow_post=True, default=None, convert=rules.convert_port, is_filter=True,
          is_sort_key=True, filter_convert=v.integer()),
        A("ethertype", allow_post=True, default=rules.IPV4, convert=rules.convert_ethertype, is_filter=True,
          is_sort_key=True),
        A("remote_ip_prefix", allow_post=True, default=None, convert=rules.convert_ip_prefix, is_filter=True,
          is_sort_key=True),
        A("used_in_default_sg", allow_post=True, default=True, convert=v.boolean, is_filter=True,
          filter_convert=v.boolean),
        A("used_in_non_default_sg", allow_post=True, default=True, convert=v.boolean, is_filter=True,
          filter_convert=v.boolean),
    ))

SECURITY_GROUPS_DEFAULT_RULES = Extension(
    alias="security-groups-default-rules", name="Default rules for security groups",
    description="Configure set of security group rules used in newly created Security Groups",
    updated="2022-12-19T10:00:00-00:00", resources=(DEFAULT_SECURITY_GROUP_RULES,), requires=("security-group",),
)
