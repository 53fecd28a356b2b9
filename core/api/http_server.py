"""The HTTP/1.1 server in front of the API's WSGI application.

One asyncio loop per process owns every connection: it accepts, reads and
parses requests (h11) and holds idle keep-alive connections, so an idle or
slow client costs a socket and a few kilobytes, never a thread. Only a
request whose head and body have fully arrived goes to the thread pool that
runs the WSGI application; its whole response comes back to the loop, which
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
HTTP itself is h11's; this module is only the loop, the limits and the errors.

``HttpServer.serve`` runs until a stop signal; then it stops accepting (the
listening sockets close), closes idle connections, lets requests being
served finish (their responses say ``Connection: close``) and returns once
none is left or ``graceful_shutdown_timeout`` has passed.
"""
import asyncio
import concurrent.futures
import dataclasses
import email.utils
import io
import json
import logging
import resource
import signal
import socket
import sys
import urllib.parse
import uuid

import h11
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

_REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Request Entity Too Large",
            414: "Request-URI Too Long", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable"}
_TYPES = {400: "HTTPBadRequest", 408: "HTTPRequestTimeout", 413: "HTTPRequestEntityTooLarge",
          414: "HTTPRequestURITooLong", 431: "HTTPRequestHeaderFieldsTooLarge",
          500: "HTTPInternalServerError", 501: "HTTPNotImplemented", 503: "HTTPServiceUnavailable"}
_HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length"}


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


# ---------------------------------------------------------------- WSGI side

def build_environ(request, body, server_addr, peer_addr):
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
        "SERVER_PROTOCOL": "HTTP/%s" % request.http_version.decode("ascii"),
        "REMOTE_ADDR": str(peer_addr[0]) if peer_addr else "",
        "REMOTE_PORT": str(peer_addr[1]) if peer_addr else "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
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


# ---------------------------------------------------------------- connections

IDLE, READING, BUSY, CLOSED = "idle", "reading", "busy", "closed"


