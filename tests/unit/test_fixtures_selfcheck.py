"""Fast checks of the shared test helpers in tests/fixtures."""
import os
import signal
import socket
import sys
import time

import pytest

from harness import system
from harness.processes import ProcessDied, free_tcp_port, port_accepts


def _bindable(port):
    # SO_REUSEADDR, as servers use: TIME_WAIT leftovers must not count as busy.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_free_tcp_port_is_bindable():
    port = free_tcp_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert port_accepts(port)


def test_http_server_starts_answers_and_stops(process_factory):
    port = free_tcp_port()
    server = process_factory(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        name="http", env={"PYTHONUNBUFFERED": "1"})
    server.wait_for_http(f"http://127.0.0.1:{port}/", timeout=20)
    assert server.alive()
    server.stop(grace=5)
    assert not server.alive()
    assert not port_accepts(port)
    assert _bindable(port)


def test_early_exit_reports_log_tail(process_factory):
    proc = process_factory(
        [sys.executable, "-c", "print('port already taken, giving up'); raise SystemExit(3)"],
        name="dies")
    with pytest.raises(ProcessDied) as info:
        proc.wait_for_port(free_tcp_port(), timeout=20)
    assert "code 3" in str(info.value)
    assert "port already taken" in str(info.value)


def test_stop_kills_the_whole_group_when_term_is_ignored(process_factory):
    # A shell that ignores SIGTERM and a child that inherits that: only the
    # SIGKILL escalation can end them, and the child must not survive.
    proc = process_factory(["sh", "-c", "trap '' TERM; sleep 300 & wait"], name="stubborn")
    time.sleep(0.3)
    started = time.monotonic()
    proc.stop(grace=0.5)
    assert proc.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 5
    assert _live_group_members(proc.pid) == []


def _live_group_members(pgid):
    # Zombies awaiting their reaper do not count: they hold nothing.
    members = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


def test_require_skips_locally_and_fails_when_required(monkeypatch):
    monkeypatch.delenv(system.REQUIRE_ENV, raising=False)
    system.require(True, "never raised")
    with pytest.raises(pytest.skip.Exception, match="missing prerequisite: widget"):
        system.require(False, "widget")
    monkeypatch.setenv(system.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="widget"):
        system.require(False, "widget")
