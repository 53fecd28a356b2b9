"""netweave's HTTP server (core/api/http_server.py) on real sockets on 127.0.0.1.

Against the all-in-one: held idle and slow connections do not keep normal
requests out, a 10 KB request line is served, HTTP-layer errors come in
Neutron's JSON shape. Against the small app of tests/harness/http_server_app.py
(in this process's way, and under gunicorn's arbiter as netweave-server runs
it): SIGTERM lets requests in flight finish, refuses new connections, exits 0.
"""
import concurrent.futures
import json
import os
import re
import resource
import signal
import socket
import sys
import time
import uuid

import pytest
import requests

from harness import processes
from harness import server as server_harness

ADMIN = {"X-Project-Id": "p-admin", "Content-Type": "application/json"}
HELPER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "harness", "http_server_app.py")


@pytest.fixture(autouse=True, scope="module")
def _open_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _port(url):
    return int(url.rsplit(":", 1)[1])


def _raw(port, data, timeout=10):
    """Send raw bytes, return (status, headers dict, body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    head, _sep, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _colon, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def _assert_neutron_error(status, headers, body, expected_status, expected_type):
    assert status == expected_status, body
    assert headers["content-type"] == "application/json"
    assert headers["x-openstack-request-id"].startswith("req-")
    error = json.loads(body)["NeutronError"]
    assert error["type"] == expected_type
    assert error["message"] and error["detail"] == ""


def test_normal_requests_succeed_while_idle_and_slow_connections_are_held(aio_server):
    port = _port(aio_server.url)
    held = []
    try:
        for _ in range(300):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        for _ in range(200):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(b"GET /v2.0/networks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
            held.append(sock)

        def get(_):
            return requests.get(aio_server.url + "/v2.0/networks", headers=ADMIN, timeout=10).status_code

        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            statuses = list(pool.map(get, range(30)))
        for sock in held[300:]:
            sock.sendall(b"a")  # the slow ones are still there, trickling
        assert statuses == [200] * 30
        assert get(0) == 200
    finally:
        for sock in held:
            sock.close()


def test_a_10kb_request_line_with_102_id_filters_is_served(aio_server):
    created = requests.post(aio_server.url + "/v2.0/networks", headers=ADMIN,
                            json={"networks": [{"name": "long-line-a"}, {"name": "long-line-b"}]})
    assert created.status_code == 201
    wanted = sorted(n["id"] for n in created.json()["networks"])
    ids = wanted + [str(uuid.uuid4()) for _ in range(100)]
    query = "&".join("id=" + network_id for network_id in ids)
    query += "&" + "&".join("fields=%s" % name for name in ["id", "name"] * 4)
    query += "&description=" + "x" * (10240 - len(query))
    # The description filter matches nothing; drop it from the match but keep the line long.
    listed = requests.get(aio_server.url + "/v2.0/networks?" + query, headers=ADMIN, timeout=10)
    assert len("GET /v2.0/networks?%s HTTP/1.1" % query) > 10240
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"networks": []}
    short = "&".join("id=" + network_id for network_id in ids)
    listed = requests.get(aio_server.url + "/v2.0/networks?" + short, headers=ADMIN, timeout=10)
    assert listed.status_code == 200, listed.text
    assert sorted(n["id"] for n in listed.json()["networks"]) == wanted


@pytest.mark.parametrize("data, status, type_name", [
    (b"NONSENSE\r\n\r\n", 400, "HTTPBadRequest"),
    (b"GET /v2.0/networks HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n", 400, "HTTPBadRequest"),
    (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "HTTPRequestURITooLong"),
    (b"GET /" + b"a" * 20000, 414, "HTTPRequestURITooLong"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431,
     "HTTPRequestHeaderFieldsTooLarge"),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"a" * 1000) for i in range(80))
     + b"\r\n", 431, "HTTPRequestHeaderFieldsTooLarge"),
    (b"POST /v2.0/networks HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413,
     "HTTPRequestEntityTooLarge"),
], ids=["garbage", "header-without-colon", "long-line", "endless-line", "long-header", "large-head",
        "large-body"])
def test_http_layer_errors_are_neutron_errors(aio_server, data, status, type_name):
    _assert_neutron_error(*_raw(_port(aio_server.url), data), status, type_name)


# --- the small app: timeouts and draining ------------------------------------------------


def _start_helper(tmp_path, *extra):
    port = processes.free_tcp_port()
    process = processes.start_process([sys.executable, HELPER, "--port", port] + list(extra),
                                      str(tmp_path / "helper.log"))
    try:
        process.wait_for_http("http://127.0.0.1:%d/ready" % port, timeout=30)
    except Exception:
        process.stop()
        raise
    return process, port


def test_a_request_sent_too_slowly_gets_408(tmp_path):
    process, port = _start_helper(tmp_path, "--request-timeout", "2")
    try:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            received = sock.recv(65536)
        assert time.monotonic() - started < 8
        head, _sep, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 ")
        assert json.loads(body)["NeutronError"]["type"] == "HTTPRequestTimeout"
        # A connection that never sent anything is closed without a word.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            assert sock.recv(100) == b""
    finally:
        process.stop()


def test_a_signal_to_a_forked_child_does_not_stop_the_server(tmp_path):
    """A child forked without exec (pyroute2 forks one per socket it opens in a network
    namespace, and stops it with SIGTERM) must not carry the server's stop signals: it
    shared the loop's signal wakeup socket, and its SIGTERM stopped the all-in-one."""
    process, port = _start_helper(tmp_path)
    try:
        child = requests.get("http://127.0.0.1:%d/fork" % port, timeout=10).json()["pid"]
        os.kill(child, signal.SIGTERM)
        # Dead at once (the default action), not left running until its sleep ends.
        process.wait_until(lambda: processes.process_gone(child), timeout=5, what="the child died of SIGTERM")
        time.sleep(1)  # what a stop would take: the server drains nothing and exits
        assert process.alive(), process.log_tail()
        assert requests.get("http://127.0.0.1:%d/still" % port, timeout=10).status_code == 200
    finally:
        process.stop()


