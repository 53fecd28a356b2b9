"""Errors with Neutron's names, HTTP codes and message texts.

The API turns each into ``{"NeutronError": {"type": <class name>, "message": ..., "detail": ""}}``
with ``status`` as the HTTP code, exactly as Neutron clients expect.
"""


class NeutronException(Exception):
    status = 500
    message = "An unknown exception occurred."

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        try:
            self.msg = self.message % kwargs
        except (KeyError, TypeError):
            self.msg = self.message
        super().__init__(self.msg)

    @property
    def type(self):
        return type(self).__name__


class BadRequest(NeutronException):
    status = 400
    message = "Bad %(resource)s request: %(msg)s."


class InvalidInput(BadRequest):
    message = "Invalid input for operation: %(error_message)s."


class NotAuthorized(NeutronException):
    status = 403
    message = "Not authorized."


class PolicyNotAuthorized(NotAuthorized):
    message = "(rule:%(action)s) is disallowed by policy"


class AdminRequired(NotAuthorized):
    message = "User does not have admin privileges: %(reason)s."


class NotFound(NeutronException):
    status = 404
    message = "An unknown exception occurred."


class Conflict(NeutronException):
    status = 409
    message = "An unknown exception occurred."


class InUse(Conflict):
    message = "The resource is in use."


class ServiceUnavailable(NeutronException):
    status = 503
    message = "The service is unavailable."


class PreconditionFailed(NeutronException):
    status = 412
    message = "Constraint failed: %(msg)s"


class Unauthorized(NeutronException):
    status = 401
    message = "Authentication required"


class RequestEntityTooLarge(NeutronException):
    status = 413
    message = "Request Entity Too Large"


# --- resources not found -------------------------------------------------

class NetworkNotFound(NotFound):
    message = "Network %(net_id)s could not be found."


class SubnetNotFound(NotFound):
    message = "Subnet %(subnet_id)s could not be found."


class PortNotFound(NotFound):
    message = "Port %(port_id)s could not be found."


class SubnetPoolNotFound(NotFound):
    message = "Subnet pool %(subnetpool_id)s could not be found."


class RbacPolicyNotFound(NotFound):
    message = "RBAC policy of type %(object_type)s with ID %(id)s not found"


class TagNotFound(NotFound):
    message = "Tag %(tag)s could not be found."


class ExtensionNotFound(NotFound):
    message = "Extension with alias %(extension_alias)s does not exist"


class ResourceNotFound(NotFound):
    message = "The resource could not be found."


class TenantQuotaNotFound(NotFound):
    message = "Quota for tenant %(tenant_id)s could not be found."


class AgentNotFound(NotFound):
    message = "Agent %(id)s could not be found."


# --- conflicts ---------------------------------------------------------

class NetworkInUse(InUse):
    message = ("Unable to complete operation on network %(net_id)s. "
               "There are one or more ports still in use on the network.")


class SubnetInUse(InUse):
    message = ("Unable to complete operation on subnet %(subnet_id)s: "
               "One or more ports have an IP allocation from this subnet.")


class SubnetPoolInUse(InUse):
    message = "Unable to complete operation on subnet pool %(subnet_pool_id)s. %(reason)s."


class MacAddressInUse(InUse):
    message = ("Unable to complete operation for network %(net_id)s. "
               "The mac address %(mac)s is in use.")


class IpAddressInUse(InUse):
    message = ("Unable to complete operation for network %(net_id)s. "
               "The IP address %(ip_address)s is in use.")


class IpAddressAlreadyAllocated(Conflict):
    message = "IP address %(ip)s already allocated in subnet %(subnet_id)s"


class IpAddressGenerationFailure(Conflict):
    message = "No more IP addresses available on network %(net_id)s."


class IpAddressGenerationFailureNoMatchingSubnet(Conflict):
    message = ("No valid service subnet for the given device owner, network %(network_id)s, "
               "service type %(service_type)s.")


class MacAddressGenerationFailure(ServiceUnavailable):
    message = "Unable to generate unique mac on network %(net_id)s."


class FlatNetworkInUse(InUse):
    message = ("Unable to create the flat network. "
               "Physical network %(physical_network)s is in use.")


class VlanIdInUse(InUse):
    message = ("Unable to create the network. The VLAN %(vlan_id)s on physical "
               "network %(physical_network)s is in use.")


class TunnelIdInUse(InUse):
    message = "Unable to create the network. The tunnel ID %(tunnel_id)s is in use."


class NoNetworkAvailable(ServiceUnavailable):
    message = "Unable to create the network. No tenant network is available for allocation."


class OverQuota(Conflict):
    message = "Quota exceeded for resources: %(overs)s."


class InvalidSharedSetting(Conflict):
    message = ("Unable to reconfigure sharing settings for network %(network)s. "
               "Multiple tenants are using it.")


class ExternalNetworkInUse(InUse):
    message = ("External network %(net_id)s cannot be updated to be made non-external, "
               "since it has existing gateway ports.")


class RbacPolicyInUse(Conflict):
    message = ("RBAC policy on object %(object_id)s cannot be removed because other objects "
               "depend on it.\nDetails: %(details)s")


class DuplicateRbacPolicy(Conflict):
    message = "An RBAC policy already exists with those values."


