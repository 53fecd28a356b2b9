"""Names the router plugin shares with Neutron: device owners, statuses, resource names."""

DEVICE_OWNER_ROUTER_INTF = "network:router_interface"
DEVICE_OWNER_ROUTER_GW = "network:router_gateway"
DEVICE_OWNER_FLOATINGIP = "network:floatingip"

# Owners of the ports a router plugs into its project networks (HA and DVR add their own later).
ROUTER_INTERFACE_OWNERS = (DEVICE_OWNER_ROUTER_INTF,)
# Every port a router or floating IP owns: the port API may not delete these.
ROUTER_PORT_OWNERS = ROUTER_INTERFACE_OWNERS + (DEVICE_OWNER_ROUTER_GW,)
SERVICE_PORT_OWNERS = ROUTER_PORT_OWNERS + (DEVICE_OWNER_FLOATINGIP,)

ROUTER_STATUS_ACTIVE = "ACTIVE"
FLOATINGIP_STATUS_ACTIVE = "ACTIVE"
FLOATINGIP_STATUS_DOWN = "DOWN"
FLOATINGIP_STATUS_ERROR = "ERROR"
FLOATINGIP_STATUSES = (FLOATINGIP_STATUS_ACTIVE, FLOATINGIP_STATUS_DOWN, FLOATINGIP_STATUS_ERROR)

# Resource names for events, quotas and tags.
# Payload.metadata of a port delete: it took floating IP associations with it.
FLOATINGIPS_DISASSOCIATED = "floatingips_disassociated"

ROUTER = "router"
FLOATINGIP = "floatingip"
ROUTER_INTERFACE = "router_interface"
