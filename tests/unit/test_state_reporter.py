"""The agents' state reporter: start_flag, and when it asks for a full resync."""
import threading

import oslo_messaging

from netweave.core.agent import state_reporter

STATE = {"agent_type": "Linux bridge agent", "binary": "netweave-linuxbridge-agent", "host": "compute1",
         "topic": "q-agent-notifier", "configurations": {}}


class FakeStateApi:
    def __init__(self, answers):
        self.answers = list(answers)
        self.sent = []

    def report_state(self, context, agent_state, use_call=True, timeout=None):
        self.sent.append(dict(agent_state))
        answer = self.answers.pop(0) if self.answers else "alive"
        if isinstance(answer, Exception):
            raise answer
        return answer


def make(api, resyncs, interval=30):
    return state_reporter.StateReporter(api, None, lambda: STATE, interval, on_resync=resyncs.append)


def test_start_flag_until_a_report_gets_through():
    api = FakeStateApi([oslo_messaging.MessagingTimeout("no server"), "new", "alive"])
    resyncs = []
    reporter = make(api, resyncs)
    assert reporter.report_once() is None
    assert reporter.report_once() == "new"
    assert reporter.report_once() == "alive"
    assert [s.get("start_flag") for s in api.sent] == [True, True, None]
    # Failing before the first success loses nothing: the agent's first pass is full anyway.
    assert resyncs == []


def test_revived_asks_for_a_resync():
    api = FakeStateApi(["new", "revived"])
    resyncs = []
    reporter = make(api, resyncs)
    reporter.report_once()
    reporter.report_once()
    assert len(resyncs) == 1 and "dead" in resyncs[0]


def test_reports_failing_then_passing_ask_for_a_resync():
    api = FakeStateApi(["new", oslo_messaging.MessagingTimeout("broker away"), RuntimeError("still"), "alive",
                        "alive"])
    resyncs = []
    reporter = make(api, resyncs)
    for _ in range(5):
        reporter.report_once()
    assert len(resyncs) == 1 and "lost" in resyncs[0]
    assert not reporter.failing and reporter.last_status == "alive"


def test_thread_reports_periodically_and_stops():
    reported = threading.Event()
    api = FakeStateApi([])
    original = api.report_state

    def report_state(*args, **kwargs):
        result = original(*args, **kwargs)
        if len(api.sent) >= 3:
            reported.set()
        return result

    api.report_state = report_state
    reporter = make(api, [], interval=0.01)
    reporter.start()
    try:
        assert reported.wait(5)
    finally:
        reporter.stop(timeout=5)
    count = len(api.sent)
    threading.Event().wait(0.05)
    assert len(api.sent) == count


def test_zero_interval_sends_nothing():
    api = FakeStateApi([])
    reporter = make(api, [], interval=0)
    reporter.start()
    reporter.stop()
    assert api.sent == []
