"""The Loadbalancerv2 agent: keeps one haproxy per load balancer scheduled to this host.

Work arrives as load balancer ids (the server's ``loadbalancer_changed`` casts,
or a full resync when core.agent.resync says: at start, when the state reporter
asks, every ``resync_interval`` seconds, and after a pass that could not reach
the server). For each, the agent fetches the description, deploys it
(driver.py) and tells the server ``loadbalancer_deployed`` (success or not),
which settles the provisioning statuses. Every ``periodic_interval`` seconds it
reads each haproxy's stats socket and reports member operating statuses, the
load balancer's counters and each listener's (``update_status``). A full resync also removes load balancers
deployed here that the server no longer gives this host.

A pass that could not reach the server keeps what it could not do for the next
one, which comes ``min(periodic_interval, 10)`` seconds later, not at once.
"""
import logging
import threading
import time

from netweave.core.agent import resync
from netweave.service_plugins.lbaasv2.agent import stats as stats_mod

LOG = logging.getLogger(__name__)

AGENT_TYPE = "Loadbalancerv2 agent"
BINARY = "netweave-lbaas-agent"
TOPIC = "lbaasv2_agent"


class LbaasAgent:
    def __init__(self, host, plugin_api, context, driver, periodic_interval=10, resync_interval=300,
                 clock=time.monotonic):
        self.host = host
        self.plugin_api = plugin_api
        self.context = context
        self.driver = driver
        self.periodic_interval = periodic_interval
        self.schedule = resync.ResyncSchedule(resync_interval, error_resync_delay=min(periodic_interval, 10),
                                              poll_interval=periodic_interval, clock=clock)
        self._dirty = set()
        self._descriptions = {}     # lb id -> last description deployed (statuses need its tree)
        self._lock = threading.Lock()
        self._next_stats = 0.0

    # --- what the RPC consumer and the state reporter call --------------------------------

    def agent_state(self):
        return {"agent_type": AGENT_TYPE, "binary": BINARY, "host": self.host, "topic": TOPIC,
                "configurations": {"device_drivers": ["haproxy_ns"], "instances": len(self._descriptions)}}

    def changed(self, lb_id):
        self._keep(lb_id)
        self.schedule.wake()

    def request_resync(self, reason="requested"):
        self.schedule.request_resync(reason)

    def stop(self):
        self.schedule.stop()

    def _keep(self, lb_id):
        """Sync ``lb_id`` in the next pass (without waking the loop for it)."""
        with self._lock:
            self._dirty.add(lb_id)

    # --- the loop ------------------------------------------------------------------------

    def run(self):
        self.schedule.run(self.run_once)

    def run_once(self):
        """One pass; False when the server could not be reached for all of it (what was
        left is kept, and the next pass is full)."""
        clock = self.schedule.clock
        started = clock()
        reached = True
        reason = self.schedule.take_full_reason()
        if reason is not None:
            LOG.info("Full resync: %s", reason)
            reached = self._full_sync()
            if reached:
                self.schedule.full_done(started)
        with self._lock:
            dirty, self._dirty = sorted(self._dirty), set()
        for lb_id in dirty:
            reached = self._sync_one(lb_id) and reached
        if clock() >= self._next_stats:
            self.report_statuses()
            self._next_stats = clock() + self.periodic_interval
        if not reached:
            self.schedule.failed()
        return reached

    def _full_sync(self):
        """Whether the server answered: then what it gives this host is deployed in this
        pass and what it does not is removed."""
        try:
            wanted = set(self.plugin_api.get_ready_devices(self.context))
        except Exception as error:  # noqa: BLE001 - the server is away: the next pass tries again
            LOG.warning("Cannot list this host's load balancers: %s", error)
            return False
        for lb_id in self.driver.deployed():
            if lb_id not in wanted:
                LOG.info("Load balancer %s is no longer served here", lb_id)
                self._undeploy(lb_id)
        with self._lock:
            self._dirty |= wanted
        return True

    def _undeploy(self, lb_id):
        try:
            self.driver.undeploy(lb_id)
        except Exception:  # noqa: BLE001 - left for the next resync
            LOG.exception("Cannot remove load balancer %s", lb_id)
        self._descriptions.pop(lb_id, None)

    def _sync_one(self, lb_id):
        """Deploy (or remove) ``lb_id`` as the server describes it; False when the server
        could not be reached (``lb_id`` is kept for the next pass)."""
        try:
            description = self.plugin_api.get_loadbalancer(self.context, lb_id)
        except Exception as error:  # noqa: BLE001
            LOG.warning("Cannot fetch load balancer %s: %s", lb_id, error)
            self._keep(lb_id)
            return False
        if description is None:
            self._undeploy(lb_id)
            return True
        success = True
        try:
            port = description.get("vip_port")
            if port and port.get("binding_host") != self.host \
                    and description["provisioning_status"] != "PENDING_DELETE":
                # Bound here, the L2 agent of this host wires the VIP's tap.
                self.plugin_api.plug_vip_port(self.context, port["id"])
            if self.driver.deploy(description):
                self._descriptions[lb_id] = description
            else:
                self._descriptions.pop(lb_id, None)
        except Exception:  # noqa: BLE001 - reported as ERROR; the next change retries
            LOG.exception("Cannot deploy load balancer %s", lb_id)
            success = False
        try:
            self.plugin_api.loadbalancer_deployed(self.context, lb_id, success)
        except Exception as error:  # noqa: BLE001
            LOG.warning("Cannot report load balancer %s deployed: %s", lb_id, error)
            self._keep(lb_id)
            return False
        if success and lb_id in self._descriptions:
            self._report(lb_id)
        return True

    def report_statuses(self):
        for lb_id in list(self._descriptions):
            self._report(lb_id)

    def _report(self, lb_id):
        description = self._descriptions.get(lb_id)
        text = self.driver.read_stats(lb_id)
        if description is None or text is None:
            return
        rows = stats_mod.parse(text)
        members = stats_mod.member_statuses(rows)
        statuses = stats_mod.tree_statuses(description, members)
        try:
            self.plugin_api.update_status(self.context, lb_id, statuses, stats_mod.loadbalancer_stats(rows),
                                          stats_mod.listener_stats(rows))
        except Exception as error:  # noqa: BLE001 - next period
            LOG.warning("Cannot report the statuses of load balancer %s: %s", lb_id, error)
