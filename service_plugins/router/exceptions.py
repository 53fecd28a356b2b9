"""Errors of routers and floating IPs, with Neutron's class names, codes and texts."""
from netweave.core import exceptions as exc


class RouterNotFound(exc.NotFound):
    message = "Router %(router_id)s could not be found"


class RouterInUse(exc.InUse):
    message = "Router %(router_id)s %(reason)s"

    def __init__(self, **kwargs):
        kwargs.setdefault("reason", "still has ports")
        super().__init__(**kwargs)


class RouterInterfaceNotFound(exc.NotFound):
    message = "Router %(router_id)s does not have an interface with id %(port_id)s"


class RouterInterfaceNotFoundForSubnet(exc.NotFound):
    message = "Router %(router_id)s has no interface on subnet %(subnet_id)s"


class RouterInterfaceInUseByFloatingIP(exc.InUse):
    message = ("Router interface for subnet %(subnet_id)s on router %(router_id)s cannot be deleted, "
               "as it is required by one or more floating IPs.")


class RouterInterfaceInUseByRoute(exc.InUse):
    message = ("Router interface for subnet %(subnet_id)s on router %(router_id)s cannot be deleted, "
               "as it is required by one or more routes.")


class RouterExternalGatewayInUseByFloatingIp(exc.InUse):
    message = ("Gateway cannot be updated for router %(router_id)s, since a gateway to external network "
               "%(net_id)s is required by one or more floating IPs.")


class FloatingIPNotFound(exc.NotFound):
    message = "Floating IP %(floatingip_id)s could not be found"


class ExternalGatewayForFloatingIPNotFound(exc.NotFound):
    message = ("External network %(external_network_id)s is not reachable from subnet %(subnet_id)s.  "
               "Therefore, cannot associate Port %(port_id)s with a Floating IP.")


class FloatingIPPortAlreadyAssociated(exc.InUse):
    message = ("Cannot associate floating IP %(floating_ip_address)s (%(fip_id)s) with port %(port_id)s "
               "using fixed IP %(fixed_ip)s, as that fixed IP already has a floating IP on external "
               "network %(net_id)s.")


class GatewayIpInUse(exc.InUse):
    message = "Current gateway ip %(ip_address)s already in use by port %(port_id)s. Unable to update."


class FloatingIPAssociationChanged(exc.Conflict):
    """Not Neutron's: the port or router of an association kept changing while it was written."""
    message = "The association of floating IP %(fip_id)s changed while it was written; try again."


class ServicePortInUse(exc.InUse):
    message = "Port %(port_id)s cannot be deleted directly via the port API: %(reason)s."


class PortInUse(exc.InUse):
    message = ("Unable to complete operation on port %(port_id)s for network %(net_id)s. "
               "Port already has an attached device %(device_id)s.")


class SubnetMismatchForPort(exc.BadRequest):
    message = "Subnet on port %(port_id)s does not match the requested subnet %(subnet_id)s."


class InvalidRoutes(exc.InvalidInput):
    message = "Invalid format for routes: %(routes)s, %(reason)s"


class RoutesExhausted(exc.BadRequest):
    message = ("Unable to complete operation for %(router_id)s. "
               "The number of routes exceeds the maximum %(quota)s.")


def bad_router_request(msg):
    """Neutron's 400 for routers: "Bad router request: <msg>."."""
    return exc.BadRequest(resource="router", msg=msg)


def bad_floatingip_request(msg):
    """Neutron's 400 for floating IPs: "Bad floatingip request: <msg>."."""
    return exc.BadRequest(resource="floatingip", msg=msg)
