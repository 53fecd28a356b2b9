"""The agents' reconciler loop: which devices each pass asks about, reports and retries."""
import threading

from netweave.core.agent import loop as loop_mod

HOST = "compute1"


class FakeServer:
    """The two PluginApi calls the loop makes, answered from a dict of known ports."""

    def __init__(self, known=None):
        self.known = dict(known or {})   # device -> network id
        self.detail_calls = []
        self.list_calls = []
        self.fail_details = set()
        self.fail_up = set()

    def get_devices_details_list_and_failed_devices(self, context, devices, agent_id, host):
        self.detail_calls.append(sorted(devices))
        result = {"devices": [], "failed_devices": []}
        for device in devices:
            if device in self.fail_details:
                result["failed_devices"].append(device)
            elif device in self.known:
                result["devices"].append({"device": device, "port_id": "port-" + device,
                                          "network_id": self.known[device], "admin_state_up": True})
            else:
                result["devices"].append({"device": device})
        return result

    def update_device_list(self, context, devices_up, devices_down, agent_id, host):
        self.list_calls.append((sorted(devices_up), sorted(devices_down)))
        failed = sorted(set(devices_up) & self.fail_up)
        return {"devices_up": [d for d in devices_up if d not in failed], "failed_devices_up": failed,
                "devices_down": [{"device": d, "exists": True} for d in devices_down],
                "failed_devices_down": []}


class FakeAgent:
    """Wires every device the server knows; records what each pass was given."""

    def __init__(self, devices=()):
        self.devices = set(devices)
        self.states = []
        self.raise_on_apply = False

    def scan_devices(self):
        return {device: {"name": device} for device in self.devices}

    def plan(self, desired, actual):
        self.states.append(desired)
        return sorted(d for d in desired.changed if "port_id" in desired.devices[d])

    def apply(self, plan):
        if self.raise_on_apply:
            raise RuntimeError("netlink went away")
        return loop_mod.Outcome(devices_up=list(plan))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def make_loop(agent, server, resync_interval=300, clock=None):
    return loop_mod.ReconcileLoop(agent, server, context=None, agent_id="lb0001", host=HOST,
                                  polling_interval=0.01, resync_interval=resync_interval,
                                  clock=clock or Clock())


def test_first_pass_is_full_and_reports_known_devices_up():
    server = FakeServer({"tap1": "net-a"})
    agent = FakeAgent({"tap1", "tap2"})
    loop = make_loop(agent, server)
    assert loop.run_once()
    assert server.detail_calls == [["tap1", "tap2"]]
    state = agent.states[0]
    assert state.full and state.changed == {"tap1", "tap2"} and not state.removed
    assert state.devices["tap2"] == {"device": "tap2"}  # not a port of this host
    assert server.list_calls == [(["tap1"], [])]


def test_incremental_pass_asks_only_about_new_and_dirty_devices():
    server = FakeServer({"tap1": "net-a", "tap2": "net-a", "tap3": "net-b"})
    agent = FakeAgent({"tap1", "tap2"})
    loop = make_loop(agent, server)
    loop.run_once()
    agent.devices.add("tap3")
    loop.mark_dirty("tap1", "tap-elsewhere")
    loop.run_once()
    assert server.detail_calls[-1] == ["tap1", "tap3"]
    state = agent.states[-1]
    assert not state.full and state.changed == {"tap1", "tap3"}
    # The plan still sees every device of the host, fetched now or before.
    assert set(state.devices) == {"tap1", "tap2", "tap3"}


def test_pass_with_nothing_new_asks_and_reports_nothing():
    server = FakeServer({"tap1": "net-a"})
    agent = FakeAgent({"tap1"})
    loop = make_loop(agent, server)
    loop.run_once()
    loop.run_once()
    assert server.detail_calls == [["tap1"]]
    assert server.list_calls == [(["tap1"], [])]


def test_vanished_ports_are_reported_down_and_forgotten():
    server = FakeServer({"tap1": "net-a"})
    agent = FakeAgent({"tap1", "tapx"})
    loop = make_loop(agent, server)
    loop.run_once()
    agent.devices.clear()
    loop.run_once()
    assert agent.states[-1].removed == {"tap1", "tapx"}
    # Only the device the server knew as a port is reported.
    assert server.list_calls[-1] == ([], ["tap1"])
    assert loop.desired == {}


