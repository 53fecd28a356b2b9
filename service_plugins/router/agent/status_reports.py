"""Floating IP statuses reported to the server from a thread of the L3 agent, latest first.

Each report is an ``update_floatingip_statuses`` call: a round trip through the
broker and a write transaction on the server. Made in the agent's pass, a pass
that served a dozen routers waited for a dozen of them (seconds, while the
server was busy with API writes) before the next change could be applied. Here
the pass only records {router id: statuses} and goes on; the thread sends what
is recorded, one call per router, and a router's newer statuses replace ones
not sent yet. A failed call is logged and ``on_failure`` told (the agent then
resyncs, which reports again whatever the server does not hold).
"""
import logging
import threading

LOG = logging.getLogger(__name__)


class StatusReports:
    """``send(router_id, statuses)``: one report (the plugin API's call); ``on_failure(reason)``."""

    def __init__(self, send, on_failure=None, name="l3-fip-statuses"):
        self._send = send
        self._on_failure = on_failure
        self._name = name
        self._pending = {}
        self._sending = False
        self._thread = None
        self._changed = threading.Condition()

    def add(self, router_id, statuses):
        with self._changed:
            self._pending[router_id] = dict(statuses)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def wait_idle(self, timeout=None):
        """True once nothing is pending or being sent (False when ``timeout`` passed first)."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._pending and not self._sending, timeout)

    def _take(self):
        with self._changed:
            self._sending = False
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._pending)
            router_id = next(iter(self._pending))     # oldest first
            self._sending = True
            return router_id, self._pending.pop(router_id)

    def _run(self):
        while True:
            router_id, statuses = self._take()
            try:
                self._send(router_id, statuses)
            except Exception:  # noqa: BLE001 - a lost report: the resync reports again
                LOG.exception("Could not report the floating IP statuses of router %s", router_id)
                if self._on_failure is not None:
                    self._on_failure("a floating IP status report failed")
