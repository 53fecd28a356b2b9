"""Names shared by the Linux bridge mechanism driver and agent."""
AGENT_TYPE = "Linux bridge agent"
AGENT_BINARY = "netweave-linuxbridge-agent"
VIF_TYPE_BRIDGE = "bridge"

TYPE_LOCAL = "local"
TYPE_FLAT = "flat"
TYPE_VLAN = "vlan"
TYPE_VXLAN = "vxlan"
SUPPORTED_NETWORK_TYPES = (TYPE_LOCAL, TYPE_FLAT, TYPE_VLAN, TYPE_VXLAN)
TUNNEL_TYPES = (TYPE_VXLAN,)

COMPUTE_OWNER_PREFIX = "compute:"

# l2population: a (mac, ip) pair with this MAC asks for flooding to a VTEP.
FLOODING_MAC = "00:00:00:00:00:00"

# The UDP port IANA assigned to VXLAN, and what the Linux vxlan driver uses
# when it is not told (it predates the assignment).
IANA_VXLAN_UDP_PORT = 4789
LINUX_VXLAN_UDP_PORT = 8472

# What agent extensions are told they run in (core.agent.extensions).
AGENT_DRIVER_TYPE = "linuxbridge"

# Agent configurations key: whether the host's kernel makes VLAN devices (trunk subports need them).
TRUNK_VLAN_DEVICES = "trunk_vlan_devices"
