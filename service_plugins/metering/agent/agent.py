"""The metering agent's reconciler: the metering chains of every router of its host.

One thread runs passes; a pass asks the server for the routers the host's L3
agent hosts with their labels (get_sync_data_metering), and for each router
whose qrouter- namespace exists here reads the filter table's metering chains
(iptables-save), plans the wanted ones (iptables_plan.router_chains) and
applies only the difference with one ``iptables-restore --noflush``, so
counters of unchanged labels keep counting. Namespaces of routers no longer
metered here lose their metering chains (at the first pass, any qrouter-
namespace of the host that has some). A router whose namespace the L3 agent
has not made yet is retried at the next pass.

Passes run at start, every ``measure_interval`` seconds, and when a cast of the
server asks (a label or rule changed).
"""
import logging
import os
import threading
import time

from netweave.core import naming
from netweave.core.agent import commands, iptables_restore
from netweave.service_plugins.metering import constants as const
from netweave.service_plugins.metering.agent import iptables_plan as plan

LOG = logging.getLogger(__name__)

NETNS_DIR = "/run/netns"


def router_namespaces():
    """Names of the qrouter- namespaces of this machine."""
    try:
        names = os.listdir(NETNS_DIR)
    except FileNotFoundError:
        return []
    return sorted(name for name in names if name.startswith(naming.ROUTER_NS_PREFIX))


class IptablesMetering:
    """Reads and writes the metering chains of one namespace's filter table."""

    def __init__(self, run=commands.run):
        self.run = run

    def current(self, namespace):
        text = self.run(["iptables-save", "-t", plan.TABLE], namespace=namespace).stdout
        return iptables_restore.parse_save(text, plan.TABLE, plan.owns, (plan.TOP_CHAIN,))

    def apply(self, namespace, router):
        """Make the namespace's chains those of ``router``; True when something was written."""
        lines = iptables_restore.table_restore(plan.TABLE, self.current(namespace), plan.router_chains(router),
                                               plan.HOOKS)
        return self._restore(namespace, lines)

    def remove(self, namespace):
        return self._restore(namespace, plan.removal_lines(self.current(namespace)))

    def _restore(self, namespace, lines):
        if not lines:
            return False
        self.run(["iptables-restore", "--noflush"], namespace=namespace, stdin="\n".join(lines) + "\n")
        return True

    def counters(self, namespace, label_id):
        """(packets, bytes) the label counted in the namespace."""
        listing = self.run(["iptables", "-t", plan.TABLE, "-L", plan.label_chain(label_id), "-n", "-v", "-x"],
                           namespace=namespace).stdout
        return plan.parse_counters(listing)


class MeteringAgent:
    def __init__(self, host, plugin_api, context, driver=None, measure_interval=30, error_delay=5,
                 namespaces=router_namespaces, clock=time.monotonic):
        self.host = host
        self.plugin_api = plugin_api
        self.context = context
        self.driver = driver or IptablesMetering()
        self.measure_interval = measure_interval
        self.error_delay = error_delay
        self.namespaces = namespaces
        self.clock = clock
        self.metered = {}           # router id -> the router as last applied
        self.passes = 0
        self.last_error = None
        self._wake = threading.Event()
        self._stopped = threading.Event()

    def request_sync(self, reason="requested"):
        LOG.debug("Metering pass requested: %s", reason)
        self._wake.set()

    def stop(self):
        self._stopped.set()
        self._wake.set()

    def agent_state(self):
        return {
            "agent_type": const.AGENT_TYPE, "binary": const.AGENT_BINARY, "host": self.host,
            "topic": const.METERING_AGENT_TOPIC,
            "configurations": {"metering_driver": "iptables", "measure_interval": self.measure_interval,
                               "routers": len(self.metered)},
        }

    def run_once(self):
        """One pass; True when every router was served."""
        try:
            routers = self.plugin_api.get_sync_data_metering(self.context) or []
        except Exception as error:  # noqa: BLE001 - RPC timeouts and remote errors alike: try again later
            LOG.warning("Cannot get the routers to meter: %s", error)
            self.last_error = error
            return False
        present = set(self.namespaces())
        failed = False
        served = {}
        for router in routers:
            namespace = naming.router_namespace(router["id"])
            if namespace not in present:
                continue
            try:
                if self.driver.apply(namespace, router):
                    LOG.info("Metering chains of router %s updated", router["id"])
                served[router["id"]] = router
            except commands.CommandError as error:
                LOG.warning("Metering router %s failed: %s", router["id"], error)
                failed = True
        wanted = {r["id"] for r in routers}
        # Chains of routers no longer metered here go; at the first pass every router namespace
        # of the host is checked (the agent may have been stopped while routers changed).
        candidates = present if self.passes == 0 else {naming.router_namespace(r) for r in self.metered} & present
        for namespace in sorted(candidates):
            if naming.router_id_of_namespace(namespace) in wanted:
                continue
            try:
                if self.driver.remove(namespace):
                    LOG.info("Metering chains removed from %s", namespace)
            except commands.CommandError as error:
                # The namespace may have gone meanwhile.
                LOG.debug("Cleaning metering chains of %s failed: %s", namespace, error)
        self.metered = served
        self.passes += 1
        self.last_error = "some routers could not be metered" if failed else None
        return not failed

    def run(self):
        while not self._stopped.is_set():
            self._wake.clear()
            ok = self.run_once()
            if self._stopped.is_set():
                break
            self._wake.wait(self.measure_interval if ok else min(self.error_delay, self.measure_interval))
