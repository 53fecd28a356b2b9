"""The daemon manager against real forking processes (no root needed)."""
import os
import signal
import sys
import uuid

import pytest

from netweave.core.agent import external_process

DAEMON = (
    "import os, sys, time, signal\n"
    "if os.fork():\n"
    "    sys.exit(0)\n"
    "os.setsid()\n"
    "hups = []\n"
    "signal.signal(signal.SIGHUP, lambda *a: open(sys.argv[1] + '.hup', 'a').write('x'))\n"
    "open(sys.argv[1], 'w').write(str(os.getpid()))\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def manager(tmp_path):
    resource = str(uuid.uuid4())
    mgr = external_process.ProcessManager(
        resource, "testd", lambda pid_file: [sys.executable, "-c", DAEMON, pid_file, resource], str(tmp_path))
    yield mgr
    mgr.disable(signal.SIGKILL)


def _wait(predicate, timeout=5.0):
    import time
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_enable_starts_once_and_disable_stops(manager):
    assert not manager.active
    manager.enable()
    assert _wait(lambda: manager.active)
    first = manager.pid
    manager.enable()
    assert manager.pid == first
    manager.disable()
    assert not manager.active
    assert not os.path.exists(manager.pid_file)
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)


def test_reload_sends_sighup(manager):
    manager.enable()
    assert _wait(lambda: manager.active)
    manager.enable(reload_cfg=True)
    assert _wait(lambda: os.path.exists(manager.pid_file + ".hup"))


def test_a_recycled_pid_is_not_ours(manager, tmp_path):
    os.makedirs(os.path.dirname(manager.pid_file), exist_ok=True)
    with open(manager.pid_file, "w") as handle:
        handle.write(str(os.getpid()))
    assert not manager.active
    assert manager.send_signal(signal.SIGHUP) is False


def test_monitor_respawns_a_dead_daemon(manager):
    monitor = external_process.ProcessMonitor()
    monitor.register(manager)
    manager.enable()
    assert _wait(lambda: manager.active)
    os.kill(manager.pid, signal.SIGKILL)
    assert _wait(lambda: not manager.active)
    assert monitor.check_once() == [("testd", manager.uuid)]
    assert _wait(lambda: manager.active)
    assert monitor.check_once() == []
