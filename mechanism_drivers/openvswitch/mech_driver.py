"""ML2 mechanism driver ``openvswitch``: binds ports on hosts whose Open vSwitch agent can wire them.

A host's agent reports ``configurations`` such as

    {"bridge_mappings": {"physnet1": "br-eth2"}, "tunnel_types": ["vxlan"],
     "tunneling_ip": "10.20.0.102", "l2_population": true,
     "datapath_type": "system", "ovs_hybrid_plug": true}

A segment can be bound when an alive, administratively up agent on the port's
host carries it: local always, flat and vlan when the physical network has a
bridge mapping, gre/vxlan/geneve when the type is among its tunnel types.

A trunk's parent port (its ``trunk_details``, from the trunk extension driver,
name a trunk) is bound with vif_details ``bridge_name`` = tbr-<trunk id>, as
upstream: Nova plugs the instance there, and the agent's trunk extension
patches that bridge to the integration bridge.
"""
import logging

from netweave.core import naming
from netweave.core.plugins.ml2 import driver_api as api
from netweave.mechanism_drivers.openvswitch import constants as c

LOG = logging.getLogger(__name__)

SUPPORTED_VNIC_TYPES = ("normal",)


class OpenvswitchMechanismDriver(api.MechanismDriver):
    agent_type = c.AGENT_TYPE
    vif_type = c.VIF_TYPE_OVS

    def initialize(self):
        LOG.info("Open vSwitch mechanism driver ready (agent type %r)", self.agent_type)

    @staticmethod
    def _configurations(agent):
        return agent.get("configurations") or {}

    def check_segment_for_agent(self, segment, agent):
        """True when ``agent`` can wire ports of ``segment``."""
        conf = self._configurations(agent)
        network_type = segment.get(api.NETWORK_TYPE)
        if network_type == c.TYPE_LOCAL:
            return True
        if network_type in c.PHYSICAL_TYPES:
            mappings = conf.get("bridge_mappings") or {}
            return segment.get(api.PHYSICAL_NETWORK) in mappings
        if network_type in c.TUNNEL_TYPES:
            return network_type in (conf.get("tunnel_types") or [])
        return False

    def vif_details(self, agent, port=None):
        """What Nova needs to plug ``port`` on the agent's host."""
        conf = self._configurations(agent)
        trunk_id = ((port or {}).get("trunk_details") or {}).get("trunk_id")
        return {
            "port_filter": True,
            "ovs_hybrid_plug": bool(conf.get("ovs_hybrid_plug", False)),
            "datapath_type": conf.get("datapath_type") or "system",
            "bridge_name": naming.trunk_bridge(trunk_id) if trunk_id
            else conf.get("integration_bridge") or "br-int",
        }

    def bind_port(self, context):
        if context.vnic_type not in SUPPORTED_VNIC_TYPES:
            LOG.debug("Not binding port %s: vnic_type %s", context.current.get("id"), context.vnic_type)
            return
        for agent in context.host_agents(self.agent_type) or []:
            if not agent.get("alive") or not agent.get("admin_state_up", True):
                continue
            for segment in context.segments_to_bind:
                if self.check_segment_for_agent(segment, agent):
                    context.set_binding(segment[api.ID], self.vif_type,
                                        self.vif_details(agent, context.current))
                    LOG.debug("Bound port %s to segment %s on host %s", context.current.get("id"),
                              segment[api.ID], context.host)
                    return
        LOG.debug("No Open vSwitch agent on host %r can bind port %s", context.host,
                  context.current.get("id"))