class _Connection(asyncio.Protocol):
    """One client connection, driven by the loop; its request runs in the server's pool."""

    def __init__(self, server):
        self.server = server
        self.limits = server.limits
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=server.limits.max_head
                                  + server.limits.max_line)
        self.transport = None
        self.state = IDLE
        self.deadline = None
        self.request = None
        self.body = []
        self.body_size = 0
        self.sockname = None
        self.peername = None
        # Bytes of the request head received so far.
        self.head_bytes = 0
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
        if self.state == CLOSED:
            return
        if self.state == IDLE:
            self.state = READING
            self.head_bytes = 0
            self.deadline = self.server.now() + self.limits.request_timeout
        try:
            self.h11.receive_data(data)
        except RuntimeError:
            # Data after the client said it closed; nothing left to answer.
            self.abort()
            return
        if self.state != READING:
            return
        if self.request is None:
            self.head_bytes += len(data)
            if b"\n" not in data and self.head_bytes <= self.limits.max_line:
                # A head ends with a newline: a client trickling other bytes costs no parsing.
                return
        self._advance()

    def eof_received(self):
        try:
            self.h11.receive_data(b"")
        except RuntimeError:
            pass
        if self.state != BUSY:
            self._advance()
        # Keep the transport half open while a response is being made.
        return self.state == BUSY

    # reading ----------------------------------------------------------------
    def _advance(self):
        """Consume parsed events until a request is complete or more data is needed."""
        try:
            while self.state in (IDLE, READING):
                event = self.h11.next_event()
                if event is h11.NEED_DATA:
                    self._check_request_line()
                    return
                if event is h11.PAUSED:
                    return
                if isinstance(event, h11.Request):
                    self._on_head(event)
                elif isinstance(event, h11.Data):
                    self._on_body(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    self._dispatch()
                elif isinstance(event, h11.ConnectionClosed):
                    self.close()
        except h11.RemoteProtocolError as error:
            status = error.error_status_hint
            if status == 431 and self.request is None and not self._request_line_ended():
                status = 414
            self.fail(status, self._protocol_message(status, error))
        except _RequestError as error:
            self.fail(error.status, error.message)

    def _request_line_ended(self):
        data, _closed = self.h11.trailing_data
        return b"\n" in data[:self.limits.max_line + 2]

    def _check_request_line(self):
        # Answer an endless request line as soon as it is too long, not at the head limit.
        if (self.request is None and self.head_bytes > self.limits.max_line
                and self.h11.their_state is h11.IDLE):
            data, _closed = self.h11.trailing_data
            if len(data) > self.limits.max_line + 2 and b"\n" not in data[:self.limits.max_line + 2]:
                raise _RequestError(414, self._line_message())

    def _line_message(self):
        return "Request line is longer than %d bytes." % self.limits.max_line

    def _protocol_message(self, status, error):
        if status == 414:
            return self._line_message()
        if status == 431:
            return "Request header is larger than %d bytes." % self.limits.max_head
        # h11 quotes the offending bytes after a colon; the reason alone is enough.
        return "Malformed request: %s." % str(error).split(":")[0]

    def _on_head(self, request):
        line = len(request.method) + len(request.target) + len(b"HTTP/1.1") + 2
        if line > self.limits.max_line:
            raise _RequestError(414, self._line_message())
        total = line
        for name, value in request.headers.raw_items():
            size = len(name) + len(value) + 2
            total += size + 2
            if size > self.limits.max_line:
                raise _RequestError(431, "Header line is longer than %d bytes." % self.limits.max_line)
        if total > self.limits.max_head:
            raise _RequestError(431, "Request header is larger than %d bytes." % self.limits.max_head)
        for name, value in request.headers:
            if name == b"content-length" and int(value) > self.limits.max_body:
                raise _RequestError(413, "Request Entity Too Large")
        self.request = request
        if self.h11.they_are_waiting_for_100_continue:
            self.transport.write(self.h11.send(h11.InformationalResponse(status_code=100, headers=[])))

    def _on_body(self, data):
        self.body_size += len(data)
        if self.body_size > self.limits.max_body:
            raise _RequestError(413, "Request Entity Too Large")
        self.body.append(data)

    # serving ----------------------------------------------------------------
    def _dispatch(self):
        self.state = BUSY
        self.deadline = None
        self.transport.pause_reading()
        environ = build_environ(self.request, b"".join(self.body), self.sockname, self.peername)
        self.body = []
        self.body_size = 0
        future = self.server.run_app(environ)
        future.add_done_callback(self._respond)

    def _respond(self, future):
        if self.state == CLOSED:
            return
        if future.cancelled():
            self.abort()
            return
        try:
            self._send_response(*future.result())
        except Exception:  # noqa: BLE001 - e.g. a header value that is not latin-1
            LOG.exception("Could not send the response to %s %s", self.request.method, self.request.target)
            self.abort()

    def _send_response(self, status, reason, headers, body):
        head_only = self.request.method == b"HEAD" or status in (204, 304)
        out = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers
               if name.lower().encode("latin-1") not in _HOP_BY_HOP]
        if not head_only:
            out.append((b"Content-Length", str(len(body)).encode()))
        else:
            out += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers
                    if name.lower() == "content-length" and status not in (204, 304)]
        out.append((b"Date", _http_date().encode()))
        if self.server.draining or not self.limits.keep_alive:
            out.append((b"Connection", b"close"))
        data = self.h11.send(h11.Response(status_code=status, reason=reason.encode("latin-1"), headers=out))
        if not head_only and body:
            data += self.h11.send(h11.Data(data=body))
        data += self.h11.send(h11.EndOfMessage())
        self.transport.write(data)
        self.request = None
        if self.h11.our_state is h11.MUST_CLOSE or self.h11.their_state is not h11.DONE:
            self.close()
            return
        self.h11.start_next_cycle()
        self.state = IDLE
        self.deadline = self.server.now() + self.limits.keepalive_timeout
        if self.write_deadline is None:
            self.transport.resume_reading()
        # A pipelined request may already be buffered.
        data, closed = self.h11.trailing_data
        if data or closed:
            self.state = READING
            self.deadline = self.server.now() + self.limits.request_timeout
            self._advance()

    # ending -----------------------------------------------------------------
    def fail(self, status, message):
        """Answer an HTTP-layer error in Neutron's shape and close."""
        if self.state in (BUSY, CLOSED):
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


# ---------------------------------------------------------------- the server

class HttpServer:
    """Serves one WSGI application on listening sockets in the calling (main) thread."""

    def __init__(self, app, limits):
        self.app = app
        self.limits = limits
        self.loop = None
        self.executor = None
        self.connections = {}
        self.draining = False
        self._servers = []
        self._stopped = None
        self._drain_deadline = None
        self.max_connections = limits.max_connections

    def now(self):
        return self.loop.time()

    def run_app(self, environ):
        return self.loop.run_in_executor(self.executor, call_app, self.app, environ)

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
        self.loop = asyncio.new_event_loop()
        self.executor = concurrent.futures.ThreadPoolExecutor(self.limits.threads,
                                                              thread_name_prefix="api")
        self._stopped = self.loop.create_future()
        try:
            for sig in stop_signals:
                self.loop.add_signal_handler(sig, self.shutdown)
            self.loop.run_until_complete(self._run(sockets, heartbeat, keep_running))
        finally:
            for sig in stop_signals:
                self.loop.remove_signal_handler(sig)
            for conn in list(self.connections):
                conn.abort()
            self.executor.shutdown(wait=False)
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

