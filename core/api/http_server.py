"""The HTTP/1.1 server in front of the API's WSGI application.

One event loop per process (uvloop's, asyncio's API on libuv) owns every
connection: it accepts, reads and parses requests (httptools, the llhttp
parser) and holds idle keep-alive connections, so an idle or
slow client costs a socket and a few kilobytes, never a thread. Only a
request whose head and body have fully arrived goes to the worker threads that
run the WSGI application; its whole response comes back to the loop, which
writes it. Hence thousands of idle connections or clients trickling their
headers do not delay anyone else.

Limits (see ``server_opts``):

* a request line or header line up to ``max_header_line`` bytes (Neutron's
  16,384 by default); longer gets 414 (request line) or 431 (header);
* a body up to ``max_request_body_size``; larger gets 413 before it is read;
* ``client_request_timeout`` from a connection's first byte (or its accept)
  until the whole request is in: then 408, or a silent close if nothing came;
* ``client_socket_timeout`` for an idle keep-alive connection;
* ``max_connections`` per process: past it the oldest connection that is
  not being served is closed for the newcomer.

Errors of the HTTP layer answer in Neutron's JSON shape with an
X-Openstack-Request-Id, like the application's own errors.

Why not an existing server: threaded ones (cheroot, gunicorn's gthread) give
a slow client's head a thread (bench/README.md has the figures), and uvicorn's
HTTP/1.1 protocol, which holds connections as cheaply, answers malformed
requests in plain text and never times out a head that does not complete.
Parsing HTTP is llhttp's; this module is only the loop, the limits, the
response framing and the errors. Both libraries were chosen by measurement:
on a port show they halved the server's own share of a request's CPU time
against asyncio's pure-Python loop with h11 (bench/README.md).

``HttpServer.serve`` runs until a stop signal; then it stops accepting (the
listening sockets close), closes idle connections, lets requests being
served finish (their responses say ``Connection: close``) and returns once
none is left or ``graceful_shutdown_timeout`` has passed.
"""
import asyncio
import collections
import dataclasses
import email.utils
import io
import json
import logging
import os
import queue
import resource
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid

import httptools
import uvloop
from oslo_config import cfg

LOG = logging.getLogger(__name__)

server_opts = [
    cfg.IntOpt("max_header_line", default=16384, min=1024,
               help="Longest request line or header line accepted, in bytes."),
    cfg.IntOpt("max_header_size", default=65536, min=4096,
               help="Largest request head (request line and all headers), in bytes."),
    cfg.IntOpt("client_socket_timeout", default=900, min=1,
               help="Seconds an idle keep-alive connection stays open."),
    cfg.IntOpt("client_request_timeout", default=60, min=1,
               help="Seconds a client has to send a whole request once it connected or "
                    "started one; slower clients get 408."),
    cfg.BoolOpt("wsgi_keep_alive", default=True,
                help="Keep connections open between requests."),
    cfg.IntOpt("backlog", default=4096, min=1,
               help="Length of the listening socket's queue of connections not yet accepted."),
    cfg.IntOpt("max_connections", default=10000, min=16,
               help="Open connections per API process; bounded by the open files limit."),
    cfg.IntOpt("api_threads", default=16, min=1,
               help="Threads per API process running requests (the rest is asynchronous)."),
    cfg.IntOpt("graceful_shutdown_timeout", default=60, min=0,
               help="Seconds requests in flight get to finish after SIGTERM."),
]

# A request still being sent when shutdown starts gets this long to arrive.
_DRAIN_READ_GRACE = 5.0
# Timeouts are checked this often (seconds); also the heartbeat period.
_SWEEP_INTERVAL = 1.0
# File descriptors kept for everything else than client connections.
_RESERVED_FDS = 256


_FORK_GUARDED = set()  # the signals whose handlers forked children reset


