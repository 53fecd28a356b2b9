"""Resource events: the one way plugins hook each other's resources.

Every write to a resource the server owns (networks, subnets, ports, and
whatever a service plugin defines: routers, floating IPs, ...) publishes
three phases to the process's ``EventRegistry``:

  BEFORE_<op>     nothing is written yet. A subscriber vetoes the change by
                  raising a ``NeutronException`` (a 4xx): the caller gets that
                  error and nothing is written.
  PRECOMMIT_<op>  inside the writing transaction (``payload.session``). A
                  subscriber writes its own rows there; raising rolls the
                  whole change back and the caller gets the error.
  AFTER_<op>      after commit. Subscribers notify agents or other systems;
                  their errors are logged and never reach the caller, since
                  the change has happened.

Subscribers run in priority order (lower first), then in subscription order.
Publishing to an event nobody subscribed costs one dictionary lookup, so
resources publish unconditionally.
"""
import dataclasses
import enum
import logging
from typing import Any, Callable

LOG = logging.getLogger(__name__)

# The core's resources; service plugins name their own the same way ("router").
NETWORK = "network"
SUBNET = "subnet"
PORT = "port"
SUBNETPOOL = "subnetpool"

DEFAULT_PRIORITY = 1000


class Phase(enum.Enum):
    BEFORE = "before"
    PRECOMMIT = "precommit"
    AFTER = "after"


class Event(enum.Enum):
    BEFORE_CREATE = "before_create"
    BEFORE_UPDATE = "before_update"
    BEFORE_DELETE = "before_delete"
    PRECOMMIT_CREATE = "precommit_create"
    PRECOMMIT_UPDATE = "precommit_update"
    PRECOMMIT_DELETE = "precommit_delete"
    AFTER_CREATE = "after_create"
    AFTER_UPDATE = "after_update"
    AFTER_DELETE = "after_delete"

    @property
    def phase(self):
        return Phase(self.value.split("_", 1)[0])


@dataclasses.dataclass(frozen=True)
class Payload:
    """What a subscriber learns about one change.

    ``original`` is the resource as it was (update, delete), ``current`` as it
    is or will be (create, update; for BEFORE_CREATE the validated request).
    ``request`` is what the caller asked to change. ``session`` is the writing
    transaction's session, set for PRECOMMIT events only. ``via_api`` says the
    change was asked for through the REST API rather than by a plugin on its
    own behalf: a plugin that owns a kind of port (a router's interfaces)
    vetoes API deletes of it but lets its own deletes through.

    ``metadata`` is what subscribers of a change's PRECOMMIT event leave for those
    of its AFTER event: the publisher passes the same dict to both (as a port
    delete does). A retried transaction may leave the notes of an attempt that
    rolled back, so a note says "may have", not "did".
    """
    context: Any
    resource_id: str | None = None
    original: dict | None = None
    current: dict | None = None
    request: dict | None = None
    session: Any = None
    via_api: bool = False
    metadata: dict = dataclasses.field(default_factory=dict)

    @property
    def latest(self):
        """The newest state known: ``current`` when there is one, else ``original``."""
        return self.current if self.current is not None else self.original


Callback = Callable[[str, Event, Payload], None]


@dataclasses.dataclass(frozen=True)
class _Subscription:
    priority: int
    order: int
    callback: Callback
    name: str


class EventRegistry:
    """Subscriptions by (resource, event); one registry per server process."""

    def __init__(self):
        self._subscriptions = {}
        self._count = 0

    def subscribe(self, callback, resource, event, *, priority=DEFAULT_PRIORITY):
        """Call ``callback(resource, event, payload)`` on every ``event`` of ``resource``."""
        if not isinstance(event, Event):
            raise TypeError("event must be an events.Event, not %r" % (event,))
        self._count += 1
        name = getattr(callback, "__qualname__", repr(callback))
        entries = self._subscriptions.setdefault((resource, event), [])
        entries.append(_Subscription(priority, self._count, callback, name))
        entries.sort(key=lambda s: (s.priority, s.order))

    def subscribe_all(self, callback, resource, events, *, priority=DEFAULT_PRIORITY):
        for event in events:
            self.subscribe(callback, resource, event, priority=priority)

    def has_subscribers(self, resource, event):
        return bool(self._subscriptions.get((resource, event)))

    def subscribers(self, resource, event):
        """The names of the callbacks, in calling order (for logs and tests)."""
        return [s.name for s in self._subscriptions.get((resource, event), ())]

    def publish(self, resource, event, payload):
        entries = self._subscriptions.get((resource, event))
        if not entries:
            return
        if event.phase is Phase.AFTER:
            for entry in entries:
                try:
                    entry.callback(resource, event, payload)
                except Exception:  # noqa: BLE001 - the change is committed; report and go on
                    LOG.exception("%s failed on %s %s of %s", entry.name, resource, event.value,
                                  payload.resource_id)
            return
        # BEFORE vetoes and PRECOMMIT failures reach the caller as they are.
        for entry in entries:
            entry.callback(resource, event, payload)
