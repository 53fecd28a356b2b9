"""Every device and namespace name netweave gives a kernel object, in one place.

Linux interface names hold at most 15 characters; Neutron's scheme of a
3-character prefix plus 11 characters of a UUID fits exactly and is the same on
every host, so any node can find the device of a port or network by its id.
"""
import hashlib
import ipaddress

DEVICE_NAME_MAX_LEN = 15
_ID_CHARS = 11

TAP_PREFIX = "tap"
BRIDGE_PREFIX = "brq"
VXLAN_PREFIX = "vxlan-"
QBR_PREFIX = "qbr"
QVB_PREFIX = "qvb"
QVO_PREFIX = "qvo"
DHCP_NS_PREFIX = "qdhcp-"
ROUTER_NS_PREFIX = "qrouter-"
LBAAS_NS_PREFIX = "qlbaas-"
FIP_NS_PREFIX = "fip-"
SNAT_NS_PREFIX = "snat-"
DHCP_DEVICE_PREFIX = "ns-"
ROUTER_INTERFACE_PREFIX = "qr-"
ROUTER_GATEWAY_PREFIX = "qg-"
HA_INTERFACE_PREFIX = "ha-"
# The metadata proxy of a qdhcp-/qrouter- namespace: its configuration file is
# <state_path>/ns-metadata-proxy/<network or router id>.conf (Neutron's layout),
# and in a qrouter- namespace it listens on this port, to which a NAT rule
# redirects 169.254.169.254:80.
METADATA_PROXY_DIR = "ns-metadata-proxy"
METADATA_PROXY_ROUTER_PORT = 9697
PATCH_INT_TO_TUN = "patch-tun"
PATCH_TUN_TO_INT = "patch-int"
INT_PEER_PREFIX = "int-"
PHY_PEER_PREFIX = "phy-"
# Open vSwitch trunks (Neutron's names): the per-trunk bridge the instance is plugged
# into, the patch pair of the parent port and one patch pair per subport.
TRUNK_BRIDGE_PREFIX = "tbr-"
TRUNK_PARENT_INT_PREFIX = "tpi-"
TRUNK_PARENT_TRUNK_PREFIX = "tpt-"
SUBPORT_INT_PREFIX = "spi-"
SUBPORT_TRUNK_PREFIX = "spt-"


def _with_id(prefix, uuid):
    return (prefix + uuid)[:len(prefix) + _ID_CHARS]


def tap_device(port_id):
    """tap + port id[:11]: the instance side of a port (e.g. tap6c15d7b8-87)."""
    return _with_id(TAP_PREFIX, port_id)


def network_bridge(network_id):
    """brq + network id[:11]: the Linux bridge of a network on every host."""
    return _with_id(BRIDGE_PREFIX, network_id)


def vxlan_device(vni):
    return "%s%d" % (VXLAN_PREFIX, int(vni))


def vlan_device(physical_interface, vlan_id):
    """<nic>.<vid>; a NIC name too long for the suffix is shortened with a hash, as Neutron does."""
    suffix = ".%d" % int(vlan_id)
    if len(physical_interface) + len(suffix) <= DEVICE_NAME_MAX_LEN:
        return physical_interface + suffix
    digest = hashlib.sha1(physical_interface.encode()).hexdigest()
    return digest[:DEVICE_NAME_MAX_LEN - len(suffix)] + suffix


def hybrid_bridge(port_id):
    return _with_id(QBR_PREFIX, port_id)


def hybrid_bridge_veth(port_id):
    return _with_id(QVB_PREFIX, port_id)


def hybrid_ovs_veth(port_id):
    return _with_id(QVO_PREFIX, port_id)


def dhcp_namespace(network_id):
    return DHCP_NS_PREFIX + network_id


def router_namespace(router_id):
    """qrouter- + the full router id (qrouter-9ef2eede-4a55-4f64-b8be-4b07a43ec373)."""
    return ROUTER_NS_PREFIX + router_id


def router_id_of_namespace(namespace):
    """The router id in a qrouter- namespace name, or None for any other name."""
    if namespace.startswith(ROUTER_NS_PREFIX) and len(namespace) > len(ROUTER_NS_PREFIX):
        return namespace[len(ROUTER_NS_PREFIX):]
    return None


def dhcp_device(port_id):
    """ns- + port id[:11]: the DHCP port inside its qdhcp- namespace."""
    return _with_id(DHCP_DEVICE_PREFIX, port_id)


def router_interface_device(port_id):
    """qr- + port id[:11]: a router's internal interface (qr-a9327c59-a6)."""
    return _with_id(ROUTER_INTERFACE_PREFIX, port_id)


def router_gateway_device(port_id):
    """qg- + port id[:11]: a router's external gateway interface (qg-73e65609-f0)."""
    return _with_id(ROUTER_GATEWAY_PREFIX, port_id)


def ha_device(port_id):
    """ha- + port id[:11]: an HA router's VRRP interface (ha-80d242d7-b3)."""
    return _with_id(HA_INTERFACE_PREFIX, port_id)


def metadata_proxy_config(resource_id):
    """ns-metadata-proxy/<id>.conf, relative to the agent's state_path."""
    return "%s/%s.conf" % (METADATA_PROXY_DIR, resource_id)


def ovs_tunnel_port(tunnel_type, remote_ip):
    """<type>-<remote IPv4 as 8 hex digits> (vxlan-0a140064 for 10.20.0.100)."""
    address = ipaddress.ip_address(remote_ip)
    if address.version == 4:
        return "%s-%08x" % (tunnel_type, int(address))
    # IPv6 endpoints: a hash keeps the name within the limit.
    digest = hashlib.sha1(address.packed).hexdigest()
    return ("%s-%s" % (tunnel_type, digest))[:DEVICE_NAME_MAX_LEN]


def int_peer_port(physical_bridge):
    return (INT_PEER_PREFIX + physical_bridge)[:DEVICE_NAME_MAX_LEN]


def phy_peer_port(physical_bridge):
    return (PHY_PEER_PREFIX + physical_bridge)[:DEVICE_NAME_MAX_LEN]


def trunk_bridge(trunk_id):
    """tbr- + trunk id, cut to 14 characters (e.g. tbr-82597947-6): what Nova and os-vif plug
    the instance of a trunk's parent into, so they must compute the same name."""
    return (TRUNK_BRIDGE_PREFIX + trunk_id)[:DEVICE_NAME_MAX_LEN - 1]


def trunk_parent_int_port(port_id):
    """tpi- + parent port id[:11]: the br-int end of the parent port's patch pair."""
    return _with_id(TRUNK_PARENT_INT_PREFIX, port_id)


def trunk_parent_trunk_port(port_id):
    """tpt- + parent port id[:11]: the trunk-bridge end of the parent port's patch pair."""
    return _with_id(TRUNK_PARENT_TRUNK_PREFIX, port_id)


def subport_int_port(port_id):
    """spi- + subport id[:11]: the br-int end of a subport's patch pair."""
    return _with_id(SUBPORT_INT_PREFIX, port_id)


def subport_trunk_port(port_id):
    """spt- + subport id[:11]: the trunk-bridge end of a subport's patch pair (tagged with its
    segmentation_id)."""
    return _with_id(SUBPORT_TRUNK_PREFIX, port_id)
