"""Default policy rules of availability zones (Neutron's names and check strings).

The ``oslo.policy.policies`` entry point ``netweave.az`` lists them.
"""
from oslo_policy import policy


def list_rules():
    return [policy.DocumentedRuleDefault("get_availability_zone", "rule:regular_user",
                                         "List availability zones",
                                         [{"method": "GET", "path": "/availability_zones"}])]
