"""The Open vSwitch agent on netweave's RPC layer (netweave.core.agent, netweave.core.rpc).

``OVSNotifications`` is the endpoint of the server's casts: each records what
changed, in the agent (l2population entries, tunnel endpoints) or in the loop
(ports to ask the server about again), and wakes the loop. ``connect`` puts
the agent on core.agent.service.connect_l2_agent (plugin client, loop,
firewall, consumers, heartbeats, extensions).
"""
import logging

from netweave.core.rpc import topics
from netweave.mechanism_drivers.openvswitch import constants as c

LOG = logging.getLogger(__name__)

TUNNEL_SUBSCRIPTIONS = ((topics.TUNNEL, topics.UPDATE), (topics.TUNNEL, topics.DELETE))
L2POPULATION_SUBSCRIPTION = (topics.L2POPULATION, topics.UPDATE)


def agent_id(host):
    return "ovs-agent-%s" % host


class OVSNotifications:
    """Casts on q-agent-notifier-{port,network,tunnel}-* and, with l2_population,
    q-agent-notifier-l2population-update (add/remove/update_fdb_entries, Neutron's names)."""

    def __init__(self, agent, loop):
        self.agent = agent
        self.loop = loop

    def _for_us(self, host):
        return not host or host == self.agent.host

    def port_update(self, context, port=None, **_kwargs):
        if (port or {}).get("id"):
            self.loop.mark_dirty(port["id"])

    def port_delete(self, context, port_id=None, **_kwargs):
        if port_id:
            self.loop.mark_dirty(port_id)

    def network_update(self, context, network=None, **_kwargs):
        if (network or {}).get("id"):
            self.loop.mark_dirty(*self.loop.devices_on_network(network["id"]))

    def network_delete(self, context, network_id=None, **_kwargs):
        if network_id:
            self.agent.network_delete(network_id)
            self.loop.mark_dirty(*self.loop.devices_on_network(network_id))

    def tunnel_update(self, context, tunnel_ip=None, tunnel_type=None, **_kwargs):
        if tunnel_ip and tunnel_type and self.agent.tunnel_update(tunnel_ip, tunnel_type):
            self.loop.wake()

    def tunnel_delete(self, context, tunnel_ip=None, tunnel_type=None, **_kwargs):
        if tunnel_ip and tunnel_type:
            self.agent.tunnel_delete(tunnel_ip, tunnel_type)
            self.loop.wake()

    def add_fdb_entries(self, context, fdb_entries=None, host=None, **_kwargs):
        if self._for_us(host):
            self.agent.fdb_add(fdb_entries or {})
            self.loop.wake()

    def remove_fdb_entries(self, context, fdb_entries=None, host=None, **_kwargs):
        if self._for_us(host):
            self.agent.fdb_remove(fdb_entries or {})
            self.loop.wake()

    def update_fdb_entries(self, context, fdb_entries=None, host=None, **_kwargs):
        if self._for_us(host):
            self.agent.fdb_update(fdb_entries or {})
            self.loop.wake()


def subscriptions(config):
    from netweave.core.agent import notifications as core_notifications
    wanted = tuple(core_notifications.L2_AGENT_SUBSCRIPTIONS)
    if config.tunnelling:
        wanted += TUNNEL_SUBSCRIPTIONS
    if config.l2_population:
        wanted += (L2POPULATION_SUBSCRIPTION,)
    return wanted


def plugin_client(conf, host):
    """The agent's core.agent.plugin_client.PluginClient on ``[DEFAULT] transport_url``."""
    from netweave.core import context
    from netweave.core.agent import plugin_client as plugin_client_mod
    from netweave.core.agent import rpc as agent_rpc
    from netweave.core.rpc import transport as rpc_transport
    return plugin_client_mod.PluginClient(agent_rpc.PluginApi(rpc_transport.get_transport(conf)),
                                          context.get_admin_context(), agent_id(host), host)


def connect(conf, agent, netns=None, own_transport=True):
    """The agent's RPC side: a core.agent.service.L2Connection (loop, starters, stoppers).

    ``netns``: where the firewall driver works. ``own_transport``: False when the
    transport is the hosting process's (netweave-all-in-one), which cleans it up itself.
    """
    from netweave.core.agent import service
    return service.connect_l2_agent(
        conf, agent, agent_id(agent.host), agent.host, c.AGENT_DRIVER_TYPE,
        endpoints=lambda loop: [OVSNotifications(agent, loop)], subscriptions=subscriptions(agent.config),
        state_provider=agent.state_report, netns=netns, bridges=agent.bridges(), own_transport=own_transport,
        ovsdb_connection=agent.config.ovsdb_connection)
