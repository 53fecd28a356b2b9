"""The ``trunk`` L2 agent extension (core.agent.extensions): wires trunks on the agent's host.

    [agent]
    extensions = trunk

On an Open vSwitch agent it runs ovs_driver.OvsTrunkDriver at the start of each
pass. It needs the agent's RPC transport (the trunk topic); an agent without
RPC (--standalone-ports) has no server to ask, and the extension stays idle.
"""
import logging

from netweave.service_plugins.trunk.agent import ovs_driver
from netweave.service_plugins.trunk.agent import rpc as trunk_rpc

LOG = logging.getLogger(__name__)

OPENVSWITCH = "openvswitch"


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
        else:
            LOG.warning("Trunk extension: no trunk support for %s agents", driver_type)

    def before_pass(self, context):
        if self.driver is not None:
            self.driver.sync(context)

    def handle_port(self, context, details):
        pass   # trunk ports are found on the switch, not through the ports' details

    def delete_port(self, context, details):
        pass
