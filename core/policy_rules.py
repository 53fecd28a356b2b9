"""Default policy rules in code: Neutron's names and its secure RBAC check strings.

The defaults are Neutron's "new defaults" (oslo.policy ``enforce_new_defaults``):
project readers read, project members also create, update and delete what their
project owns, admins do everything, and the ``service`` role makes the calls
other services (Nova binding a port) and agents make. Each API rule links the
legacy owner-based check string Neutron had before as its deprecated rule, so
``[oslo_policy] enforce_new_defaults = false`` accepts what either allows.

oslopolicy-sample-generator and oslopolicy-policy-generator read them through the
``oslo.policy.policies`` entry point; a policy.yaml only needs the rules it changes.
Service plugins declare their own rules in entry points of that group named
``netweave.<plugin>``; the server's enforcer registers them all (core/policy.py).
"""
from oslo_policy import policy

# Every API rule is checked against project-scoped credentials: a system- or
# domain-scoped token is refused, as Neutron's rules are all project-scoped.
SCOPE_TYPES = ["project"]
DEPRECATED_REASON = ("The API now has Neutron's secure RBAC defaults (project reader, member, "
                     "admin and service roles); the legacy rule applies only with "
                     "[oslo_policy] enforce_new_defaults = false")
DEPRECATED_SINCE = "2024.1"

# Building blocks of the new defaults, as Neutron names them.
ADMIN = "rule:admin_only"
SERVICE = "rule:service_api"
ADMIN_OR_SERVICE = "rule:admin_or_service"
PROJECT_MEMBER = "rule:project_member"
PROJECT_READER = "rule:project_reader"
ADMIN_OR_PROJECT_MEMBER = "rule:admin_or_project_member"
ADMIN_OR_PROJECT_READER = "rule:admin_or_project_reader"
NET_OWNER_MEMBER = "rule:net_owner_member"
NET_OWNER_READER = "rule:net_owner_reader"
ADMIN_OR_NET_OWNER_MEMBER = "rule:admin_or_net_owner_member"

# Building blocks of the legacy rules.
LEGACY_ANY = "rule:regular_user"
LEGACY_ADMIN_OR_OWNER = "rule:admin_or_owner"
LEGACY_ADMIN_OR_NET_OWNER = "rule:admin_or_network_owner"
LEGACY_ADVSVC_OR_NET_OWNER = "rule:context_is_advsvc or rule:admin_or_network_owner"

