"""haproxy as the namespace proxy: what reaches the unix socket, for real.

A namespace plays qdhcp- (or qrouter-) with 169.254.169.254/32; a client
namespace is joined to it by a veth. Behind the proxy's unix socket an echo
server answers with the raw header lines it received (duplicates included),
so the test sees exactly what the metadata agent would be sent.
"""
import json
import os
import shutil
import socketserver
import tempfile
import threading
import time
import uuid

import pytest

from harness import multihost
from netweave.core.agent import external_process
from netweave.core.agent.metadata import proxy as proxy_mod

pytestmark = [pytest.mark.system("ip", "haproxy", "curl")]

CLIENT_IP = "10.88.0.5"
PROXY_IP = "10.88.0.2"


class _EchoHandler(socketserver.StreamRequestHandler):
    """Answers with the raw request head: every header line, duplicates included."""

    def handle(self):
        request_line = self.rfile.readline().decode("latin-1").strip()
        headers = []
        while True:
            line = self.rfile.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            headers.append([name.strip().lower(), value.strip()])
        body = json.dumps({"request_line": request_line, "headers": headers}).encode()
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)


class EchoSocket:
    def __init__(self, path):
        self.server = socketserver.ThreadingUnixStreamServer(path, _EchoHandler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def _values(seen, name):
    return [value for key, value in seen["headers"] if key == name.lower()]


@pytest.fixture
def proxy_lab():
    workdir = tempfile.mkdtemp(prefix="nwmp-")
    lab = multihost.Namespaces("nwmp")
    monitor = external_process.ProcessMonitor(interval=3600)  # checked by hand below
    echo = None
    started = []
    try:
        server_ns = lab.netns("srv")
        client_ns = lab.netns("cli")
        multihost.run("ip", "-n", server_ns, "link", "add", "ns-md", "type", "veth", "peer", "name", "eth0",
                      "netns", client_ns)
        multihost.run("ip", "-n", server_ns, "addr", "add", PROXY_IP + "/24", "dev", "ns-md")
        multihost.run("ip", "-n", server_ns, "addr", "add", "169.254.169.254/32", "dev", "ns-md")
        multihost.run("ip", "-n", server_ns, "link", "set", "ns-md", "up")
        multihost.run("ip", "-n", client_ns, "addr", "add", CLIENT_IP + "/24", "dev", "eth0")
        multihost.run("ip", "-n", client_ns, "link", "set", "eth0", "up")
        multihost.run("ip", "-n", client_ns, "route", "add", "169.254.169.254/32", "via", PROXY_IP)
        socket_path = os.path.join(workdir, "metadata_proxy")
        echo = EchoSocket(socket_path)
        ns_proxy = proxy_mod.NamespaceProxy(os.path.join(workdir, "state"), socket_path, monitor=monitor)
        yield {"proxy": ns_proxy, "server": server_ns, "client": client_ns, "monitor": monitor,
               "started": started}
    finally:
        for resource_id in started:
            try:
                ns_proxy.stop(resource_id)
            except Exception:  # noqa: BLE001 - keep cleaning up
                pass
        if echo is not None:
            echo.close()
        lab.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _curl(namespace, url, headers=()):
    argv = ["ip", "netns", "exec", namespace, "curl", "-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}"]
    for header in headers:
        argv += ["-H", header]
    result = multihost.run(*argv, url, check=False, timeout=30)
    body, _, status = result.stdout.rpartition("\n")
    return int(status or 0), body


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_proxy_sets_client_address_and_network_and_drops_forged_ones(proxy_lab):
    net_id = str(uuid.uuid4())
    proxy_lab["started"].append(net_id)
    proxy_lab["proxy"].spawn(proxy_lab["server"], net_id, kind="network")
    forged = ["X-Forwarded-For: 10.88.0.99", "X-Neutron-Network-ID: %s" % uuid.uuid4(),
              "X-Neutron-Router-ID: %s" % uuid.uuid4()]
    status, body = _curl(proxy_lab["client"], "http://169.254.169.254/latest/meta-data/instance-id?x=1",
                         headers=forged)
    assert status == 200
    seen = json.loads(body)
    # Exactly one of each, set by the proxy: the forged copies are gone, not just outnumbered.
    assert _values(seen, "X-Forwarded-For") == [CLIENT_IP]
    assert _values(seen, "X-Neutron-Network-ID") == [net_id]
    assert _values(seen, "X-Neutron-Router-ID") == []
    assert seen["request_line"].startswith("GET /latest/meta-data/instance-id?x=1 ")


def test_router_proxy_listens_on_9697_with_the_router_header(proxy_lab):
    router_id = str(uuid.uuid4())
    proxy_lab["started"].append(router_id)
    proxy_lab["proxy"].spawn(proxy_lab["server"], router_id, kind="router")
    assert _curl(proxy_lab["client"], "http://169.254.169.254/")[0] == 0  # nothing on port 80
    status, body = _curl(proxy_lab["client"], "http://169.254.169.254:9697/",
                         headers=["X-Neutron-Network-ID: %s" % uuid.uuid4()])
    assert status == 200
    seen = json.loads(body)
    assert _values(seen, "X-Neutron-Router-ID") == [router_id]
    assert _values(seen, "X-Neutron-Network-ID") == []
    assert _values(seen, "X-Forwarded-For") == [CLIENT_IP]


def test_dead_proxy_is_respawned_and_a_changed_one_restarted(proxy_lab):
    ns_proxy, monitor = proxy_lab["proxy"], proxy_lab["monitor"]
    net_id = str(uuid.uuid4())
    proxy_lab["started"].append(net_id)
    ns_proxy.spawn(proxy_lab["server"], net_id)
    first = ns_proxy.pid(net_id)
    assert monitor.check_once() == []
    os.kill(first, 9)
    assert _wait(lambda: not ns_proxy.active(net_id))
    assert monitor.check_once() == [(proxy_mod.SERVICE, net_id)]
    second = ns_proxy.pid(net_id)
    assert second not in (None, first)
    assert _curl(proxy_lab["client"], "http://169.254.169.254/")[0] == 200
    # Same settings: kept; another port: restarted on it.
    ns_proxy.spawn(proxy_lab["server"], net_id)
    assert ns_proxy.pid(net_id) == second
    ns_proxy.spawn(proxy_lab["server"], net_id, port=8080)
    assert ns_proxy.pid(net_id) not in (None, second)
    assert _curl(proxy_lab["client"], "http://169.254.169.254:8080/")[0] == 200
    # Stopped: gone for good, the monitor does not bring it back.
    ns_proxy.stop(net_id)
    proxy_lab["started"].remove(net_id)
    assert not ns_proxy.active(net_id)
    assert monitor.check_once() == []
    assert _curl(proxy_lab["client"], "http://169.254.169.254:8080/")[0] == 0


def test_spawn_into_a_missing_namespace_fails_loudly_and_can_be_retried(proxy_lab):
    ns_proxy = proxy_lab["proxy"]
    net_id = str(uuid.uuid4())
    proxy_lab["started"].append(net_id)
    with pytest.raises(RuntimeError) as failure:
        ns_proxy.spawn("nwmp-missing-" + net_id[:8], net_id)
    assert net_id in str(failure.value)
    assert not ns_proxy.active(net_id)
    # The namespace is there now: the same call succeeds.
    ns_proxy.spawn(proxy_lab["server"], net_id)
    assert ns_proxy.active(net_id)
    assert _curl(proxy_lab["client"], "http://169.254.169.254/")[0] == 200
