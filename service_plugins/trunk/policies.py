"""Default policy rules of trunks (Neutron's names and check strings).

The ``oslo.policy.policies`` entry point ``netweave.trunk`` lists them.
"""
from oslo_policy import policy

_ADMIN_OR_OWNER = "rule:admin_or_owner"
_REGULAR = "rule:regular_user"

_TRUNKS = "/trunks"
_TRUNK = "/trunks/{id}"

# (rule, check string, description, [(method, path)])
_RULES = [
    ("create_trunk", _REGULAR, "Create a trunk", [("POST", _TRUNKS)]),
    ("get_trunk", _ADMIN_OR_OWNER, "Get a trunk", [("GET", _TRUNKS), ("GET", _TRUNK)]),
    ("update_trunk", _ADMIN_OR_OWNER, "Update a trunk", [("PUT", _TRUNK)]),
    ("delete_trunk", _ADMIN_OR_OWNER, "Delete a trunk", [("DELETE", _TRUNK)]),
    ("get_subports", _ADMIN_OR_OWNER, "List subports attached to a trunk",
     [("GET", _TRUNK + "/get_subports")]),
    ("add_subports", _ADMIN_OR_OWNER, "Add subports to a trunk", [("PUT", _TRUNK + "/add_subports")]),
    ("remove_subports", _ADMIN_OR_OWNER, "Delete subports from a trunk", [("PUT", _TRUNK + "/remove_subports")]),
]


def list_rules():
    return [policy.DocumentedRuleDefault(name, check, description,
                                         [{"method": method, "path": path} for method, path in operations])
            for name, check, description, operations in _RULES]