# Building blocks that the API rules refer to with "rule:<name>".
_BASE_RULES = [
    ("context_is_admin", "role:admin", "Rule for cloud admin access"),
    ("service_api", "role:service", "Default rule for the service-to-service APIs"),
    ("owner", "tenant_id:%(tenant_id)s", "Rule for resource owner access"),
    ("admin_or_owner", "rule:context_is_admin or rule:owner", "Rule for admin or owner access"),
    ("context_is_advsvc", "role:advsvc", "Rule for advsvc role access (legacy; the service role replaces it)"),
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
    ("project_member", "role:member and project_id:%(project_id)s",
     "A member of the project owning the resource"),
    ("project_reader", "role:reader and project_id:%(project_id)s",
     "A reader of the project owning the resource"),
    ("admin_or_project_member", "(rule:admin_only) or (rule:project_member)",
     "Administrator, or a member of the project owning the resource"),
    ("admin_or_project_reader", "(rule:admin_only) or (rule:project_reader)",
     "Administrator, or a reader of the project owning the resource"),
    ("admin_or_service", "(rule:admin_only) or (rule:service_api)",
     "Administrator, or a service user (service role)"),
    ("net_owner_member", "role:member and rule:network_owner",
     "A member of the project owning the resource's network"),
    ("net_owner_reader", "role:reader and rule:network_owner",
     "A reader of the project owning the resource's network"),
    ("admin_or_net_owner_member", "(rule:admin_only) or (rule:net_owner_member)",
     "Administrator, or a member of the project owning the resource's network"),
    ("admin_or_net_owner_reader", "(rule:admin_only) or (rule:net_owner_reader)",
     "Administrator, or a reader of the project owning the resource's network"),
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

_DEVICE_OWNER = "not rule:network_device or rule:admin_or_service or rule:net_owner_member"
_LEGACY_DEVICE_OWNER = "not rule:network_device or rule:context_is_advsvc or rule:admin_or_network_owner"
_SERVICE_OR_NET_OWNER = "rule:admin_or_service or rule:net_owner_member"

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

# (rule name, new default, legacy check string, description); the HTTP operations
# follow from the name. The legacy string is the deprecated rule.
_API_RULES = [
    # networks
    ("create_network", ADMIN_OR_PROJECT_MEMBER, LEGACY_ANY, "Create a network"),
    ("create_network:shared", ADMIN, ADMIN, "Create a shared network"),
    ("create_network:router:external", ADMIN, ADMIN, "Create an external network"),
    ("create_network:is_default", ADMIN, ADMIN, "Specify ``is_default`` attribute when creating a network"),
    ("create_network:segments", ADMIN, ADMIN, "Specify ``segments`` attribute when creating a network"),
    ("create_network:provider:network_type", ADMIN, ADMIN,
     "Specify ``provider:network_type`` when creating a network"),
    ("create_network:provider:physical_network", ADMIN, ADMIN,
     "Specify ``provider:physical_network`` when creating a network"),
    ("create_network:provider:segmentation_id", ADMIN, ADMIN,
     "Specify ``provider:segmentation_id`` when creating a network"),
    ("get_network", "rule:admin_or_project_reader or rule:shared or rule:external or rule:service_api",
     "rule:admin_or_owner or rule:shared or rule:external or rule:context_is_advsvc", "Get a network"),
    ("get_network:router:external", LEGACY_ANY, LEGACY_ANY, "Get ``router:external`` attribute of a network"),
    ("get_network:segments", ADMIN, ADMIN, "Get ``segments`` attribute of a network"),
    ("get_network:provider:network_type", ADMIN, ADMIN, "Get ``provider:network_type`` attribute of a network"),
    ("get_network:provider:physical_network", ADMIN, ADMIN,
     "Get ``provider:physical_network`` attribute of a network"),
    ("get_network:provider:segmentation_id", ADMIN, ADMIN,
     "Get ``provider:segmentation_id`` attribute of a network"),
    ("update_network", ADMIN_OR_PROJECT_MEMBER, LEGACY_ADMIN_OR_OWNER, "Update a network"),
    ("update_network:segments", ADMIN, ADMIN, "Update ``segments`` attribute of a network"),
    ("update_network:shared", ADMIN, ADMIN, "Update ``shared`` attribute of a network"),
    ("update_network:provider:network_type", ADMIN, ADMIN,
     "Update ``provider:network_type`` attribute of a network"),
    ("update_network:provider:physical_network", ADMIN, ADMIN,
     "Update ``provider:physical_network`` attribute of a network"),
    ("update_network:provider:segmentation_id", ADMIN, ADMIN,
     "Update ``provider:segmentation_id`` attribute of a network"),
    ("update_network:router:external", ADMIN, ADMIN, "Update ``router:external`` attribute of a network"),
    ("update_network:is_default", ADMIN, ADMIN, "Update ``is_default`` attribute of a network"),
    ("delete_network", ADMIN_OR_PROJECT_MEMBER, LEGACY_ADMIN_OR_OWNER, "Delete a network"),
    ("get_network_ip_availability", ADMIN, ADMIN, "Get network IP availability"),
    # subnets: the network's owner manages them
    ("create_subnet", ADMIN_OR_NET_OWNER_MEMBER, LEGACY_ADMIN_OR_NET_OWNER, "Create a subnet"),
    ("create_subnet:segment_id", ADMIN, ADMIN, "Specify ``segment_id`` attribute when creating a subnet"),
    ("create_subnet:service_types", ADMIN, ADMIN,
     "Specify ``service_types`` attribute when creating a subnet"),
    ("get_subnet", "rule:admin_or_project_reader or rule:shared", "rule:admin_or_owner or rule:shared",
     "Get a subnet"),
    ("get_subnet:segment_id", ADMIN, ADMIN, "Get ``segment_id`` attribute of a subnet"),
    ("update_subnet", ADMIN_OR_NET_OWNER_MEMBER, LEGACY_ADMIN_OR_NET_OWNER, "Update a subnet"),
    ("update_subnet:segment_id", ADMIN, ADMIN, "Update ``segment_id`` attribute of a subnet"),
    ("update_subnet:service_types", ADMIN, ADMIN, "Update ``service_types`` attribute of a subnet"),
    ("delete_subnet", ADMIN_OR_NET_OWNER_MEMBER, LEGACY_ADMIN_OR_NET_OWNER, "Delete a subnet"),
    # subnet pools
    ("create_subnetpool", ADMIN_OR_PROJECT_MEMBER, LEGACY_ANY, "Create a subnetpool"),
    ("create_subnetpool:shared", ADMIN, ADMIN, "Create a shared subnetpool"),
    ("create_subnetpool:is_default", ADMIN, ADMIN,
     "Specify ``is_default`` attribute when creating a subnetpool"),
    ("get_subnetpool", "rule:admin_or_project_reader or rule:shared_subnetpools",
     "rule:admin_or_owner or rule:shared_subnetpools", "Get a subnetpool"),
    ("update_subnetpool", ADMIN_OR_PROJECT_MEMBER, LEGACY_ADMIN_OR_OWNER, "Update a subnetpool"),
    ("update_subnetpool:is_default", ADMIN, ADMIN, "Update ``is_default`` attribute of a subnetpool"),
    ("delete_subnetpool", ADMIN_OR_PROJECT_MEMBER, LEGACY_ADMIN_OR_OWNER, "Delete a subnetpool"),
    # address scopes
    ("create_address_scope", ADMIN_OR_PROJECT_MEMBER, LEGACY_ANY, "Create an address scope"),
    ("create_address_scope:shared", ADMIN, ADMIN, "Create a shared address scope"),
    ("get_address_scope", "rule:admin_or_project_reader or rule:shared_address_scopes",
     "rule:admin_or_owner or rule:shared_address_scopes", "Get an address scope"),
    ("update_address_scope", ADMIN_OR_PROJECT_MEMBER, LEGACY_ADMIN_OR_OWNER, "Update an address scope"),
    ("update_address_scope:shared", ADMIN, ADMIN, "Update ``shared`` attribute of an address scope"),
    ("delete_address_scope", ADMIN_OR_PROJECT_MEMBER, LEGACY_ADMIN_OR_OWNER, "Delete an address scope"),
    # ports: the service role is what Nova binds ports with
    ("create_port", "rule:admin_or_project_member or rule:service_api", LEGACY_ANY, "Create a port"),
    ("create_port:device_owner", _DEVICE_OWNER, _LEGACY_DEVICE_OWNER,
     "Specify ``device_owner`` attribute when creating a port"),
    ("create_port:mac_address", _SERVICE_OR_NET_OWNER, LEGACY_ADVSVC_OR_NET_OWNER,
     "Specify ``mac_address`` attribute when creating a port"),
    ("create_port:fixed_ips", _SERVICE_OR_NET_OWNER + " or rule:shared",
     LEGACY_ADVSVC_OR_NET_OWNER + " or rule:shared",
     "Specify ``fixed_ips`` information when creating a port"),
    ("create_port:fixed_ips:ip_address", _SERVICE_OR_NET_OWNER, LEGACY_ADVSVC_OR_NET_OWNER,
     "Specify IP address in ``fixed_ips`` when creating a port"),
    ("create_port:fixed_ips:subnet_id", _SERVICE_OR_NET_OWNER + " or rule:shared",
     LEGACY_ADVSVC_OR_NET_OWNER + " or rule:shared",
     "Specify subnet ID in ``fixed_ips`` when creating a port"),
    ("create_port:binding:host_id", ADMIN_OR_SERVICE, ADMIN,
     "Specify ``binding:host_id`` attribute when creating a port"),
    ("create_port:binding:profile", ADMIN_OR_SERVICE, ADMIN,
     "Specify ``binding:profile`` attribute when creating a port"),
    ("create_port:trusted", ADMIN, ADMIN, "Specify ``trusted`` attribute when creating a port"),
    ("get_port", "rule:admin_or_service or rule:project_reader or rule:net_owner_reader",
     "rule:context_is_advsvc or rule:admin_owner_or_network_owner", "Get a port"),
    ("get_port:binding:vif_type", ADMIN_OR_SERVICE, ADMIN, "Get ``binding:vif_type`` attribute of a port"),
    ("get_port:binding:vif_details", ADMIN_OR_SERVICE, ADMIN, "Get ``binding:vif_details`` attribute of a port"),
    ("get_port:binding:host_id", ADMIN_OR_SERVICE, ADMIN, "Get ``binding:host_id`` attribute of a port"),
    ("get_port:binding:profile", ADMIN_OR_SERVICE, ADMIN, "Get ``binding:profile`` attribute of a port"),
    ("update_port", "rule:admin_or_project_member or rule:service_api",
     "rule:admin_or_owner or rule:context_is_advsvc", "Update a port"),
    ("update_port:device_owner", _DEVICE_OWNER, _LEGACY_DEVICE_OWNER, "Update ``device_owner`` attribute of a port"),
    ("update_port:mac_address", ADMIN_OR_SERVICE, "rule:admin_only or rule:context_is_advsvc",
     "Update ``mac_address`` attribute of a port"),
    ("update_port:fixed_ips", _SERVICE_OR_NET_OWNER, LEGACY_ADVSVC_OR_NET_OWNER,
     "Specify ``fixed_ips`` information when updating a port"),
    ("update_port:fixed_ips:ip_address", _SERVICE_OR_NET_OWNER, LEGACY_ADVSVC_OR_NET_OWNER,
     "Specify IP address in ``fixed_ips`` information when updating a port"),
    ("update_port:fixed_ips:subnet_id", _SERVICE_OR_NET_OWNER + " or rule:shared",
     LEGACY_ADVSVC_OR_NET_OWNER + " or rule:shared",
     "Specify subnet ID in ``fixed_ips`` information when updating a port"),
    ("update_port:binding:host_id", ADMIN_OR_SERVICE, ADMIN, "Update ``binding:host_id`` attribute of a port"),
    ("update_port:binding:profile", ADMIN_OR_SERVICE, ADMIN, "Update ``binding:profile`` attribute of a port"),
    ("update_port:trusted", ADMIN, ADMIN, "Update ``trusted`` attribute of a port"),
    ("update_port:data_plane_status", "rule:admin_only or role:data_plane_integrator",
     "rule:admin_or_data_plane_int", "Update ``data_plane_status`` attribute of a port"),
    ("delete_port", "rule:admin_or_service or rule:project_member or rule:net_owner_member",
     "rule:context_is_advsvc or rule:admin_owner_or_network_owner", "Delete a port"),
    # RBAC policies
    ("create_rbac_policy", ADMIN_OR_PROJECT_MEMBER, LEGACY_ANY, "Create an RBAC policy"),
    ("create_rbac_policy:target_tenant", "rule:restrict_wildcard", "rule:restrict_wildcard",
     "Specify ``target_tenant`` when creating an RBAC policy"),
    ("update_rbac_policy", ADMIN_OR_PROJECT_MEMBER, LEGACY_ADMIN_OR_OWNER, "Update an RBAC policy"),
    ("update_rbac_policy:target_tenant", "rule:restrict_wildcard and rule:admin_or_project_member",
     "rule:restrict_wildcard and rule:admin_or_owner", "Update ``target_tenant`` attribute of an RBAC policy"),
    ("get_rbac_policy", ADMIN_OR_PROJECT_READER, LEGACY_ADMIN_OR_OWNER, "Get an RBAC policy"),
    ("delete_rbac_policy", ADMIN_OR_PROJECT_MEMBER, LEGACY_ADMIN_OR_OWNER, "Delete an RBAC policy"),
    # quotas: the target's project is the one whose quota is asked for
    ("get_quota", ADMIN_OR_PROJECT_READER, LEGACY_ADMIN_OR_OWNER, "Get the resource quota of a project"),
    ("update_quota", ADMIN, ADMIN, "Update the resource quota of a project"),
    ("delete_quota", ADMIN, ADMIN, "Reset the resource quota of a project to the defaults"),
    # agents
    ("get_agent", ADMIN, ADMIN, "Get an agent"),
    ("update_agent", ADMIN, ADMIN, "Update an agent"),
    ("delete_agent", ADMIN, ADMIN, "Delete an agent"),
    # service providers (service-type): any reader may read them, they belong to no project
    ("get_service_provider", "rule:admin_only or role:reader", LEGACY_ANY, "List service providers"),
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


def secure_default(name, check_str, legacy_check_str, description, operations):
    """A project-scoped DocumentedRuleDefault whose deprecated rule is the legacy check string.

    ``operations`` is a list of {"method": ..., "path": ...}. With
    ``[oslo_policy] enforce_new_defaults = false`` oslo.policy accepts what
    either string allows (unless a policy file sets the rule); a rule whose two
    strings are the same has no deprecated rule.
    """
    deprecated = None
    if legacy_check_str != check_str:
        deprecated = policy.DeprecatedRule(name, legacy_check_str, deprecated_reason=DEPRECATED_REASON,
                                           deprecated_since=DEPRECATED_SINCE)
    return policy.DocumentedRuleDefault(name, check_str, description, operations,
                                        scope_types=SCOPE_TYPES, deprecated_rule=deprecated)


def api_rules(rules, collection_paths):
    """DocumentedRuleDefaults from (name, check string, legacy check string, description)
    tuples, or (name, check string, description) for a rule with no legacy string.

    A rule's name is Neutron's ``<verb>_<resource>[:<attribute>]``; ``collection_paths``
    maps each ``<resource>`` to its API path (``{"port": "/ports"}``), from which the
    documented operations follow. Service plugins build their defaults with it too.
    """
    built = []
    for rule in rules:
        if len(rule) == 3:
            name, check_str, description = rule
            legacy = check_str
        else:
            name, check_str, legacy, description = rule
        built.append(secure_default(name, check_str, legacy, description, _operations(name, collection_paths)))
    return built


def base_rules(rules):
    """RuleDefaults of building blocks from (name, check string, description)."""
    return [policy.RuleDefault(name, check_str, description=description) for name, check_str, description in rules]


def list_rules():
    """The core's default rules, base rules first; the ``netweave`` oslo.policy.policies entry point."""
    return base_rules(_BASE_RULES) + api_rules(_API_RULES, _COLLECTION_PATHS)
