"""The haproxy agent's pure parts and its loop with stand-ins: stats parsing (members, the load
balancer's and each listener's counters), the statuses it reports, least-loaded scheduling, and
what run_once asks the server and the driver."""
import threading
import time

from netweave.core.agent import resync
from netweave.service_plugins.lbaasv2 import scheduling
from netweave.service_plugins.lbaasv2.agent import agent as agent_mod
from netweave.service_plugins.lbaasv2.agent import stats

SHOW_STAT = """\
# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight
L1,FRONTEND,,,2,5,2000,40,1000,9000,0,0,1,,,,,OPEN,
P1,m1,0,0,1,2,,20,500,4500,,0,,0,0,0,0,UP,1
P1,m2,0,0,0,2,,20,500,4500,,0,,0,0,0,0,DOWN,1
P1,m3,0,0,0,2,,0,0,0,,0,,0,0,0,0,UP 1/2,1
P1,m4,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1
P1,BACKEND,0,0,1,4,200,40,1000,9000,0,0,,0,0,0,0,UP,2
"""


def test_member_statuses_and_counters():
    rows = stats.parse(SHOW_STAT)
    assert stats.member_statuses(rows) == {"m1": "ONLINE", "m2": "OFFLINE", "m3": "ONLINE", "m4": "NO_MONITOR"}
    assert stats.loadbalancer_stats(rows) == {"active_connections": 2, "total_connections": 40, "bytes_in": 1000,
                                              "bytes_out": 9000, "request_errors": 1}


# Two listeners: each frontend is named after its listener (haproxy_config.py).
TWO_FRONTENDS = """\
# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight
L1,FRONTEND,,,2,5,2000,40,1000,9000,0,0,1,,,,,OPEN,
L2,FRONTEND,,,0,1,2000,7,,350,0,0,,,,,,OPEN,
P1,m1,0,0,1,2,,20,500,4500,,0,,0,0,0,0,UP,1
P1,BACKEND,0,0,1,4,200,40,1000,9000,0,0,,0,0,0,0,UP,2
"""


def test_listener_counters_come_from_their_frontends():
    rows = stats.parse(TWO_FRONTENDS)
    assert stats.listener_stats(rows) == {
        "L1": {"active_connections": 2, "total_connections": 40, "bytes_in": 1000, "bytes_out": 9000,
               "request_errors": 1},
        # haproxy leaves a counter it has nothing for empty: 0.
        "L2": {"active_connections": 0, "total_connections": 7, "bytes_in": 0, "bytes_out": 350,
               "request_errors": 0}}
    # The load balancer's are their sum.
    assert stats.loadbalancer_stats(rows) == {"active_connections": 2, "total_connections": 47, "bytes_in": 1000,
                                              "bytes_out": 9350, "request_errors": 1}
    # Servers and backends are no listener's.
    assert list(stats.listener_stats(stats.parse(SHOW_STAT))) == ["L1"]
    assert stats.listener_stats([]) == {}


def _description(members):
    return {"id": "lb", "listeners": [{"id": "L1", "default_pool_id": "P1"}],
            "pools": [{"id": "P1", "members": [{"id": m, "admin_state_up": True} for m in members]}]}


def test_tree_statuses_follow_the_members():
    degraded = stats.tree_statuses(_description(["m1", "m2"]), {"m1": "ONLINE", "m2": "OFFLINE"})
    assert degraded["pool"] == {"P1": "DEGRADED"} and degraded["listener"] == {"L1": "DEGRADED"}
    assert degraded["loadbalancer"] == {"lb": "DEGRADED"}
    down = stats.tree_statuses(_description(["m1"]), {"m1": "OFFLINE"})
    assert down["pool"] == {"P1": "ERROR"} and down["loadbalancer"] == {"lb": "DEGRADED"}
    fine = stats.tree_statuses(_description(["m1"]), {"m1": "ONLINE"})
    assert fine["loadbalancer"] == {"lb": "ONLINE"}


def test_least_loaded_agent():
    assert scheduling.pick_agent([], {}) is None
    assert scheduling.pick_agent(["a", "b", "c"], {"a": 2, "b": 1}) == "c"
    assert scheduling.pick_agent(["a", "b"], {"a": 1, "b": 1}) == "a"


