"""geneve: UDP-encapsulated overlay networks with a 24-bit VNI and variable-length options."""
from netweave.type_drivers import models, tunnel


class GeneveTypeDriver(tunnel.TunnelTypeDriver):
    network_type = "geneve"
    ranges_group = "ml2_type_geneve"
    ranges_option = "vni_ranges"
    max_id = 2 ** 24 - 1
    allocation_model = models.GeneveAllocation
    id_column = "geneve_vni"
    endpoint_model = models.GeneveEndpoint

    def encap_overhead(self):
        # The header grows with its options; the configured maximum keeps packets fitting.
        return self._conf.ml2_type_geneve.max_header_size
