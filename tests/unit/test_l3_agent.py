"""The L3 agent's passes: what it asks the server, what it has the applier do, what it reports."""
import threading
import time

from harness import l3
from netweave.service_plugins.router.agent import agent as agent_mod
from netweave.service_plugins.router.agent import rpc as l3_rpc
from netweave.service_plugins.router.agent import status_reports
from netweave.service_plugins.router.agent.applier import ApplyReport

R1, R2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


class FakePlugin:
    def __init__(self, routers):
        self.routers = routers
        self.calls, self.statuses = [], []

    def sync_routers(self, context, router_ids=None):
        self.calls.append(router_ids)
        return [r for r in self.routers if router_ids is None or r["id"] in router_ids]

    def update_floatingip_statuses(self, context, router_id, fip_statuses):
        """Recorded, and held as the server does: the next descriptions carry them."""
        self.statuses.append((router_id, fip_statuses))
        for router in self.routers:
            for fip in router["_floatingips"] if router["id"] == router_id else ():
                fip["status"] = fip_statuses.get(fip["id"], fip["status"])


class FakeApplier:
    """Records what it is asked; every router applies cleanly unless listed in ``failing``."""

    def __init__(self):
        self.served, self.log, self.failing = set(), [], set()

    def _report(self, data):
        report = ApplyReport(router_id=data["id"])
        if data["id"] in self.failing:
            report.errors.append("plug failed")
        report.floating_ip_statuses = {fip["id"]: "ACTIVE" for fip in data.get("_floatingips") or ()}
        self.served.add(data["id"])
        return report

    def serve(self, data):
        self.log.append(("serve", data["id"]))
        return self._report(data)

    def serve_many(self, descriptions):
        return {data["id"]: self.serve(data) for data in descriptions}

    def sync(self, descriptions, scan=False):
        self.log.append(("sync", tuple(d["id"] for d in descriptions), scan))
        reports = {d["id"]: self._report(d) for d in descriptions}
        for router_id in sorted(self.served - set(reports)):
            reports[router_id] = self.remove(router_id)
        return reports

    def remove(self, router_id):
        self.log.append(("remove", router_id))
        self.served.discard(router_id)
        return ApplyReport(router_id=router_id, namespace_removed=True)


def with_fip(router_id, fixed_ip="10.0.0.6"):
    return l3.router(router_id, gateway=l3.book_gateway(), interfaces=[l3.book_interface()],
                     floating_ips=[l3.floating_ip("10.30.0.101", fixed_ip, "p1", router_id=router_id)])


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def make(routers, **kwargs):
    plugin, applier = FakePlugin(routers), FakeApplier()
    return agent_mod.L3Agent("network01", plugin, None, applier, **kwargs), plugin, applier


def test_first_full_sync_scans_the_host_and_reports_statuses_once():
    agent, plugin, applier = make([with_fip(R1), l3.router(R2, interfaces=[l3.book_interface()])])
    assert agent.run_once()
    assert applier.log == [("sync", (R1, R2), True)]
    assert plugin.statuses == [(R1, {l3.FIP_ID: "ACTIVE"})]
    agent.request_resync("test")
    assert agent.run_once()
    assert applier.log[-1] == ("sync", (R1, R2), False)
    assert len(plugin.statuses) == 1                      # unchanged statuses are not sent again
    assert agent.agent_state()["configurations"]["routers"] == 2


def test_internal_only_routers_can_be_left_out():
    agent, _plugin, applier = make([with_fip(R1), l3.router(R2, interfaces=[l3.book_interface()])],
                                   handle_internal_only_routers=False, remove_stale_namespaces=False)
    assert agent.run_once()
    assert applier.log == [("sync", (R1,), False)]


def test_notifications_fetch_only_the_named_routers_and_remove_what_is_gone():
    agent, plugin, applier = make([with_fip(R1), with_fip(R2)])
    agent.run_once()
    endpoint = l3_rpc.L3Notifications(agent)
    plugin.routers = [with_fip(R1)]                       # R2 no longer scheduled here
    endpoint.routers_updated(None, routers=[R1, R2])
    assert agent.run_once()
    assert plugin.calls[-1] == [R1, R2]
    assert applier.log[-2:] == [("serve", R1), ("remove", R2)]
    endpoint.router_removed_from_agent(None, payload={"router_id": R1})
    assert agent.run_once()
    assert applier.log[-1] == ("remove", R1) and agent.routers == {}


