"""The outbox's contract: order, a bound, draining at exit, work handed over by its own thread."""
import threading

from netweave.core.rpc import outbox


def _gate():
    """(work that blocks its thread until the gate opens, the gate)."""
    gate = threading.Event()
    return (lambda: gate.wait(10)), gate


def test_work_runs_off_the_caller_in_the_order_handed_over():
    box = outbox.Outbox()
    done = []
    block, gate = _gate()
    box.submit(block, "block")
    callers = set()
    for i in range(50):
        box.submit(lambda i=i: (done.append(i), callers.add(threading.get_ident())), "item %d" % i)
    # Nothing ran in the caller, which did not wait.
    assert done == [] and box.pending() == 51
    gate.set()
    assert box.flush(10)
    assert done == list(range(50)) and callers != {threading.get_ident()} and box.pending() == 0


def test_a_full_outbox_drops_the_new_item_and_counts_it():
    box = outbox.Outbox(capacity=3)
    block, gate = _gate()
    box.submit(block, "block")
    assert box.flush(0.2) is False  # the gate holds the thread
    done = []
    results = [box.submit(lambda i=i: done.append(i), "item %d" % i) for i in range(5)]
    assert results == [True, True, True, False, False] and box.dropped == 2
    gate.set()
    assert box.flush(10) and done == [0, 1, 2]


def test_work_handed_over_by_the_outbox_thread_runs_in_its_place():
    box = outbox.Outbox()
    done = []

    def reads_then_casts():
        done.append("read")
        box.submit(lambda: done.append("cast"), "cast")

    box.submit(reads_then_casts, "first")
    box.submit(lambda: done.append("second"), "second")
    assert box.flush(10) and done == ["read", "cast", "second"]


def test_a_failing_item_is_logged_and_the_rest_still_run(caplog):
    box = outbox.Outbox()
    done = []
    box.submit(lambda: 1 / 0, "broken")
    box.submit(lambda: done.append("next"), "next")
    assert box.flush(10) and done == ["next"]
    assert "Could not send broken" in caplog.text


def test_close_drains_within_its_deadline_then_drops_the_rest(caplog):
    box = outbox.Outbox()
    block, gate = _gate()
    done = []
    box.submit(block, "block")
    box.submit(lambda: done.append("late"), "late")
    box.close(timeout=0.2)
    assert "1 notifications dropped at exit" in caplog.text
    gate.set()
    # Work handed over after the close runs in the caller's thread.
    box.submit(lambda: done.append(threading.get_ident()), "after close")
    assert done == [threading.get_ident()]


def test_close_waits_for_what_is_queued():
    box = outbox.Outbox()
    done = []
    for i in range(20):
        box.submit(lambda i=i: done.append(i), "item")
    box.close(timeout=10)
    assert done == list(range(20))
