"""Stopping RPC servers: side by side, and never longer than the grace."""
import threading
import time

from netweave.core.rpc import servers


class SlowServer:
    """An RPC server whose listener notices the stop only after ``delay`` seconds."""

    def __init__(self, delay):
        self.delay = delay
        self.waited = threading.Event()

    def stop(self):
        time.sleep(self.delay)

    def wait(self):
        self.waited.set()


def _group(*members):
    group = servers.RpcServers.__new__(servers.RpcServers)
    group._servers = list(members)
    return group


def test_servers_of_several_groups_stop_side_by_side():
    members = [SlowServer(0.3) for _ in range(4)]
    started = time.monotonic()
    servers.stop_together(_group(*members[:2]), _group(*members[2:]), grace=None)
    assert time.monotonic() - started < 0.3 * 2
    assert all(m.waited.is_set() for m in members)


def test_a_server_slower_than_the_grace_is_not_waited_for():
    slow, quick = SlowServer(5.0), SlowServer(0.0)
    started = time.monotonic()
    _group(slow, quick).stop(grace=0.2)
    assert time.monotonic() - started < 2.0
    assert quick.waited.is_set() and not slow.waited.is_set()
