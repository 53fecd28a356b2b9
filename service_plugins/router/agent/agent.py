"""The L3 agent's reconciler: the routers scheduled to this host, as qrouter- namespaces.

One thread runs passes; the server's casts (rpc.L3Notifications) only queue
work for it:

* a *full* pass asks the server for every router of this host
  (sync_routers), serves each through the applier and removes the namespaces
  of routers no longer described. The first one also removes qrouter-
  namespaces left on the host by an earlier run. It runs when
  core.agent.resync says: at start, every [agent] resync_interval seconds,
  after a failed pass, and when the state reporter says notifications may
  have been lost;
* between them, routers named by casts are fetched (sync_routers with their
  ids) and served; one the server no longer returns, or that was deleted or
  removed from this agent, is removed.

After serving a router its floating IP statuses are reported
(update_floatingip_statuses) when they differ from the ones the server holds:
the statuses in the description just fetched. So a restarted agent whose
routers are all in place reports nothing, and one that changed a floating IP
reports it once. With ``report_in_background`` (the agent process) the reports
go from a thread (status_reports.py) and the next pass need not wait for them;
otherwise the pass makes them.
A pass in which a router could not be fully applied counts as failed.
"""
import logging
import threading
import time

from netweave.core.agent import resync
from netweave.core.rpc import topics
from netweave.service_plugins.router.agent import status_reports

LOG = logging.getLogger(__name__)

BINARY = "netweave-l3-agent"


def held_statuses(description):
    """{floating IP id: status} as the server holds them, from a sync_routers entry."""
    return {fip.get("id"): fip.get("status") for fip in description.get("_floatingips") or ()
            if isinstance(fip, dict)}


class L3Agent:
    """``plugin_api``: rpc.L3PluginApi; ``applier``: applier.RouterApplier."""

    def __init__(self, host, plugin_api, context, applier, configurations=None, handle_internal_only_routers=True,
                 resync_interval=300, error_resync_delay=5, availability_zone="nova", remove_stale_namespaces=True,
                 clock=time.monotonic, report_in_background=False):
        self.host = host
        self.plugin_api = plugin_api
        self.context = context
        self.applier = applier
        self.configurations = dict(configurations or {})
        self.handle_internal_only_routers = handle_internal_only_routers
        self.schedule = resync.ResyncSchedule(resync_interval, error_resync_delay, clock=clock)
        self.availability_zone = availability_zone
        self.routers = {}           # router id -> description as last served
        self.passes = 0
        self.last_changed = 0       # routers the last full sync changed anything of
        self.last_error = None
        self._changed, self._gone = set(), set()
        self._lock = threading.Lock()
        self._scanned = not remove_stale_namespaces
        self._status_reports = status_reports.StatusReports(
            self._report_statuses, on_failure=self.schedule.resync_later) if report_in_background else None

    # --- from other threads -----------------------------------------------------------------

    def routers_changed(self, router_ids):
        with self._lock:
            for router_id in router_ids:
                self._changed.add(router_id)
                self._gone.discard(router_id)
        self.schedule.wake()

    def router_gone(self, router_id):
        with self._lock:
            self._gone.add(router_id)
            self._changed.discard(router_id)
        self.schedule.wake()

    def request_resync(self, reason="requested"):
        self.schedule.request_resync(reason)

    def stop(self):
        self.schedule.stop()

    def agent_state(self):
        """The heartbeat's agent_state (Neutron's L3 agent configurations)."""
        routers = list(self.routers.values())
        configurations = dict(self.configurations)
        configurations.update({
            "routers": len(routers),
            "ex_gw_ports": sum(1 for router in routers if router.get("gw_port")),
            "interfaces": sum(len(router.get("_interfaces") or ()) for router in routers),
            "floating_ips": sum(len(router.get("_floatingips") or ()) for router in routers),
            "handle_internal_only_routers": self.handle_internal_only_routers,
            "log_agent_heartbeats": False,
        })
        return {"agent_type": topics.AGENT_TYPE_L3, "binary": BINARY, "host": self.host, "topic": topics.L3_AGENT,
                "availability_zone": self.availability_zone, "configurations": configurations}

    # --- passes -----------------------------------------------------------------------------

    def _take_events(self):
        with self._lock:
            changed, gone = set(self._changed), set(self._gone)
            self._changed.clear()
            self._gone.clear()
        return changed, gone

    def run_once(self):
        """One pass; True when every router was served without error."""
        reason = self.schedule.take_full_reason()
        changed, gone = self._take_events()  # a full pass serves what they say too
        clock = self.schedule.clock
        started = clock()
        try:
            if reason is not None:
                ok = self.sync_all()
                self.schedule.full_done(started)
                LOG.info("Full sync (%s) of %d routers done in %.2fs, %d changed", reason, len(self.routers),
                         clock() - started, self.last_changed)
            else:
                ok = self._apply_events(changed, gone)
        except Exception as error:  # noqa: BLE001 - whatever failed, a full sync repairs it
            LOG.exception("L3 agent pass failed; resyncing fully")
            ok, self.last_error = False, error
        if not ok:
            self.schedule.failed()
            return False
        self.last_error = None
        self.passes += 1
        return True

    def _wanted(self, descriptions):
        wanted = []
        for data in descriptions or ():
            if not isinstance(data, dict):
                continue
            if not self.handle_internal_only_routers and not data.get("gw_port"):
                continue
            wanted.append(data)
        return wanted

    def sync_all(self):
        descriptions = self._wanted(self.plugin_api.sync_routers(self.context))
        reports = self.applier.sync(descriptions, scan=not self._scanned)
        self._scanned = True
        self.last_changed = sum(1 for report in reports.values() if report.changed)
        served = {data["id"]: data for data in descriptions if "id" in data}
        self.routers = {router_id: served[router_id] for router_id in reports if router_id in served}
        return self._after(reports, descriptions)

    def _apply_events(self, changed, gone):
        reports, descriptions = {}, []
        for router_id in sorted(gone):
            reports[router_id] = self.applier.remove(router_id)
        if changed:
            descriptions = self._wanted(self.plugin_api.sync_routers(self.context, sorted(changed)))
            served = self.applier.serve_many(descriptions)
            for data in descriptions:
                if data.get("id") in served:
                    reports[data["id"]] = served[data["id"]]
                    self.routers[data["id"]] = data
            for router_id in sorted(changed - set(reports)):
                reports[router_id] = self.applier.remove(router_id)
        return self._after(reports, descriptions)

    def _after(self, reports, descriptions):
        held = {data["id"]: held_statuses(data) for data in descriptions if "id" in data}
        ok = True
        for router_id, report in reports.items():
            ok = ok and report.ok
            if report.namespace_removed or router_id not in self.applier.served:
                self.routers.pop(router_id, None)
                continue
            statuses = report.floating_ip_statuses
            if statuses and statuses != held.get(router_id):
                if self._status_reports is not None:
                    self._status_reports.add(router_id, statuses)
                else:
                    self._report_statuses(router_id, statuses)
        return ok

    def _report_statuses(self, router_id, statuses):
        self.plugin_api.update_floatingip_statuses(self.context, router_id, statuses)

    def wait_reported(self, timeout=5):
        """True once every status report recorded so far was sent (at once when the pass sends them)."""
        return self._status_reports is None or self._status_reports.wait_idle(timeout)

    # --- running ------------------------------------------------------------------------------

    def run(self):
        self.schedule.run(self.run_once)
