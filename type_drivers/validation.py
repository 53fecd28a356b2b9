"""Checks of provider segments shared by the type drivers, with Neutron's messages."""
from netweave.core import exceptions as exc
from netweave.core.plugins.ml2 import driver_api as api


def is_given(value):
    # The API hands over None for attributes not sent; an empty physnet name means none too.
    return value is not None and value != ""


def reject_given(segment, keys, label):
    """InvalidInput "<key> prohibited for <label> provider network" for the first key present."""
    for key in keys:
        if is_given(segment.get(key)):
            raise exc.InvalidInput(error_message="%s prohibited for %s provider network" % (key, label))


def check_segmentation_id(segmentation_id, lowest, highest):
    valid = (isinstance(segmentation_id, int) and not isinstance(segmentation_id, bool)
             and lowest <= segmentation_id <= highest)
    if not valid:
        raise exc.InvalidInput(error_message="%s out of range (%d through %d)" %
                               (api.SEGMENTATION_ID, lowest, highest))
