"""ProcessManager.disable(wait_reaped=False): a daemon that exited is done with, reaped or not."""
import os
import sys
import uuid

from netweave.core.agent import external_process

DAEMON = (
    "import os, sys, time\n"
    "if os.fork():\n"
    "    sys.exit(0)\n"
    "os.setsid()\n"
    "open(sys.argv[1], 'w').write(str(os.getpid()))\n"
    "time.sleep(60)\n"
)


def _state(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0].decode()
    except FileNotFoundError:
        return None


def test_disable_without_waiting_for_the_reaper(tmp_path):
    resource = str(uuid.uuid4())
    manager = external_process.ProcessManager(
        resource, "reapd", lambda pid_file: [sys.executable, "-c", DAEMON, pid_file, resource], str(tmp_path))
    manager.enable()
    pid = manager.pid
    try:
        assert manager.active
        manager.disable(wait_reaped=False)
        # Exited: gone, or a zombie its reaper has not collected yet; never still running.
        assert _state(pid) in (None, "Z")
        assert not manager.active
        assert not os.path.exists(manager.pid_file)
    finally:
        if _state(pid) not in (None, "Z"):
            os.kill(pid, 9)
