"""Errors of trunks, with Neutron's class names, codes and texts."""
from netweave.core import exceptions as exc


class TrunkNotFound(exc.NotFound):
    message = "Trunk %(trunk_id)s could not be found."


class PortNotFound(exc.NotFound):
    message = "Port %(port_id)s could not be found."


class SubPortNotFound(exc.NotFound):
    message = "SubPort on trunk %(trunk_id)s with parent port %(port_id)s not found."


class ParentPortInUse(exc.InUse):
    message = "Port %(port_id)s is currently in use and is not eligible for use as a parent port."


class TrunkPortInUse(exc.InUse):
    message = "Port %(port_id)s is in use by another trunk."


class PortInUse(exc.InUse):
    message = "Unable to complete operation on port %(port_id)s for network %(net_id)s. Port already has an " \
              "attached device %(device_id)s."


class DuplicateSubPort(exc.InUse):
    message = ("segmentation_type %(segmentation_type)s and segmentation_id %(segmentation_id)s already in use "
               "on trunk %(trunk_id)s.")


class SubPortMtuGreaterThanTrunkPortMtu(exc.Conflict):
    message = ("MTU %(port_mtu)s of subport %(port_id)s cannot be greater than MTU %(trunk_mtu)s of trunk "
               "%(trunk_id)s.")


class TrunkDisabled(exc.Conflict):
    message = "Trunk %(trunk_id)s is currently disabled."


class TrunkInErrorState(exc.Conflict):
    message = "Trunk %(trunk_id)s is in error state."


class TrunkInUse(exc.InUse):
    message = "Trunk %(trunk_id)s is currently in use."


class PortInUseAsTrunkParent(exc.InUse):
    message = "Port %(port_id)s is currently a parent port for trunk %(trunk_id)s."


class PortInUseAsSubPort(exc.InUse):
    message = "Port %(port_id)s is currently a subport for trunk %(trunk_id)s."