def test_past_max_connections_the_oldest_idle_ones_make_room(tmp_path):
    process, port = _start_helper(tmp_path, "--max-connections", "40")
    held = []
    try:
        for _ in range(60):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        answer = requests.get("http://127.0.0.1:%d/after" % port, timeout=10)
        assert answer.status_code == 200 and answer.json()["path"] == "/after"
        # The first ones were closed for the later ones; the last ones are still open.
        held[0].settimeout(5)
        assert held[0].recv(100) == b""
        held[-1].sendall(b"GET /last HTTP/1.1\r\nHost: x\r\n\r\n")
        assert held[-1].recv(65536).startswith(b"HTTP/1.1 200 ")
    finally:
        for sock in held:
            sock.close()
        process.stop()


def _sleep_request(port, seconds):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /sleep?seconds=%d HTTP/1.1\r\nHost: x\r\n\r\n" % seconds)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


@pytest.mark.parametrize("mode", [[], ["--gunicorn"]], ids=["single-process", "gunicorn-arbiter"])
def test_sigterm_finishes_requests_in_flight_then_exits(tmp_path, mode):
    process, port = _start_helper(tmp_path, *mode)
    try:
        idle = socket.create_connection(("127.0.0.1", port), timeout=10)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            in_flight = [pool.submit(_sleep_request, port, 3) for _ in range(4)]
            time.sleep(1.0)  # all four are being served
            os.kill(process.pid, signal.SIGTERM)
            time.sleep(0.5)
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            assert idle.recv(100) == b""  # an idle connection is simply closed
            answers = [future.result(timeout=30) for future in in_flight]
        for answer in answers:
            assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
            assert b"connection: close" in answer.lower()
        process.popen.wait(timeout=20)
        assert process.returncode == 0, process.log_tail()
    finally:
        process.stop()


def test_all_in_one_sigterm_finishes_bulk_creates_in_flight(tmp_path):
    aio = server_harness.start_all_in_one(str(tmp_path), ["--l2-agent", "none"])
    port = _port(aio.url)
    try:
        bodies = [json.dumps({"networks": [{"name": "drain-%d-%d" % (client, n)} for n in range(80)]}).encode()
                  for client in range(3)]

        def bulk_create(client):
            head = ("POST /v2.0/networks HTTP/1.1\r\nHost: x\r\nX-Project-Id: drain-%d\r\n"
                    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (client, len(bodies[client])))
            return _raw(port, head.encode() + bodies[client], timeout=60)

        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            in_flight = [pool.submit(bulk_create, client) for client in range(3)]
            time.sleep(0.3)  # read by the server and being served
            os.kill(aio.process.pid, signal.SIGTERM)
            answers = [future.result(timeout=60) for future in in_flight]
        for status, headers, body in answers:
            assert status == 201, body[:300]
            assert len(json.loads(body)["networks"]) == 80
            assert headers["connection"] == "close"
        aio.process.popen.wait(timeout=30)
        assert aio.process.returncode == 0, aio.process.log_tail()
        # They were being served when the signal came, not already done.
        stopping = re.search(r"Stopping: no new connections; (\d+) requests in flight", aio.process.log_tail(200))
        assert stopping and int(stopping.group(1)) >= 1, aio.process.log_tail()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        aio.stop()