def _keep_forked_children_off_the_loops_signals(signals):
    """Make children forked without exec (pyroute2 forks one to open a socket in a network
    namespace, and stops it with SIGTERM) take ``signals`` as the default action does.
    Otherwise the child inherits the loop's handler and its signal wakeup socket: a
    SIGTERM to the child reaches this process's loop, which stops serving."""
    wanted = set(signals) - _FORK_GUARDED
    if not wanted:
        return
    _FORK_GUARDED.update(wanted)

    def in_child():
        signal.set_wakeup_fd(-1)
        for signum in wanted:
            signal.signal(signum, signal.SIG_DFL)
    os.register_at_fork(after_in_child=in_child)

_REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Request Entity Too Large",
            414: "Request-URI Too Long", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable"}
_TYPES = {400: "HTTPBadRequest", 408: "HTTPRequestTimeout", 413: "HTTPRequestEntityTooLarge",
          414: "HTTPRequestURITooLong", 431: "HTTPRequestHeaderFieldsTooLarge",
          500: "HTTPInternalServerError", 501: "HTTPNotImplemented", 503: "HTTPServiceUnavailable"}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def register_opts(conf):
    conf.register_opts(server_opts)


@dataclasses.dataclass(frozen=True)
class Limits:
    max_line: int = 16384
    max_head: int = 65536
    max_body: int = 114688
    request_timeout: float = 60.0
    keepalive_timeout: float = 900.0
    keep_alive: bool = True
    max_connections: int = 10000
    backlog: int = 4096
    threads: int = 16
    graceful_timeout: float = 60.0


def limits_from_conf(conf):
    return Limits(max_line=conf.max_header_line, max_head=conf.max_header_size,
                  max_body=conf.max_request_body_size, request_timeout=conf.client_request_timeout,
                  keepalive_timeout=conf.client_socket_timeout, keep_alive=conf.wsgi_keep_alive,
                  max_connections=conf.max_connections, backlog=conf.backlog,
                  threads=conf.api_threads,
                  graceful_timeout=conf.graceful_shutdown_timeout)


def raise_open_files_limit():
    """Lift the soft open-files limit to the hard one; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = 1048576 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return soft


def listen(host, port, backlog):
    """A listening TCP socket (the kernel caps backlog at net.core.somaxconn)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def new_request_id():
    return "req-" + str(uuid.uuid4())


def error_response(status, message, request_id):
    """The raw bytes of a NeutronError response that closes the connection."""
    body = json.dumps({"NeutronError": {"type": _TYPES.get(status, "HTTPError"), "message": message,
                                        "detail": ""}}).encode("utf-8")
    head = ("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            "X-Openstack-Request-Id: %s\r\nDate: %s\r\nConnection: close\r\n\r\n"
            % (status, _REASONS.get(status, "Error"), len(body), request_id, _http_date()))
    return head.encode("latin-1") + body


def _http_date():
    return email.utils.formatdate(usegmt=True)


class _RequestError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclasses.dataclass
class Request:
    """One request as it came off the wire; header names are lower case."""
    method: bytes
    target: bytes
    http_version: str
    headers: list
    body: bytes = b""
    keep_alive: bool = True


# ---------------------------------------------------------------- WSGI side

