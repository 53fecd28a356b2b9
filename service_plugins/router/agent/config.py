"""Options of l3_agent.ini (Neutron's names and defaults, spec section 3.1) and their frozen form.

The data plane takes a ``settings.DataplaneSettings`` built by
``dataplane_settings(conf)``; the rest configures the agent process.
Only ``agent_mode = legacy`` is served here: dvr and dvr_snat are refused at
start rather than half served. ``external_network_bridge`` is deprecated as
upstream deprecated it (Pike): a value other than empty is refused, since
gateway ports are plugged by the interface driver like any other port and the
L2 agent wires them to the external network.
"""
import os

from oslo_config import cfg

from netweave.core.agent.metadata import config as metadata_config
from netweave.core.config import agent as common_agent_opts
from netweave.core.config import common as common_config
from netweave.service_plugins.router.agent import settings as settings_mod

AGENT_MODE_LEGACY, AGENT_MODE_DVR, AGENT_MODE_DVR_SNAT, AGENT_MODE_DVR_NO_EXTERNAL = (
    "legacy", "dvr", "dvr_snat", "dvr_no_external")

l3_opts = [
    cfg.StrOpt("interface_driver",
               help="How qr-/qg- devices are plugged: linuxbridge or openvswitch (entry points of "
                    "netweave.interface_drivers), or a full class path. It must match the L2 agent."),
    cfg.StrOpt("agent_mode", default=AGENT_MODE_LEGACY,
               choices=[AGENT_MODE_LEGACY, AGENT_MODE_DVR, AGENT_MODE_DVR_SNAT, AGENT_MODE_DVR_NO_EXTERNAL],
               help="legacy: centralized routers (standalone and HA). The DVR modes are not served by "
                    "this agent."),
    cfg.BoolOpt("enable_metadata_proxy", default=True,
                help="Run a metadata proxy in every router namespace, with the NAT rule redirecting "
                     "169.254.169.254:80 to metadata_port. False: metadata only via config drive."),
    cfg.PortOpt("metadata_port", default=9697,
                help="TCP port the router's metadata proxy listens on inside its namespace."),
    cfg.StrOpt("metadata_access_mark", default="0x1",
               help="iptables mark (mask 0xffff) of metadata requests entering on qr- devices."),
    cfg.StrOpt("external_ingress_mark", default="0x2",
               help="iptables mark (mask 0xffff) of traffic entering on the qg- device."),
    cfg.BoolOpt("handle_internal_only_routers", default=True,
                help="Also serve routers without an external gateway."),
    cfg.StrOpt("external_network_bridge", default="", deprecated_for_removal=True,
               deprecated_reason="Gateway ports are plugged by the interface driver and wired by the "
                                 "L2 agent like any other port.",
               help="Deprecated; must stay empty."),
    cfg.StrOpt("ha_confs_path", default="$state_path/ha_confs",
               help="Where keepalived configurations of HA routers are kept."),
    cfg.StrOpt("ha_vrrp_auth_type", default="PASS", choices=["AH", "PASS"],
               help="VRRP authentication type of HA routers."),
    cfg.StrOpt("ha_vrrp_auth_password", secret=True,
               help="VRRP authentication password; no authentication block when unset."),
    cfg.IntOpt("ha_vrrp_advert_int", default=2, min=1,
               help="Seconds between VRRP advertisements."),
    cfg.IntOpt("ha_vrrp_health_check_interval", default=0, min=0,
               help="Seconds between HA router health checks; 0 disables them."),
    cfg.IntOpt("send_arp_for_ha", default=3, min=0,
               help="Gratuitous ARPs sent for each address a router starts answering for; 0: none."),
    cfg.IntOpt("min_rtr_adv_interval", default=30, min=3,
               help="MinRtrAdvInterval of radvd on IPv6 router interfaces."),
    cfg.IntOpt("max_rtr_adv_interval", default=100, min=4,
               help="MaxRtrAdvInterval of radvd on IPv6 router interfaces."),
    cfg.IntOpt("resync_interval", default=5, min=0,
               help="Seconds to wait before resyncing after a failed pass."),
    cfg.StrOpt("ovs_integration_bridge", default="br-int",
               help="Open vSwitch bridge the openvswitch interface driver plugs router ports into."),
    cfg.BoolOpt("ovs_use_veth", default=False,
                help="openvswitch interface driver: plug a veth pair instead of an internal port."),
]

az_opts = [
    cfg.StrOpt("availability_zone", default="nova", help="Availability zone of this L3 agent."),
]


def _shared_opts():
    return [opt for opt in common_config.core_opts if opt.dest in ("state_path", "host")]


def register_opts(conf=cfg.CONF):
    conf.register_opts(_shared_opts())
    conf.register_opts(l3_opts)
    metadata_config.register_proxy_opts(conf)
    conf.register_opts(az_opts, "agent")
    common_agent_opts.register(conf)


def list_opts():
    """For oslo-config-generator (namespace netweave.l3_agent)."""
    return [("DEFAULT", _shared_opts() + list(l3_opts) + list(metadata_config.proxy_opts)),
            ("agent", list(common_agent_opts.agent_opts) + list(az_opts))]


def check(conf):
    """ValueError naming the option when the configuration cannot be served."""
    if not conf.interface_driver:
        raise ValueError("interface_driver is not set (linuxbridge or openvswitch)")
    if conf.agent_mode != AGENT_MODE_LEGACY:
        raise ValueError("agent_mode %s is not supported: this L3 agent serves legacy routers only"
                         % conf.agent_mode)
    if conf.external_network_bridge:
        raise ValueError("external_network_bridge is deprecated and must be empty: the interface driver "
                         "plugs gateway ports and the L2 agent wires them")
    if conf.min_rtr_adv_interval >= conf.max_rtr_adv_interval:
        raise ValueError("min_rtr_adv_interval must be less than max_rtr_adv_interval")
    for name in ("metadata_access_mark", "external_ingress_mark"):
        mark(getattr(conf, name), name)


def mark(value, name="mark"):
    """A mark as iptables-save prints it ("0x2"), so rendered rules compare equal to the kernel's."""
    try:
        number = int(value, 0)
    except (TypeError, ValueError):
        number = -1
    if not 0 < number <= 0xffff:
        raise ValueError("%s %r is not a mark within 0x1..0xffff" % (name, value))
    return "0x%x" % number


def ipv6_enabled():
    """Whether the kernel has IPv6 (as Neutron detects it): its sysctls are set only then."""
    return os.path.exists("/proc/sys/net/ipv6")


def dataplane_settings(conf):
    return settings_mod.DataplaneSettings(
        enable_metadata_proxy=conf.enable_metadata_proxy, metadata_port=conf.metadata_port,
        metadata_access_mark=mark(conf.metadata_access_mark), external_ingress_mark=mark(conf.external_ingress_mark),
        use_ipv6=ipv6_enabled(), send_arp_for_ha=conf.send_arp_for_ha,
        min_rtr_adv_interval=conf.min_rtr_adv_interval, max_rtr_adv_interval=conf.max_rtr_adv_interval)
