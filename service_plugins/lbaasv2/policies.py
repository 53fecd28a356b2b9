"""Default policy rules of LBaaS v2 (Neutron LBaaS names).

Project readers read, members manage their project's load balancers, admins
everything; the deprecated rules are neutron-lbaas' policy.json (owners and
admins), which ``[oslo_policy] enforce_new_defaults = false`` brings back.
"""
from netweave.core import policy_rules

_MEMBER = policy_rules.ADMIN_OR_PROJECT_MEMBER
_READER = policy_rules.ADMIN_OR_PROJECT_READER
_ADMIN = policy_rules.ADMIN
_LEGACY_OWNER = policy_rules.LEGACY_ADMIN_OR_OWNER
_LEGACY_ANY = policy_rules.LEGACY_ANY

_PATHS = {
    "loadbalancer": "/lbaas/loadbalancers", "listener": "/lbaas/listeners", "pool": "/lbaas/pools",
    "member": "/lbaas/pools/{pool_id}/members", "healthmonitor": "/lbaas/healthmonitors",
}


def _rules():
    rules = []
    for member, collection in _PATHS.items():
        item = collection + "/{id}"
        rules += [
            ("create_" + member, _MEMBER, _LEGACY_ANY, "Create a %s" % member, [("POST", collection)]),
            ("get_" + member, _READER, _LEGACY_OWNER, "Get a %s" % member,
             [("GET", collection), ("GET", item)]),
            ("update_" + member, _MEMBER, _LEGACY_OWNER, "Update a %s" % member, [("PUT", item)]),
            ("delete_" + member, _MEMBER, _LEGACY_OWNER, "Delete a %s" % member, [("DELETE", item)]),
        ]
    lb = _PATHS["loadbalancer"] + "/{id}"
    rules += [
        ("get_loadbalancer_status", _READER, _LEGACY_OWNER, "Get the status tree of a load balancer",
         [("GET", lb + "/status")]),
        ("get_loadbalancer_stats", _READER, _LEGACY_OWNER, "Get the statistics of a load balancer",
         [("GET", lb + "/stats")]),
        ("get_listener_stats", _READER, _LEGACY_OWNER, "Get the statistics of a listener",
         [("GET", _PATHS["listener"] + "/{id}/stats")]),
        ("get_loadbalancer_hosting_agent", _ADMIN, _ADMIN, "Get the agent hosting a load balancer",
         [("GET", lb + "/loadbalancer-hosting-agent")]),
        ("get_loadbalancers_on_agent", _ADMIN, _ADMIN, "List the load balancers on an agent",
         [("GET", "/agents/{agent_id}/agent-loadbalancers")]),
    ]
    return rules


def list_rules():
    return [policy_rules.secure_default(name, check, legacy, description,
                                        [{"method": method, "path": path} for method, path in operations])
            for name, check, legacy, description, operations in _rules()]
