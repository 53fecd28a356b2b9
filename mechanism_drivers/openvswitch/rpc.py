"""The Open vSwitch agent on netweave's RPC layer (netweave.core.agent, netweave.core.rpc).

``RpcPluginClient`` is the agent's ``client.PluginClient`` over
core.agent.rpc.PluginApi (context, agent id and host filled in);
``OVSNotifications`` is the endpoint of the server's casts, which only record
what changed in the agent and wake its loop. ``start`` puts it all together
with a state reporter and returns the client plus what to stop at exit.
"""
import functools
import logging

from netweave.core.rpc import servers, topics

LOG = logging.getLogger(__name__)

TUNNEL_SUBSCRIPTIONS = ((topics.TUNNEL, topics.UPDATE), (topics.TUNNEL, topics.DELETE))
L2POPULATION_SUBSCRIPTION = (topics.L2POPULATION, topics.UPDATE)


def agent_id(host):
    return "ovs-agent-%s" % host


class RpcPluginClient:
    def __init__(self, plugin_api, context, agent_id_, host):
        self.plugin_api = plugin_api
        self.context = context
        self.agent_id = agent_id_
        self.host = host

    def get_devices_details_list(self, devices):
        return self.plugin_api.get_devices_details_list(self.context, devices, self.agent_id, self.host)

    def update_device_up(self, device):
        self.plugin_api.update_device_up(self.context, device, self.agent_id, self.host)

    def update_device_down(self, device):
        self.plugin_api.update_device_down(self.context, device, self.agent_id, self.host)

    def update_device_list(self, devices_up, devices_down):
        """One call for many reports; returns the devices whose report failed."""
        reply = self.plugin_api.update_device_list(self.context, devices_up, devices_down, self.agent_id,
                                                   self.host) or {}
        return set(reply.get("failed_devices_up") or []) | set(reply.get("failed_devices_down") or [])

    def tunnel_sync(self, tunnel_ip, tunnel_type):
        return self.plugin_api.tunnel_sync(self.context, tunnel_ip, tunnel_type, self.host)


class OVSNotifications:
    """Casts on q-agent-notifier-{port,network,tunnel}-* and, with l2_population,
    q-agent-notifier-l2population-update (add/remove/update_fdb_entries, Neutron's names)."""

    def __init__(self, agent):
        self.agent = agent

    def _for_us(self, host):
        return not host or host == self.agent.host

    def port_update(self, context, port=None, **_kwargs):
        if (port or {}).get("id"):
            self.agent.port_update(port["id"])

    def port_delete(self, context, port_id=None, **_kwargs):
        if port_id:
            self.agent.port_delete(port_id)

    def network_update(self, context, network=None, **_kwargs):
        if (network or {}).get("id"):
            self.agent.network_update(network["id"])

    def network_delete(self, context, network_id=None, **_kwargs):
        if network_id:
            self.agent.network_delete(network_id)

    def tunnel_update(self, context, tunnel_ip=None, tunnel_type=None, **_kwargs):
        if tunnel_ip and tunnel_type:
            self.agent.tunnel_update(tunnel_ip, tunnel_type)

    def tunnel_delete(self, context, tunnel_ip=None, tunnel_type=None, **_kwargs):
        if tunnel_ip and tunnel_type:
            self.agent.tunnel_delete(tunnel_ip, tunnel_type)

    def add_fdb_entries(self, context, fdb_entries=None, host=None, **_kwargs):
        if self._for_us(host):
            self.agent.fdb_add(fdb_entries or {})

    def remove_fdb_entries(self, context, fdb_entries=None, host=None, **_kwargs):
        if self._for_us(host):
            self.agent.fdb_remove(fdb_entries or {})

    def update_fdb_entries(self, context, fdb_entries=None, host=None, **_kwargs):
        if self._for_us(host):
            self.agent.fdb_update(fdb_entries or {})


def start(conf, host, make_agent, netns=None, own_transport=True):
    """Connect to the server: returns (agent, stoppers). ``make_agent(client)`` builds the agent.

    ``netns``: where the firewall driver works. ``own_transport``: False when the
    transport is the hosting process's (netweave-all-in-one), which cleans it up itself.
    """
    from netweave.core import context
    from netweave.core.agent import notifications as core_notifications
    from netweave.core.agent import rpc as agent_rpc
    from netweave.core.agent import state_reporter
    from netweave.core.rpc import transport as rpc_transport

    transport = rpc_transport.get_transport(conf)
    admin = context.get_admin_context()
    client = RpcPluginClient(agent_rpc.PluginApi(transport), admin, agent_id(host), host)
    agent = make_agent(client)
    subscriptions = tuple(core_notifications.L2_AGENT_SUBSCRIPTIONS)
    if agent.config.tunnelling:
        subscriptions += TUNNEL_SUBSCRIPTIONS
    if agent.config.l2_population:
        subscriptions += (L2POPULATION_SUBSCRIPTION,)
    consumers = core_notifications.create_consumers(transport, host, [OVSNotifications(agent)], subscriptions)
    reporter = state_reporter.StateReporter(
        agent_rpc.StateReportApi(transport), admin, agent.state_report, conf.agent.report_interval,
        on_resync=lambda _reason: agent.request_resync())
    from netweave.service_plugins.port_security import agent_rpc as sg_rpc
    agent.firewall = sg_rpc.SecurityGroupAgent.from_conf(conf, transport, admin, netns=netns)
    agent.firewall.wake = agent._wake.set
    sg_consumers = sg_rpc.create_consumers(transport, host, agent.firewall)
    consumers.start()
    sg_consumers.start()
    reporter.start()
    stoppers = [reporter.stop, functools.partial(servers.stop_together, consumers, sg_consumers)]
    if own_transport:
        stoppers.append(rpc_transport.cleanup)
    return agent, stoppers
