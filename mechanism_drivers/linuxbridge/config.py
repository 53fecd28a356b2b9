"""Options of linuxbridge_agent.ini and their parsed, immutable form.

The agent reads oslo.config once at start-up and hands the pure modules an
``AgentSettings``: a frozen value, so a plan depends only on its arguments.
"""
import dataclasses
import ipaddress

from oslo_config import cfg

# [agent] report_interval, polling_interval, resync_interval: shared by every agent.
from netweave.core.agent import extensions as agent_extensions
from netweave.core.config import agent as common_agent_opts
from netweave.mechanism_drivers.linuxbridge import constants

linux_bridge_opts = [
    cfg.ListOpt("physical_interface_mappings", default=[],
                help="<physical_network>:<physical_interface> pairs: the host NIC that carries "
                     "each provider network's flat traffic (and, tagged, its VLANs). The "
                     "label must be the same on every host; the NIC may differ."),
    cfg.ListOpt("bridge_mappings", default=[],
                help="<physical_network>:<bridge> pairs: an existing Linux bridge that "
                     "carries a provider network. Flat ports join that bridge directly; VLAN "
                     "networks get a <bridge>.<vid> device in their own brq bridge. The agent "
                     "never creates or deletes these bridges."),
]

vxlan_opts = [
    cfg.BoolOpt("enable_vxlan", default=True,
                help="Wire VXLAN networks. Needs local_ip, and either l2_population or a "
                     "multicast vxlan_group."),
    cfg.IPOpt("local_ip",
              help="This host's VTEP address; it must be configured on one of its "
                   "interfaces, which carries the encapsulated traffic."),
    cfg.BoolOpt("l2_population", default=False,
                help="Program forwarding entries from the server's l2population messages "
                     "instead of using multicast; VXLAN learning is turned off."),
    cfg.BoolOpt("arp_responder", default=False,
                help="With l2_population, answer ARP and neighbour solicitations for remote "
                     "ports locally (the vxlan device's proxy mode). Turn it off when ports "
                     "use allowed-address-pairs: the kernel then learns nothing by itself."),
    cfg.PortOpt("udp_dstport", default=constants.IANA_VXLAN_UDP_PORT,
                help="UDP destination port of VXLAN traffic. The default is the IANA port "
                     "4789, which Open vSwitch uses too. The Linux vxlan driver on its own "
                     "uses 8472, and Neutron's Linux bridge agent leaves it there unless told "
                     "otherwise: set 8472 to talk to such hosts, or 0 to let the kernel "
                     "choose."),
    cfg.PortOpt("udp_srcport_min", default=0,
                help="Lowest UDP source port of VXLAN traffic; 0 with udp_srcport_max 0 "
                     "leaves the range to the kernel."),
    cfg.PortOpt("udp_srcport_max", default=0,
                help="Highest UDP source port of VXLAN traffic."),
    cfg.IntOpt("ttl", min=1, max=255,
               help="TTL of the outer packets; unset leaves the kernel's choice."),
    cfg.IntOpt("tos", min=0, max=255,
               help="TOS of the outer packets; unset leaves the kernel's choice."),
    cfg.StrOpt("vxlan_group", default="224.0.0.1",
               help="Multicast group (or a CIDR of groups, one picked per VNI) used for "
                    "broadcast and unknown traffic when l2_population is off."),
]

securitygroup_opts = [
    cfg.StrOpt("firewall_driver", default="iptables",
               help="Firewall driver for security groups: iptables, or noop to "
                    "apply no rules."),
    cfg.BoolOpt("enable_security_group", default=True,
                help="Apply security groups to ports; when off, ports are not filtered."),
]

GROUPS = (
    ("linux_bridge", linux_bridge_opts),
    ("vxlan", vxlan_opts),
    ("securitygroup", securitygroup_opts),
)


def register_agent_opts(conf=cfg.CONF):
    """linuxbridge_agent.ini's own groups, plus the [agent] options every agent has."""
    for group, opts in GROUPS:
        conf.register_opts(opts, group)
    common_agent_opts.register(conf)     # registering the same options twice is harmless
    agent_extensions.register_opts(conf)  # [agent] extensions


def list_opts():
    """For oslo-config-generator."""
    return [(group, list(opts)) for group, opts in GROUPS] + [
        ("agent", list(common_agent_opts.agent_opts) + list(agent_extensions.opts))]


class ConfigError(ValueError):
    """An option value the agent cannot work with; the message names the option."""


