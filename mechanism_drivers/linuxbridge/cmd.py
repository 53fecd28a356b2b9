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
import functools
import json
import logging
import signal
import sys
import threading

from oslo_config import cfg

from netweave.mechanism_drivers.linuxbridge import agent as agent_mod
from netweave.mechanism_drivers.linuxbridge import capabilities, config
from netweave.mechanism_drivers.linuxbridge import client as client_mod

LOG = logging.getLogger(__name__)

cli_opts = [
    cfg.StrOpt("standalone-ports", dest="standalone_ports",
               help="Run without a server: a JSON file with the device details of the ports."),
    cfg.BoolOpt("once", default=False, help="Make one full pass over the host and exit."),
    cfg.StrOpt("netns",
               help="Wire the devices of this network namespace instead of the agent's own; the "
                    "process itself (and its broker connection) stays where it was started."),
]


class FilePluginClient:
    """A PluginClient answering from a JSON list of device details; reports go to the log."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as handle:
            self.ports = {entry["device"]: entry for entry in json.load(handle)}

    def get_devices_details_list(self, devices):
        return [dict(self.ports.get(device, {"device": device})) for device in devices]

    def update_device_up(self, device):
        LOG.info("Device %s is up", device)

    def update_device_down(self, device):
        LOG.info("Device %s is down", device)


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


def _rpc_loop(conf, agent, settings, netns=None):
    """The loop on the real RPC layer, plus what must be stopped at exit (not the
    transport: the process may share it)."""
    from netweave.core import context
    from netweave.core.agent import loop as agent_loop
    from netweave.core.agent import notifications as core_notifications
    from netweave.core.agent import rpc as agent_rpc
    from netweave.core.agent import state_reporter
    from netweave.core.rpc import servers, topics
    from netweave.core.rpc import transport as rpc_transport
    from netweave.mechanism_drivers.linuxbridge import notifications
    from netweave.service_plugins.port_security import agent_rpc as sg_rpc

    transport = rpc_transport.get_transport(conf)
    admin = context.get_admin_context()
    firewall = sg_rpc.SecurityGroupAgent.from_conf(conf, transport, admin, netns=netns)
    loop = agent_loop.ReconcileLoop(sg_rpc.FirewalledAgent(agent, firewall), agent_rpc.PluginApi(transport), admin,
                                    agent.agent_id(), conf.host, polling_interval=conf.agent.polling_interval,
                                    resync_interval=conf.agent.resync_interval)
    firewall.wake = loop.mark_dirty
    sg_consumers = sg_rpc.create_consumers(transport, conf.host, firewall)
    subscriptions = tuple(core_notifications.L2_AGENT_SUBSCRIPTIONS)
    if settings.l2_population:
        subscriptions += (notifications.L2POPULATION_SUBSCRIPTION,)
    consumers = core_notifications.create_consumers(
        transport, conf.host, [notifications.LinuxbridgeNotifications(agent, loop)], subscriptions)
    reporter = state_reporter.StateReporter(
        agent_rpc.StateReportApi(transport), admin, lambda: agent.agent_state(conf.host, topics.AGENT),
        conf.agent.report_interval, on_resync=loop.request_resync)
    consumers.start()
    sg_consumers.start()
    reporter.start()
    return loop, [reporter.stop, functools.partial(servers.stop_together, consumers, sg_consumers)]


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
            self.loop, self._stoppers = _rpc_loop(conf, self.agent, settings, netns=netns)
        except BaseException:
            self.agent.close()
            raise
        self._thread = threading.Thread(target=self.loop.run, name="linuxbridge-agent", daemon=True)

    def start(self):
        LOG.info("Linux bridge agent %s on %s running in this process%s: %s", self.loop.agent_id, self.host,
                 " for network namespace %s" % self.netns if self.netns else "", self.agent.configurations())
        self._thread.start()
        return self

    def stop(self, timeout=30):
        self.loop.stop()
        self._thread.join(timeout)
        for stop in self._stoppers:
            try:
                stop()
            except Exception:  # noqa: BLE001 - stop the rest anyway
                LOG.exception("Error while stopping the Linux bridge agent")
        self.agent.close()


def main(argv=None):
    from netweave.core.cmd import common
    from netweave.core.rpc import transport as rpc_transport
    conf = cfg.CONF
    config.register_agent_opts(conf)
    rpc_transport.register_opts(conf)
    conf.register_cli_opts(cli_opts)
    common.parse_config(sys.argv[1:] if argv is None else argv, conf)
    try:
        settings = config.settings_from_conf(conf)
    except config.ConfigError as error:
        common.fail(str(error))
    if not conf.standalone_ports and not rpc_transport.url_configured(conf):
        common.fail("transport_url is not set: the agent needs the message broker the server uses "
                    "(or --standalone-ports FILE to run without a server)")
    caps = capabilities.detect()
    _warn_about(settings, caps)
    agent = agent_mod.LinuxbridgeAgent(settings, caps, netns=conf.netns)
    stoppers = []
    try:
        if conf.standalone_ports:
            loop = client_mod.make_loop(agent, FilePluginClient(conf.standalone_ports), conf.host,
                                        polling_interval=conf.agent.polling_interval,
                                        resync_interval=conf.agent.resync_interval)
        else:
            loop, stoppers = _rpc_loop(conf, agent, settings, netns=conf.netns)
            stoppers.append(rpc_transport.cleanup)
        if conf.once:
            return 0 if loop.run_once() and agent.last_pass.ok else 1
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda _signum, _frame: loop.stop())
        LOG.info("Linux bridge agent %s on %s: %s", loop.agent_id, conf.host, agent.configurations())
        loop.run()
        return 0
    finally:
        for stop in stoppers:
            try:
                stop()
            except Exception:  # noqa: BLE001 - stop the rest anyway
                LOG.exception("Error while stopping")
        agent.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
