"""Default policy rules of the port_security service plugin, with Neutron's names.

Registered by the server's enforcer through the ``netweave.port_security``
entry point of ``oslo.policy.policies`` (as every ``netweave*`` one is).
"""
from oslo_policy import policy

from netweave.core import policy_rules

_MEMBER = policy_rules.ADMIN_OR_PROJECT_MEMBER
_READER = policy_rules.ADMIN_OR_PROJECT_READER
_ADMIN = policy_rules.ADMIN
_LEGACY_OWNER = policy_rules.LEGACY_ADMIN_OR_OWNER
_PORT_SECURITY = "rule:admin_or_service or rule:net_owner_member"

_COLLECTION_PATHS = {
    "network": "/networks",
    "port": "/ports",
    "security_group": "/security-groups",
    "security_group_rule": "/security-group-rules",
    "default_security_group_rule": "/default-security-group-rules",
}

# (rule, new default, legacy check string, description)
_RULES = [
    # port-security on networks and ports
    ("create_network:port_security_enabled", _MEMBER, _LEGACY_OWNER,
     "Specify ``port_security_enabled`` attribute when creating a network"),
    ("update_network:port_security_enabled", _MEMBER, _LEGACY_OWNER,
     "Update ``port_security_enabled`` attribute of a network"),
    ("create_port:port_security_enabled", _PORT_SECURITY, policy_rules.LEGACY_ADVSVC_OR_NET_OWNER,
     "Specify ``port_security_enabled`` attribute when creating a port"),
    ("update_port:port_security_enabled", _PORT_SECURITY, policy_rules.LEGACY_ADVSVC_OR_NET_OWNER,
     "Update ``port_security_enabled`` attribute of a port"),
    # allowed-address-pairs
    ("create_port:allowed_address_pairs", policy_rules.ADMIN_OR_NET_OWNER_MEMBER,
     policy_rules.LEGACY_ADMIN_OR_NET_OWNER, "Specify ``allowed_address_pairs`` attribute when creating a port"),
    ("update_port:allowed_address_pairs", policy_rules.ADMIN_OR_NET_OWNER_MEMBER,
     policy_rules.LEGACY_ADMIN_OR_NET_OWNER, "Update ``allowed_address_pairs`` attribute of a port"),
    # security groups and their rules
    ("create_security_group", _MEMBER, _LEGACY_OWNER, "Create a security group"),
    ("get_security_group", "rule:admin_or_project_reader or rule:shared_security_group",
     "rule:admin_or_owner or rule:shared_security_group", "Get a security group"),
    ("update_security_group", _MEMBER, _LEGACY_OWNER, "Update a security group"),
    ("delete_security_group", _MEMBER, _LEGACY_OWNER, "Delete a security group"),
    ("create_security_group_rule", _MEMBER, _LEGACY_OWNER, "Create a security group rule"),
    ("get_security_group_rule", _READER, _LEGACY_OWNER, "Get a security group rule"),
    ("update_security_group_rule", _MEMBER, _LEGACY_OWNER, "Update a security group rule"),
    ("delete_security_group_rule", _MEMBER, _LEGACY_OWNER, "Delete a security group rule"),
    # default-security-group-rules: templates only an admin manages, every reader may read
    ("create_default_security_group_rule", _ADMIN, _ADMIN, "Create a templated of the security group rule"),
    ("get_default_security_group_rule", "rule:admin_only or role:reader", "",
     "Get a templated of the security group rule"),
    ("delete_default_security_group_rule", _ADMIN, _ADMIN, "Delete a templated of the security group rule"),
]


# A group shared with the caller's project through rbac-policies (its ``shared`` attribute).
_BASE_RULES = [policy.RuleDefault("shared_security_group", "field:security_groups:shared=True",
                                  description="Definition of a shared security group")]


def list_rules():
    return _BASE_RULES + policy_rules.api_rules(_RULES, _COLLECTION_PATHS)