def build_environ(request, server_addr, peer_addr):
    """The PEP 3333 environ of one fully received request."""
    target = request.target
    if target.startswith((b"http://", b"https://")):
        # Absolute form: the path starts after the authority.
        slash = target.find(b"/", target.find(b"//") + 2)
        target = target[slash:] if slash >= 0 else b"/"
    path, _sep, query = target.partition(b"?")
    environ = {
        "REQUEST_METHOD": request.method.decode("ascii"),
        "SCRIPT_NAME": "",
        "PATH_INFO": urllib.parse.unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "SERVER_NAME": str(server_addr[0]),
        "SERVER_PORT": str(server_addr[1]),
        "SERVER_PROTOCOL": "HTTP/" + request.http_version,
        "REMOTE_ADDR": str(peer_addr[0]) if peer_addr else "",
        "REMOTE_PORT": str(peer_addr[1]) if peer_addr else "",
        "CONTENT_LENGTH": str(len(request.body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers:
        if b"_" in name:
            # HTTP_X_FOO must not be spoofable by an "X_Foo" header.
            continue
        value = value.decode("latin-1")
        if name == b"content-type":
            environ["CONTENT_TYPE"] = value
        elif name in (b"content-length", b"transfer-encoding"):
            continue
        else:
            key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
            environ[key] = environ[key] + "," + value if key in environ else value
    return environ


def call_app(app, environ):
    """Run the application; returns (status code, reason, headers, body) with the body in full."""
    started = {}
    chunks = []

    def start_response(status, headers, exc_info=None):
        if started and not exc_info:
            raise AssertionError("start_response called twice without exc_info")
        started["status"] = status
        started["headers"] = headers
        return chunks.append

    try:
        result = app(environ, start_response)
        try:
            for chunk in result:
                chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)  # PEP 3333: call close() when the iterable has one
            if close is not None:
                close()
        code, _sep, reason = started["status"].partition(" ")
        return int(code), reason, started["headers"], b"".join(chunks)
    except Exception:  # noqa: BLE001 - nothing the application raises may kill the connection
        LOG.exception("The application failed while serving %s %s",
                      environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
        body = json.dumps({"NeutronError": {
            "type": "HTTPInternalServerError", "detail": "",
            "message": "Request Failed: internal server error while processing your request."}})
        return 500, "Internal Server Error", [("Content-Type", "application/json")], body.encode()


def response_bytes(method, status, reason, headers, body, close, date):
    """The bytes of one response: the application's headers less hop-by-hop ones, then framing."""
    lines = ["HTTP/1.1 %d %s" % (status, reason)]
    lines += ["%s: %s" % (name, value) for name, value in headers
              if name.lower() not in _HOP_BY_HOP]
    no_body = status in (204, 304) or 100 <= status < 200
    if not no_body:
        if method == b"HEAD":
            # A HEAD answer announces the length a GET would have had, when the application says it.
            lines += ["%s: %s" % (name, value) for name, value in headers
                      if name.lower() == "content-length"]
        else:
            lines.append("Content-Length: %d" % len(body))
    lines.append("Date: " + date)
    if close:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if no_body or method == b"HEAD":
        return head
    return head + body


class HttpDate:
    """The Date header's value, formatted once per second rather than per response."""

    def __init__(self, clock=time.time):
        self._clock = clock
        self._second = None
        self._value = None

    def __call__(self):
        second = int(self._clock())
        if second != self._second:
            self._value = email.utils.formatdate(second, usegmt=True)
            self._second = second
        return self._value


# ---------------------------------------------------------------- connections

IDLE, READING, BUSY, CLOSED = "idle", "reading", "busy", "closed"


class _Connection(asyncio.Protocol):
    """One client connection, driven by the loop; its requests run, one at a time, in the worker threads.

    httptools parses whatever arrives and calls the on_* methods below. A request
    that is complete joins ``ready``; pipelined ones wait there (reading is paused
    while one runs) and are served in order.
    """

    def __init__(self, server):
        self.server = server
        self.limits = server.limits
        self.parser = httptools.HttpRequestParser(self)
        self.transport = None
        self.state = IDLE
        self.deadline = None
        self.sockname = None
        self.peername = None
        # The request being parsed: its target, headers, body chunks, sizes.
        self.target = None
        self.headers = None
        self.body = None
        self.body_size = 0
        self.head_size = 0
        self.in_head = False
        self.in_message = False
        # Bytes received while the current head was incomplete: bounds heads that never end.
        self.head_bytes = 0
        self.ready = collections.deque()
        self.serving = None
        # No request after the queued ones: the client closed its side or asked to upgrade.
        self.last_request_in = False
        # Set while the client does not take what is written to it.
        self.write_deadline = None

    # asyncio callbacks ------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sockname = transport.get_extra_info("sockname")
        self.peername = transport.get_extra_info("peername")
        self.deadline = self.server.now() + self.limits.request_timeout
        self.server.connection_opened(self)

    def connection_lost(self, exc):
        self.state = CLOSED
        self.server.connection_closed(self)

    def pause_writing(self):
        # The client reads too slowly: read no more requests from it, and give up
        # on it if it stays stuck.
        self.write_deadline = self.server.now() + self.limits.request_timeout
        self.transport.pause_reading()

    def resume_writing(self):
        self.write_deadline = None
        if self.state in (IDLE, READING):
            self.transport.resume_reading()

    def data_received(self, data):
        if self.state == CLOSED or self.last_request_in:
            return
        if self.state == IDLE:
            self.state = READING
            self.deadline = self.server.now() + self.limits.request_timeout
        try:
            self.parser.feed_data(data)
            if self.in_head:
                self.head_bytes += len(data)
                if self.head_bytes > self.limits.max_head + self.limits.max_line:
                    if self.target is not None and self.head_size == len(self.target):
                        raise _RequestError(414, self._line_message())
                    raise _RequestError(431, self._head_message())
        except httptools.HttpParserCallbackError as error:
            cause = error.__context__
            if isinstance(cause, _RequestError):
                self.fail(cause.status, cause.message)
            else:
                self.fail(400, "Malformed request: %s." % cause)
        except httptools.HttpParserUpgrade:
            self.fail(400, "Malformed request: protocol upgrades are not supported.")
        except httptools.HttpParserError as error:
            self.fail(400, "Malformed request: %s." % str(error).rstrip("."))
        except _RequestError as error:
            self.fail(error.status, error.message)
        self._next()

    def eof_received(self):
        if self.in_message:
            self.fail(400, "Malformed request: the connection closed before the request was complete.")
        self.last_request_in = True
        if self.state == BUSY or self.ready:
            # Keep the transport half open while a response is being made.
            self._next()
            return True
        self.close()
        return False

    # parser callbacks ---------------------------------------------------------
    def on_message_begin(self):
        self.in_message = True
        self.in_head = True
        self.target = b""
        self.headers = []
        self.body = []
        self.body_size = 0
        self.head_size = 0
        self.head_bytes = 0
        if self.state == IDLE:
            self.state = READING
            self.deadline = self.server.now() + self.limits.request_timeout

    def on_url(self, chunk):
        self.target += chunk
        self.head_size += len(chunk)
        if len(self.target) + len(b"GET  HTTP/1.1") > self.limits.max_line:
            raise _RequestError(414, self._line_message())

    def on_header(self, name, value):
        size = len(name) + len(value) + 2
        if size > self.limits.max_line:
            raise _RequestError(431, "Header line is longer than %d bytes." % self.limits.max_line)
        self.head_size += size + 2
        if self.head_size > self.limits.max_head:
            raise _RequestError(431, self._head_message())
        self.headers.append((name.lower(), value))

    def on_headers_complete(self):
        self.in_head = False
        for name, value in self.headers:
            if name == b"content-length" and int(value) > self.limits.max_body:
                raise _RequestError(413, "Request Entity Too Large")
            if name == b"expect" and value.lower() == b"100-continue":
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, chunk):
        self.body_size += len(chunk)
        if self.body_size > self.limits.max_body:
            raise _RequestError(413, "Request Entity Too Large")
        self.body.append(chunk)

    def on_message_complete(self):
        self.in_message = False
        self.ready.append(Request(method=self.parser.get_method(), target=self.target,
                                  http_version=self.parser.get_http_version(), headers=self.headers,
                                  body=b"".join(self.body), keep_alive=self.parser.should_keep_alive()))
        self.target = self.headers = self.body = None

    def _line_message(self):
        return "Request line is longer than %d bytes." % self.limits.max_line

    def _head_message(self):
        return "Request header is larger than %d bytes." % self.limits.max_head

    # serving ----------------------------------------------------------------
    def _next(self):
        """Start the next queued request, or settle into reading or idling."""
        if self.state in (BUSY, CLOSED):
            return
        if self.ready:
            self._dispatch(self.ready.popleft())
        elif self.last_request_in:
            self.close()
        elif not self.in_message and self.state == READING:
            self._idle()

    def _idle(self):
        self.state = IDLE
        self.deadline = self.server.now() + self.limits.keepalive_timeout

    def _dispatch(self, request):
        self.state = BUSY
        self.deadline = None
        self.serving = request
        self.transport.pause_reading()
        self.server.run_app(build_environ(request, self.sockname, self.peername), self._respond)

    def _respond(self, result):
        """Loop thread: the application finished the request being served; ``result`` is
        call_app's, or None when its thread ended without one."""
        if self.state == CLOSED:
            return
        request, self.serving = self.serving, None
        if result is None:
            self.abort()
            return
        close = (self.server.draining or not self.limits.keep_alive or not request.keep_alive
                 or (self.last_request_in and not self.ready))
        try:
            status, reason, headers, body = result
            self.transport.write(response_bytes(request.method, status, reason, headers, body, close,
                                                self.server.date()))
        except Exception:  # noqa: BLE001 - e.g. a header value that is not latin-1
            LOG.exception("Could not send the response to %s %s", request.method, request.target)
            self.abort()
            return
        if close:
            self.close()
            return
        self.state = READING if self.in_message else IDLE
        self.deadline = self.server.now() + (self.limits.request_timeout if self.in_message
                                             else self.limits.keepalive_timeout)
        if self.ready:
            self._dispatch(self.ready.popleft())
        elif self.write_deadline is None:
            self.transport.resume_reading()

    # ending -----------------------------------------------------------------
    def fail(self, status, message):
        """Answer an HTTP-layer error in Neutron's shape and close.

        Requests that arrived whole before the error are answered first; then the
        connection closes without the error answer (a client that pipelines, or asks
        for an upgrade or a close, gets every answer it can parse).
        """
        if self.state == CLOSED:
            return
        self.last_request_in = True
        if self.state == BUSY or self.ready:
            return
        request_id = new_request_id()
        LOG.info("%s from %s: %d %s", request_id, self.peername, status, message)
        self.transport.write(error_response(status, message, request_id))
        self.close()

    def close(self):
        if self.state != CLOSED:
            self.state = CLOSED
            self.transport.close()

    def abort(self):
        if self.state != CLOSED:
            self.state = CLOSED
            self.transport.abort()

    def evictable(self):
        return self.state in (IDLE, READING)

    def check(self, now):
        """Enforce the deadline of the current phase."""
        if self.write_deadline is not None and now >= self.write_deadline:
            self.abort()
            return
        if self.deadline is None or now < self.deadline:
            return
        if self.state == READING:
            self.fail(408, "Request Timeout: the request was not received in %d seconds."
                      % self.limits.request_timeout)
        elif self.state == IDLE:
            self.close()

    def drain(self, now):
        """Shutdown began: idle connections go now, a request being sent gets a short grace."""
        if self.state == IDLE:
            self.close()
        elif self.state == READING:
            self.deadline = min(self.deadline, now + _DRAIN_READ_GRACE)


# ---------------------------------------------------------------- the threads

class _Workers:
    """The threads that run the WSGI application, fed by the loop.

    A request goes to them through a SimpleQueue and its result comes back with
    the loop's call_soon_threadsafe: no Future per request, whose locks and
    callbacks cost a request 19-23 us of CPU against 5-6 us for this handoff
    (bench/README.md)."""

    def __init__(self, app, loop, count):
        self._app = app
        self._loop = loop
        self._queue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._run, name="api-%d" % number) for number in range(count)]
        for thread in self._threads:
            thread.start()

    def submit(self, environ, done):
        """Run the application on ``environ``; done(result) is then called on the loop thread."""
        self._queue.put((environ, done))

    def stop(self):
        """Let each thread end once the requests queued before this are served."""
        for _thread in self._threads:
            self._queue.put(None)

    def _run(self):
        while (item := self._queue.get()) is not None:
            environ, done = item
            result = None
            try:
                result = call_app(self._app, environ)  # answers 500 for what the application raises
            finally:
                # Also when SystemExit or the like ends this thread: the connection is aborted.
                try:
                    self._loop.call_soon_threadsafe(done, result)
                except RuntimeError:
                    pass  # the loop has closed: shutdown gave up on this request


