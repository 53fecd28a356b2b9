"""API extensions of the trunk plugin, declared as data (netweave.api_extensions entry points).

trunk           /v2.0/trunks with the add_subports, remove_subports and get_subports member actions
trunk-details   trunk_details of a parent port (served by the ``trunk`` ML2 extension driver)
"""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs, standard_attributes
from netweave.service_plugins.trunk import constants as const

_MISSING = ("Invalid subport details '%s': missing segmentation information. Must specify both "
            "segmentation_id and segmentation_type")


def _subport(item, need_segmentation):
    if not isinstance(item, dict):
        raise v.AttributeInvalid("Invalid data format for subport: '%s'" % (item,))
    unknown = set(item) - {"port_id", "segmentation_type", "segmentation_id"}
    if unknown:
        raise v.AttributeInvalid("Unrecognized attribute(s) '%s'" % ", ".join(sorted(unknown)))
    if "port_id" not in item:
        raise v.AttributeInvalid("Invalid subport details '%s': missing port_id" % (item,))
    result = {"port_id": v.uuid_value(item["port_id"])}
    if not need_segmentation:
        return result
    seg_type, seg_id = item.get("segmentation_type"), item.get("segmentation_id")
    if seg_type is None or seg_id is None:
        raise v.AttributeInvalid(_MISSING % (item,))
    if seg_type not in const.SEGMENTATION_TYPES:
        raise v.AttributeInvalid("Unknown segmentation_type '%s'" % (seg_type,))
    try:
        number = int(seg_id)
    except (TypeError, ValueError):
        raise v.AttributeInvalid("Segmentation ID '%s' is not in range" % (seg_id,)) from None
    if isinstance(seg_id, bool) or str(number) != str(seg_id).strip() \
            or not const.VLAN_MIN <= number <= const.VLAN_MAX:
        raise v.AttributeInvalid("Segmentation ID '%s' is not in range" % (seg_id,))
    result.update(segmentation_type=seg_type, segmentation_id=number)
    return result


def subports(value, need_segmentation=True):
    """A list of {port_id, segmentation_type, segmentation_id}, each port once."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise v.AttributeInvalid("'%s' is not a list" % (value,))
    result, seen = [], set()
    for item in value:
        sub = _subport(item, need_segmentation)
        if sub["port_id"] in seen:
            raise v.AttributeInvalid("Duplicate port_id '%s' in subports" % sub["port_id"])
        seen.add(sub["port_id"])
        result.append(sub)
    return result


SUBPORT_ACTIONS = {"add_subports": "PUT", "remove_subports": "PUT", "get_subports": "GET"}

TRUNKS = Resource(
    collection=const.TRUNKS, member=const.TRUNK, taggable=True, quota_name=const.TRUNK,
    member_actions=dict(SUBPORT_ACTIONS),
    attributes={
        **standard_attributes(),
        **attrs(
            A("admin_state_up", allow_post=True, allow_put=True, default=True, convert=v.boolean,
              is_filter=True, is_sort_key=True, filter_convert=v.boolean),
            A("status", is_filter=True, is_sort_key=True),
            A("port_id", allow_post=True, required=True, convert=v.uuid_value, is_filter=True, is_sort_key=True,
              filter_convert=v.id_filter),
            A(const.SUB_PORTS, allow_post=True, default=[], convert=subports),
        ),
    })

TRUNK = Extension(
    alias="trunk", name="Trunk Extension", description="Provides support for trunk ports",
    updated="2016-01-01T10:00:00-00:00",
    resources=(TRUNKS,),
    requires=("binding",),
)

TRUNK_DETAILS = Extension(
    alias="trunk-details", name="Trunk port details",
    description="Expose trunk port details",
    updated="2016-01-01T10:00:00-00:00",
    extended_attributes={"ports": attrs(A(const.TRUNK_DETAILS, default=None))},
    requires=("trunk",),
)

EXTENSIONS = (TRUNK, TRUNK_DETAILS)
