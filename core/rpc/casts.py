"""Best-effort casts from the server to agents, shared by every notifier.

A notification is sent after its change is committed; losing one (no broker,
a full queue) must not fail the API call: agents resynchronise on start, after
a reconnection and periodically, which repairs it. So a cast is retried a
couple of times, then logged and dropped.

Casts are handed to the process's outbox (outbox.py) and sent by its thread, in
the order they were made: the request that made a change does not wait for
the broker.
"""
import functools

from netweave.core.rpc import outbox

VERSION = "1.0"
# Connection attempts per cast before giving up on it (oslo.messaging's retry).
SEND_RETRIES = 2


class CastClient:
    """Casts nothing until ``connect`` gives it a transport."""

    def __init__(self, topic, version=VERSION, transport=None, sender=None):
        self._topic = topic
        # Where casts go to be sent (an outbox.Outbox); the process's by default.
        self._sender = sender or outbox.OUTBOX
        self._version = version
        self._client = None
        if transport is not None:
            self.connect(transport)

    @property
    def connected(self):
        return self._client is not None

    def connect(self, transport):
        # Here, not at import: a server without transport_url never loads oslo.messaging.
        import oslo_messaging

        from netweave.core.rpc import serializer

        self._client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=self._topic, version=self._version),
            serializer=serializer.ContextSerializer())

    def cast(self, context, method, topic=None, server=None, fanout=False, **kwargs):
        """``method(**kwargs)`` on ``topic`` (default: the client's), to one ``server`` or fanout."""
        if self._client is None:
            return
        options = {"retry": SEND_RETRIES}
        if topic:
            options["topic"] = topic
        if server:
            options["server"] = server
        elif fanout:
            options["fanout"] = True
        self._sender.submit(functools.partial(self._send, self._client, context, method, options, kwargs),
                            "%s on %s%s" % (method, topic or self._topic, " (%s)" % server if server else ""))

    @staticmethod
    def _send(client, context, method, options, kwargs):
        client.prepare(**options).cast(context, method, **kwargs)