class OverlappingAllocationPools(Conflict):
    message = ("Found overlapping allocation pools: %(pool_1)s %(pool_2)s "
               "for subnet %(subnet_cidr)s.")


class SubnetAllocationError(Conflict):
    message = "Failed to allocate subnet: %(reason)s."


class PrefixVersionMismatch(BadRequest):
    message = "Cannot mix IPv4 and IPv6 prefixes in a subnet pool."


class RevisionNumberConstraintFailed(PreconditionFailed):
    message = ("Constrained to %(expected)s, but current revision is %(current)s")


class TagLimitExceeded(BadRequest):
    message = "Tag limit is %(limit)s for resource."


class PortBindingError(NeutronException):
    status = 500
    message = "Binding for port %(port_id)s on host %(host)s could not be found."


# --- IP address management ----------------------------------------------

class InvalidAttribute(BadRequest):
    """A value Neutron's attribute validators reject before the plugin runs."""
    message = "Invalid input for %(attr)s. Reason: %(reason)s."

    @property
    def type(self):
        # Neutron raises these as webob errors, so clients see this type name.
        return "HTTPBadRequest"


class InvalidAllocationPool(BadRequest):
    message = "The allocation pool %(pool)s is not valid."


class OutOfBoundsAllocationPool(BadRequest):
    message = "The allocation pool %(pool)s spans beyond the subnet cidr %(subnet_cidr)s."


class GatewayConflictWithAllocationPools(InUse):
    message = "Gateway ip %(ip_address)s conflicts with allocation pool %(pool)s."


class DNSNameServersExhausted(BadRequest):
    message = ("Unable to complete operation for %(subnet_id)s. "
               "The number of DNS nameservers exceeds the limit %(quota)s.")


class HostRoutesExhausted(BadRequest):
    message = ("Unable to complete operation for %(subnet_id)s. "
               "The number of host routes exceeds the limit %(quota)s.")


class InvalidIpForSubnet(BadRequest):
    message = "IP address %(ip_address)s is not a valid IP for the specified subnet."


class InvalidIpForNetwork(BadRequest):
    message = "IP address %(ip_address)s is not a valid IP for any of the subnets on the specified network."


class AllocationOnAutoAddressSubnet(InvalidInput):
    message = ("IPv6 address %(ip)s cannot be directly assigned to a port on subnet %(subnet_id)s "
               "as the subnet is configured for automatic addresses")


class NetworkSubnetPoolAffinityError(BadRequest):
    message = "Subnets hosted on the same network must be allocated from the same subnet pool."


class EmptySubnetPoolPrefixList(BadRequest):
    message = "Empty subnet pool prefix list."


class UnsupportedMinSubnetPoolPrefix(BadRequest):
    message = "Prefix '%(prefix)s' not supported in IPv%(version)s pool."


class IllegalSubnetPoolPrefixBounds(BadRequest):
    message = ("Illegal prefix bounds: %(prefix_type)s=%(prefixlen)s, "
               "%(base_prefix_type)s=%(base_prefixlen)s.")


class IllegalSubnetPoolPrefixUpdate(BadRequest):
    message = "Illegal update to prefixes: %(msg)s."


class MinPrefixSubnetAllocationError(BadRequest):
    message = ("Unable to allocate subnet with prefix length %(prefixlen)s, "
               "minimum allowed prefix is %(min_prefixlen)s.")


class MaxPrefixSubnetAllocationError(BadRequest):
    message = ("Unable to allocate subnet with prefix length %(prefixlen)s, "
               "maximum allowed prefix is %(max_prefixlen)s.")


class PortBound(InUse):
    message = ("Unable to complete operation on port %(port_id)s, port is already bound, "
               "port type: %(vif_type)s, old_mac %(old_mac)s, new_mac %(new_mac)s.")


# --- address scopes ---------------------------------------------------------------

class AddressScopeNotFound(NotFound):
    message = "Address scope %(address_scope_id)s could not be found."


class AddressScopeInUse(InUse):
    message = ("Unable to complete operation on address scope %(address_scope_id)s. There are one or more "
               "subnet pools in use on the address scope.")


class AddressScopeUpdateError(BadRequest):
    message = "Unable to update address scope %(address_scope_id)s : %(reason)s."


class AddressScopePrefixConflict(Conflict):
    message = "Failed to associate address scope: subnetpools within an address scope must have unique prefixes."


class IllegalSubnetPoolAssociationToAddressScope(BadRequest):
    message = ("Illegal subnetpool association: subnetpool %(subnetpool_id)s cannot be associated with address "
               "scope %(address_scope_id)s.")


class IllegalSubnetPoolIpVersionAssociationToAddressScope(BadRequest):
    message = ("Illegal subnetpool association: subnetpool %(subnetpool_id)s cannot associate with address "
               "scope %(address_scope_id)s because subnetpool ip_version is not %(ip_version)s.")


# --- database refusals (core/db/errors.py) ---------------------------------------

class ConcurrentlyRemoved(Conflict):
    message = ("A resource this request refers to was removed by a concurrent request; "
               "retry the request.")


class ConcurrentlyModified(Conflict):
    message = "A concurrent request made the same change first; retry the request."
