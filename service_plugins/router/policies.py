"""Default policy rules of routers and floating IPs (Neutron's names and check strings).

The ``oslo.policy.policies`` entry point ``netweave.router`` lists them; the
building blocks (admin_only, admin_or_project_member, ...) are the core's. Each
rule's deprecated rule is Neutron's legacy check string.
"""
from netweave.core import policy_rules

_ADMIN = policy_rules.ADMIN
_MEMBER = policy_rules.ADMIN_OR_PROJECT_MEMBER
_READER = policy_rules.ADMIN_OR_PROJECT_READER
# Legacy check strings, the deprecated rules ([oslo_policy] enforce_new_defaults = false).
_LEGACY_OWNER = policy_rules.LEGACY_ADMIN_OR_OWNER
_LEGACY_ANY = policy_rules.LEGACY_ANY

_ROUTERS = "/routers"
_ROUTER = "/routers/{id}"
_FIPS = "/floatingips"
_FIP = "/floatingips/{id}"

# (rule, new default, legacy check string, description, [(method, path)])
_RULES = [
    ("create_router", _MEMBER, _LEGACY_ANY, "Create a router", [("POST", _ROUTERS)]),
    ("create_router:external_gateway_info", _MEMBER, _LEGACY_OWNER,
     "Specify ``external_gateway_info`` information when creating a router", [("POST", _ROUTERS)]),
    ("create_router:external_gateway_info:network_id", _MEMBER, _LEGACY_OWNER,
     "Specify ``network_id`` in ``external_gateway_info`` information when creating a router",
     [("POST", _ROUTERS)]),
    ("create_router:external_gateway_info:enable_snat", _ADMIN, _ADMIN,
     "Specify ``enable_snat`` in ``external_gateway_info`` information when creating a router",
     [("POST", _ROUTERS)]),
    ("create_router:external_gateway_info:external_fixed_ips", _ADMIN, _ADMIN,
     "Specify ``external_fixed_ips`` in ``external_gateway_info`` information when creating a router",
     [("POST", _ROUTERS)]),
    ("create_router:distributed", _ADMIN, _ADMIN, "Specify ``distributed`` attribute when creating a router",
     [("POST", _ROUTERS)]),
    ("create_router:ha", _ADMIN, _ADMIN, "Specify ``ha`` attribute when creating a router", [("POST", _ROUTERS)]),
    ("get_router", _READER, _LEGACY_OWNER, "Get a router", [("GET", _ROUTERS), ("GET", _ROUTER)]),
    ("get_router:distributed", _ADMIN, _ADMIN, "Get ``distributed`` attribute of a router",
     [("GET", _ROUTERS), ("GET", _ROUTER)]),
    ("get_router:ha", _ADMIN, _ADMIN, "Get ``ha`` attribute of a router", [("GET", _ROUTERS), ("GET", _ROUTER)]),
    ("update_router", _MEMBER, _LEGACY_OWNER, "Update a router", [("PUT", _ROUTER)]),
    ("update_router:external_gateway_info", _MEMBER, _LEGACY_OWNER,
     "Update ``external_gateway_info`` information of a router", [("PUT", _ROUTER)]),
    ("update_router:external_gateway_info:network_id", _MEMBER, _LEGACY_OWNER,
     "Update ``network_id`` attribute of ``external_gateway_info`` information of a router",
     [("PUT", _ROUTER)]),
    ("update_router:external_gateway_info:enable_snat", _ADMIN, _ADMIN,
     "Update ``enable_snat`` attribute of ``external_gateway_info`` information of a router",
     [("PUT", _ROUTER)]),
    ("update_router:external_gateway_info:external_fixed_ips", _ADMIN, _ADMIN,
     "Update ``external_fixed_ips`` of ``external_gateway_info`` information of a router",
     [("PUT", _ROUTER)]),
    ("update_router:distributed", _ADMIN, _ADMIN, "Update ``distributed`` attribute of a router", [("PUT", _ROUTER)]),
    ("update_router:ha", _ADMIN, _ADMIN, "Update ``ha`` attribute of a router", [("PUT", _ROUTER)]),
    ("delete_router", _MEMBER, _LEGACY_OWNER, "Delete a router", [("DELETE", _ROUTER)]),
    ("add_router_interface", _MEMBER, _LEGACY_OWNER, "Add an interface to a router",
     [("PUT", _ROUTER + "/add_router_interface")]),
    ("remove_router_interface", _MEMBER, _LEGACY_OWNER, "Remove an interface from a router",
     [("PUT", _ROUTER + "/remove_router_interface")]),
    ("add_extraroutes", _MEMBER, _LEGACY_OWNER, "Add extra route to a router",
     [("PUT", _ROUTER + "/add_extraroutes")]),
    ("remove_extraroutes", _MEMBER, _LEGACY_OWNER, "Remove extra route from a router",
     [("PUT", _ROUTER + "/remove_extraroutes")]),
    ("create_floatingip", _MEMBER, _LEGACY_ANY, "Create a floating IP", [("POST", _FIPS)]),
    ("create_floatingip:floating_ip_address", _ADMIN, _ADMIN,
     "Create a floating IP with a specific IP address", [("POST", _FIPS)]),
    ("get_floatingip", _READER, _LEGACY_OWNER, "Get a floating IP", [("GET", _FIPS), ("GET", _FIP)]),
    ("update_floatingip", _MEMBER, _LEGACY_OWNER, "Update a floating IP", [("PUT", _FIP)]),
    ("delete_floatingip", _MEMBER, _LEGACY_OWNER, "Delete a floating IP", [("DELETE", _FIP)]),
]


def list_rules():
    return [policy_rules.secure_default(name, check, legacy, description,
                                        [{"method": method, "path": path} for method, path in operations])
            for name, check, legacy, description, operations in _RULES]