def test_failed_pass_makes_the_next_one_full():
    server = FakeServer({"tap1": "net-a", "tap2": "net-a"})
    agent = FakeAgent({"tap1"})
    loop = make_loop(agent, server)
    loop.run_once()
    agent.devices.add("tap2")
    agent.raise_on_apply = True
    assert not loop.run_once()
    agent.raise_on_apply = False
    assert loop.run_once()
    assert agent.states[-1].full
    assert server.detail_calls[-1] == ["tap1", "tap2"]


def test_devices_the_server_failed_are_asked_again():
    server = FakeServer({"tap1": "net-a"})
    server.fail_details.add("tap1")
    agent = FakeAgent({"tap1"})
    loop = make_loop(agent, server)
    loop.run_once()
    server.fail_details.clear()
    server.fail_up.add("tap1")
    loop.run_once()
    server.fail_up.clear()
    loop.run_once()
    assert server.detail_calls == [["tap1"], ["tap1"], ["tap1"]]
    assert server.list_calls == [(["tap1"], []), (["tap1"], [])]


def test_resync_interval_and_requests_trigger_full_passes():
    clock = Clock()
    server = FakeServer({"tap1": "net-a"})
    agent = FakeAgent({"tap1"})
    loop = make_loop(agent, server, resync_interval=60, clock=clock)
    loop.run_once()
    clock.now += 30
    loop.run_once()
    assert not agent.states[-1].full
    clock.now += 31
    loop.run_once()
    assert agent.states[-1].full
    loop.request_resync("broker reconnected")
    loop.run_once()
    assert agent.states[-1].full
    loop.run_once()
    assert not agent.states[-1].full


def test_lookups_by_network_and_port():
    server = FakeServer({"tap1": "net-a", "tap2": "net-b"})
    loop = make_loop(FakeAgent({"tap1", "tap2"}), server)
    loop.run_once()
    assert loop.devices_on_network("net-a") == ["tap1"]
    assert loop.device_of_port("port-tap2") == "tap2"
    assert loop.device_of_port("port-unknown") is None


def test_run_wakes_on_events_and_stops():
    server = FakeServer({"tap1": "net-a"})
    agent = FakeAgent({"tap1"})
    loop = make_loop(agent, server)
    loop.polling_interval = 30  # only an event can start a second pass quickly
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        for _ in range(200):
            if loop.passes >= 1:
                break
            threading.Event().wait(0.01)
        loop.mark_dirty("tap1")
        for _ in range(200):
            if loop.passes >= 2:
                break
            threading.Event().wait(0.01)
        assert loop.passes >= 2
    finally:
        loop.stop()
        thread.join(5)
    assert not thread.is_alive()


class Recorder:
    """An agent extension that keeps its calls."""

    def __init__(self, fail=False):
        self.calls = []
        self.passes = 0
        self.fail = fail

    def initialize(self, agent_api, driver_type):
        self.calls.append(("initialize", driver_type))

    def before_pass(self, context):
        self.passes += 1

    def handle_port(self, context, details):
        self.calls.append(("handle_port", details["device"]))
        if self.fail:
            raise RuntimeError("extension bug")

    def delete_port(self, context, details):
        self.calls.append(("delete_port", details["device"], details["port_id"]))


def test_extensions_hear_about_ports_fetched_wired_and_gone():
    from netweave.core.agent import extensions

    server = FakeServer({"tap1": "net-a", "tap2": "net-a"})
    agent = FakeAgent({"tap1", "tap2", "tap9"})
    broken, recorder = Recorder(fail=True), Recorder()
    loop = loop_mod.ReconcileLoop(agent, server, context=None, agent_id="lb0001", host=HOST,
                                  extensions=extensions.ExtensionManager([("broken", broken), ("rec", recorder)]))
    assert loop.run_once()
    # tap9 is no port of this host: not told. A failing extension stops neither the pass nor the others.
    assert recorder.calls == [("handle_port", "tap1"), ("handle_port", "tap2")]
    assert broken.calls == recorder.calls
    assert recorder.passes == 1
    assert loop.run_once() and len(recorder.calls) == 2   # nothing new fetched
    assert recorder.passes == 2
    agent.devices.discard("tap2")
    loop.mark_dirty("tap1")
    assert loop.run_once()
    assert recorder.calls[2:] == [("handle_port", "tap1"), ("delete_port", "tap2", "port-tap2")]


def test_unknown_extension_names_are_refused():
    import pytest

    from netweave.core.agent import extensions

    with pytest.raises(ValueError, match="no agent extension named nope"):
        extensions.ExtensionManager.load(["nope"])
    assert not extensions.ExtensionManager.load([])
