"""Errors of metering labels and rules, with Neutron's class names, codes and texts."""
from netweave.core import exceptions as exc


class MeteringLabelNotFound(exc.NotFound):
    message = "Metering label '%(label_id)s' does not exist."


class MeteringLabelRuleNotFound(exc.NotFound):
    message = "Metering label rule '%(rule_id)s' does not exist."


class MeteringLabelRuleOverlaps(exc.Conflict):
    message = "Metering label rule with remote_ip_prefix '%(remote_ip_prefix)s' overlaps another."


class Invalid(exc.BadRequest):
    """neutron_lib's Invalid: a 400 whose message is the whole text."""
    message = "%(message)s"