class FakeApi:
    def __init__(self, descriptions):
        self.descriptions = descriptions
        self.calls = []

    def get_ready_devices(self, context):
        self.calls.append(("ready",))
        return list(self.descriptions)

    def get_loadbalancer(self, context, lb_id):
        return self.descriptions.get(lb_id)

    def plug_vip_port(self, context, port_id):
        self.calls.append(("plug", port_id))

    def loadbalancer_deployed(self, context, lb_id, success):
        self.calls.append(("deployed", lb_id, success))

    def update_status(self, context, lb_id, statuses, stats, listener_stats):
        self.calls.append(("status", lb_id, statuses["member"]))
        self.calls.append(("counters", lb_id, stats["total_connections"],
                           {listener: counters["total_connections"] for listener, counters in listener_stats.items()}))


class FakeDriver:
    def __init__(self, deployed=(), fail=()):
        self._deployed = set(deployed)
        self.fail = set(fail)
        self.undeployed = []

    def deployed(self):
        return sorted(self._deployed)

    def deploy(self, description):
        if description["id"] in self.fail:
            raise RuntimeError("haproxy refused the file")
        self._deployed.add(description["id"])
        return True

    def undeploy(self, lb_id):
        self._deployed.discard(lb_id)
        self.undeployed.append(lb_id)

    def read_stats(self, lb_id):
        return SHOW_STAT


def _lb(lb_id, host="host1"):
    return dict(_description(["m1", "m2"]), id=lb_id, provisioning_status="PENDING_CREATE",
                vip_port={"id": "port-" + lb_id, "binding_host": host})


def test_first_pass_resyncs_deploys_reports_and_removes_stale():
    api = FakeApi({"lb1": _lb("lb1", host=""), "lb2": _lb("lb2")})
    driver = FakeDriver(deployed=["gone"], fail=["lb2"])
    agent = agent_mod.LbaasAgent("host1", api, None, driver, clock=lambda: 100.0)
    agent.run_once()
    assert driver.undeployed == ["gone"]
    assert ("plug", "port-lb1") in api.calls and ("plug", "port-lb2") not in api.calls
    assert ("deployed", "lb1", True) in api.calls and ("deployed", "lb2", False) in api.calls
    assert ("status", "lb1", {"m1": "ONLINE", "m2": "OFFLINE", "m3": "ONLINE", "m4": "NO_MONITOR"}) in api.calls
    assert ("counters", "lb1", 40, {"L1": 40}) in api.calls
    assert agent.agent_state()["agent_type"] == "Loadbalancerv2 agent"
    # A load balancer the server no longer knows is removed when it is next named.
    api.descriptions.pop("lb1")
    agent.changed("lb1")
    agent.run_once()
    assert driver.undeployed == ["gone", "lb1"]


class AwayApi(FakeApi):
    """The server unreachable for fetches while ``away`` is set."""

    def __init__(self, descriptions):
        super().__init__(descriptions)
        self.away = True
        self.fetches = 0

    def get_loadbalancer(self, context, lb_id):
        self.fetches += 1
        if self.away:
            raise RuntimeError("the server is away")
        return super().get_loadbalancer(context, lb_id)


def test_a_pass_that_cannot_reach_the_server_keeps_its_work_and_makes_the_next_full():
    api = AwayApi({"lb1": _lb("lb1")})
    agent = agent_mod.LbaasAgent("host1", api, None, FakeDriver(), clock=lambda: 100.0)
    assert agent.run_once() is False
    assert agent.schedule.take_full_reason() == resync.PASS_FAILED
    api.away = False
    assert agent.run_once() is True  # lb1 was kept for this pass
    assert ("deployed", "lb1", True) in api.calls


def test_a_server_away_is_asked_again_after_a_pause_not_in_a_loop():
    api = AwayApi({"lb1": _lb("lb1")})
    agent = agent_mod.LbaasAgent("host1", api, None, FakeDriver(), periodic_interval=0.2)
    runner = threading.Thread(target=agent.run)
    runner.start()
    try:
        time.sleep(1.0)
        # A pass every 0.2 s, each asking once: a loop that retried at once would ask thousands of times.
        assert 2 <= api.fetches <= 8, api.fetches
        api.away = False
        deadline = time.monotonic() + 5
        while ("deployed", "lb1", True) not in api.calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ("deployed", "lb1", True) in api.calls
    finally:
        agent.stop()
        runner.join(5)
    assert not runner.is_alive()
