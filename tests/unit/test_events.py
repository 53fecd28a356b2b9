"""The resource event registry: ordering, vetoes, precommit failures, after-commit isolation."""
import pytest

from netweave.core import events
from netweave.core import exceptions as exc


def _payload(**kwargs):
    return events.Payload(context=None, resource_id="r1", **kwargs)


def test_subscribers_run_by_priority_then_subscription_order():
    registry = events.EventRegistry()
    calls = []

    def make(name):
        def callback(resource, event, payload):
            calls.append((name, resource, event, payload.resource_id))
        callback.__qualname__ = name
        return callback

    registry.subscribe(make("late"), events.PORT, events.Event.AFTER_CREATE, priority=2000)
    registry.subscribe(make("first"), events.PORT, events.Event.AFTER_CREATE)
    registry.subscribe(make("second"), events.PORT, events.Event.AFTER_CREATE)
    registry.subscribe(make("other-event"), events.PORT, events.Event.AFTER_DELETE)
    registry.publish(events.PORT, events.Event.AFTER_CREATE, _payload())
    assert [c[0] for c in calls] == ["first", "second", "late"]
    assert calls[0][1:] == (events.PORT, events.Event.AFTER_CREATE, "r1")
    assert registry.subscribers(events.PORT, events.Event.AFTER_CREATE) == ["first", "second", "late"]


def test_a_before_subscriber_vetoes_and_later_ones_do_not_run():
    registry = events.EventRegistry()
    ran = []

    def veto(resource, event, payload):
        raise exc.InUse()

    registry.subscribe(veto, events.PORT, events.Event.BEFORE_DELETE)
    registry.subscribe(lambda *a: ran.append(a), events.PORT, events.Event.BEFORE_DELETE)
    with pytest.raises(exc.InUse):
        registry.publish(events.PORT, events.Event.BEFORE_DELETE, _payload(via_api=True))
    assert ran == []


def test_precommit_errors_reach_the_caller():
    registry = events.EventRegistry()

    def fail(resource, event, payload):
        raise RuntimeError("rows could not be written")

    registry.subscribe(fail, events.NETWORK, events.Event.PRECOMMIT_UPDATE)
    with pytest.raises(RuntimeError):
        registry.publish(events.NETWORK, events.Event.PRECOMMIT_UPDATE, _payload(session=object()))


def test_after_errors_are_logged_and_the_others_still_run(caplog):
    registry = events.EventRegistry()
    ran = []

    def broken(resource, event, payload):
        raise RuntimeError("agent unreachable")

    registry.subscribe(broken, events.SUBNET, events.Event.AFTER_DELETE)
    registry.subscribe(lambda *a: ran.append(a[1]), events.SUBNET, events.Event.AFTER_DELETE)
    registry.publish(events.SUBNET, events.Event.AFTER_DELETE, _payload())
    assert ran == [events.Event.AFTER_DELETE]
    assert "agent unreachable" in caplog.text


def test_publishing_without_subscribers_does_nothing_and_events_are_typed():
    registry = events.EventRegistry()
    registry.publish("router", events.Event.BEFORE_DELETE, _payload())
    assert not registry.has_subscribers("router", events.Event.BEFORE_DELETE)
    with pytest.raises(TypeError):
        registry.subscribe(lambda *a: None, events.PORT, "after_create")
    assert events.Event.PRECOMMIT_DELETE.phase is events.Phase.PRECOMMIT
    assert _payload(original={"a": 1}).latest == {"a": 1}
    assert _payload(original={"a": 1}, current={"a": 2}).latest == {"a": 2}
