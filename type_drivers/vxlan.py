"""vxlan: UDP-encapsulated overlay networks keyed by a 24-bit VNI."""
from netweave.type_drivers import models, mtu, tunnel


class VxlanTypeDriver(tunnel.TunnelTypeDriver):
    network_type = "vxlan"
    ranges_group = "ml2_type_vxlan"
    ranges_option = "vni_ranges"
    max_id = 2 ** 24 - 1
    allocation_model = models.VxlanAllocation
    id_column = "vxlan_vni"
    endpoint_model = models.VxlanEndpoint

    def encap_overhead(self):
        return mtu.VXLAN_ENCAP_OVERHEAD
