"""Which agents netweave-all-in-one runs in its own process, and starting them.

``[DEFAULT] l2_agent`` (or ``--l2-agent``) names it: linuxbridge,
openvswitch or none. Unset, the all-in-one runs the Linux bridge agent when
it is root and the kernel can make bridges, and none otherwise; either way
one log line says what was chosen and why. The agent talks to the server over
the process's own transport (fake:// unless transport_url names a broker)
and wires the devices of the process's network namespace, or of
``l2_agent_netns`` when set.

With an L2 agent running and the ``router`` service plugin loaded, the L3
agent runs beside it (``[DEFAULT] l3_agent``, on by default), plugging router
ports with the interface driver of that L2 agent: the single node routes.
"""
import logging
import os
import sys

from oslo_config import cfg

LOG = logging.getLogger(__name__)

LINUXBRIDGE, OPENVSWITCH, NONE = "linuxbridge", "openvswitch", "none"
CHOICES = (LINUXBRIDGE, OPENVSWITCH, NONE)

opts = [
    cfg.StrOpt("l2_agent", choices=CHOICES,
               help="L2 agent netweave-all-in-one runs in its own process. Unset: linuxbridge when "
                    "running as root on a kernel with bridge support, none otherwise."),
    cfg.StrOpt("l2_agent_netns",
               help="Network namespace whose devices the all-in-one's L2 agent wires (default: the "
                    "process's own)."),
    cfg.BoolOpt("l3_agent", default=True,
                help="Run the L3 agent in netweave-all-in-one too, when an L2 agent runs there and the "
                     "router service plugin is loaded."),
]

ROUTER_PLUGIN = "router"


def register_opts(conf=cfg.CONF):
    conf.register_opts(opts)


class AgentError(RuntimeError):
    """The chosen agent cannot run; the message says why."""


def kernel_has_bridges():
    """Whether this kernel can make Linux bridges (built in, loaded, or a module to load)."""
    if os.path.isdir("/sys/module/bridge"):
        return True
    release = os.uname().release
    for root in ("/lib/modules", "/usr/lib/modules"):
        folder = os.path.join(root, release, "kernel", "net", "bridge")
        if os.path.isdir(folder) and any(name.startswith("bridge.ko") for name in os.listdir(folder)):
            return True
    return False


def choose(conf, is_root=None, has_bridges=None):
    """(agent name, why) for this process."""
    if conf.l2_agent:
        return conf.l2_agent, "[DEFAULT] l2_agent = %s" % conf.l2_agent
    is_root = (os.geteuid() == 0) if is_root is None else is_root
    if not sys.platform.startswith("linux"):
        return NONE, "not on Linux"
    if not is_root:
        return NONE, "not running as root (set l2_agent to choose one)"
    has_bridges = kernel_has_bridges() if has_bridges is None else has_bridges
    if not has_bridges:
        return NONE, "the kernel has no bridge support"
    return LINUXBRIDGE, "running as root on a kernel with bridges"


class Agents:
    """The agents started in this process; ``stop`` stops them in reverse order."""

    def __init__(self, agents):
        self.agents = list(agents)

    def stop(self):
        for agent in reversed(self.agents):
            try:
                agent.stop()
            except Exception:  # noqa: BLE001 - stop the others anyway
                LOG.exception("Error while stopping an in-process agent")


def start(conf):
    """Start the chosen agents; returns an Agents (with stop()), or None when none runs."""
    name, why = choose(conf)
    if name == NONE:
        LOG.info("No L2 agent in this process (%s): ports bound to %s are not wired here", why, conf.host)
        return None
    LOG.info("Running the %s L2 agent in this process for host %s (%s)", name, conf.host, why)
    l2_agent = _start_l2(conf, name)
    started = [l2_agent]
    try:
        if conf.l3_agent and ROUTER_PLUGIN in conf.service_plugins:
            started.append(_start_l3(conf, name))
        else:
            LOG.info("No L3 agent in this process (l3_agent = %s, service plugins %s)", conf.l3_agent,
                     ", ".join(conf.service_plugins) or "none")
    except BaseException:
        Agents(started).stop()
        raise
    return Agents(started)


def _start_l3(conf, interface_driver):
    from netweave.service_plugins.router.agent import cmd as l3_cmd
    from netweave.service_plugins.router.agent import config as l3_config
    l3_config.register_opts(conf)
    if (interface_driver == OPENVSWITCH
            and conf.get_location("ovs_integration_bridge").location == cfg.Locations.opt_default):
        # Router ports go on the bridge this process's OVS agent wires.
        conf.set_override("ovs_integration_bridge", conf.ovs.integration_bridge)
    try:
        return l3_cmd.InProcessAgent(conf, interface_driver, netns=conf.l2_agent_netns).start()
    except ValueError as error:
        raise AgentError("L3 agent: %s" % error) from None


def _start_l2(conf, name):
    if name == LINUXBRIDGE:
        from netweave.mechanism_drivers.linuxbridge import cmd as linuxbridge_cmd
        from netweave.mechanism_drivers.linuxbridge import config as linuxbridge_config
        try:
            return linuxbridge_cmd.InProcessAgent(conf, netns=conf.l2_agent_netns).start()
        except linuxbridge_config.ConfigError as error:
            raise AgentError(str(error)) from None
    from netweave.mechanism_drivers.openvswitch import cmd as ovs_cmd
    try:
        return ovs_cmd.InProcessAgent(conf, netns=conf.l2_agent_netns).start()
    except ovs_cmd.AgentConfigError as error:
        raise AgentError(str(error)) from None
