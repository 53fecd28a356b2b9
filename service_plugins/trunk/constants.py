"""Names and values of the trunk plugin (Neutron's)."""

TRUNK = "trunk"
TRUNKS = "trunks"
SUB_PORTS = "sub_ports"
TRUNK_DETAILS = "trunk_details"

# Neutron's trunk_consts.TRUNK_SUBPORT_OWNER.
DEVICE_OWNER_SUBPORT = "trunk:subport"

SEGMENTATION_TYPE_VLAN = "vlan"
SEGMENTATION_TYPES = (SEGMENTATION_TYPE_VLAN,)
VLAN_MIN, VLAN_MAX = 1, 4094

# Trunk statuses as upstream defines them:
# DOWN      no instance on the parent port (at create, or after the instance went away)
# BUILD     the agent is wiring the trunk
# ACTIVE    logical and physical resources agree
# DEGRADED  some subport could not be wired or unwired; a retry may fix it
# ERROR     a lasting conflict; adding subports is refused until it is fixed
STATUS_DOWN = "DOWN"
STATUS_BUILD = "BUILD"
STATUS_ACTIVE = "ACTIVE"
STATUS_DEGRADED = "DEGRADED"
STATUS_ERROR = "ERROR"
STATUSES = (STATUS_DOWN, STATUS_BUILD, STATUS_ACTIVE, STATUS_DEGRADED, STATUS_ERROR)
