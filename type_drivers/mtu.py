"""MTU arithmetic of network segments, as Neutron does it.

Every function returns 0 for "unknown"; the type manager then falls back to
``global_physnet_mtu``.
"""
IP_HEADER_LENGTH = {4: 20, 6: 40}
VXLAN_ENCAP_OVERHEAD = 30
GRE_ENCAP_OVERHEAD = 22


def parse_physnet_mtus(entries, option="[ml2] physical_network_mtus"):
    """``physnet:mtu`` entries -> ``{physnet: mtu}``."""
    mtus = {}
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        physnet, sep, value = entry.rpartition(":")
        physnet = physnet.strip()
        if not sep or not physnet:
            raise ValueError("%s: Invalid mapping: '%s'." % (option, entry))
        if physnet in mtus:
            raise ValueError("%s: Key %s in mapping: '%s' not unique." % (option, physnet, entry))
        try:
            mtus[physnet] = int(value.strip())
        except ValueError:
            raise ValueError("%s: MTU '%s' of physical network %s is not an integer." %
                             (option, value.strip(), physnet)) from None
    return mtus


def physnet_mtu(global_physnet_mtu, physnet_mtus, physical_network):
    """MTU of a flat or VLAN segment: the smallest of the known values.

    Neutron takes the minimum of ``global_physnet_mtu`` and the physnet's entry in
    ``physical_network_mtus``, so that entry can only lower the MTU; ``path_mtu`` is
    about the routed underlay of tunnels and plays no part here.
    """
    candidates = [mtu for mtu in (global_physnet_mtu, physnet_mtus.get(physical_network, 0)) if mtu > 0]
    return min(candidates) if candidates else 0


def overlay_mtu(global_physnet_mtu, path_mtu, overlay_ip_version, encap_overhead):
    """MTU inside a tunnel: the underlay MTU less the outer IP header and the encapsulation."""
    underlay = [mtu for mtu in (global_physnet_mtu, path_mtu) if mtu > 0]
    if not underlay:
        return 0
    return min(underlay) - IP_HEADER_LENGTH[overlay_ip_version] - encap_overhead
