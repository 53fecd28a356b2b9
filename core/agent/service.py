"""What every agent process shares: start-up, RPC wiring, running until SIGTERM.

An agent's console script is

    def main(argv=None):
        conf = service.parse_config(argv, register_my_opts, prog="netweave-x-agent")
        ... check options, service.fail("why") when they cannot work ...
        runner = service.Runner("x agent", run=agent.run, stop=agent.stop,
                                starters=[...], stoppers=[...], close=agent.close)
        return runner.serve()                # until SIGTERM or SIGINT

and the same agent runs in a thread of netweave-all-in-one through
``runner.start_thread()`` / ``runner.stop_thread()`` (core/cmd/in_process_agent.py).

An L2 agent (Linux bridge, Open vSwitch, and any agent driven by
core.agent.loop.ReconcileLoop) gets its whole RPC side from
``connect_l2_agent``: the plugin client and the loop, the firewall
(the installed port filters of core/agent/port_filter.py, programmed before each pass wires),
notification consumers, the state reporter and the agent extensions.

Nothing here imports the server's database code: agent processes never load
SQLAlchemy or Alembic (tests/functional/test_agent_imports.py checks).
"""
import dataclasses
import functools
import logging
import signal
import sys
import threading

from oslo_config import cfg

from netweave.core import memory

LOG = logging.getLogger(__name__)


# --- configuration ----------------------------------------------------------------------------

def parse_config(argv, register, conf=None, prog=None, default_config_files=()):
    """Register the options (``register(conf)``), parse ``argv`` (sys.argv[1:] when None)
    and set logging up; returns the ConfigOpts. ``default_config_files`` None lets
    oslo.config look for netweave.conf in its usual places; by default only the
    --config-file options count."""
    from oslo_log import log as oslo_log

    from netweave.core.config import common as _common_opts  # noqa: F401 - [DEFAULT] host, state_path
    from netweave.core.rpc import transport as rpc_transport
    conf = cfg.CONF if conf is None else conf
    register(conf)
    rpc_transport.register_opts(conf)
    try:
        oslo_log.register_options(conf)
    except cfg.ArgsAlreadyParsedError:
        pass    # registered by an earlier parse of this ConfigOpts
    files = None if default_config_files is None else list(default_config_files)
    conf(sys.argv[1:] if argv is None else argv, project="netweave", prog=prog, default_config_files=files)
    oslo_log.setup(conf, "netweave")
    return conf


def fail(message, prog="netweave"):
    """Exit with status 2 and ``message`` on stderr: the options cannot work."""
    sys.stderr.write("%s: %s\n" % (prog, message))
    sys.exit(2)


def require_transport(conf, why, prog="netweave"):
    from netweave.core.rpc import transport as rpc_transport
    if not rpc_transport.url_configured(conf):
        fail("transport_url is not set: %s" % why, prog)


def l2_agent_cli_opts(netns_help):
    """The command line of an L2 agent: --standalone-ports FILE, --once, --netns NAME."""
    return [
        cfg.StrOpt("standalone-ports", dest="standalone_ports",
                   help="Run without a server: a JSON file with the device details of the ports."),
        cfg.BoolOpt("once", default=False, help="Make one full pass over the host and exit."),
        cfg.StrOpt("netns", help=netns_help),
    ]


# --- running ----------------------------------------------------------------------------------

def stop_all(stoppers, what="the agent"):
    """Call each stopper in order; one that raises is logged and the rest still run."""
    for stop in stoppers:
        try:
            stop()
        except Exception:  # noqa: BLE001 - stop the rest anyway
            LOG.exception("Error while stopping %s", what)


class Runner:
    """An agent's run loop and what is started before it and stopped after it.

    ``run()`` blocks until ``stop()``; ``starters`` run before it, ``stoppers``
    after it (in order), then ``close``.
    """

    def __init__(self, name, run, stop, starters=(), stoppers=(), close=None):
        self.name = name
        self.run = run
        self.stop = stop
        self.starters = list(starters)
        self.stoppers = list(stoppers)
        self.close = close
        self._thread = None

    @classmethod
    def for_loop(cls, name, loop, starters=(), stoppers=(), close=None):
        """The Runner of a core.agent.loop.ReconcileLoop."""
        return cls(name, run=loop.run, stop=loop.stop, starters=starters, stoppers=stoppers, close=close)

    def serve(self):
        """Run in this (main) thread until SIGTERM or SIGINT; returns the exit status."""
        try:
            for start in self.starters:
                start()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda _signum, _frame: self.stop())
            memory.prepare_for_serving()
            self.run()
            return 0
        finally:
            self.shutdown()

    def serve_once(self, one_pass):
        """Start, call ``one_pass()`` (True: it succeeded), stop; returns the exit status."""
        try:
            for start in self.starters:
                start()
            return 0 if one_pass() else 1
        finally:
            self.shutdown()

    def shutdown(self):
        stop_all(self.stoppers, self.name)
        if self.close is not None:
            stop_all([self.close], self.name)

    def start_thread(self):
        """Run in a daemon thread of this process (netweave-all-in-one); returns self."""
        for start in self.starters:
            start()
        self._thread = threading.Thread(target=self.run, name=self.name.replace(" ", "-"), daemon=True)
        self._thread.start()
        return self

    def stop_thread(self, timeout=30):
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)
        self.shutdown()


