#!/usr/bin/env python3
"""A normal client's latency while thousands of idle or slow connections are held.

For each candidate HTTP server the bench starts the real netweave API (SQLite,
noauth, one process, in-process RPC) behind that server on 127.0.0.1, then:

* baseline: ``--requests`` GETs of /v2.0/networks, ``--clients`` at a time,
  each on a new connection, with a ``--timeout`` second timeout, none started
  after ``--phase-time`` seconds;
* idle: ``--connections`` connections that send nothing, then the same GETs;
* slow: ``--connections`` connections that send half a request head and then
  one more header byte every ``--trickle`` seconds, then the same GETs.

The idle and slow connections are held by a separate process (so the
measuring client's timing is not disturbed by them). Every phase is bounded:
holders get ``--open-time`` seconds to connect, each GET ``--timeout`` seconds.

    python bench/http_connections_bench.py                     # all candidates
    python bench/http_connections_bench.py --candidates netweave --connections 500

Candidates (all one process, serving the same application):

* cheroot: cheroot's WSGI server as the all-in-one ran it (16 threads, backlog 5);
* cheroot-tuned: 64 threads, backlog 4096, 3 s socket timeout, keep_alive_conn_limit 12000;
* gthread: gunicorn's gthread worker as netweave-server ran it (8 threads, keepalive 5);
* gthread-tuned: 64 threads, worker_connections 12000, backlog 4096;
* netweave: core/api/http_server.py (uvloop + httptools read requests, a thread pool runs them).

See bench/README.md.
"""
import argparse
import asyncio
import http.client
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

CANDIDATES = ("cheroot", "cheroot-tuned", "gthread", "gthread-tuned", "netweave")
SLOW_HEAD = b"GET /v2.0/networks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- the servers (run as `--serve NAME`) -------------------------------------------------


def _netweave_conf(state, port):
    from netweave.core.cmd import all_in_one
    from netweave.core.db import setup as db_setup
    args = all_in_one._parse(["--state-path", state, "--bind-port", str(port), "--l2-agent", "none"])
    conf = all_in_one.build_conf(args)
    db_setup.upgrade(db_setup.database_url(conf))
    return conf


def serve(name, port, state):
    raise_nofile()
    conf = _netweave_conf(state, port)
    from netweave.core.cmd import server as server_cmd
    if name.startswith("cheroot"):
        from cheroot import wsgi
        app = server_cmd.make_app(conf, sync=True)
        if name == "cheroot":
            httpd = wsgi.Server(("127.0.0.1", port), app, numthreads=16)
        else:
            httpd = wsgi.Server(("127.0.0.1", port), app, numthreads=64, request_queue_size=4096,
                                timeout=3)
            # Past this many idle connections cheroot stops accepting (10 by default).
            httpd.keep_alive_conn_limit = 12000
        signal.signal(signal.SIGTERM, lambda *_: httpd.stop())
        httpd.safe_start()
    elif name.startswith("gthread"):
        from gunicorn.app import base

        class App(base.BaseApplication):
            def load_config(self):
                settings = {"bind": "127.0.0.1:%d" % port, "workers": 1, "worker_class": "gthread",
                            "loglevel": "warning", "accesslog": None}
                if name == "gthread":
                    settings.update(threads=8, keepalive=5)
                else:
                    settings.update(threads=64, keepalive=5, worker_connections=12000, backlog=4096)
                for key, value in settings.items():
                    self.cfg.set(key, value)

            def load(self):
                return server_cmd.make_app(conf)

        server_cmd.make_app(conf, sync=True)
        from netweave.core.db import api as db_api
        db_api.DATABASE.engine.dispose()
        App().run()
    elif name == "netweave":
        from netweave.core.api import http_server
        app = server_cmd.make_app(conf, sync=True)
        listener = http_server.listen("127.0.0.1", port, conf.backlog)
        http_server.HttpServer(app, http_server.limits_from_conf(conf)).serve([listener])
    else:
        raise SystemExit("unknown candidate %s" % name)


# --- the connection holder (run as `--hold idle|slow`) -----------------------------------


async def _hold(kind, port, count, trickle, open_time):
    gate = asyncio.Semaphore(200)
    writers = []

    async def one():
        async with gate:
            try:
                _reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            except (OSError, asyncio.TimeoutError):
                return
            if kind == "slow":
                writer.write(SLOW_HEAD)
            writers.append(writer)

    opening = asyncio.gather(*(one() for _ in range(count)))
    try:
        await asyncio.wait_for(opening, open_time)
    except asyncio.TimeoutError:
        pass
    print("opened %d" % len(writers), flush=True)
    while True:
        await asyncio.sleep(trickle)
        if kind == "slow":
            for writer in writers:
                if not writer.transport.is_closing():
                    writer.write(b"a")


def hold(kind, port, count, trickle, open_time):
    raise_nofile()
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda *_: None)  # resets by the server are expected
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.create_task(_hold(kind, port, count, trickle, open_time))
    loop.run_forever()


# --- measuring ---------------------------------------------------------------------------


