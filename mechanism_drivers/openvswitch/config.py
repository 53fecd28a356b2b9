"""openvswitch_agent.ini: the options the book lists, plus the names a test or a
second agent on the same switch needs to change (bridge and patch port names).

Options are registered on demand (``register_opts``), never at import, so the
server, the other agents and the tests can each use their own ConfigOpts.
The agent itself works from ``AgentConfig``, a plain frozen value built once.
"""
import dataclasses
import ipaddress
import os

from oslo_config import cfg

from netweave.core import naming
from netweave.core.agent import extensions as agent_extensions
from netweave.core.config import agent as common_agent_opts
from netweave.mechanism_drivers.openvswitch import constants as c

ovs_opts = [
    cfg.StrOpt("integration_bridge", default="br-int",
               help="Bridge every instance, DHCP and router port is plugged into. "
                    "Created by the agent when missing."),
    cfg.StrOpt("tunnel_bridge", default="br-tun",
               help="Bridge holding the tunnel ports; created when tunnel_types is set."),
    cfg.StrOpt("int_peer_patch_port", default=naming.PATCH_INT_TO_TUN,
               help="Patch port on the integration bridge towards the tunnel bridge."),
    cfg.StrOpt("tun_peer_patch_port", default=naming.PATCH_TUN_TO_INT,
               help="Patch port on the tunnel bridge towards the integration bridge."),
    cfg.StrOpt("local_ip",
               help="This host's tunnel endpoint (VTEP) address; required with tunnel_types."),
    cfg.ListOpt("bridge_mappings", default=[],
                help="<physical_network>:<bridge> pairs, e.g. physnet1:br-eth2. The bridge "
                     "holds the physical interface; flows translate local VLANs on it."),
    cfg.StrOpt("datapath_type", default="system", choices=["system", "netdev"],
               help="Datapath of the agent's bridges: 'system' (kernel module) or "
                    "'netdev' (userspace)."),
    cfg.StrOpt("ovsdb_connection", default="unix:/var/run/openvswitch/db.sock",
               help="OVSDB server the agent talks to."),
    cfg.StrOpt("of_rundir",
               help="Directory of ovs-vswitchd's bridge management sockets (<bridge>.mgmt), "
                    "through which the agent programs flows. Unset: the directory of "
                    "ovsdb_connection's socket when it is a unix: connection (ovsdb-server and "
                    "ovs-vswitchd share their run directory), else ovs-ofctl's default."),
    cfg.IntOpt("ovsdb_timeout", default=30, min=1,
               help="Seconds an OVSDB transaction (including ovs-vswitchd applying it) may take."),
]

agent_opts = [
    cfg.ListOpt("tunnel_types", default=[],
                help="Tunnel network types this host carries: any of gre, vxlan, geneve. "
                     "Empty turns tunnelling off."),
    cfg.BoolOpt("l2_population", default=False,
                help="Use l2population: tunnels and forwarding entries only where ports are."),
    cfg.BoolOpt("arp_responder", default=False,
                help="Answer ARP for remote ports locally from br-tun table 21 (needs l2_population)."),
    cfg.PortOpt("vxlan_udp_port", default=c.DEFAULT_VXLAN_UDP_PORT,
                help="UDP port of VXLAN tunnels; 8472 talks to kernel vxlan (Linux bridge) hosts."),
    cfg.BoolOpt("dont_fragment", default=True,
                help="Set the Don't Fragment bit on tunnelled packets."),
    cfg.FloatOpt("fdb_recovery_grace", default=c.FDB_RECOVERY_GRACE, min=0,
                 help="With l2_population: seconds a restarted agent keeps the forwarding entries "
                      "it finds on its tunnel bridge, while the server resends its own."),
]

securitygroup_opts = [
    cfg.StrOpt("firewall_driver", default="noop",
               choices=["noop", "iptables", "iptables_hybrid", "openvswitch"],
               help="Security group implementation. iptables_hybrid plugs instances through a "
                    "qbr Linux bridge (reported to the server as ovs_hybrid_plug)."),
]


def register_opts(conf):
    conf.register_opts(ovs_opts, "ovs")
    conf.register_opts(agent_opts, "agent")
    agent_extensions.register_opts(conf)  # [agent] extensions
    conf.register_opts(securitygroup_opts, "securitygroup")


def list_opts():
    """For oslo-config-generator."""
    return [("ovs", ovs_opts),
            ("agent", list(common_agent_opts.agent_opts) + list(agent_opts) + list(agent_extensions.opts)),
            ("securitygroup", securitygroup_opts)]


def parse_bridge_mappings(entries):
    """['physnet1:br-eth2', ...] -> {'physnet1': 'br-eth2'}; one bridge per physnet and vice versa."""
    mappings = {}
    for entry in entries or []:
        entry = entry.strip()
        if not entry:
            continue
        physnet, sep, bridge = entry.partition(":")
        physnet, bridge = physnet.strip(), bridge.strip()
        if not sep or not physnet or not bridge:
            raise ValueError("bridge_mappings entry %r is not <physical_network>:<bridge>" % entry)
        if physnet in mappings:
            raise ValueError("bridge_mappings names physical network %r twice" % physnet)
        if bridge in mappings.values():
            raise ValueError("bridge_mappings maps bridge %r twice" % bridge)
        mappings[physnet] = bridge
    return mappings


