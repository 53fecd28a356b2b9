"""The router plugin's coalescing sender of router updates (update_batches.py)."""
import threading

from netweave.service_plugins.router import update_batches


class Recorder:
    """A send that records its batches; ``gate`` (when set) holds it until opened."""

    def __init__(self, gate=None, fail_first=False):
        self.batches = []
        self.gate = gate
        self.fail_first = fail_first
        self.entered = threading.Event()

    def __call__(self, batch):
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        self.batches.append(batch)
        if self.fail_first and len(self.batches) == 1:
            raise RuntimeError("broker gone")


def test_a_lone_change_is_sent_at_once():
    sent = Recorder()
    batches = update_batches.UpdateBatches(sent)
    assert batches.wait_idle(0.1)  # nothing queued yet: idle without a thread
    batches.add(["r1"])
    assert batches.wait_idle(10)
    assert sent.batches == [["r1"]]


def test_changes_during_a_send_go_together_in_the_next_one():
    gate = threading.Event()
    sent = Recorder(gate)
    batches = update_batches.UpdateBatches(sent)
    batches.add(["r1"])
    assert sent.entered.wait(10)
    # The sender is busy with r1: these gather, a router named twice once.
    for router_id in ("r3", "r2", "r3", "r1"):
        batches.add([router_id])
    assert not batches.wait_idle(0.05)
    gate.set()
    assert batches.wait_idle(10)
    assert sent.batches == [["r1"], ["r1", "r2", "r3"]]


def test_a_failed_send_is_dropped_and_the_next_is_sent():
    sent = Recorder(fail_first=True)
    batches = update_batches.UpdateBatches(sent)
    batches.add(["r1"])
    assert batches.wait_idle(10)
    batches.add(["r2"])
    assert batches.wait_idle(10)
    assert sent.batches == [["r1"], ["r2"]]
