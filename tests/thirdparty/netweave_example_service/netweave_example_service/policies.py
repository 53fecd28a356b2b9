"""Default policy rules of widgets: their owner or an admin (entry point netweave.example_service)."""
from netweave.core import policy_rules

_OWNER_OR_ADMIN = "rule:admin_or_owner"

_RULES = [
    ("create_widget", _OWNER_OR_ADMIN, "Create a widget"),
    ("get_widget", _OWNER_OR_ADMIN, "Get a widget"),
    ("update_widget", _OWNER_OR_ADMIN, "Update a widget"),
    ("delete_widget", _OWNER_OR_ADMIN, "Delete a widget"),
]


def list_rules():
    return policy_rules.api_rules(_RULES, {"widget": "/widgets"})
