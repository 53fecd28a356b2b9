"""The ``trunk`` L2 agent extension (core.agent.extensions): wires trunks on the agent's host.

    [agent]
    extensions = trunk

On an Open vSwitch agent it runs ovs_driver.OvsTrunkDriver at the start of each
pass; on a Linux bridge agent lb_driver.LinuxbridgeTrunkDriver, which looks at
the ports the agent wired and at the trunk parents it knows before each pass
(whether the kernel makes VLAN devices is found once, at start). It needs the
agent's RPC transport (the trunk topic); an agent without RPC (--standalone-ports)
has no server to ask, and the extension stays idle.
"""
import logging

from netweave.service_plugins.trunk.agent import lb_driver, ovs_driver
from netweave.service_plugins.trunk.agent import rpc as trunk_rpc

LOG = logging.getLogger(__name__)

OPENVSWITCH = "openvswitch"
LINUXBRIDGE = "linuxbridge"


class TrunkAgentExtension:
    def __init__(self):
        self.driver = None

    def initialize(self, agent_api, driver_type):
        if agent_api.transport is None:
            LOG.warning("Trunk extension: the agent runs without RPC, trunks are not wired")
            return
        api = trunk_rpc.TrunkApi(agent_api.transport)
        if driver_type == OPENVSWITCH:
            self.driver = ovs_driver.OvsTrunkDriver(api, agent_api.bridges["integration"],
                                                    agent_api.ovsdb_connection)
        elif driver_type == LINUXBRIDGE:
            from netweave.mechanism_drivers.linuxbridge import capabilities
            vlan = capabilities.detect().vlan
            if not vlan:
                LOG.warning("Trunk extension: %s; trunk parents cannot be wired here", capabilities.VLAN_UNSUPPORTED)
            self.driver = lb_driver.LinuxbridgeTrunkDriver(api, agent_api.netns, vlan)
        else:
            LOG.warning("Trunk extension: no trunk support for %s agents", driver_type)

    def before_pass(self, context):
        if self.driver is not None:
            self.driver.before_pass(context)

    def handle_port(self, context, details):
        if self.driver is not None:
            self.driver.handle_port(context, details)

    def delete_port(self, context, details):
        if self.driver is not None:
            self.driver.delete_port(context, details)
