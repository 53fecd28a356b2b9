"""Names of the firewall's iptables chains, ipsets and ebtables chains, as Neutron's.

Devices (tap, qvb, qbr, brq) come from core/naming.py; these are the names of
rule containers. Each agent wraps its chains with its binary name cut to 16
characters: "neutron-linuxbri" (Linux bridge agent), "neutron-openvswi" (Open
vSwitch agent). A port's chains are i/o/s plus the port id cut to 10
characters (the book says 9; it is 10 with the dash), so a chain name stays
within iptables' 28 characters.
"""
from netweave.core import naming

LINUXBRIDGE_PREFIX = "neutron-linuxbri"
OVS_PREFIX = "neutron-openvswi"
FILTER_TOP = "neutron-filter-top"      # shared by every agent, not wrapped

PORT_ID_CHARS = 10
INGRESS_LETTER, EGRESS_LETTER, SPOOF_LETTER = "i", "o", "s"

# ipset: "N" + ethertype + group id, cut so that the swap twin ("-n") still
# fits ipset's 31 characters: NIPv4fae5da02-5d96-43df-aebf- (29).
IPSET_NAME_MAX = 29
IPSET_SWAP_SUFFIX = "-n"

# ebtables (Linux bridge ARP/MAC protection), Neutron's per-tap chain names.
EBTABLES_ARP_PREFIX = "neutronARP-"
EBTABLES_MAC_PREFIX = "neutronMAC-"


def wrap(prefix, chain):
    """neutron-linuxbri + sg-chain -> neutron-linuxbri-sg-chain."""
    return "%s-%s" % (prefix, chain)


def port_chain(prefix, letter, port_id):
    return wrap(prefix, letter + port_id[:PORT_ID_CHARS])


def ipset_name(ethertype, group_id):
    return ("N" + ethertype + group_id)[:IPSET_NAME_MAX]


def ipset_swap_name(ethertype, group_id):
    return ipset_name(ethertype, group_id) + IPSET_SWAP_SUFFIX


def ebtables_arp_chain(port_id):
    return EBTABLES_ARP_PREFIX + naming.tap_device(port_id)


def ebtables_mac_chain(port_id):
    return EBTABLES_MAC_PREFIX + naming.tap_device(port_id)


def zone_comment(port_id):
    """Neutron's "Set zone for <tap name minus its first 4 characters>" (dcc4b66-c1)."""
    return "Set zone for %s" % naming.tap_device(port_id)[4:]


def notrack_comment(port_id):
    """The comment on the raw-table rules that keep a stateless port's traffic untracked."""
    return "Stateless port %s" % naming.tap_device(port_id)[4:]
