"""An L2 agent's reconciler loop: bring the host's devices in line with the server.

The concrete agent (Linux bridge, Open vSwitch) supplies three methods:

  scan_devices() -> {device: local facts}
      The port devices present on the host now (tap names, say), with whatever
      the agent wants to know about each.
  plan(desired, actual) -> plan
      ``desired`` is a DesiredState (below), ``actual`` what scan_devices
      returned. The plan is the agent's own object; the loop only hands it on.
  apply(plan) -> Outcome
      Carries the plan out and says which devices are now up (wired, admin
      state up), which are down, and which failed.

The loop runs passes. A *full* pass asks the server about every device on the
host; it runs when core.agent.resync says: first, every ``resync_interval``
seconds, after a pass that raised, and whenever ``request_resync`` is called
(the state reporter does when the server had given the agent up, or the
broker connection was lost).
Between full passes an *incremental* pass asks only about devices that
appeared since the last pass, devices named by ``mark_dirty`` (the agent's
notification endpoints call it) and devices whose report failed. Devices that
vanished from the host are reported down. A pass runs every
``polling_interval`` seconds, or as soon as an event arrives. A pass makes
one details call for all the devices it asks about and one
update_device_list call for all it reports (RPC_CHUNK devices per call), and
the server handles each list in one transaction.

Each pass starts with the extensions' ``before_pass``; after apply, the loop
tells the agent extensions (core.agent.extensions):
``handle_port`` for every port whose details this pass fetched and that did
not fail, ``delete_port`` for every port whose device left the host.

Making a loop:

    loop = ReconcileLoop(agent, plugin_api, context, agent_id, host,
                         polling_interval=2, resync_interval=300,
                         extensions=ExtensionManager.load(names))

``plugin_api`` is PluginApi-shaped (core.agent.rpc.PluginApi, or
core.agent.plugin_client.LocalPluginApi without RPC); the loop talks to it
through ``loop.client``, a core.agent.plugin_client.PluginClient the agent may
use too (tunnel_sync). ``clock`` (default time.monotonic) is injectable for
tests. Other threads call only ``mark_dirty``, ``wake``, ``request_resync``,
``dirty_devices``, ``devices_on_network``, ``device_of_port`` and ``stop``; ``run()`` runs passes
until ``stop()``, ``run_once(full=False)`` makes one.
"""
import dataclasses
import logging
import threading
import time

from netweave.core.agent import extensions as extensions_mod
from netweave.core.agent import plugin_client, resync

LOG = logging.getLogger(__name__)

RPC_CHUNK = plugin_client.RPC_CHUNK


@dataclasses.dataclass
class DesiredState:
    """What the server wants for the devices on this host.

    ``devices``: {device: details} for every device present on the host, as
    get_device_details returns them; a device whose details have no "port_id"
    is not a port bound to this host (leave it alone). ``changed``: the devices
    whose details were fetched in this pass. ``removed``: devices gone from the
    host since the previous pass. ``full``: whether this is a full pass.
    """
    devices: dict
    changed: set
    removed: set
    full: bool


@dataclasses.dataclass
class Outcome:
    devices_up: list = dataclasses.field(default_factory=list)
    devices_down: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)


