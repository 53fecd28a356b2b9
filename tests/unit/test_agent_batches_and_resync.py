"""Pure unit tests: the reconciler loop's batched calls, and the reporter's stalled-report resync."""
from netweave.core.agent import loop as loop_mod
from netweave.core.agent import state_reporter

STATE = {"agent_type": "Linux bridge agent", "binary": "netweave-linuxbridge-agent", "host": "compute1",
         "topic": "q-agent-notifier", "configurations": {}}


class FakeServer:
    """The loop's two PluginApi calls, answered from {device: network id}; calls are recorded."""

    def __init__(self, known):
        self.known = dict(known)
        self.detail_calls = []
        self.list_calls = []
        self.fail_up = set()

    def get_devices_details_list_and_failed_devices(self, context, devices, agent_id, host):
        self.detail_calls.append(sorted(devices))
        return {"devices": [{"device": d, "port_id": "port-" + d, "network_id": self.known[d]}
                            if d in self.known else {"device": d} for d in devices],
                "failed_devices": []}

    def update_device_list(self, context, devices_up, devices_down, agent_id, host):
        self.list_calls.append((sorted(devices_up), sorted(devices_down)))
        failed = sorted(set(devices_up) & self.fail_up)
        return {"devices_up": [d for d in devices_up if d not in failed], "failed_devices_up": failed,
                "devices_down": [{"device": d, "exists": True} for d in devices_down],
                "failed_devices_down": []}


class FakeAgent:
    """Wires every device the server knows."""

    def __init__(self, devices):
        self.devices = set(devices)

    def scan_devices(self):
        return {device: {} for device in self.devices}

    def plan(self, desired, actual):
        return sorted(d for d in desired.changed if "port_id" in desired.devices[d])

    def apply(self, plan):
        return loop_mod.Outcome(devices_up=list(plan))


class FakeStateApi:
    def __init__(self, answers):
        self.answers = list(answers)

    def report_state(self, context, agent_state, use_call=True, timeout=None):
        return self.answers.pop(0)


def make_loop(agent, server):
    return loop_mod.ReconcileLoop(agent, server, context=None, agent_id="lb0001", host="compute1",
                                  polling_interval=0.01, resync_interval=300, clock=lambda: 1000.0)


def test_a_full_pass_asks_and_reports_in_one_call_each():
    devices = {"tap%03d" % i for i in range(200)}
    server = FakeServer({d: "net-a" for d in devices})
    loop = make_loop(FakeAgent(devices), server)
    assert loop.run_once()
    assert server.detail_calls == [sorted(devices)]
    assert server.list_calls == [(sorted(devices), [])]


def test_a_huge_host_is_asked_about_and_reported_in_chunks():
    devices = {"tap%04d" % i for i in range(loop_mod.RPC_CHUNK * 2 + 10)}
    server = FakeServer({d: "net-a" for d in devices})
    loop = make_loop(FakeAgent(devices), server)
    assert loop.run_once()
    assert [len(call) for call in server.detail_calls] == [loop_mod.RPC_CHUNK, loop_mod.RPC_CHUNK, 10]
    assert sorted(d for call in server.detail_calls for d in call) == sorted(devices)
    assert [len(up) for up, _down in server.list_calls] == [loop_mod.RPC_CHUNK, loop_mod.RPC_CHUNK, 10]
    assert sorted(d for up, _down in server.list_calls for d in up) == sorted(devices)


def test_up_and_down_share_a_chunk_and_failures_are_retried():
    server = FakeServer({"tap1": "net-a", "tap2": "net-a"})
    agent = FakeAgent({"tap1", "tap2", "tap3"})
    loop = make_loop(agent, server)
    assert loop.run_once()
    server.fail_up = {"tap2"}
    agent.devices = {"tap2"}
    loop.mark_dirty("tap2")
    assert loop.run_once()
    assert server.list_calls[-1] == (["tap2"], ["tap1"])
    server.fail_up = set()
    assert loop.run_once()
    # tap2 failed to be reported up, so the next pass asks about it and reports it again.
    assert server.detail_calls[-1] == ["tap2"] and server.list_calls[-1] == (["tap2"], [])


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_reports_far_apart_ask_for_a_resync():
    """A call that hung while the client reconnected to a restarted broker still succeeds
    in the end; the gap since the previous success says notifications may be lost."""
    clock = Clock()
    resyncs = []
    reporter = state_reporter.StateReporter(FakeStateApi(["new", "alive", "alive", "alive"]), None,
                                            lambda: STATE, 2, on_resync=resyncs.append, clock=clock)
    reporter.report_once()
    clock.now += 2.5
    reporter.report_once()
    assert resyncs == []
    clock.now += 9.0   # more than three intervals
    reporter.report_once()
    assert len(resyncs) == 1 and "stalled" in resyncs[0]
    clock.now += 2.0
    reporter.report_once()
    assert len(resyncs) == 1
