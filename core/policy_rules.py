"""Default policy rules in code, with Neutron's names and legacy check strings.

oslopolicy-sample-generator and oslopolicy-policy-generator read them through the
``oslo.policy.policies`` entry point; a policy.yaml only needs the rules it changes.
Service plugins declare their own rules in entry points of that group named
``netweave.<plugin>``; the server's enforcer registers them all (core/policy.py).
"""
from oslo_policy import policy

# Building blocks that the API rules refer to with "rule:<name>".
_BASE_RULES = [
    ("context_is_admin", "role:admin", "Rule for cloud admin access"),
    ("owner", "tenant_id:%(tenant_id)s", "Rule for resource owner access"),
    ("admin_or_owner", "rule:context_is_admin or rule:owner", "Rule for admin or owner access"),
    ("context_is_advsvc", "role:advsvc", "Rule for advsvc role access"),
    ("network_owner", "tenant_id:%(network:tenant_id)s",
     "Rule for the owner of the network a resource belongs to"),
    ("admin_or_network_owner", "rule:context_is_admin or tenant_id:%(network:tenant_id)s",
     "Rule for admin or network owner access"),
    ("admin_owner_or_network_owner", "rule:owner or rule:admin_or_network_owner",
     "Rule for resource owner, admin or network owner access"),
    ("admin_only", "rule:context_is_admin", "Rule for admin-only access"),
    ("regular_user", "", "Rule for regular user access"),
    ("admin_or_data_plane_int", "rule:context_is_admin or role:data_plane_integrator",
     "Rule for data plane integration"),
    ("shared", "field:networks:shared=True", "Rule of shared network"),
    ("external", "field:networks:router:external=True", "Rule of external network"),
    ("shared_subnetpools", "field:subnetpools:shared=True", "Rule of shared subnetpool"),
    ("shared_address_scopes", "field:address_scopes:shared=True", "Rule of shared address scope"),
    ("network_device", "field:port:device_owner=~^network:",
     "Rule of port owned by a network service (device_owner starting with network:)"),
    ("restrict_wildcard", "(not field:rbac_policy:target_tenant=*) or rule:admin_only",
     "Only admins may share with every project ('*')"),
    ("default", "rule:admin_or_owner", "Default rule for actions without a rule of their own"),
]

_ADMIN = "rule:admin_only"
_ADMIN_OR_OWNER = "rule:admin_or_owner"
_ADMIN_OR_NET_OWNER = "rule:admin_or_network_owner"
_ADVSVC_OR_NET_OWNER = "rule:context_is_advsvc or rule:admin_or_network_owner"
_DEVICE_OWNER = "not rule:network_device or rule:context_is_advsvc or rule:admin_or_network_owner"

# API path of each resource's collection, keyed by the singular name used in rule names.
_COLLECTION_PATHS = {
    "network": "/networks",
    "network_ip_availability": "/network-ip-availabilities",
    "subnet": "/subnets",
    "subnetpool": "/subnetpools",
    "address_scope": "/address-scopes",
    "port": "/ports",
    "rbac_policy": "/rbac-policies",
    "quota": "/quotas",
    "agent": "/agents",
    "service_provider": "/service-providers",
}