def parse_mappings(entries, option, unique_values=True):
    """["physnet1:eth2", ...] -> {"physnet1": "eth2"}; duplicates and bad entries are errors."""
    result = {}
    for raw in entries or ():
        entry = raw.strip()
        if not entry:
            continue
        key, sep, value = entry.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value or ":" in value:
            raise ConfigError("%s: %r is not <physical_network>:<name>" % (option, raw))
        if key in result:
            raise ConfigError("%s: physical network %r is mapped twice" % (option, key))
        if unique_values and value in result.values():
            raise ConfigError("%s: %r is mapped to more than one physical network" % (option, value))
        if len(value) > 15:
            raise ConfigError("%s: %r is longer than a Linux interface name (15)" % (option, value))
        result[key] = value
    return result


@dataclasses.dataclass(frozen=True)
class AgentSettings:
    """Everything the pure modules need to know about the configuration."""

    interface_mappings: tuple = ()      # ((physnet, nic), ...) sorted
    bridge_mappings: tuple = ()         # ((physnet, bridge), ...) sorted
    enable_vxlan: bool = True
    local_ip: str = None
    l2_population: bool = False
    arp_responder: bool = False
    udp_dstport: int = constants.IANA_VXLAN_UDP_PORT
    udp_srcport_min: int = 0
    udp_srcport_max: int = 0
    ttl: int = None
    tos: int = None
    vxlan_group: str = "224.0.0.1"
    polling_interval: int = 2
    firewall_driver: str = "iptables"
    enable_security_group: bool = True

    @property
    def interfaces(self):
        return dict(self.interface_mappings)

    @property
    def bridges(self):
        return dict(self.bridge_mappings)

    @property
    def vxlan_enabled(self):
        return bool(self.enable_vxlan and self.local_ip)

    def vxlan_group_for(self, vni):
        """The multicast group of a VNI: the address itself, or one of a CIDR's picked by VNI."""
        if not self.vxlan_group:
            return None
        network = ipaddress.ip_network(self.vxlan_group, strict=False)
        if network.num_addresses == 1:
            return str(network.network_address)
        offset = int(vni) & int(network.hostmask)
        return str(network.network_address + offset)


def make_settings(interface_mappings=None, bridge_mappings=None, **kwargs):
    """An AgentSettings from plain values (mappings as dicts); validates like the agent does."""
    settings = AgentSettings(
        interface_mappings=tuple(sorted((interface_mappings or {}).items())),
        bridge_mappings=tuple(sorted((bridge_mappings or {}).items())),
        **kwargs)
    validate(settings)
    return settings


def validate(settings):
    both = set(settings.interfaces) & set(settings.bridges)
    if both:
        raise ConfigError("physical network(s) %s are in both physical_interface_mappings and "
                          "bridge_mappings; give each one place" % ", ".join(sorted(both)))
    if settings.local_ip:
        try:
            ipaddress.ip_address(settings.local_ip)
        except ValueError:
            raise ConfigError("[vxlan] local_ip: %r is not an IP address" % settings.local_ip) from None
    if settings.vxlan_group:
        try:
            group = ipaddress.ip_network(settings.vxlan_group, strict=False)
        except ValueError:
            raise ConfigError("[vxlan] vxlan_group: %r is not an address or CIDR"
                              % settings.vxlan_group) from None
        if not group.is_multicast:
            raise ConfigError("[vxlan] vxlan_group: %s is not a multicast range" % settings.vxlan_group)
    if bool(settings.udp_srcport_min) != bool(settings.udp_srcport_max) or (
            settings.udp_srcport_min > settings.udp_srcport_max):
        raise ConfigError("[vxlan] udp_srcport_min/udp_srcport_max: give both, min <= max")


def settings_from_conf(conf=cfg.CONF):
    """Parse and check the registered options; ConfigError names the bad one."""
    lb, vx = conf.linux_bridge, conf.vxlan
    settings = AgentSettings(
        interface_mappings=tuple(sorted(parse_mappings(
            lb.physical_interface_mappings, "[linux_bridge] physical_interface_mappings").items())),
        bridge_mappings=tuple(sorted(parse_mappings(
            lb.bridge_mappings, "[linux_bridge] bridge_mappings").items())),
        enable_vxlan=vx.enable_vxlan,
        local_ip=str(vx.local_ip) if vx.local_ip else None,
        l2_population=vx.l2_population,
        arp_responder=vx.arp_responder,
        udp_dstport=vx.udp_dstport,
        udp_srcport_min=vx.udp_srcport_min,
        udp_srcport_max=vx.udp_srcport_max,
        ttl=vx.ttl,
        tos=vx.tos,
        vxlan_group=vx.vxlan_group or None,
        polling_interval=conf.agent.polling_interval,
        firewall_driver=conf.securitygroup.firewall_driver,
        enable_security_group=conf.securitygroup.enable_security_group,
    )
    validate(settings)
    return settings
