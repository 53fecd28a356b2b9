"""API extensions of the metering plugin, declared as data (netweave.api_extensions entry points).

metering                                 /v2.0/metering/metering-labels and /v2.0/metering/metering-label-rules
metering_source_and_destination_fields   source_ip_prefix and destination_ip_prefix of rules

Nothing is updatable, as in Neutron; rules carry no owner of their own (their label's is
checked). The prefixes are checked by the plugin (labels.py), with Neutron's texts.
"""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs
from netweave.service_plugins.metering import constants as const


def _prefix(value):
    """A prefix as sent (None or a string); its syntax is the plugin's to judge."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise v.AttributeInvalid("'%s' is not a valid IP prefix" % (value,))
    return value


def _owner(name):
    return A(name, allow_post=True, convert=v.project_id, is_filter=True, is_sort_key=True)


METERING_LABELS = Resource(
    collection=const.METERING_LABELS, member=const.METERING_LABEL, path_prefix=const.PATH_PREFIX,
    attributes=attrs(
        A("id", is_filter=True, is_sort_key=True, convert=v.uuid_value, filter_convert=v.id_filter),
        A("name", allow_post=True, default="", convert=v.string(255), is_filter=True, is_sort_key=True),
        A("description", allow_post=True, default="", convert=v.string(1024), is_filter=True, is_sort_key=True),
        _owner("tenant_id"),
        _owner("project_id"),
        A("shared", allow_post=True, default=False, convert=v.boolean, is_filter=True, is_sort_key=True,
          filter_convert=v.boolean),
    ))

METERING_LABEL_RULES = Resource(
    collection=const.METERING_LABEL_RULES, member=const.METERING_LABEL_RULE, path_prefix=const.PATH_PREFIX,
    attributes=attrs(
        A("id", is_filter=True, is_sort_key=True, convert=v.uuid_value, filter_convert=v.id_filter),
        A("metering_label_id", allow_post=True, required=True, convert=v.uuid_value, is_filter=True,
          is_sort_key=True, filter_convert=v.id_filter),
        A("direction", allow_post=True, required=True, convert=v.one_of(*const.DIRECTIONS), is_filter=True,
          is_sort_key=True),
        A("excluded", allow_post=True, default=False, convert=v.boolean, is_filter=True, is_sort_key=True,
          filter_convert=v.boolean),
        A("remote_ip_prefix", allow_post=True, default=None, convert=_prefix, is_filter=True, is_sort_key=True),
        A("source_ip_prefix", allow_post=True, default=None, convert=_prefix, is_filter=True, is_sort_key=True),
        A("destination_ip_prefix", allow_post=True, default=None, convert=_prefix, is_filter=True,
          is_sort_key=True),
        # Accepted (the CLI's --project), not shown: a rule belongs to its label's project.
        A("tenant_id", allow_post=True, convert=v.project_id, is_visible=False),
        A("project_id", allow_post=True, convert=v.project_id, is_visible=False),
    ))

METERING = Extension(
    alias="metering", name="Neutron Metering", description="Neutron Metering extension.",
    updated="2013-06-12T10:00:00-00:00",
    resources=(METERING_LABELS, METERING_LABEL_RULES),
)

METERING_SOURCE_AND_DESTINATION_FIELDS = Extension(
    alias="metering_source_and_destination_fields",
    name="Neutron Metering with source and destination filtering",
    description="Neutron Metering extension that enables the use of source and destination IP prefixes "
                "to create metering label rules.",
    updated="2020-08-21T08:12:00-00:00",
    requires=("metering",),
)

EXTENSIONS = (METERING, METERING_SOURCE_AND_DESTINATION_FIELDS)
