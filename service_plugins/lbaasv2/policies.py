"""Default policy rules of LBaaS v2 (Neutron LBaaS names; owners and admins, as its policy.json)."""
from oslo_policy import policy

_ADMIN_OR_OWNER = "rule:admin_or_owner"
_REGULAR = "rule:regular_user"

_PATHS = {
    "loadbalancer": "/lbaas/loadbalancers", "listener": "/lbaas/listeners", "pool": "/lbaas/pools",
    "member": "/lbaas/pools/{pool_id}/members", "healthmonitor": "/lbaas/healthmonitors",
}


def _rules():
    rules = []
    for member, collection in _PATHS.items():
        item = collection + "/{id}"
        rules += [
            ("create_" + member, _REGULAR, "Create a %s" % member, [("POST", collection)]),
            ("get_" + member, _ADMIN_OR_OWNER, "Get a %s" % member, [("GET", collection), ("GET", item)]),
            ("update_" + member, _ADMIN_OR_OWNER, "Update a %s" % member, [("PUT", item)]),
            ("delete_" + member, _ADMIN_OR_OWNER, "Delete a %s" % member, [("DELETE", item)]),
        ]
    lb = _PATHS["loadbalancer"] + "/{id}"
    rules += [
        ("get_loadbalancer_status", _ADMIN_OR_OWNER, "Get the status tree of a load balancer",
         [("GET", lb + "/status")]),
        ("get_loadbalancer_stats", _ADMIN_OR_OWNER, "Get the statistics of a load balancer",
         [("GET", lb + "/stats")]),
        ("get_loadbalancer_hosting_agent", "rule:admin_only", "Get the agent hosting a load balancer",
         [("GET", lb + "/loadbalancer-hosting-agent")]),
        ("get_loadbalancers_on_agent", "rule:admin_only", "List the load balancers on an agent",
         [("GET", "/agents/{agent_id}/agent-loadbalancers")]),
    ]
    return rules


def list_rules():
    return [policy.DocumentedRuleDefault(name, check, description,
                                         [{"method": method, "path": path} for method, path in operations])
            for name, check, description, operations in _rules()]
