"""Router updates sent to the L3 agents from one thread of the process, coalesced.

A cast per API call made the request pay for reading the routers' hosts and
for publishing to the broker, and made the agent's queue hold one message per
floating IP. Requests here only add the changed router ids to a set and
return; the sender thread takes the whole set, sends it (one read of the
hosts, one ``routers_updated`` cast per host) and, if more came meanwhile,
takes those next. Nothing waits on purpose: an idle sender sends a lone change
at once, a busy one sends what gathered while it was busy, so the batches grow
with the load and a change waits at most about one send.

The ids are added after the change committed, as before. A send that fails is
logged and dropped, like a cast that fails (agents resync); ``wait_idle`` lets
a caller (tests, a stopping process) wait until everything added was sent.
"""
import logging
import threading

LOG = logging.getLogger(__name__)


class UpdateBatches:
    """``send(items)``: sends one batch (sorted router ids, or any sortable items: the L3 RPC
    endpoint binds (port id, host) pairs so); called in the sender thread only."""

    def __init__(self, send, name="l3-router-updates"):
        self._send = send
        self._name = name
        self._pending = set()
        self._sending = False
        self._thread = None
        self._changed = threading.Condition()

    def add(self, router_ids):
        with self._changed:
            self._pending.update(router_ids)
            if self._thread is None:
                # Started on first use: in the process (after a fork) that sends.
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
            batch, self._pending = sorted(self._pending), set()
            self._sending = True
            return batch

    def _run(self):
        while True:
            batch = self._take()
            try:
                self._send(batch)
            except Exception:  # noqa: BLE001 - like a lost cast: the agents resync
                LOG.exception("%s: a batch of %d failed", self._name, len(batch))
