"""Agent-side firewall drivers for security groups (netweave.firewall_drivers entry points).

model (desired state) -> render (pure, complete rule set) -> restore (pure
diff into restore inputs) -> iptables drivers (run the inputs in the host or
a given namespace); conntrack plans which flows to cut; noop filters nothing.
"""
import stevedore

NAMESPACE = "netweave.firewall_drivers"


def load_driver(name, netns=None, enable_ipset=True):
    """The driver named ``name`` (iptables, iptables_hybrid, noop), instantiated."""
    manager = stevedore.DriverManager(NAMESPACE, name, invoke_on_load=True,
                                      invoke_kwds={"netns": netns, "enable_ipset": enable_ipset})
    return manager.driver


def available_drivers():
    return sorted(stevedore.ExtensionManager(NAMESPACE).names())
