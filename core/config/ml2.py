"""Options of the ML2 core plugin and its type drivers."""
from oslo_config import cfg

ml2_opts = [
    cfg.ListOpt("type_drivers", default=["local", "flat", "vlan", "gre", "vxlan", "geneve"],
                help="Network type driver entry points to load."),
    cfg.ListOpt("tenant_network_types", default=["local"],
                help="Ordered list of network types to allocate as project networks."),
    cfg.ListOpt("mechanism_drivers", default=[], help="Mechanism driver entry points to load, in order."),
    cfg.ListOpt("extension_drivers", default=[], help="Extension driver entry points to load, in order."),
    cfg.IntOpt("path_mtu", default=0, help="Maximum size of an IP packet that can traverse the underlying "
               "physical network infrastructure without fragmentation; 0 means global_physnet_mtu."),
    cfg.ListOpt("physical_network_mtus", default=[],
                help="physnet:mtu pairs overriding global_physnet_mtu for flat and VLAN networks."),
    cfg.IntOpt("overlay_ip_version", default=4, choices=[4, 6],
               help="IP version of all overlay (tunnel) endpoints."),
]

flat_opts = [
    cfg.ListOpt("flat_networks", default="*",
                help="Physical networks flat networks may be created on; '*' allows any."),
]

vlan_opts = [
    cfg.ListOpt("network_vlan_ranges", default=[],
                help="<physical_network>[:<vlan_min>:<vlan_max>] entries; physnets listed without "
                     "a range are usable for provider networks only."),
]

vxlan_opts = [
    cfg.ListOpt("vni_ranges", default=[], help="<vni_min>:<vni_max> ranges of VXLAN VNIs for project networks."),
    cfg.StrOpt("vxlan_group", help="Multicast group for VXLAN (unused with l2population)."),
]

gre_opts = [
    cfg.ListOpt("tunnel_id_ranges", default=[], help="<tun_min>:<tun_max> ranges of GRE keys for project networks."),
]

geneve_opts = [
    cfg.ListOpt("vni_ranges", default=[], help="<vni_min>:<vni_max> ranges of Geneve VNIs for project networks."),
    cfg.IntOpt("max_header_size", default=30,
               help="Geneve encapsulation header size is dynamic; this is the maximum used to compute the MTU."),
]


def register(conf):
    conf.register_opts(ml2_opts, "ml2")
    conf.register_opts(flat_opts, "ml2_type_flat")
    conf.register_opts(vlan_opts, "ml2_type_vlan")
    conf.register_opts(vxlan_opts, "ml2_type_vxlan")
    conf.register_opts(gre_opts, "ml2_type_gre")
    conf.register_opts(geneve_opts, "ml2_type_geneve")


register(cfg.CONF)
