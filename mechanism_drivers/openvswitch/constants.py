"""Names and numbers shared by the Open vSwitch mechanism driver and agent."""

AGENT_TYPE = "Open vSwitch agent"
AGENT_BINARY = "netweave-openvswitch-agent"
VIF_TYPE_OVS = "ovs"

# Network types.
TYPE_LOCAL = "local"
TYPE_FLAT = "flat"
TYPE_VLAN = "vlan"
TYPE_VXLAN = "vxlan"
TYPE_GRE = "gre"
TYPE_GENEVE = "geneve"
TUNNEL_TYPES = (TYPE_GRE, TYPE_VXLAN, TYPE_GENEVE)
PHYSICAL_TYPES = (TYPE_FLAT, TYPE_VLAN)

# Local VLANs: 1..4094 carry networks; ports that must not talk sit on 4095.
MIN_LOCAL_VLAN = 1
MAX_LOCAL_VLAN = 4094
DEAD_VLAN = 4095

# Integration bridge tables.
LOCAL_SWITCHING = 0
CANARY_TABLE = 23
ARP_SPOOF_TABLE = 24
MAC_SPOOF_TABLE = 25
TRANSIENT_TABLE = 60

# Tunnel bridge tables.
PATCH_LV_TO_TUN = 2
GRE_TUN_TO_LV = 3
VXLAN_TUN_TO_LV = 4
GENEVE_TUN_TO_LV = 6
LEARN_FROM_TUN = 10
UCAST_TO_TUN = 20
ARP_RESPONDER = 21
FLOOD_TO_TUN = 22

TUN_TABLE = {TYPE_GRE: GRE_TUN_TO_LV, TYPE_VXLAN: VXLAN_TUN_TO_LV, TYPE_GENEVE: GENEVE_TUN_TO_LV}

# Cookie of the flows table 10's learn() action writes into table 20. They are
# the switch's own, so comparisons of installed and desired flows leave them out.
LEARNED_FLOW_COOKIE = 0x6e77_0010
LEARN_HARD_TIMEOUT = 300

# l2population's "flood to this host" entry.
FLOODING_MAC = "00:00:00:00:00:00"
FLOODING_IP = "0.0.0.0"

DEFAULT_VXLAN_UDP_PORT = 4789

# OpenFlow versions every agent bridge speaks: 1.0 for dumps in the book's
# notation, 1.3 for the agent's flow files, 1.4 for bundles.
BRIDGE_PROTOCOLS = ("OpenFlow10", "OpenFlow13", "OpenFlow14")
FAIL_MODE_SECURE = "secure"

# Port.other_config keys describing the network a br-int port is wired to.
OC_NET_UUID = "net_uuid"
OC_NETWORK_TYPE = "network_type"
OC_PHYSICAL_NETWORK = "physical_network"
OC_SEGMENTATION_ID = "segmentation_id"
OC_TAG = "tag"

# Seconds a restarted agent keeps the l2population entries it read back from
# its tunnel bridge: the server resends its own once the ports are reported up.
FDB_RECOVERY_GRACE = 30.0

# What agent extensions are told they run in (core.agent.extensions).
AGENT_DRIVER_TYPE = "openvswitch"
