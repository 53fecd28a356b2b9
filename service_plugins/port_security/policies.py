"""Default policy rules of the port_security service plugin, with Neutron's names.

Registered by the server's enforcer through the ``netweave.port_security``
entry point of ``oslo.policy.policies`` (as every ``netweave*`` one is).
"""
from netweave.core import policy_rules

_ADMIN_OR_OWNER = "rule:admin_or_owner"
_ADMIN_OR_NET_OWNER = "rule:admin_or_network_owner"
_ADVSVC_OR_NET_OWNER = "rule:context_is_advsvc or rule:admin_or_network_owner"

_COLLECTION_PATHS = {
    "network": "/networks",
    "port": "/ports",
    "security_group": "/security-groups",
    "security_group_rule": "/security-group-rules",
}

_RULES = [
    # port-security on networks and ports
    ("create_network:port_security_enabled", _ADMIN_OR_OWNER,
     "Specify ``port_security_enabled`` attribute when creating a network"),
    ("update_network:port_security_enabled", _ADMIN_OR_OWNER,
     "Update ``port_security_enabled`` attribute of a network"),
    ("create_port:port_security_enabled", _ADVSVC_OR_NET_OWNER,
     "Specify ``port_security_enabled`` attribute when creating a port"),
    ("update_port:port_security_enabled", _ADVSVC_OR_NET_OWNER,
     "Update ``port_security_enabled`` attribute of a port"),
    # allowed-address-pairs
    ("create_port:allowed_address_pairs", _ADMIN_OR_NET_OWNER,
     "Specify ``allowed_address_pairs`` attribute when creating a port"),
    ("update_port:allowed_address_pairs", _ADMIN_OR_NET_OWNER,
     "Update ``allowed_address_pairs`` attribute of a port"),
    # security groups and their rules
    ("create_security_group", _ADMIN_OR_OWNER, "Create a security group"),
    ("get_security_group", _ADMIN_OR_OWNER, "Get a security group"),
    ("update_security_group", _ADMIN_OR_OWNER, "Update a security group"),
    ("delete_security_group", _ADMIN_OR_OWNER, "Delete a security group"),
    ("create_security_group_rule", _ADMIN_OR_OWNER, "Create a security group rule"),
    ("get_security_group_rule", _ADMIN_OR_OWNER, "Get a security group rule"),
    ("update_security_group_rule", _ADMIN_OR_OWNER, "Update a security group rule"),
    ("delete_security_group_rule", _ADMIN_OR_OWNER, "Delete a security group rule"),
]


def list_rules():
    return policy_rules.api_rules(_RULES, _COLLECTION_PATHS)