# ---------------------------------------------------------------- the server

class HttpServer:
    """Serves one WSGI application on listening sockets in the calling (main) thread."""

    def __init__(self, app, limits):
        self.app = app
        self.limits = limits
        self.loop = None
        self.workers = None
        self.connections = {}
        self.draining = False
        self._servers = []
        self._stopped = None
        self._drain_deadline = None
        self.max_connections = limits.max_connections
        self.date = HttpDate()

    def now(self):
        return self.loop.time()

    def run_app(self, environ, done):
        """Run the application in a worker thread; done(result) is then called on the loop thread."""
        self.workers.submit(environ, done)

    # bookkeeping ------------------------------------------------------------
    def connection_opened(self, conn):
        self.connections[conn] = None
        if self.draining:
            conn.close()
        elif len(self.connections) > self.max_connections:
            self._evict(conn)

    def connection_closed(self, conn):
        self.connections.pop(conn, None)
        if self.draining and not self.connections:
            self._poke()

    def _evict(self, newcomer):
        # Oldest first: dict order is accept order.
        for conn in self.connections:
            if conn is not newcomer and conn.evictable():
                conn.close()
                return
        newcomer.close()

    # running ----------------------------------------------------------------
    def serve(self, sockets, stop_signals=(signal.SIGTERM, signal.SIGINT), heartbeat=None,
              keep_running=None):
        """Serve until one of stop_signals arrives (or keep_running() turns false), then drain.

        heartbeat() is called every second from the loop; keep_running, when given,
        is asked as often.
        """
        soft_limit = raise_open_files_limit()
        self.max_connections = max(16, min(self.limits.max_connections, soft_limit - _RESERVED_FDS))
        self.loop = uvloop.new_event_loop()
        self.workers = _Workers(self.app, self.loop, self.limits.threads)
        self._stopped = self.loop.create_future()
        _keep_forked_children_off_the_loops_signals(stop_signals)
        try:
            for sig in stop_signals:
                self.loop.add_signal_handler(sig, self.shutdown)
            self.loop.run_until_complete(self._run(sockets, heartbeat, keep_running))
        finally:
            for sig in stop_signals:
                self.loop.remove_signal_handler(sig)
            for conn in list(self.connections):
                conn.abort()
            self.workers.stop()
            self.loop.close()

    async def _run(self, sockets, heartbeat, keep_running):
        for sock in sockets:
            sock.setblocking(False)
            server = await self.loop.create_server(lambda: _Connection(self), sock=sock,
                                                   backlog=self.limits.backlog)
            self._servers.append(server)
        sweeper = self.loop.create_task(self._sweep(heartbeat, keep_running))
        try:
            await self._stopped
        finally:
            sweeper.cancel()

    async def _sweep(self, heartbeat, keep_running):
        while True:
            if heartbeat is not None:
                heartbeat()
            if keep_running is not None and not self.draining and not keep_running():
                self.shutdown()
            now = self.now()
            for conn in list(self.connections):
                conn.check(now)
            if self.draining and (not self.connections or now >= self._drain_deadline):
                if self.connections:
                    LOG.warning("Shutting down with %d connections still open", len(self.connections))
                self._stopped.set_result(None)
                return
            await asyncio.sleep(0.1 if self.draining else _SWEEP_INTERVAL)

    def shutdown(self):
        """Stop accepting and drain; safe to call more than once (loop thread only)."""
        if self.draining:
            return
        self.draining = True
        LOG.info("Stopping: no new connections; %d requests in flight, %d connections open",
                 sum(1 for conn in self.connections if conn.state == BUSY), len(self.connections))
        for server in self._servers:
            server.close()
        now = self.now()
        self._drain_deadline = now + self.limits.graceful_timeout
        for conn in list(self.connections):
            conn.drain(now)
        # Wake the sweeper at once rather than at its next tick.
        self.loop.call_soon(self._poke)

    def _poke(self):
        if not self.connections and not self._stopped.done():
            self._stopped.set_result(None)

