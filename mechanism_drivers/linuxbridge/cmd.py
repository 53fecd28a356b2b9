"""netweave-linuxbridge-agent --config-file netweave.conf --config-file linuxbridge_agent.ini

Start-up: parse and check the options, probe the kernel (VXLAN, VLAN,
``bridge fdb append``), then run the reconciler loop of
netweave.core.agent.loop over this host's taps, with

* core.agent.rpc.PluginApi on ``transport_url`` for device details and
  up/down reports,
* a StateReporter sending heartbeats every [agent] report_interval seconds,
* RPC consumers for port/network updates and deletes and, with
  l2_population, the l2population casts (notifications.py).

Without a server, ``--standalone-ports FILE`` (a JSON list of device details
as get_devices_details_list returns them) stands in for it; ``--once`` makes
a single pass and exits. ``--netns NAME`` makes the agent manage the
devices of that network namespace while it talks to the broker from the
namespace it was started in.
"""
import json
import logging
import sys

from netweave.core.agent import service
from netweave.mechanism_drivers.linuxbridge import agent as agent_mod
from netweave.mechanism_drivers.linuxbridge import capabilities, config, constants
from netweave.mechanism_drivers.linuxbridge import client as client_mod

LOG = logging.getLogger(__name__)

cli_opts = service.l2_agent_cli_opts(
    "Wire the devices of this network namespace instead of the agent's own; the process itself "
    "(and its broker connection) stays where it was started.")


class FilePluginClient:
    """A core.agent.plugin_client.LocalServer answering from a JSON list of device details;
    reports go to the log."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as handle:
            self.ports = {entry["device"]: entry for entry in json.load(handle)}

    def get_devices_details_list(self, devices):
        return [dict(self.ports.get(device, {"device": device})) for device in devices]

    def update_device_up(self, device):
        LOG.info("Device %s is up", device)

    def update_device_down(self, device):
        LOG.info("Device %s is down", device)

    def tunnel_sync(self, tunnel_ip, tunnel_type, host=None):
        return {"tunnels": []}


def _warn_about(settings, caps):
    if (settings.interface_mappings or settings.bridge_mappings) and not caps.vlan:
        LOG.warning("%s: ports of VLAN networks on this host will be reported down",
                    capabilities.VLAN_UNSUPPORTED)
    if settings.vxlan_enabled:
        if not caps.vxlan:
            LOG.warning("%s", capabilities.VXLAN_UNSUPPORTED)
        elif settings.l2_population and not caps.fdb_append:
            LOG.warning("%s; using multicast group %s instead", capabilities.FDB_APPEND_UNSUPPORTED,
                        settings.vxlan_group)


def connect(conf, agent, settings, netns=None, own_transport=True):
    """The agent's RPC side (core.agent.service.connect_l2_agent): loop, starters, stoppers."""
    from netweave.core.agent import notifications as core_notifications
    from netweave.core.rpc import topics
    from netweave.mechanism_drivers.linuxbridge import notifications

    subscriptions = tuple(core_notifications.L2_AGENT_SUBSCRIPTIONS)
    if settings.l2_population:
        subscriptions += (notifications.L2POPULATION_SUBSCRIPTION,)
    return service.connect_l2_agent(
        conf, agent, agent.agent_id(), conf.host, constants.AGENT_DRIVER_TYPE,
        endpoints=lambda loop: [notifications.LinuxbridgeNotifications(agent, loop)],
        subscriptions=subscriptions, state_provider=lambda: agent.agent_state(conf.host, topics.AGENT),
        netns=netns, own_transport=own_transport)


class InProcessAgent:
    """The agent in a thread of another process (netweave-all-in-one), on that process's
    transport: with fake:// its messages never leave the process.

    ``netns``: wire the devices of that network namespace instead of the process's own.
    Raises config.ConfigError for bad options.
    """

    def __init__(self, conf, netns=None):
        from netweave.core.rpc import transport as rpc_transport
        config.register_agent_opts(conf)
        rpc_transport.register_opts(conf)
        settings = config.settings_from_conf(conf)
        caps = capabilities.detect()
        _warn_about(settings, caps)
        self.agent = agent_mod.LinuxbridgeAgent(settings, caps, netns=netns)
        self.netns = netns
        self.host = conf.host
        try:
            connection = connect(conf, self.agent, settings, netns=netns, own_transport=False)
        except BaseException:
            self.agent.close()
            raise
        self.loop = connection.loop
        self.runner = connection.runner("linuxbridge agent", close=self.agent.close)

    def start(self):
        LOG.info("Linux bridge agent %s on %s running in this process%s: %s", self.loop.agent_id, self.host,
                 " for network namespace %s" % self.netns if self.netns else "", self.agent.configurations())
        self.runner.start_thread()
        return self

    def stop(self, timeout=30):
        self.runner.stop_thread(timeout)


def main(argv=None):

    def register(conf):
        config.register_agent_opts(conf)
        conf.register_cli_opts(cli_opts)

    conf = service.parse_config(argv, register)
    try:
        settings = config.settings_from_conf(conf)
    except config.ConfigError as error:
        service.fail(str(error))
    if not conf.standalone_ports:
        service.require_transport(conf, "the agent needs the message broker the server uses "
                                        "(or --standalone-ports FILE to run without a server)")
    caps = capabilities.detect()
    _warn_about(settings, caps)
    agent = agent_mod.LinuxbridgeAgent(settings, caps, netns=conf.netns)
    try:
        if conf.standalone_ports:
            extensions = service.load_extensions(conf)
            loop = client_mod.make_loop(agent, FilePluginClient(conf.standalone_ports), conf.host,
                                        polling_interval=conf.agent.polling_interval,
                                        resync_interval=conf.agent.resync_interval, extensions=extensions)
            service.initialize_extensions(extensions, loop, constants.AGENT_DRIVER_TYPE, netns=conf.netns)
            starters, stoppers = [], []
        else:
            connection = connect(conf, agent, settings, netns=conf.netns)
            loop, starters, stoppers = connection.loop, connection.starters, connection.stoppers
    except ValueError as error:     # an unknown agent extension
        agent.close()
        service.fail(str(error))
    except BaseException:
        agent.close()
        raise
    runner = service.Runner.for_loop("linuxbridge agent", loop, starters, stoppers, close=agent.close)
    if conf.once:
        return runner.serve_once(lambda: loop.run_once() and agent.last_pass.ok)
    LOG.info("Linux bridge agent %s on %s: %s", loop.agent_id, conf.host, agent.configurations())
    return runner.serve()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
