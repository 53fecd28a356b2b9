"""After-commit work (agent notifications) taken off the request thread.

A request that changed something hands what the agents must hear to the
process's outbox and answers at once; one thread per process sends it, in the
order it was handed over. So the notifications of one resource reach the
agents in the order of its changes, and those of related resources too (a
port's port_delete before its network's network_delete). Work handed over by
that thread itself (a notification whose targets it reads first, then casts)
runs at once, in its place in that order.

Bounded: with ``capacity`` items waiting, a new one is dropped and counted (a
warning at most every DROP_LOG_INTERVAL seconds). Notifications are best
effort already: agents resynchronise periodically and after a reconnection,
which repairs a lost one, as when the broker is away.

At exit the process waits up to ``drain_timeout`` seconds for the outbox to
empty (atexit; a gunicorn worker exits through sys.exit after draining its
requests), then logs and drops what is left. Work handed over after that runs
in the caller's thread.

Whoever hands over a payload (a port dict, say) must not change it afterwards:
it is serialised when sent, not when handed over.
"""
import atexit
import collections
import logging
import os
import threading
import time

LOG = logging.getLogger(__name__)

# Items waiting at most; a burst of thousands of port changes fits.
DEFAULT_CAPACITY = 10000
# How long the exit waits for the outbox to empty.
DEFAULT_DRAIN_TIMEOUT = 10.0
DROP_LOG_INTERVAL = 10.0


class Outbox:
    """A bounded FIFO of callables run by one daemon thread, started on first use
    (and again in a forked child, which does not inherit the thread)."""

    def __init__(self, capacity=DEFAULT_CAPACITY, drain_timeout=DEFAULT_DRAIN_TIMEOUT, clock=time.monotonic):
        self.capacity = capacity
        self.drain_timeout = drain_timeout
        self._clock = clock
        self._pid = None
        self._reset()

    def _reset(self):
        self._items = collections.deque()
        self._changed = threading.Condition()
        self._thread = None
        self._running = False  # the thread is running an item
        self._closed = False
        self.dropped = 0
        self._dropped_logged_at = None
        self._pid = os.getpid()

    # --- handing work over ------------------------------------------------------

    def submit(self, work, what):
        """Run ``work()`` after the items handed over before it; ``what`` names it in logs.

        Returns False when the outbox is full and ``work`` was dropped."""
        if self._pid != os.getpid():
            # A forked child: the parent's queue and thread are not ours.
            self._reset()
        if threading.current_thread() is self._thread:
            self._run(work, what)
            return True
        with self._changed:
            if self._closed:
                inline = True
            elif len(self._items) >= self.capacity:
                self._note_dropped(what)
                return False
            else:
                inline = False
                self._items.append((work, what))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="netweave-outbox", daemon=True)
                    self._thread.start()
                self._changed.notify_all()
        if inline:
            self._run(work, what)
        return True

    def _note_dropped(self, what):
        self.dropped += 1
        now = self._clock()
        if self._dropped_logged_at is None or now - self._dropped_logged_at >= DROP_LOG_INTERVAL:
            self._dropped_logged_at = now
            LOG.warning("Agent notification outbox full (%d waiting): dropped %s, %d dropped so far; "
                        "agents repair it at their next resync", self.capacity, what, self.dropped)

    # --- the sending thread -----------------------------------------------------------

    def _loop(self):
        while True:
            with self._changed:
                while not self._items:
                    self._changed.wait()
                work, what = self._items.popleft()
                self._running = True
            try:
                self._run(work, what)
            finally:
                with self._changed:
                    self._running = False
                    self._changed.notify_all()

    @staticmethod
    def _run(work, what):
        try:
            work()
        except Exception:  # noqa: BLE001 - the change is committed; agents resync later
            LOG.exception("Could not send %s to the agents", what)

    # --- waiting for it ---------------------------------------------------------------

    def pending(self):
        """Items handed over and not done yet (waiting, or being run)."""
        with self._changed:
            return len(self._items) + (1 if self._running else 0)

    def flush(self, timeout):
        """Wait up to ``timeout`` seconds until everything handed over so far is done;
        True if it was."""
        if self._pid != os.getpid() or threading.current_thread() is self._thread:
            return True
        deadline = self._clock() + timeout
        with self._changed:
            while self._items or self._running:
                left = deadline - self._clock()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.1))
        return True

    def close(self, timeout=None):
        """Drain for up to ``timeout`` seconds (default ``drain_timeout``), then drop
        what is left; later work runs in its caller's thread."""
        if self._pid != os.getpid():
            return
        drained = self.flush(self.drain_timeout if timeout is None else timeout)
        with self._changed:
            left = len(self._items)
            self._items.clear()
            self._closed = True
        if not drained:
            LOG.warning("Agent notification outbox not drained in time: %d notifications dropped at exit", left)


# The process's outbox: every agent notifier hands its casts to it.
OUTBOX = Outbox()
atexit.register(OUTBOX.close)
