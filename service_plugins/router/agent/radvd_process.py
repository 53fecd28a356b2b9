"""The radvd of each router: its files on the host and the daemon in the router's namespace.

``RadvdProcesses`` reads a router's radvd as a ``radvd.DaemonState`` and
carries out what ``radvd.plan`` decided. Layout, as Neutron's (ra_confs is
``$state_path/ra``):

- ``<state_path>/ra/<router id>.radvd.conf``: the configuration (not writable by
  group or others: radvd refuses such a file);
- ``<state_path>/ra/<router id>.radvd.log``: radvd's log;
- ``<state_path>/external/pids/radvd-<router id>.pid``: written by radvd itself
  (core.agent.external_process finds the daemon by it, and its command line
  naming the router, after an agent restart).

radvd runs as ``radvd -C <conf> -p <pid file> -m logfile -l <log>`` inside
``ip netns exec qrouter-<id>``; it forks and its parent exits once the pid
file is written. A ``monitor`` (external_process.ProcessMonitor) respawns a
radvd that dies between passes.
"""
import logging
import os
import signal

from netweave.core import naming
from netweave.core.agent import external_process
from netweave.service_plugins.router.agent import radvd

LOG = logging.getLogger(__name__)

SERVICE = "radvd"
CONFIG_DIR = "ra"
CONFIG_MODE = 0o644


class RadvdProcesses:
    def __init__(self, state_path, monitor=None, executable="radvd"):
        self.state_path = state_path
        self.monitor = monitor
        self.executable = executable

    def config_path(self, router_id):
        return os.path.join(self.state_path, CONFIG_DIR, "%s.radvd.conf" % router_id)

    def log_path(self, router_id):
        return os.path.join(self.state_path, CONFIG_DIR, "%s.radvd.log" % router_id)

    def argv(self, router_id, pid_file):
        return [self.executable, "-C", self.config_path(router_id), "-p", pid_file,
                "-m", "logfile", "-l", self.log_path(router_id)]

    def manager(self, router_id):
        return external_process.ProcessManager(
            router_id, SERVICE, lambda pid_file: self.argv(router_id, pid_file), self.state_path,
            namespace=naming.router_namespace(router_id))

    def state(self, router_id):
        """The radvd.DaemonState of ``router_id``'s radvd."""
        try:
            with open(self.config_path(router_id), encoding="utf-8") as handle:
                config = handle.read()
        except FileNotFoundError:
            config = None
        return radvd.DaemonState(config=config, running=self.manager(router_id).active)

    def carry_out(self, router_id, action, desired):
        """Do ``action`` (radvd.START, RELOAD, STOP or NONE) for ``router_id`` whose radvd.conf is
        to be ``desired``; returns the action done (a RELOAD of a radvd that died meanwhile is a START)."""
        if action == radvd.STOP:
            self.stop(router_id)
            return action
        if action == radvd.NONE:
            if desired is not None:
                self._watch(self.manager(router_id))    # after an agent restart: watched again
            return action
        self._write_config(router_id, desired)
        manager = self.manager(router_id)
        if action == radvd.RELOAD and manager.send_signal(signal.SIGHUP):
            LOG.info("radvd of router %s reloaded", router_id)
        else:
            action = radvd.START
            LOG.info("Starting radvd for router %s", router_id)
            manager.enable()
        self._watch(manager)
        return action

    def stop(self, router_id):
        """Stop ``router_id``'s radvd (if any) and remove its files."""
        if self.monitor is not None:
            self.monitor.unregister(SERVICE, router_id)
        # radvd's parent is init once it forked: dead is gone, whenever init reaps it.
        self.manager(router_id).disable(wait_reaped=False)
        for path in (self.config_path(router_id), self.log_path(router_id)):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    def pid(self, router_id):
        manager = self.manager(router_id)
        return manager.pid if manager.active else None

    def _watch(self, manager):
        if self.monitor is not None:
            self.monitor.register(manager)

    def _write_config(self, router_id, text):
        path = self.config_path(router_id)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        scratch = path + ".tmp"
        descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, CONFIG_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(scratch, CONFIG_MODE)      # whatever the umask
        os.replace(scratch, path)
