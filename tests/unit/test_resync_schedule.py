"""core.agent.resync: when an agent's passes are full, and how long it waits between them."""
import threading

from netweave.core.agent import resync


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_full_at_start_then_incremental_until_the_interval_has_passed():
    clock = Clock()
    schedule = resync.ResyncSchedule(resync_interval=60, clock=clock)
    assert schedule.take_full_reason() == resync.AGENT_START
    schedule.full_done(clock())
    assert schedule.take_full_reason() is None
    clock.now += 59.9
    assert schedule.take_full_reason() is None
    clock.now += 0.1
    assert schedule.take_full_reason() == resync.INTERVAL_ELAPSED


def test_no_periodic_full_pass_with_interval_zero():
    clock = Clock()
    schedule = resync.ResyncSchedule(resync_interval=0, clock=clock)
    schedule.take_full_reason()
    schedule.full_done(clock())
    clock.now += 10 ** 6
    assert schedule.take_full_reason() is None
    assert schedule.next_wait() is None  # wait for an event, however long


def test_a_failed_pass_or_a_request_makes_the_next_full_and_the_first_reason_wins():
    schedule = resync.ResyncSchedule(clock=Clock())
    schedule.take_full_reason()
    schedule.failed()
    schedule.request_resync("server lost us")
    assert schedule.take_full_reason() == resync.PASS_FAILED
    assert schedule.take_full_reason() is None
    schedule.request_resync("server lost us")
    assert schedule.take_full_reason() == "server lost us"


def test_resync_later_is_due_after_the_error_delay_and_a_full_pass_meanwhile_serves_it():
    clock = Clock()
    schedule = resync.ResyncSchedule(resync_interval=0, error_resync_delay=5, clock=clock)
    schedule.take_full_reason()
    schedule.full_done(clock())
    schedule.resync_later("a report failed")
    clock.now += 2
    schedule.resync_later("another report failed")      # the first deadline stands
    assert schedule.take_full_reason() is None
    assert schedule.next_wait() == 3
    clock.now += 3
    assert schedule.take_full_reason() == "a report failed"
    assert schedule.take_full_reason() is None and schedule.next_wait() is None
    # A full pass due for another reason serves a deferred one at once.
    schedule.resync_later("a report failed")
    schedule.request_resync("server lost us")
    assert schedule.take_full_reason() == "server lost us"
    clock.now += 10
    assert schedule.take_full_reason() is None


def test_waits_until_the_next_full_pass_or_the_poll_interval():
    clock = Clock()
    schedule = resync.ResyncSchedule(resync_interval=300, poll_interval=2, clock=clock)
    schedule.full_done(clock())
    assert schedule.next_wait() == 2
    clock.now += 299
    assert schedule.next_wait() == 1
    clock.now += 5
    assert schedule.next_wait() == 0.0


def test_run_retries_after_error_resync_delay_and_stops_when_told():
    schedule = resync.ResyncSchedule(resync_interval=0, error_resync_delay=0.01)
    outcomes = iter([False, False, True])
    reasons = []
    done = threading.Event()

    def one_pass():
        reasons.append(schedule.take_full_reason())
        completed = next(outcomes, True)
        if not completed:
            schedule.failed()
        if len(reasons) == 3:
            done.set()
        return completed

    runner = threading.Thread(target=schedule.run, args=(one_pass,))
    runner.start()
    try:
        assert done.wait(5)
        # The two failed passes were each followed by a full one, then it waited for an event.
        assert reasons == [resync.AGENT_START, resync.PASS_FAILED, resync.PASS_FAILED]
        schedule.wake()
        schedule.request_resync("asked")
    finally:
        schedule.stop()
        runner.join(5)
    assert not runner.is_alive()
    assert schedule.stopped
