"""Options of dhcp_agent.ini (Neutron's names and defaults) and their frozen form.

The pure rendering functions take a ``DhcpSettings`` value, never oslo.config,
so a dnsmasq file depends only on its arguments.
"""
import dataclasses

from oslo_config import cfg

from netweave.core.agent.metadata import config as metadata_config
from netweave.core.config import agent as common_agent_opts
from netweave.core.config import common as common_config

DEFAULT_LEASE_DURATION = 86400
DEFAULT_DNS_DOMAIN = "openstacklocal"
DNSMASQ_LEASE_MAX = 2 ** 24

dhcp_opts = [
    cfg.StrOpt("interface_driver",
               help="How the DHCP port is plugged: linuxbridge or openvswitch (entry points of "
                    "netweave.interface_drivers), or a full class path. Only one per agent."),
    cfg.StrOpt("dhcp_driver", default="dnsmasq",
               help="The DHCP server run per network; only dnsmasq is provided."),
    cfg.BoolOpt("enable_isolated_metadata", default=False,
                help="Serve metadata on networks whose subnets have no router as gateway: the "
                     "DHCP namespace gets 169.254.169.254 and a metadata proxy, and DHCP pushes "
                     "a host route to it (option 121)."),
    cfg.BoolOpt("force_metadata", default=False,
                help="Serve metadata from the DHCP namespace and push the route on every network, "
                     "routed or not."),
    cfg.BoolOpt("enable_metadata_network", default=False,
                help="With enable_isolated_metadata, also serve metadata on networks with a "
                     "subnet inside 169.254.0.0/16 (a metadata network)."),
    cfg.StrOpt("dnsmasq_config_file", default="",
               help="Extra dnsmasq configuration read by every dnsmasq (for example "
                    "dhcp-option-force=26,1450). Empty: none."),
    cfg.ListOpt("dnsmasq_dns_servers", default=[],
                help="DNS servers dnsmasq forwards queries to."),
    cfg.StrOpt("dnsmasq_base_log_dir",
               help="When set, each dnsmasq logs its queries and DHCP exchanges to "
                    "<dir>/<network id>/dhcp_dns_log."),
    cfg.IntOpt("dnsmasq_lease_max", default=DNSMASQ_LEASE_MAX,
               help="Upper bound of dnsmasq's --dhcp-lease-max."),
    cfg.BoolOpt("dhcp_broadcast_reply", default=False,
                help="Broadcast DHCP replies instead of unicasting them."),
    cfg.IntOpt("num_sync_threads", default=4, min=1,
               help="Networks brought up side by side during a full resync."),
    cfg.IntOpt("resync_interval", default=5, min=0,
               help="Seconds to wait before resyncing after a failure."),
    cfg.StrOpt("ovs_integration_bridge", default="br-int",
               help="Open vSwitch bridge the openvswitch interface driver plugs DHCP ports into."),
    cfg.BoolOpt("ovs_use_veth", default=False,
                help="openvswitch interface driver: plug a veth pair (host side on the "
                     "integration bridge) instead of an internal port."),
]

az_opts = [
    cfg.StrOpt("availability_zone", default="nova",
               help="Availability zone of this DHCP agent."),
]


def _shared_opts():
    # Declared once for the whole service (the server reads them too): the lease time
    # (-1 for infinite leases), the domain given to instances, where state lives, the host name.
    return [opt for opt in common_config.core_opts
            if opt.dest in ("dhcp_lease_duration", "dns_domain", "state_path", "host")]


def register_opts(conf=cfg.CONF):
    conf.register_opts(_shared_opts())
    conf.register_opts(dhcp_opts)
    # metadata_proxy_socket, metadata_proxy_user/group: where and as whom the namespace proxies run.
    metadata_config.register_proxy_opts(conf)
    conf.register_opts(az_opts, "agent")
    common_agent_opts.register(conf)


def list_opts():
    """For oslo-config-generator (namespace netweave.dhcp_agent)."""
    return [("DEFAULT", _shared_opts() + list(dhcp_opts) + list(metadata_config.proxy_opts)),
            ("agent", list(common_agent_opts.agent_opts) + list(az_opts))]


@dataclasses.dataclass(frozen=True)
class DhcpSettings:
    """What rendering and planning need to know about the configuration."""

    state_path: str = "/var/lib/netweave"
    enable_isolated_metadata: bool = False
    force_metadata: bool = False
    enable_metadata_network: bool = False
    dnsmasq_config_file: str = ""
    dnsmasq_dns_servers: tuple = ()
    dnsmasq_base_log_dir: str = None
    dnsmasq_lease_max: int = DNSMASQ_LEASE_MAX
    dhcp_broadcast_reply: bool = False
    dhcp_lease_duration: int = DEFAULT_LEASE_DURATION
    dns_domain: str = DEFAULT_DNS_DOMAIN

    @classmethod
    def from_conf(cls, conf):
        return cls(
            state_path=conf.state_path,
            enable_isolated_metadata=conf.enable_isolated_metadata,
            force_metadata=conf.force_metadata,
            enable_metadata_network=conf.enable_metadata_network,
            dnsmasq_config_file=conf.dnsmasq_config_file or "",
            dnsmasq_dns_servers=tuple(s.strip() for s in conf.dnsmasq_dns_servers if s.strip()),
            dnsmasq_base_log_dir=conf.dnsmasq_base_log_dir or None,
            dnsmasq_lease_max=conf.dnsmasq_lease_max,
            dhcp_broadcast_reply=conf.dhcp_broadcast_reply,
            dhcp_lease_duration=conf.dhcp_lease_duration,
            dns_domain=(conf.dns_domain or "").strip("."),
        )
