"""Errors of the az plugin, with Neutron's texts and status codes."""
from netweave.core import exceptions as exc


class AvailabilityZoneNotFound(exc.NotFound):
    message = "AvailabilityZone %(availability_zone)s could not be found."
