"""Default policy rules of metering labels and rules (Neutron's names and check strings: admin only).

The ``oslo.policy.policies`` entry point ``netweave.metering`` lists them.
"""
from oslo_policy import policy

_ADMIN = "rule:admin_only"

_LABELS = "/metering/metering-labels"
_LABEL = "/metering/metering-labels/{id}"
_RULES_PATH = "/metering/metering-label-rules"
_RULE = "/metering/metering-label-rules/{id}"

# (rule, check string, description, [(method, path)])
_RULES = [
    ("create_metering_label", _ADMIN, "Create a metering label", [("POST", _LABELS)]),
    ("get_metering_label", _ADMIN, "Get a metering label", [("GET", _LABELS), ("GET", _LABEL)]),
    ("delete_metering_label", _ADMIN, "Delete a metering label", [("DELETE", _LABEL)]),
    ("create_metering_label_rule", _ADMIN, "Create a metering label rule", [("POST", _RULES_PATH)]),
    ("get_metering_label_rule", _ADMIN, "Get a metering label rule", [("GET", _RULES_PATH), ("GET", _RULE)]),
    ("delete_metering_label_rule", _ADMIN, "Delete a metering label rule", [("DELETE", _RULE)]),
]


def list_rules():
    return [policy.DocumentedRuleDefault(name, check, description,
                                         [{"method": method, "path": path} for method, path in operations])
            for name, check, description, operations in _RULES]
