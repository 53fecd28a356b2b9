"""When an agent's reconciler runs a pass, and which passes are full.

The agents (L2, DHCP, L3) each run passes on one thread: a *full* pass asks the
server about everything of the host, an *incremental* one only about what
notifications named since. A ResyncSchedule keeps the when:

* a full pass is due at start ("agent start"), after ``request_resync(reason)``
  (the state reporter calls it when notifications may have been lost), after a
  pass that failed ("previous pass failed"), ``error_resync_delay`` seconds
  after ``resync_later(reason)`` (a call outside the passes failed: retried at
  once, a call that keeps failing would make passes back to back), and once
  ``resync_interval`` seconds have passed since the last full pass began
  ("resync_interval elapsed"; 0 turns that one off);
* ``run(one_pass)`` calls ``one_pass()`` until ``stop()``. ``one_pass`` starts
  with ``take_full_reason()`` (the reason a full pass is due, or None for an
  incremental one; taking it clears it), says ``full_done(started)`` after a
  full pass and ``failed()`` when a pass failed, and returns whether it
  completed. After a completed pass ``run`` waits until ``wake()`` is called,
  the next full pass is due, or ``poll_interval`` seconds passed (when
  given); after a failed one, ``error_resync_delay`` seconds (``stop()`` cuts
  either short).

Other threads call only ``wake``, ``request_resync``, ``resync_later`` and ``stop``. ``clock``
(default time.monotonic) is injectable for tests.
"""
import threading
import time

AGENT_START = "agent start"
PASS_FAILED = "previous pass failed"
INTERVAL_ELAPSED = "resync_interval elapsed"


class ResyncSchedule:
    def __init__(self, resync_interval=300, error_resync_delay=5, poll_interval=None, clock=time.monotonic):
        self.resync_interval = resync_interval
        self.error_resync_delay = error_resync_delay
        self.poll_interval = poll_interval
        self.clock = clock
        self._lock = threading.Lock()
        self._reason = AGENT_START
        self._deferred = None       # (reason, clock time it is due) of resync_later
        self._last_full = None
        self._wake = threading.Event()
        self._stopped = threading.Event()

    # --- from any thread -----------------------------------------------------------------

    def wake(self):
        """Run the next pass now."""
        self._wake.set()

    def request_resync(self, reason="requested"):
        """Make the next pass full, and run it now."""
        with self._lock:
            self._reason = self._reason or reason
        self._wake.set()

    def resync_later(self, reason):
        """Make a full pass due ``error_resync_delay`` seconds from now (an earlier one stands)."""
        with self._lock:
            if self._deferred is None:
                self._deferred = (reason, self.clock() + self.error_resync_delay)
        # The pass thread may be waiting without a limit: let it take the new deadline.
        self._wake.set()

    def stop(self):
        self._stopped.set()
        self._wake.set()

    @property
    def stopped(self):
        return self._stopped.is_set()

    # --- from the pass thread ------------------------------------------------------------

    def take_full_reason(self):
        """Why the pass starting now must be full, or None: an incremental pass."""
        with self._lock:
            reason, self._reason = self._reason, None
            if self._deferred is not None and (reason is not None or self._until_deferred() == 0.0):
                # A full pass for any reason serves the deferred one too.
                reason, self._deferred = reason or self._deferred[0], None
        if reason is None and self._until_full() == 0.0:
            reason = INTERVAL_ELAPSED
        return reason

    def full_done(self, started):
        """A full pass that began at ``started`` (the clock's time) completed."""
        self._last_full = started

    def failed(self):
        """The pass failed: the next one is full."""
        with self._lock:
            self._reason = self._reason or PASS_FAILED

    def run(self, one_pass):
        while not self._stopped.is_set():
            self._wake.clear()
            completed = one_pass()
            if self._stopped.is_set():
                break
            if not completed:
                self._stopped.wait(self.error_resync_delay)
                continue
            self._wake.wait(self.next_wait())

    def _until_full(self):
        """Seconds until the periodic full pass is due (0.0 when it is), or None: none is."""
        if not self.resync_interval or self._last_full is None:
            return None
        return max(0.0, self._last_full + self.resync_interval - self.clock())

    def _until_deferred(self):
        """Seconds until resync_later's full pass is due (0.0 when it is), or None: none is."""
        if self._deferred is None:
            return None
        return max(0.0, self._deferred[1] - self.clock())

    def next_wait(self):
        """Seconds to wait for an event after a completed pass (None: no limit)."""
        waits = [w for w in (self._until_full(), self._until_deferred(), self.poll_interval) if w is not None]
        return min(waits) if waits else None
