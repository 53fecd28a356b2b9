"""L2 agent extensions: code that acts on each port after the agent wired or removed it.

An extension is a class registered in the entry-point group
``netweave.agent.extensions`` and named in the L2 agent's ini file:

    [agent]
    extensions = qos, my_extension

Both L2 agents (Linux bridge, Open vSwitch) load them at start and call,
from their reconciler loop (core.agent.loop), in the order named:

``initialize(agent_api, driver_type)``
    once, before the first pass. ``driver_type`` is "linuxbridge" or
    "openvswitch"; ``agent_api`` is an ``AgentAPI`` (below).
``before_pass(context)``
    at the start of every pass, before the agent scans its devices: where an
    extension changes what the scan will find (the trunk extension adds the
    patch ports of trunk bridges it finds here, so the same pass wires them).
``handle_port(context, details)``
    after a pass wired a port whose details the server just sent (a new
    port, an update, every port at a full resync), whether the port came
    out up or down. ``details`` is the dict get_devices_details_list
    returned for it ("device", "port_id", "network_id", "network_type",
    "segmentation_id", "admin_state_up", "mac_address", "fixed_ips",
    "device_owner", "qos_policy_id", ...).
``delete_port(context, details)``
    after the port's device left the host; ``details`` are the last ones
    the agent had ("device" and "port_id" at least).

``context`` is the agent's admin context (None when it runs without RPC).
The calls run in the loop's thread, one port at a time: an extension that
needs long work queues it. An exception is logged and does not stop the
pass or the other extensions.
"""
import dataclasses
import logging
import typing

from oslo_config import cfg

LOG = logging.getLogger(__name__)

NAMESPACE = "netweave.agent.extensions"

opts = [
    cfg.ListOpt("extensions", default=[],
                help="Agent extensions to load, by their names in the netweave.agent.extensions "
                     "entry-point group; each is told about every port the agent wires or removes."),
]


def register_opts(conf):
    conf.register_opts(opts, "agent")


@dataclasses.dataclass(frozen=True)
class AgentAPI:
    """What an extension may use of the agent that loaded it.

    ``host``: the agent's host name. ``netns``: the network namespace holding
    the devices the agent wires (None: the process's own). ``bridges``: the
    switch bridges the agent manages, by role ("integration", "tunnel") for
    Open vSwitch, empty for Linux bridge. ``request_resync(reason)``: ask for
    a full pass. ``refresh(*devices)``: ask the server about these devices again
    in the next pass. ``devices_on_network(network_id)``: this host's devices on
    that network, as the last pass knew them. ``transport``: the agent's
    oslo.messaging transport, for an extension's own RPC calls to the server
    (None when the agent runs without RPC). ``ovsdb_connection``: the OVSDB the
    Open vSwitch agent works on (None for Linux bridge).
    """

    host: str
    netns: typing.Optional[str]
    bridges: typing.Mapping[str, str]
    request_resync: typing.Callable
    refresh: typing.Callable
    devices_on_network: typing.Callable
    transport: typing.Any = None
    ovsdb_connection: typing.Optional[str] = None


class AgentExtension(typing.Protocol):
    def initialize(self, agent_api, driver_type): ...

    def before_pass(self, context): ...

    def handle_port(self, context, details): ...

    def delete_port(self, context, details): ...


class ExtensionManager:
    """The loaded extensions, called in the order named; ``load`` finds them by name."""

    def __init__(self, extensions=()):
        self.extensions = list(extensions)   # [(name, object)]

    @classmethod
    def load(cls, names):
        """Instantiate the named extensions; an unknown name raises ValueError."""
        if not names:
            return cls()
        from stevedore import named
        missing = []
        manager = named.NamedExtensionManager(NAMESPACE, names=list(names), invoke_on_load=True,
                                              name_order=True, on_missing_entrypoints_callback=missing.extend,
                                              on_load_failure_callback=_raise_load_failure)
        if missing:
            raise ValueError("[agent] extensions: no agent extension named %s (entry points in %s)"
                             % (", ".join(sorted(missing)), NAMESPACE))
        return cls([(ext.name, ext.obj) for ext in manager])

    @property
    def names(self):
        return [name for name, _obj in self.extensions]

    def __bool__(self):
        return bool(self.extensions)

    def initialize(self, agent_api, driver_type):
        for _name, extension in self.extensions:
            extension.initialize(agent_api, driver_type)

    def before_pass(self, context):
        for name, extension in self.extensions:
            try:
                extension.before_pass(context)
            except Exception:  # noqa: BLE001 - one extension must not stop the agent
                LOG.exception("Agent extension %s failed before a pass", name)

    def handle_port(self, context, details):
        self._call("handle_port", context, details)

    def delete_port(self, context, details):
        self._call("delete_port", context, details)

    def _call(self, method, context, details):
        for name, extension in self.extensions:
            try:
                getattr(extension, method)(context, details)
            except Exception:  # noqa: BLE001 - one extension must not stop the agent
                LOG.exception("Agent extension %s failed in %s for %s", name, method, details.get("device"))


def _raise_load_failure(_manager, entrypoint, error):
    raise ValueError("[agent] extensions: cannot load %s: %s" % (entrypoint, error)) from error
