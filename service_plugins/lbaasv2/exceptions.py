"""Errors of LBaaS v2 with the Octavia/LBaaS v2 texts, in Neutron's error shape."""
from netweave.core import exceptions as exc


class EntityNotFound(exc.NotFound):
    message = "%(name)s %(id)s not found."


class ImmutableObject(exc.Conflict):
    message = "%(resource)s %(id)s is immutable and cannot be updated."


class LoadBalancerHasChildren(exc.Conflict):
    message = "Cannot delete Load Balancer %(id)s - it has children"


class DuplicateListenerPort(exc.Conflict):
    message = "Load Balancer %(lb_id)s already has a listener with protocol_port of %(protocol_port)s"


class DuplicateMember(exc.Conflict):
    message = ("Member with address %(address)s and protocol_port %(port)s already present in pool "
               "%(pool)s")


class OneHealthMonitorPerPool(exc.Conflict):
    message = ("Only one health monitor per pool allowed.  Pool %(pool_id)s is already using Health "
               "Monitor %(hm_id)s.")


class OnePoolPerListener(exc.Conflict):
    message = ("Only one pool per listener allowed.  Listener %(listener_id)s is already using Pool "
               "%(pool_id)s.")


class ProtocolMismatch(exc.BadRequest):
    message = "Listener protocol %(listener_proto)s and pool protocol %(pool_proto)s are not compatible."


class InvalidOption(exc.BadRequest):
    message = "%(value)s is not a valid option for %(option)s"


class ValidationFailure(exc.BadRequest):
    message = "Validation failure: %(detail)s"


class TerminatedHttpsNotSupported(exc.BadRequest):
    message = ("Protocol TERMINATED_HTTPS is not supported: the haproxy provider terminates no TLS "
               "(use HTTPS for TLS passthrough).")


class SessionPersistenceInvalid(exc.BadRequest):
    message = "Session Persistence Invalid: %(msg)s"


class VipPortInUse(exc.InUse):
    message = "Port %(port_id)s is already in use by %(owner)s and cannot hold a VIP."


class VipPortDeleteRefused(exc.InUse):
    message = ("Port %(port_id)s is the VIP of load balancer %(lb_id)s and cannot be deleted directly: "
               "delete the load balancer instead.")
