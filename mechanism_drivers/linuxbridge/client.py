"""The Linux bridge agent against a server without RPC (tests, --standalone-ports).

The agent's loop (core.agent.loop.ReconcileLoop) talks to the server through
core.agent.plugin_client; ``make_loop`` builds it over a
core.agent.plugin_client.LocalServer (a test's fake server, a file of port
details) instead of RPC.
"""
from netweave.core.agent import loop as agent_loop
from netweave.core.agent import plugin_client


def make_loop(agent, server, host, **kwargs):
    """A core ReconcileLoop driving ``agent`` against a LocalServer."""
    return agent_loop.ReconcileLoop(agent, plugin_client.LocalPluginApi(server), context=None,
                                    agent_id=agent.agent_id(), host=host, **kwargs)
