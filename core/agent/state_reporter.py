"""Periodic state reports (heartbeats) from an agent, in a thread of their own.

The first report that reaches the server carries ``start_flag`` (the server
then records a new started_at). Each report is a call, so the reporter learns
two things besides "the server is there":

* "revived": the server had taken the agent for dead (its heartbeats stopped
  for agent_down_time) and may have acted on that;
* a report that succeeds after failed ones, or only long after the previous
  success (the call hung while the client reconnected to a restarted
  broker): the connection was lost for a while, and fanout notifications
  sent meanwhile are gone.

Either way the agent's ``on_resync`` callback is told, with the reason, so
its loop can run a full resync.
"""
import logging
import threading
import time

LOG = logging.getLogger(__name__)

REVIVED = "revived"


class StateReporter:
    def __init__(self, api, context, state_provider, interval, on_resync=None, stall_after=None,
                 clock=time.monotonic):
        """``api`` is a core.agent.rpc.StateReportApi; ``state_provider()`` returns the
        agent_state to send (asked every time, so it may change). Successful reports
        more than ``stall_after`` seconds apart (default three intervals) also mean a resync."""
        self.api = api
        self.context = context
        self.state_provider = state_provider
        self.interval = float(interval)
        self.on_resync = on_resync
        self.reported = False      # a report has reached the server since start
        self.failing = False       # the last attempt failed
        self.last_status = None
        self.stall_after = float(stall_after) if stall_after is not None else 3 * self.interval
        self.clock = clock
        self._last_success = None
        self._stop = threading.Event()
        self._thread = None

    def report_once(self):
        """Send one report; returns the server's answer, or None when it failed."""
        state = dict(self.state_provider())
        if not self.reported:
            state["start_flag"] = True
        try:
            status = self.api.report_state(self.context, state, use_call=True,
                                           timeout=max(1.0, self.interval))
        except Exception as error:  # noqa: BLE001 - any failure: try again next interval
            if not self.failing:
                LOG.warning("Failed reporting state to the server: %s", error)
            self.failing = True
            return None
        recovered = self.failing and self.reported
        now = self.clock()
        stalled = self._last_success is not None and now - self._last_success > self.stall_after
        self._last_success = now
        self.failing = False
        self.reported = True
        self.last_status = status
        if status == REVIVED:
            self._resync("the server had taken this agent for dead")
        elif recovered:
            self._resync("state reports failed for a while; notifications may be lost")
        elif stalled:
            self._resync("state reports stalled for a while; notifications may be lost")
        return status

    def _resync(self, reason):
        LOG.info("Full resync needed: %s", reason)
        if self.on_resync is not None:
            self.on_resync(reason)

    # --- thread ------------------------------------------------------------------

    def start(self):
        if self.interval <= 0:
            LOG.info("report_interval is 0: not reporting state")
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="state-reporter", daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            try:
                self.report_once()
            except Exception:  # noqa: BLE001 - a bad state_provider must not end the heartbeats
                LOG.exception("State report failed")
            if self._stop.wait(self.interval):
                return

    def stop(self, timeout=None):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