def default_of_rundir(ovsdb_connection):
    """Where the ovs-vswitchd of ``ovsdb_connection`` keeps its management sockets: next to
    a unix: OVSDB socket; None (ovs-ofctl's default) for any other connection."""
    kind, _, rest = (ovsdb_connection or "").partition(":")
    if kind == "unix" and rest:
        return os.path.dirname(rest) or None
    return None


@dataclasses.dataclass(frozen=True)
class AgentConfig:
    integration_bridge: str = "br-int"
    tunnel_bridge: str = "br-tun"
    int_peer_patch_port: str = naming.PATCH_INT_TO_TUN
    tun_peer_patch_port: str = naming.PATCH_TUN_TO_INT
    local_ip: str = None
    bridge_mappings: dict = dataclasses.field(default_factory=dict)
    datapath_type: str = "system"
    tunnel_types: tuple = ()
    l2_population: bool = False
    arp_responder: bool = False
    vxlan_udp_port: int = c.DEFAULT_VXLAN_UDP_PORT
    dont_fragment: bool = True
    firewall_driver: str = "noop"
    ovsdb_connection: str = "unix:/var/run/openvswitch/db.sock"
    ovsdb_timeout: int = 30
    fdb_recovery_grace: float = c.FDB_RECOVERY_GRACE
    of_rundir: str = None   # None: derived from ovsdb_connection (see the option)

    def __post_init__(self):
        if not self.of_rundir:
            object.__setattr__(self, "of_rundir", default_of_rundir(self.ovsdb_connection))
        object.__setattr__(self, "tunnel_types", tuple(t.strip() for t in self.tunnel_types if t.strip()))
        object.__setattr__(self, "bridge_mappings", dict(self.bridge_mappings))
        unknown = [t for t in self.tunnel_types if t not in c.TUNNEL_TYPES]
        if unknown:
            raise ValueError("tunnel_types: unknown type(s) %s; choose from %s"
                             % (", ".join(unknown), ", ".join(c.TUNNEL_TYPES)))
        if self.tunnel_types:
            if not self.local_ip:
                raise ValueError("local_ip is required when tunnel_types is set")
            ipaddress.ip_address(self.local_ip)
        names = [self.integration_bridge] + list(self.bridge_mappings.values())
        if self.tunnel_types:
            names.append(self.tunnel_bridge)
        if len(set(names)) != len(names):
            raise ValueError("integration, tunnel and physical bridges must all differ: %s" % names)
        for name in names + [self.int_peer_patch_port, self.tun_peer_patch_port]:
            if not name or len(name) > naming.DEVICE_NAME_MAX_LEN:
                raise ValueError("device name %r must have 1 to %d characters"
                                 % (name, naming.DEVICE_NAME_MAX_LEN))

    @property
    def tunnelling(self):
        return bool(self.tunnel_types)

    @property
    def arp_responder_enabled(self):
        # As upstream: the responder answers from l2population's entries only.
        return self.arp_responder and self.l2_population

    @property
    def ovs_hybrid_plug(self):
        return self.firewall_driver == "iptables_hybrid"

    def agent_configurations(self):
        """The ``configurations`` an agent reports; the mechanism driver binds from it."""
        return {
            "bridge_mappings": dict(self.bridge_mappings),
            "tunnel_types": list(self.tunnel_types),
            "tunneling_ip": self.local_ip,
            "l2_population": self.l2_population,
            "arp_responder_enabled": self.arp_responder_enabled,
            "datapath_type": self.datapath_type,
            "ovs_hybrid_plug": self.ovs_hybrid_plug,
            "integration_bridge": self.integration_bridge,
            "vxlan_udp_port": self.vxlan_udp_port,
        }

    @classmethod
    def from_conf(cls, conf):
        return cls(
            integration_bridge=conf.ovs.integration_bridge,
            tunnel_bridge=conf.ovs.tunnel_bridge,
            int_peer_patch_port=conf.ovs.int_peer_patch_port,
            tun_peer_patch_port=conf.ovs.tun_peer_patch_port,
            local_ip=conf.ovs.local_ip,
            bridge_mappings=parse_bridge_mappings(conf.ovs.bridge_mappings),
            datapath_type=conf.ovs.datapath_type,
            tunnel_types=tuple(conf.agent.tunnel_types),
            l2_population=conf.agent.l2_population,
            arp_responder=conf.agent.arp_responder,
            vxlan_udp_port=conf.agent.vxlan_udp_port,
            dont_fragment=conf.agent.dont_fragment,
            firewall_driver=conf.securitygroup.firewall_driver,
            ovsdb_connection=conf.ovs.ovsdb_connection,
            ovsdb_timeout=conf.ovs.ovsdb_timeout,
            fdb_recovery_grace=conf.agent.fdb_recovery_grace,
            of_rundir=conf.ovs.of_rundir,
        )
