"""Neutron's errors for security groups, port security and allowed address pairs (names, codes, texts)."""
from netweave.core import exceptions as exc


class SecurityGroupNotFound(exc.NotFound):
    message = "Security group %(id)s does not exist"


class SecurityGroupRuleNotFound(exc.NotFound):
    message = "Security group rule %(id)s does not exist"


class SecurityGroupInUse(exc.InUse):
    message = "Security Group %(id)s %(reason)s."

    def __init__(self, **kwargs):
        kwargs.setdefault("reason", "in use")
        super().__init__(**kwargs)


class SecurityGroupConflict(exc.Conflict):
    message = "Error %(reason)s while attempting the operation."


class SecurityGroupCannotRemoveDefault(exc.InUse):
    message = "Insufficient rights for removing default security group."


class SecurityGroupCannotUpdateDefault(exc.InUse):
    message = "Updating default security group not allowed."


class SecurityGroupDefaultAlreadyExists(exc.InUse):
    message = "Default security group already exists."


class SecurityGroupRuleExists(exc.InUse):
    message = "Security group rule already exists. Rule id is %(rule_id)s."


class DefaultSecurityGroupRuleNotFound(exc.NotFound):
    message = "Default Security Group rule %(id)s does not exist"


class DefaultSecurityGroupRuleExists(exc.InUse):
    message = "Default security group rule already exists. Rule id is %(rule_id)s."


class SecurityGroupRuleInvalidProtocol(exc.InvalidInput):
    message = ("Security group rule protocol %(protocol)s not supported. Only protocol values %(values)s "
               "and integer representations [0 to 255] are supported.")


class SecurityGroupRuleInvalidEtherType(exc.InvalidInput):
    message = "Security group rule for ethertype '%(ethertype)s' not supported. Allowed values are %(values)s."


class SecurityGroupRemoteGroupAndRemoteIpPrefix(exc.InvalidInput):
    message = "Only remote_ip_prefix or remote_group_id may be provided."


class SecurityGroupProtocolRequiredWithPorts(exc.InvalidInput):
    message = "Must also specify protocol if port range is given."


class SecurityGroupInvalidPortRange(exc.InvalidInput):
    message = "For TCP/UDP protocols, port_range_min must be <= port_range_max"


class SecurityGroupInvalidPortValue(exc.InvalidInput):
    message = "Invalid value for port %(port)s"


class SecurityGroupInvalidProtocolForPortRange(exc.InvalidInput):
    message = ("Invalid protocol %(protocol)s for port range, only supported for TCP, UDP, UDPLITE, "
               "SCTP and DCCP.")


class SecurityGroupInvalidIcmpValue(exc.InvalidInput):
    message = "Invalid value for ICMP %(field)s (%(attr)s) %(value)s. It must be 0 to 255."


class SecurityGroupMissingIcmpType(exc.InvalidInput):
    message = "ICMP code (port-range-max) %(value)s is provided but ICMP type (port-range-min) is missing."


class SecurityGroupEthertypeConflictWithProtocol(exc.InvalidInput):
    message = "Ethertype %(ethertype)s is not supported for protocol %(protocol)s."


class SecurityGroupRuleParameterConflict(exc.InvalidInput):
    message = "Conflicting value ethertype %(ethertype)s for CIDR %(cidr)s"


class SecurityGroupRulesNotSingleTenant(exc.InvalidInput):
    message = "Multiple tenant_ids in bulk security group rule create not allowed"


class InvalidCIDR(exc.BadRequest):
    message = "Invalid CIDR %(input)s given as IP prefix."


class PortSecurityPortHasSecurityGroup(exc.InUse):
    message = ("Port has security group associated. Cannot disable port security or IP address until "
               "security group is removed")


class PortSecurityAndIPRequiredForSecurityGroups(exc.InvalidInput):
    message = ("Port security must be enabled and port must have an IP address in order to use "
               "security groups.")


class AddressPairAndPortSecurityRequired(exc.Conflict):
    message = "Port Security must be enabled in order to have allowed address pairs on a port."


class DuplicateAddressPairInRequest(exc.InvalidInput):
    message = "Request contains duplicate address pair: mac_address %(mac_address)s ip_address %(ip_address)s."


class AllowedAddressPairExhausted(exc.BadRequest):
    message = "The number of allowed address pair exceeds the maximum %(quota)s."
