"""Server side: binds ports to hosts whose Linux bridge agent can wire the network's segment.

A trunk's parent port (its ``trunk_details`` name a trunk) needs VLAN
sub-interfaces of its tap on the host, one per subport: an agent whose kernel
cannot make VLAN devices (no 8021q; it reports ``"trunk_vlan_devices": false``
in its configurations) does not bind it. Binding then fails
(binding:vif_type ``binding_failed``), which is what Nova acts on (it tries
another host), and the server logs why. Refusing the trunk itself would come
too late or too early: a trunk is made before its parent is bound anywhere,
and may be bound on a capable host.
"""
import logging

from netweave.core.plugins.ml2 import driver_api as api
from netweave.mechanism_drivers.linuxbridge import constants

LOG = logging.getLogger(__name__)


def agent_can_carry(agent, segment):
    """True when ``agent`` (a dict as the agents table gives it) can wire ``segment``.

    local: always. flat/vlan: the physical network is in the agent's
    interface_mappings or bridge_mappings. vxlan: the agent reports "vxlan" in
    its tunnel_types. gre, geneve and anything else: never.
    """
    network_type = segment.get(api.NETWORK_TYPE)
    config = agent.get("configurations") or {}
    if network_type == constants.TYPE_LOCAL:
        return True
    if network_type in (constants.TYPE_FLAT, constants.TYPE_VLAN):
        physnet = segment.get(api.PHYSICAL_NETWORK)
        return bool(physnet) and (physnet in (config.get("interface_mappings") or {})
                                  or physnet in (config.get("bridge_mappings") or {}))
    if network_type == constants.TYPE_VXLAN:
        return constants.TYPE_VXLAN in (config.get("tunnel_types") or [])
    return False


def agent_can_wire_trunks(agent):
    """False when the agent said its kernel has no VLAN devices (older agents say nothing: True)."""
    return (agent.get("configurations") or {}).get(constants.TRUNK_VLAN_DEVICES, True) is not False


class LinuxbridgeMechanismDriver(api.MechanismDriver):
    """Binds with vif_type "bridge" when an alive Linux bridge agent on the host can carry a segment.

    Like Neutron, an agent's admin_state_up does not matter for binding; only
    whether it is alive (its heartbeats arrive).
    """

    agent_type = constants.AGENT_TYPE
    vif_type = constants.VIF_TYPE_BRIDGE
    supported_vnic_types = ("normal",)
    supported_network_types = constants.SUPPORTED_NETWORK_TYPES

    def initialize(self):
        LOG.info("Linux bridge mechanism driver ready (network types: %s)",
                 ", ".join(self.supported_network_types))

    def vif_details(self):
        return {"port_filter": True}

    def bind_port(self, context):
        if context.vnic_type not in self.supported_vnic_types:
            LOG.debug("Port %s has vnic_type %s; not binding", context.current.get("id"), context.vnic_type)
            return
        agents = [agent for agent in context.host_agents(self.agent_type) if agent.get("alive")]
        if not agents:
            LOG.debug("No alive %s on host %s", self.agent_type, context.host)
            return
        trunk_id = (context.current.get("trunk_details") or {}).get("trunk_id")
        if trunk_id:
            capable = [agent for agent in agents if agent_can_wire_trunks(agent)]
            if not capable:
                LOG.warning("Not binding port %s, parent of trunk %s, on host %s: its %s cannot make VLAN "
                            "devices (the kernel has no 8021q), so the trunk's subports cannot be wired there",
                            context.current.get("id"), trunk_id, context.host, self.agent_type)
                return
            agents = capable
        for segment in context.segments_to_bind:
            if segment.get(api.NETWORK_TYPE) not in self.supported_network_types:
                continue
            for agent in agents:
                if agent_can_carry(agent, segment):
                    context.set_binding(segment[api.ID], self.vif_type, self.vif_details())
                    LOG.debug("Bound port %s to segment %s on host %s", context.current.get("id"),
                              segment[api.ID], context.host)
                    return
        LOG.debug("No segment of port %s can be carried by the %s on %s", context.current.get("id"),
                  self.agent_type, context.host)