def test_a_failed_router_makes_the_next_pass_a_full_one():
    agent, plugin, applier = make([with_fip(R1)])
    agent.run_once()
    applier.failing.add(R1)
    agent.routers_changed([R1])
    assert not agent.run_once()
    applier.failing.clear()
    assert agent.run_once()
    assert plugin.calls[-1] is None and applier.log[-1][0] == "sync"


def test_a_failing_server_call_fails_the_pass_and_is_retried_fully():
    agent, plugin, _applier = make([with_fip(R1)])

    def broken(context, router_ids=None):
        raise RuntimeError("MessagingTimeout")
    plugin.sync_routers = broken
    assert not agent.run_once() and isinstance(agent.last_error, RuntimeError)
    del plugin.sync_routers
    assert agent.run_once() and plugin.calls == [None]


def test_a_restarted_agent_reports_no_status_the_server_already_holds():
    routers = [with_fip(R1), with_fip(R2)]
    routers[0]["_floatingips"][0]["status"] = "ACTIVE"
    agent, plugin, _applier = make(routers)
    assert agent.run_once()
    assert plugin.statuses == [(R2, {l3.FIP_ID: "ACTIVE"})]     # only R2's was not ACTIVE on the server


def test_a_status_the_server_changed_is_reported_again():
    agent, plugin, _applier = make([with_fip(R1)])
    assert agent.run_once()
    assert plugin.statuses == [(R1, {l3.FIP_ID: "ACTIVE"})]
    plugin.routers[0]["_floatingips"][0]["status"] = "DOWN"     # e.g. associated again meanwhile
    agent.routers_changed([R1])
    assert agent.run_once()
    assert plugin.statuses[-1] == (R1, {l3.FIP_ID: "ACTIVE"}) and len(plugin.statuses) == 2
    agent.routers_changed([R1])
    assert agent.run_once()
    assert len(plugin.statuses) == 2


def test_statuses_reported_in_background_do_not_hold_up_the_pass():
    agent, plugin, _applier = make([with_fip(R1), with_fip(R2)], report_in_background=True)
    release = threading.Event()
    sent = plugin.update_floatingip_statuses

    def slow(context, router_id, fip_statuses):
        assert release.wait(10)
        sent(context, router_id, fip_statuses)
    plugin.update_floatingip_statuses = slow
    assert agent.run_once()                                   # returns while the reports wait
    assert plugin.statuses == [] and not agent.wait_reported(0.05)
    release.set()
    assert agent.wait_reported(10)
    assert sorted(plugin.statuses) == [(R1, {l3.FIP_ID: "ACTIVE"}), (R2, {l3.FIP_ID: "ACTIVE"})]


def test_a_failed_background_report_asks_for_a_full_sync_after_the_error_delay():
    clock = Clock()
    agent, plugin, applier = make([with_fip(R1)], report_in_background=True, error_resync_delay=5, clock=clock)

    def broken(context, router_id, fip_statuses):
        raise RuntimeError("server gone")
    plugin.update_floatingip_statuses = broken
    assert agent.run_once()
    assert agent.wait_reported(10)
    plugin.update_floatingip_statuses = FakePlugin.update_floatingip_statuses.__get__(plugin)
    # Not back to back: a call that keeps failing is retried no faster than the error delay.
    assert agent.run_once()
    assert applier.log[-1] != ("sync", (R1,), False)
    clock.now += 5
    assert agent.run_once()                                   # the resync the failure asked for
    assert applier.log[-1] == ("sync", (R1,), False)
    assert agent.wait_reported(10)
    assert plugin.statuses == [(R1, {l3.FIP_ID: "ACTIVE"})]


def test_newer_statuses_of_a_router_replace_those_not_sent_yet():
    sent, release = [], threading.Event()
    reports = status_reports.StatusReports(lambda router_id, statuses: (release.wait(10), sent.append(
        (router_id, statuses))))
    reports.add(R1, {"f1": "DOWN"})                           # taken by the thread, waits
    time.sleep(0.05)
    reports.add(R2, {"f2": "DOWN"})
    reports.add(R2, {"f2": "ACTIVE"})
    release.set()
    assert reports.wait_idle(10)
    assert sent == [(R1, {"f1": "DOWN"}), (R2, {"f2": "ACTIVE"})]