# --- an L2 agent's RPC side -------------------------------------------------------------------

@dataclasses.dataclass
class L2Connection:
    """What connect_l2_agent made: the loop to run and what to start and stop around it."""
    loop: object
    starters: list
    stoppers: list

    def runner(self, name, close=None):
        return Runner.for_loop(name, self.loop, self.starters, self.stoppers, close)


def connect_l2_agent(conf, agent, agent_id, host, driver_type, endpoints, subscriptions, state_provider,
                     netns=None, bridges=None, own_transport=True, ovsdb_connection=None):
    """The RPC side of an L2 agent on ``[DEFAULT] transport_url``.

    ``agent``: the loop's agent (scan_devices/plan/apply); ``agent_id`` and ``host``
    name it to the server. ``driver_type``: what extensions are told ("linuxbridge",
    "openvswitch"). ``endpoints(loop)``:
    the notification endpoints, given the loop they record into.
    ``subscriptions``: (resource, event) pairs (core.agent.notifications).
    ``state_provider()``: the heartbeat's agent_state. ``netns``: the namespace
    holding the agent's devices (the firewall works there). ``bridges``: what
    AgentAPI.bridges tells the extensions. ``own_transport``: False when the
    transport is the hosting process's (netweave-all-in-one), which cleans it up.
    ``ovsdb_connection``: the Open vSwitch agent's OVSDB, for AgentAPI.
    Nothing is started yet: call the starters.
    """
    from netweave.core import context
    from netweave.core.agent import loop as agent_loop
    from netweave.core.agent import notifications, port_filter, state_reporter
    from netweave.core.agent import rpc as agent_rpc
    from netweave.core.rpc import servers
    from netweave.core.rpc import transport as rpc_transport

    extensions = load_extensions(conf)
    transport = rpc_transport.get_transport(conf)
    admin = context.get_admin_context()
    filters = port_filter.load(conf, transport, admin, netns=netns)
    driven = agent
    for port_filter_ in filters:
        driven = port_filter_.wrap(driven)
    loop = agent_loop.ReconcileLoop(driven, agent_rpc.PluginApi(transport),
                                    admin, agent_id, host, polling_interval=conf.agent.polling_interval,
                                    resync_interval=conf.agent.resync_interval, extensions=extensions)
    for port_filter_ in filters:
        port_filter_.attach(loop)
    initialize_extensions(extensions, loop, driver_type, netns, bridges, transport=transport,
                          ovsdb_connection=ovsdb_connection)
    filter_consumers = [f.create_consumers(transport, host) for f in filters]
    consumers = notifications.create_consumers(transport, host, endpoints(loop), subscriptions)
    reporter = state_reporter.StateReporter(agent_rpc.StateReportApi(transport), admin, state_provider,
                                            conf.agent.report_interval, on_resync=loop.request_resync)
    stoppers = [reporter.stop, functools.partial(servers.stop_together, consumers, *filter_consumers)]
    if own_transport:
        stoppers.append(rpc_transport.cleanup)
    starters = [consumers.start] + [c.start for c in filter_consumers] + [reporter.start]
    return L2Connection(loop=loop, starters=starters, stoppers=stoppers)


def load_extensions(conf):
    """The agent extensions named in ``[agent] extensions`` (ValueError for an unknown one);
    hand them to the ReconcileLoop, then call initialize_extensions."""
    from netweave.core.agent import extensions as extensions_mod
    extensions_mod.register_opts(conf)
    return extensions_mod.ExtensionManager.load(conf.agent.extensions)


def initialize_extensions(extensions, loop, driver_type, netns=None, bridges=None, transport=None,
                          ovsdb_connection=None):
    if extensions:
        LOG.info("Agent extensions: %s", ", ".join(extensions.names))
        extensions.initialize(agent_api(loop, netns, bridges, transport, ovsdb_connection), driver_type)


def agent_api(loop, netns=None, bridges=None, transport=None, ovsdb_connection=None):
    """The core.agent.extensions.AgentAPI of an agent driven by ``loop``."""
    from netweave.core.agent import extensions as extensions_mod
    return extensions_mod.AgentAPI(host=loop.host, netns=netns, bridges=dict(bridges or {}),
                                   request_resync=loop.request_resync, refresh=loop.mark_dirty,
                                   devices_on_network=loop.devices_on_network, transport=transport,
                                   ovsdb_connection=ovsdb_connection)