# (rule name, check string, description); the HTTP operations follow from the name.
_API_RULES = [
    # networks
    ("create_network", "", "Create a network"),
    ("create_network:shared", _ADMIN, "Create a shared network"),
    ("create_network:router:external", _ADMIN, "Create an external network"),
    ("create_network:is_default", _ADMIN, "Specify ``is_default`` attribute when creating a network"),
    ("create_network:segments", _ADMIN, "Specify ``segments`` attribute when creating a network"),
    ("create_network:provider:network_type", _ADMIN,
     "Specify ``provider:network_type`` when creating a network"),
    ("create_network:provider:physical_network", _ADMIN,
     "Specify ``provider:physical_network`` when creating a network"),
    ("create_network:provider:segmentation_id", _ADMIN,
     "Specify ``provider:segmentation_id`` when creating a network"),
    ("get_network", "rule:admin_or_owner or rule:shared or rule:external or rule:context_is_advsvc",
     "Get a network"),
    ("get_network:router:external", "rule:regular_user", "Get ``router:external`` attribute of a network"),
    ("get_network:segments", _ADMIN, "Get ``segments`` attribute of a network"),
    ("get_network:provider:network_type", _ADMIN, "Get ``provider:network_type`` attribute of a network"),
    ("get_network:provider:physical_network", _ADMIN,
     "Get ``provider:physical_network`` attribute of a network"),
    ("get_network:provider:segmentation_id", _ADMIN,
     "Get ``provider:segmentation_id`` attribute of a network"),
    ("update_network", _ADMIN_OR_OWNER, "Update a network"),
    ("update_network:segments", _ADMIN, "Update ``segments`` attribute of a network"),
    ("update_network:shared", _ADMIN, "Update ``shared`` attribute of a network"),
    ("update_network:provider:network_type", _ADMIN,
     "Update ``provider:network_type`` attribute of a network"),
    ("update_network:provider:physical_network", _ADMIN,
     "Update ``provider:physical_network`` attribute of a network"),
    ("update_network:provider:segmentation_id", _ADMIN,
     "Update ``provider:segmentation_id`` attribute of a network"),
    ("update_network:router:external", _ADMIN, "Update ``router:external`` attribute of a network"),
    ("update_network:is_default", _ADMIN, "Update ``is_default`` attribute of a network"),
    ("delete_network", _ADMIN_OR_OWNER, "Delete a network"),
    ("get_network_ip_availability", _ADMIN, "Get network IP availability"),
    # subnets
    ("create_subnet", _ADMIN_OR_NET_OWNER, "Create a subnet"),
    ("create_subnet:segment_id", _ADMIN, "Specify ``segment_id`` attribute when creating a subnet"),
    ("create_subnet:service_types", _ADMIN,
     "Specify ``service_types`` attribute when creating a subnet"),
    ("get_subnet", "rule:admin_or_owner or rule:shared", "Get a subnet"),
    ("get_subnet:segment_id", _ADMIN, "Get ``segment_id`` attribute of a subnet"),
    ("update_subnet", _ADMIN_OR_NET_OWNER, "Update a subnet"),
    ("update_subnet:segment_id", _ADMIN, "Update ``segment_id`` attribute of a subnet"),
    ("update_subnet:service_types", _ADMIN, "Update ``service_types`` attribute of a subnet"),
    ("delete_subnet", _ADMIN_OR_NET_OWNER, "Delete a subnet"),
    # subnet pools
    ("create_subnetpool", "", "Create a subnetpool"),
    ("create_subnetpool:shared", _ADMIN, "Create a shared subnetpool"),
    ("create_subnetpool:is_default", _ADMIN,
     "Specify ``is_default`` attribute when creating a subnetpool"),
    ("get_subnetpool", "rule:admin_or_owner or rule:shared_subnetpools", "Get a subnetpool"),
    ("update_subnetpool", _ADMIN_OR_OWNER, "Update a subnetpool"),
    ("update_subnetpool:is_default", _ADMIN, "Update ``is_default`` attribute of a subnetpool"),
    ("delete_subnetpool", _ADMIN_OR_OWNER, "Delete a subnetpool"),
    # address scopes
    ("create_address_scope", "", "Create an address scope"),
    ("create_address_scope:shared", _ADMIN, "Create a shared address scope"),
    ("get_address_scope", "rule:admin_or_owner or rule:shared_address_scopes", "Get an address scope"),
    ("update_address_scope", _ADMIN_OR_OWNER, "Update an address scope"),
    ("update_address_scope:shared", _ADMIN, "Update ``shared`` attribute of an address scope"),
    ("delete_address_scope", _ADMIN_OR_OWNER, "Delete an address scope"),
    # ports
    ("create_port", "", "Create a port"),
    ("create_port:device_owner", _DEVICE_OWNER,
     "Specify ``device_owner`` attribute when creating a port"),
    ("create_port:mac_address", _ADVSVC_OR_NET_OWNER,
     "Specify ``mac_address`` attribute when creating a port"),
    ("create_port:fixed_ips", _ADVSVC_OR_NET_OWNER + " or rule:shared",
     "Specify ``fixed_ips`` information when creating a port"),
    ("create_port:fixed_ips:ip_address", _ADVSVC_OR_NET_OWNER,
     "Specify IP address in ``fixed_ips`` when creating a port"),
    ("create_port:fixed_ips:subnet_id", _ADVSVC_OR_NET_OWNER + " or rule:shared",
     "Specify subnet ID in ``fixed_ips`` when creating a port"),
    ("create_port:binding:host_id", _ADMIN, "Specify ``binding:host_id`` attribute when creating a port"),
    ("create_port:binding:profile", _ADMIN, "Specify ``binding:profile`` attribute when creating a port"),
    ("create_port:trusted", _ADMIN, "Specify ``trusted`` attribute when creating a port"),
    ("get_port", "rule:context_is_advsvc or rule:admin_owner_or_network_owner", "Get a port"),
    ("get_port:binding:vif_type", _ADMIN, "Get ``binding:vif_type`` attribute of a port"),
    ("get_port:binding:vif_details", _ADMIN, "Get ``binding:vif_details`` attribute of a port"),
    ("get_port:binding:host_id", _ADMIN, "Get ``binding:host_id`` attribute of a port"),
    ("get_port:binding:profile", _ADMIN, "Get ``binding:profile`` attribute of a port"),
    ("update_port", "rule:admin_or_owner or rule:context_is_advsvc", "Update a port"),
    ("update_port:device_owner", _DEVICE_OWNER, "Update ``device_owner`` attribute of a port"),
    ("update_port:mac_address", "rule:admin_only or rule:context_is_advsvc",
     "Update ``mac_address`` attribute of a port"),
    ("update_port:fixed_ips", _ADVSVC_OR_NET_OWNER, "Specify ``fixed_ips`` information when updating a port"),
    ("update_port:fixed_ips:ip_address", _ADVSVC_OR_NET_OWNER,
     "Specify IP address in ``fixed_ips`` information when updating a port"),
    ("update_port:fixed_ips:subnet_id", _ADVSVC_OR_NET_OWNER + " or rule:shared",
     "Specify subnet ID in ``fixed_ips`` information when updating a port"),
    ("update_port:binding:host_id", _ADMIN, "Update ``binding:host_id`` attribute of a port"),
    ("update_port:binding:profile", _ADMIN, "Update ``binding:profile`` attribute of a port"),
    ("update_port:trusted", _ADMIN, "Update ``trusted`` attribute of a port"),
    ("update_port:data_plane_status", "rule:admin_or_data_plane_int",
     "Update ``data_plane_status`` attribute of a port"),
    ("delete_port", "rule:context_is_advsvc or rule:admin_owner_or_network_owner", "Delete a port"),
    # RBAC policies
    ("create_rbac_policy", "", "Create an RBAC policy"),
    ("create_rbac_policy:target_tenant", "rule:restrict_wildcard",
     "Specify ``target_tenant`` when creating an RBAC policy"),
    ("update_rbac_policy", _ADMIN_OR_OWNER, "Update an RBAC policy"),
    ("update_rbac_policy:target_tenant", "rule:restrict_wildcard and rule:admin_or_owner",
     "Update ``target_tenant`` attribute of an RBAC policy"),
    ("get_rbac_policy", _ADMIN_OR_OWNER, "Get an RBAC policy"),
    ("delete_rbac_policy", _ADMIN_OR_OWNER, "Delete an RBAC policy"),
    # quotas: the target's tenant_id is the project whose quota is asked for
    ("get_quota", _ADMIN_OR_OWNER, "Get the resource quota of a project"),
    ("update_quota", _ADMIN, "Update the resource quota of a project"),
    ("delete_quota", _ADMIN, "Reset the resource quota of a project to the defaults"),
    # agents
    ("get_agent", _ADMIN, "Get an agent"),
    ("update_agent", _ADMIN, "Update an agent"),
    ("delete_agent", _ADMIN, "Delete an agent"),
    # service providers (service-type): anyone may read them
    ("get_service_provider", "rule:regular_user", "List service providers"),
]

