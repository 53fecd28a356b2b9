"""gre: IP protocol 47 tunnels, networks told apart by the 32-bit GRE key."""
from netweave.type_drivers import models, mtu, tunnel


class GreTypeDriver(tunnel.TunnelTypeDriver):
    network_type = "gre"
    ranges_group = "ml2_type_gre"
    ranges_option = "tunnel_id_ranges"
    max_id = 2 ** 32 - 1
    allocation_model = models.GreAllocation
    id_column = "gre_id"
    endpoint_model = models.GreEndpoint

    def encap_overhead(self):
        return mtu.GRE_ENCAP_OVERHEAD
