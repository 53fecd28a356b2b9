"""Default policy rules of trunks (Neutron's names and check strings).

The ``oslo.policy.policies`` entry point ``netweave.trunk`` lists them.
"""
from netweave.core import policy_rules

_MEMBER = policy_rules.ADMIN_OR_PROJECT_MEMBER
_READER = policy_rules.ADMIN_OR_PROJECT_READER
# Legacy check strings, the deprecated rules ([oslo_policy] enforce_new_defaults = false).
_LEGACY_OWNER = policy_rules.LEGACY_ADMIN_OR_OWNER
_LEGACY_ANY = policy_rules.LEGACY_ANY

_TRUNKS = "/trunks"
_TRUNK = "/trunks/{id}"

# (rule, new default, legacy check string, description, [(method, path)])
_RULES = [
    ("create_trunk", _MEMBER, _LEGACY_ANY, "Create a trunk", [("POST", _TRUNKS)]),
    ("get_trunk", _READER, _LEGACY_OWNER, "Get a trunk", [("GET", _TRUNKS), ("GET", _TRUNK)]),
    ("update_trunk", _MEMBER, _LEGACY_OWNER, "Update a trunk", [("PUT", _TRUNK)]),
    ("delete_trunk", _MEMBER, _LEGACY_OWNER, "Delete a trunk", [("DELETE", _TRUNK)]),
    ("get_subports", _READER, _LEGACY_OWNER, "List subports attached to a trunk",
     [("GET", _TRUNK + "/get_subports")]),
    ("add_subports", _MEMBER, _LEGACY_OWNER, "Add subports to a trunk", [("PUT", _TRUNK + "/add_subports")]),
    ("remove_subports", _MEMBER, _LEGACY_OWNER, "Delete subports from a trunk", [("PUT", _TRUNK + "/remove_subports")]),
]


def list_rules():
    return [policy_rules.secure_default(name, check, legacy, description,
                                        [{"method": method, "path": path} for method, path in operations])
            for name, check, legacy, description, operations in _RULES]