_METHODS_BY_VERB = {
    "create": [("POST", False)],
    "get": [("GET", False), ("GET", True)],
    "update": [("PUT", True)],
    "delete": [("DELETE", True)],
}


def _operations(rule_name, collection_paths):
    """HTTP method and path of each API call a rule guards, derived from the rule name."""
    action = rule_name.split(":", 1)[0]
    verb, resource = action.split("_", 1)
    collection = collection_paths[resource]
    return [{"method": method, "path": collection + "/{id}" if per_item else collection}
            for method, per_item in _METHODS_BY_VERB[verb]]


def api_rules(rules, collection_paths):
    """DocumentedRuleDefaults from (name, check string, description) triples.

    A rule's name is Neutron's ``<verb>_<resource>[:<attribute>]``; ``collection_paths``
    maps each ``<resource>`` to its API path (``{"port": "/ports"}``), from which the
    documented operations follow. Service plugins build their defaults with it too.
    """
    return [policy.DocumentedRuleDefault(name, check_str, description, _operations(name, collection_paths))
            for name, check_str, description in rules]


def list_rules():
    """The core's default rules, base rules first; the ``netweave`` oslo.policy.policies entry point."""
    rules = [policy.RuleDefault(name, check_str, description=description)
             for name, check_str, description in _BASE_RULES]
    return rules + api_rules(_API_RULES, _COLLECTION_PATHS)
