"""Starting, finding, reloading and watching the daemons agents run (dnsmasq, haproxy, ...).

Every daemon writes its own pid file under ``<state_path>/external/pids``; a
daemon is "ours and alive" when that pid runs and its command line names the
resource it serves (``uuid``), so a recycled pid is never signalled. Daemons
fork into the background themselves; an agent restart finds them by pid file
and leaves them serving.
"""
import logging
import os
import signal as signals
import subprocess
import threading

from netweave.core.agent import commands

LOG = logging.getLogger(__name__)


def pid_dir(state_path):
    return os.path.join(state_path, "external", "pids")


class ProcessManager:
    """One daemon serving one resource (a network, a router), optionally in a namespace.

    ``cmd_builder(pid_file)`` returns the daemon's argv; the daemon must write
    ``pid_file`` itself.
    """

    def __init__(self, uuid, service, cmd_builder, state_path, namespace=None):
        self.uuid = uuid
        self.service = service
        self.namespace = namespace
        self._cmd_builder = cmd_builder
        self.pid_file = os.path.join(pid_dir(state_path), "%s-%s.pid" % (service, uuid))

    @property
    def pid(self):
        try:
            with open(self.pid_file) as handle:
                return int(handle.read().strip() or 0) or None
        except (OSError, ValueError):
            return None

    @property
    def active(self):
        pid = self.pid
        if pid is None:
            return False
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                cmdline = handle.read().decode(errors="replace")
        except OSError:
            return False
        return self.uuid in cmdline

    def argv(self):
        cmd = list(self._cmd_builder(self.pid_file))
        if self.namespace:
            return ["ip", "netns", "exec", self.namespace] + cmd
        return cmd

    def enable(self, reload_cfg=False):
        """Start the daemon unless it runs; with ``reload_cfg`` a running one gets SIGHUP."""
        if self.active:
            if reload_cfg:
                self.reload()
            return
        os.makedirs(os.path.dirname(self.pid_file), exist_ok=True)
        argv = self.argv()
        LOG.info("Starting %s for %s: %s", self.service, self.uuid, " ".join(argv))
        # The daemons fork and the parent exits once the child is ready; their early
        # complaints go to a log file (a pipe would stay open in the daemon).
        log_file = self.pid_file[:-len(".pid")] + ".log"
        with open(log_file, "ab") as log:
            result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=30)
        if result.returncode:
            with open(log_file, "rb") as log:
                tail = log.read()[-2000:].decode(errors="replace")
            raise commands.CommandError(argv, result.returncode, stderr=tail)

    def reload(self):
        self.send_signal(signals.SIGHUP)

    def send_signal(self, signum):
        if self.active:
            os.kill(self.pid, signum)
            return True
        return False

    def disable(self, signum=signals.SIGTERM, timeout=5.0, wait_reaped=True):
        """Stop the daemon (waiting up to ``timeout`` s, then SIGKILL) and forget its pid file.

        With ``wait_reaped`` False a daemon that exited counts as gone although its
        reaper (init, whose rounds may take a second) has not collected it yet.
        """
        pid = self.pid if self.active else None
        if pid is not None:
            os.kill(pid, signum)
            if not _wait_gone(pid, timeout, wait_reaped):
                LOG.warning("%s for %s ignored signal %d; killing it", self.service, self.uuid, signum)
                os.kill(pid, signals.SIGKILL)
                _wait_gone(pid, timeout, wait_reaped)
        try:
            os.unlink(self.pid_file)
        except FileNotFoundError:
            pass


def _wait_gone(pid, timeout, wait_reaped=True):
    waiter = threading.Event()
    deadline = timeout
    while deadline > 0:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if not wait_reaped and _is_zombie(pid):
            # Dead already; only its reaper (init, for a daemon) has yet to collect it.
            return True
        # A daemon started by this process stays a zombie until reaped.
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        waiter.wait(0.05)
        deadline -= 0.05
    return False


def _is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            # "pid (comm) state ...": comm may hold spaces and parentheses.
            return handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


class ProcessMonitor:
    """Restarts registered daemons that died, checking every ``interval`` seconds."""

    def __init__(self, interval=5.0):
        self._interval = interval
        self._managers = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    def register(self, manager):
        with self._lock:
            self._managers[(manager.service, manager.uuid)] = manager

    def unregister(self, service, uuid):
        with self._lock:
            self._managers.pop((service, uuid), None)

    def check_once(self):
        """Respawn the dead ones now; returns the (service, uuid) keys respawned."""
        with self._lock:
            managers = list(self._managers.items())
        respawned = []
        for key, manager in managers:
            if manager.active:
                continue
            LOG.error("%s for %s is not running; respawning it", manager.service, manager.uuid)
            try:
                manager.enable()
                respawned.append(key)
            except (OSError, RuntimeError, subprocess.SubprocessError):
                LOG.exception("Respawning %s for %s failed", manager.service, manager.uuid)
        return respawned

    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="process-monitor", daemon=True)
            self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self):
        while not self._stop.wait(self._interval):
            self.check_once()