class ReconcileLoop:
    def __init__(self, agent, plugin_api, context, agent_id, host, polling_interval=2, resync_interval=300,
                 clock=time.monotonic, extensions=None):
        self.agent = agent
        self.client = plugin_client.PluginClient(plugin_api, context, agent_id, host)
        self.context = context
        self.agent_id = agent_id
        self.host = host
        self.extensions = extensions if extensions is not None else extensions_mod.ExtensionManager()
        self.polling_interval = polling_interval
        # A pass every polling_interval, the one after a failure included.
        self.schedule = resync.ResyncSchedule(resync_interval, error_resync_delay=polling_interval,
                                              poll_interval=polling_interval, clock=clock)
        self.desired = {}          # device -> details, for devices present at the last pass
        self.present = set()       # devices scanned at the last pass
        self.passes = 0
        self._lock = threading.Lock()
        self._dirty = set()

    # --- called from other threads (notifications, state reporter) ---------------

    def mark_dirty(self, *devices):
        """Ask the server about these devices again in the next pass."""
        with self._lock:
            self._dirty.update(d for d in devices if d)
        self.schedule.wake()

    def wake(self):
        """Run the next pass now (the agent recorded something it must plan)."""
        self.schedule.wake()

    def request_resync(self, reason="requested"):
        self.schedule.request_resync(reason)

    def dirty_devices(self):
        """The devices the next pass will ask the server about again (a copy)."""
        with self._lock:
            return set(self._dirty)

    def devices_on_network(self, network_id):
        """Devices of this host on ``network_id``, as far as the last pass knew."""
        with self._lock:
            return [d for d, details in self.desired.items() if details.get("network_id") == network_id]

    def device_of_port(self, port_id):
        """The device of ``port_id`` on this host, if the last pass saw it."""
        with self._lock:
            return next((d for d, details in self.desired.items() if details.get("port_id") == port_id), None)

    def stop(self):
        self.schedule.stop()

    # --- passes ---------------------------------------------------------------------

    def _take_dirty(self):
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        return dirty

    def run_once(self, full=False):
        """One pass (full when asked, or when due); True when it completed, False when
        it failed (the next one is full)."""
        reason = self.schedule.take_full_reason()
        dirty = self._take_dirty()
        if full and reason is None:
            reason = "asked for"
        full = reason is not None
        clock = self.schedule.clock
        started = clock()
        try:
            self._pass(full, dirty)
        except Exception:  # noqa: BLE001 - whatever went wrong, a full pass sorts it out
            LOG.exception("Pass over the devices failed; resyncing fully next time")
            self.schedule.failed()
            with self._lock:
                self._dirty.update(dirty)
            return False
        if full:
            LOG.info("Full resync done (%s) in %.2fs", reason, clock() - started)
            self.schedule.full_done(started)
        self.passes += 1
        return True

    def _pass(self, full, dirty):
        if self.extensions:
            self.extensions.before_pass(self.context)
        actual = dict(self.agent.scan_devices())
        present = set(actual)
        removed = self.present - present
        if full:
            to_fetch = present
        else:
            to_fetch = (present - self.present) | (dirty & present)
        desired = {d: v for d, v in self.desired.items() if d in present}
        fetched, _failed = self.client.get_devices_details(sorted(to_fetch))
        desired.update(fetched)
        retry = to_fetch - set(fetched)
        state = DesiredState(devices=desired, changed=set(fetched), removed=removed, full=full)
        outcome = self.agent.apply(self.agent.plan(state, actual)) or Outcome()
        gone = [d for d in sorted(removed) if self.desired.get(d, {}).get("port_id")]
        retry |= self._report(outcome, gone)
        retry |= set(outcome.failed)
        self._tell_extensions(fetched, outcome, gone)
        with self._lock:
            self.desired = desired
            self.present = present
            self._dirty.update(retry)

    def _report(self, outcome, gone):
        """Tell the server what is up and down; returns the devices to retry."""
        up = list(outcome.devices_up)
        down = list(outcome.devices_down) + [d for d in gone if d not in outcome.devices_down]
        failed = self.client.update_device_list(up, down) if up or down else set()
        # Devices gone from the host are not retried: there is nothing left to ask about.
        return failed - set(gone)

    def _tell_extensions(self, fetched, outcome, gone):
        if not self.extensions:
            return
        failed = set(outcome.failed)
        for device in sorted(fetched):
            details = fetched[device]
            if details.get("port_id") and device not in failed:
                self.extensions.handle_port(self.context, details)
        for device in gone:
            self.extensions.delete_port(self.context, dict(self.desired[device]))

    # --- running ----------------------------------------------------------------------

    def run(self):
        """Run passes until ``stop()``."""
        self.schedule.run(self.run_once)
