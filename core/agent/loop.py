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
host; it runs first, every ``resync_interval`` seconds, after a pass that
raised, and whenever ``request_resync`` is called (the state reporter does
when the server had given the agent up, or the broker connection was lost).
Between full passes an *incremental* pass asks only about devices that
appeared since the last pass, devices named by ``mark_dirty`` (the agent's
notification endpoints call it) and devices whose report failed. Devices that
vanished from the host are reported down. A pass runs every
``polling_interval`` seconds, or as soon as an event arrives. A pass makes
one details call for all the devices it asks about and one
update_device_list call for all it reports (RPC_CHUNK devices per call), and
the server handles each list in one transaction.
"""
import dataclasses
import itertools
import logging
import threading
import time

LOG = logging.getLogger(__name__)

# Devices per RPC call: one call for a host's usual few hundred, several for more,
# so no single call outlives rpc_response_timeout.
RPC_CHUNK = 500


def _chunks(items, size=RPC_CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


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
                 clock=time.monotonic):
        self.agent = agent
        self.plugin_api = plugin_api
        self.context = context
        self.agent_id = agent_id
        self.host = host
        self.polling_interval = polling_interval
        self.resync_interval = resync_interval
        self.clock = clock
        self.desired = {}          # device -> details, for devices present at the last pass
        self.present = set()       # devices scanned at the last pass
        self.passes = 0
        self._lock = threading.Lock()
        self._dirty = set()
        self._resync_reason = "agent start"
        self._last_full = None
        self._wake = threading.Event()
        self._stopped = threading.Event()

    # --- called from other threads (notifications, state reporter) ---------------

    def mark_dirty(self, *devices):
        """Ask the server about these devices again in the next pass."""
        with self._lock:
            self._dirty.update(d for d in devices if d)
        self._wake.set()

    def request_resync(self, reason="requested"):
        with self._lock:
            self._resync_reason = self._resync_reason or reason
        self._wake.set()

    def devices_on_network(self, network_id):
        """Devices of this host on ``network_id``, as far as the last pass knew."""
        with self._lock:
            return [d for d, details in self.desired.items() if details.get("network_id") == network_id]

    def device_of_port(self, port_id):
        """The device of ``port_id`` on this host, if the last pass saw it."""
        with self._lock:
            return next((d for d, details in self.desired.items() if details.get("port_id") == port_id), None)

    def stop(self):
        self._stopped.set()
        self._wake.set()

    # --- passes ---------------------------------------------------------------------

    def _take_work(self):
        with self._lock:
            reason, self._resync_reason = self._resync_reason, None
            dirty, self._dirty = self._dirty, set()
        if reason is None and self.resync_interval and self._last_full is not None \
                and self.clock() - self._last_full >= self.resync_interval:
            reason = "resync_interval elapsed"
        return reason, dirty

    def run_once(self):
        """One pass; True when it completed, False when it failed (the next one is full)."""
        reason, dirty = self._take_work()
        full = reason is not None
        started = self.clock()
        try:
            self._pass(full, dirty)
        except Exception:  # noqa: BLE001 - whatever went wrong, a full pass sorts it out
            LOG.exception("Pass over the devices failed; resyncing fully next time")
            with self._lock:
                self._resync_reason = self._resync_reason or "previous pass failed"
                self._dirty.update(dirty)
            return False
        if full:
            LOG.info("Full resync done (%s) in %.2fs", reason, self.clock() - started)
            self._last_full = started
        self.passes += 1
        return True

    def _pass(self, full, dirty):
        actual = dict(self.agent.scan_devices())
        present = set(actual)
        removed = self.present - present
        if full:
            to_fetch = present
        else:
            to_fetch = (present - self.present) | (dirty & present)
        desired = {d: v for d, v in self.desired.items() if d in present}
        fetched = self._fetch(sorted(to_fetch))
        desired.update(fetched)
        retry = to_fetch - set(fetched)
        state = DesiredState(devices=desired, changed=set(fetched), removed=removed, full=full)
        outcome = self.agent.apply(self.agent.plan(state, actual)) or Outcome()
        gone = [d for d in sorted(removed) if self.desired.get(d, {}).get("port_id")]
        retry |= self._report(outcome, gone)
        retry |= set(outcome.failed)
        with self._lock:
            self.desired = desired
            self.present = present
            self._dirty.update(retry)

    def _fetch(self, devices):
        fetched = {}
        for chunk in _chunks(devices):
            reply = self.plugin_api.get_devices_details_list_and_failed_devices(
                self.context, chunk, self.agent_id, self.host)
            failed = reply.get("failed_devices") or []
            if failed:
                LOG.warning("Server could not give details of %s", ", ".join(failed))
            fetched.update((details["device"], details) for details in reply.get("devices") or [])
        return fetched

    def _report(self, outcome, gone):
        """Tell the server what is up and down (up to RPC_CHUNK of each per call); returns the devices to retry."""
        up = list(outcome.devices_up)
        down = list(outcome.devices_down) + [d for d in gone if d not in outcome.devices_down]
        failed = set()
        for up_now, down_now in itertools.zip_longest(_chunks(up), _chunks(down), fillvalue=[]):
            reply = self.plugin_api.update_device_list(self.context, up_now, down_now, self.agent_id, self.host)
            failed |= set(reply.get("failed_devices_up") or []) | set(reply.get("failed_devices_down") or [])
        # Devices gone from the host are not retried: there is nothing left to ask about.
        return failed - set(gone)

    # --- running ----------------------------------------------------------------------

    def run(self):
        """Run passes until ``stop()``."""
        while not self._stopped.is_set():
            self._wake.clear()
            self.run_once()
            self._wake.wait(self.polling_interval)
