"""The Open vSwitch agent against a server without RPC (tests, --standalone-ports).

The agent's loop (core.agent.loop.ReconcileLoop) and the agent itself (for
tunnel_sync) talk to the server through core.agent.plugin_client. Here they
do so over a core.agent.plugin_client.LocalServer: ``InMemoryPluginClient``
keeps port details, port status and the calls made in dictionaries.
"""
from netweave.core.agent import loop as agent_loop
from netweave.core.agent import plugin_client
from netweave.mechanism_drivers.openvswitch import rpc as ovs_rpc

InMemoryPluginClient = plugin_client.InMemoryServer


def local_client(server, host):
    """A core PluginClient over the LocalServer ``server`` (what OVSAgent's ``client`` is)."""
    return plugin_client.PluginClient(plugin_client.LocalPluginApi(server), None, ovs_rpc.agent_id(host), host)


def make_loop(agent, server, host, **kwargs):
    """A core ReconcileLoop driving ``agent`` against the LocalServer ``server``."""
    return agent_loop.ReconcileLoop(agent, plugin_client.LocalPluginApi(server), context=None,
                                    agent_id=ovs_rpc.agent_id(host), host=host, **kwargs)