# --- framing: what a keep-alive connection may carry ---------------------------------------


@pytest.fixture(scope="module")
def helper_port(tmp_path_factory):
    process, port = _start_helper(tmp_path_factory.mktemp("framing"))
    yield port
    process.stop()


def _responses(sock, count):
    """Read count responses off one connection; [(status line, headers, body)]."""
    buffered = b""
    answers = []
    while len(answers) < count:
        while b"\r\n\r\n" not in buffered:
            chunk = sock.recv(65536)
            assert chunk, "connection closed after %d answers" % len(answers)
            buffered += chunk
        head, _sep, buffered = buffered.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip()
                   for name, _colon, value in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", 0)) if not lines[0].startswith("HTTP/1.1 1") else 0
        while len(buffered) < length:
            buffered += sock.recv(65536)
        answers.append((lines[0], headers, buffered[:length]))
        buffered = buffered[length:]
    return answers


def test_pipelined_requests_are_answered_in_order_on_one_connection(helper_port):
    requests_bytes = b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % n for n in range(5))
    requests_bytes += b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd"
    with socket.create_connection(("127.0.0.1", helper_port), timeout=10) as sock:
        sock.sendall(requests_bytes)
        answers = _responses(sock, 6)
    assert [json.loads(body)["path"] for _line, _headers, body in answers] == \
        ["/p0", "/p1", "/p2", "/p3", "/p4", "/body"]
    assert json.loads(answers[-1][2])["body_length"] == 4
    assert all(line == "HTTP/1.1 200 OK" and "connection" not in headers for line, headers, _body in answers)


def test_a_request_trickled_byte_by_byte_is_served(helper_port):
    data = b"POST /slowly?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
    with socket.create_connection(("127.0.0.1", helper_port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for index in range(len(data)):
            sock.sendall(data[index:index + 1])
        (line, _headers, body), = _responses(sock, 1)
    assert line == "HTTP/1.1 200 OK"
    assert json.loads(body) == {"method": "POST", "path": "/slowly", "query_length": 3, "body_length": 3}


def test_chunked_bodies_and_expect_100_continue(helper_port):
    with socket.create_connection(("127.0.0.1", helper_port), timeout=10) as sock:
        sock.sendall(b"PUT /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        (_line, _headers, body), = _responses(sock, 1)
        assert json.loads(body)["body_length"] == 11
        sock.sendall(b"POST /expect HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        (line, _headers, _body), = _responses(sock, 1)
        assert line == "HTTP/1.1 100 Continue"
        sock.sendall(b"{}")
        (line, _headers, body), = _responses(sock, 1)
        assert line == "HTTP/1.1 200 OK" and json.loads(body)["body_length"] == 2


def test_http_1_0_and_connection_close_end_the_connection_after_the_answer(helper_port):
    for request in (b"GET /old HTTP/1.0\r\n\r\n",
                    b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n"):
        status, headers, body = _raw(helper_port, request)
        assert status == 200 and headers["connection"] == "close"
        assert json.loads(body)["path"] in ("/old", "/bye")  # one answer, then the server closed


def test_head_answers_without_a_body_and_the_connection_stays_usable(helper_port):
    with socket.create_connection(("127.0.0.1", helper_port), timeout=10) as sock:
        sock.sendall(b"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /after-head HTTP/1.1\r\nHost: x\r\n\r\n")
        buffered = b""
        while buffered.count(b"\r\n\r\n") < 2 or not buffered.endswith(b"}"):
            buffered += sock.recv(65536)
    head_answer, _sep, rest = buffered.partition(b"\r\n\r\n")
    assert head_answer.startswith(b"HTTP/1.1 200 ") and b"Content-Length:" in head_answer
    assert rest.startswith(b"HTTP/1.1 200 ") and b'"path": "/after-head"' in rest