def one_get(port, timeout):
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/v2.0/networks", headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        ok = response.status == 200
    except (OSError, http.client.HTTPException):
        ok = False
    finally:
        conn.close()
    return ok, time.monotonic() - started


def measure(port, requests, clients, timeout, budget):
    """Up to `requests` GETs, `clients` at a time; none is started after `budget` seconds."""
    results = []
    lock = threading.Lock()
    todo = list(range(requests))
    deadline = time.monotonic() + budget

    def worker():
        while True:
            with lock:
                if not todo or time.monotonic() > deadline:
                    return
                todo.pop()
            outcome = one_get(port, timeout)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = sorted(elapsed for ok, elapsed in results if ok)
    failed = sum(1 for ok, _ in results if not ok)
    return times, failed


def percentile(times, pct):
    if not times:
        return None
    rank = max(1, -(-len(times) * pct // 100))  # nearest rank
    return times[int(rank) - 1]


def wait_ready(port, process, deadline=60.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError("server exited with %s" % process.returncode)
        ok, _ = one_get(port, 2)
        if ok:
            return
        time.sleep(0.3)
    raise RuntimeError("server not ready in %ds" % deadline)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_candidate(name, args, rows):
    port = free_port()
    state = tempfile.mkdtemp(prefix="http-bench-")
    log = open(os.path.join(state, "server.log"), "w")
    me = os.path.abspath(__file__)
    server = subprocess.Popen([sys.executable, me, "--serve", name, "--port", str(port),
                               "--state", state], stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        wait_ready(port, server)
        for phase in args.phases.split(","):
            holder, opened = None, 0
            if phase != "baseline":
                holder = subprocess.Popen(
                    [sys.executable, me, "--hold", phase, "--port", str(port), "--count",
                     str(args.connections), "--trickle", str(args.trickle), "--open-time",
                     str(args.open_time)], stdout=subprocess.PIPE, text=True)
                line = holder.stdout.readline()
                opened = int(line.split()[1]) if line.startswith("opened") else 0
                time.sleep(args.settle)
            started = time.monotonic()
            times, failed = measure(port, args.requests, args.clients, args.timeout, args.phase_time)
            wall = time.monotonic() - started
            if holder is not None:
                holder.send_signal(signal.SIGTERM)
                try:
                    holder.wait(10)
                except subprocess.TimeoutExpired:
                    holder.kill()
                    holder.wait()
            row = (name, phase, opened, times, failed, wall)
            rows.append(row)
            print_row(row)
            if phase != "baseline":
                time.sleep(args.settle)  # let the server close what the holder left
    except RuntimeError as error:
        print("%-14s failed: %s" % (name, error), flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
        shutil.rmtree(state, ignore_errors=True)


def _ms(value):
    return "-" if value is None else "%.1f" % (value * 1000)


HEADER = "%-14s %-9s %6s %5s %5s %8s %8s %8s %8s %7s" % (
    "server", "phase", "held", "sent", "ok", "timeouts", "p50 ms", "p99 ms", "max ms", "wall s")


def print_row(row):
    name, phase, opened, times, failed, wall = row
    print("%-14s %-9s %6d %5d %5d %8d %8s %8s %8s %7.1f" % (
        name, phase, opened, len(times) + failed, len(times), failed, _ms(percentile(times, 50)),
        _ms(percentile(times, 99)), _ms(times[-1] if times else None), wall), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", default=",".join(CANDIDATES),
                        help="comma separated, from: %s" % ", ".join(CANDIDATES))
    parser.add_argument("--phases", default="baseline,idle,slow", help="comma separated, in this order")
    parser.add_argument("--connections", type=int, default=5000, help="idle or slow connections held")
    parser.add_argument("--requests", type=int, default=200, help="normal GETs per phase")
    parser.add_argument("--phase-time", type=float, default=60.0,
                        help="seconds after which a phase starts no more GETs")
    parser.add_argument("--clients", type=int, default=5, help="normal GETs in parallel")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a normal GET may take")
    parser.add_argument("--trickle", type=float, default=2.0, help="seconds between a slow client's bytes")
    parser.add_argument("--open-time", type=float, default=20.0, help="seconds to open the held connections")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between opening and measuring")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--hold", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.port, args.state)
    if args.hold:
        return hold(args.hold, args.port, args.count, args.trickle, args.open_time)
    names = [name.strip() for name in args.candidates.split(",") if name.strip()]
    unknown = set(names) - set(CANDIDATES)
    if unknown:
        parser.error("unknown candidates: %s" % ", ".join(sorted(unknown)))
    print("http_connections_bench: %d idle/slow connections held by another process; up to %d GETs "
          "of /v2.0/networks per phase (none started after %.0f s), %d at a time, each on a new "
          "connection, timeout %.0f s; slow clients send a byte every %.0f s"
          % (args.connections, args.requests, args.phase_time, args.clients, args.timeout, args.trickle))
    print("python %s, %d cores, load average %s, open files limit %d"
          % (platform.python_version(), os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg()),
             raise_nofile()))
    print(HEADER, flush=True)
    rows = []
    for name in names:
        run_candidate(name, args, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
