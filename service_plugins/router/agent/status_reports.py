"""Floating IP statuses reported to the server from a thread of the L3 agent, latest first.

Each report is an ``update_floatingip_statuses`` call: a round trip through the
broker and a write transaction on the server. Made in the agent's pass, a pass
that served a dozen routers waited for a dozen of them (seconds, while the
server was busy with API writes) before the next change could be applied. Here
the pass only records {router id: statuses} and goes on; the thread sends what
is recorded, one call per router, and a router's newer statuses replace ones
not sent yet. A failed call is logged and ``on_failure`` told (the agent then
resyncs after its error delay, which reports again whatever the server does
not hold; at once, a server that keeps failing the call would get it back to back).
"""
import logging
import threading

from netweave.service_plugins.router import update_batches

LOG = logging.getLogger(__name__)


class StatusReports:
    """``send(router_id, statuses)``: one report (the plugin API's call); ``on_failure(reason)``.

    The thread is an ``UpdateBatches`` of router ids; the statuses wait here, the
    latest per router, and are taken when the router's turn comes.
    """

    def __init__(self, send, on_failure=None, name="l3-fip-statuses"):
        self._send = send
        self._on_failure = on_failure
        self._latest = {}
        self._lock = threading.Lock()
        self._routers = update_batches.UpdateBatches(self._send_routers, name=name)

    def add(self, router_id, statuses):
        with self._lock:
            self._latest[router_id] = dict(statuses)
        self._routers.add([router_id])

    def wait_idle(self, timeout=None):
        """True once nothing is pending or being sent (False when ``timeout`` passed first)."""
        return self._routers.wait_idle(timeout)

    def _send_routers(self, router_ids):
        for router_id in router_ids:
            with self._lock:
                # None: a newer report of the router went with an earlier batch.
                statuses = self._latest.pop(router_id, None)
            if statuses is None:
                continue
            try:
                self._send(router_id, statuses)
            except Exception:  # noqa: BLE001 - a lost report: the resync reports again
                LOG.exception("Could not report the floating IP statuses of router %s", router_id)
                if self._on_failure is not None:
                    self._on_failure("a floating IP status report failed")
