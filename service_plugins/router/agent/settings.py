"""What the data plane needs from the L3 agent's configuration, as plain values.

The planners take a ``DataplaneSettings`` rather than oslo.config, so they stay
pure; the agent process builds one from l3_agent.ini. Defaults are Neutron's.
"""
import dataclasses

from netweave.core import naming


@dataclasses.dataclass(frozen=True)
class DataplaneSettings:
    enable_metadata_proxy: bool = True
    metadata_port: int = naming.METADATA_PROXY_ROUTER_PORT
    metadata_access_mark: str = "0x1"     # set on qr- traffic to 169.254.169.254:80 (mangle)
    external_ingress_mark: str = "0x2"    # set on traffic entering through qg- (mangle)
    use_ipv6: bool = True                 # IPv6 forwarding sysctls and radvd
    send_arp_for_ha: int = 3              # gratuitous ARPs per address (Neutron's option name)
    min_rtr_adv_interval: int = 30        # radvd
    max_rtr_adv_interval: int = 100
