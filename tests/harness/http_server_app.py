"""A small WSGI application served by netweave's HTTP server, for its tests.

    python tests/harness/http_server_app.py --port P [--gunicorn] [--request-timeout S]
        [--graceful-timeout S] [--max-connections N]

``GET /sleep?seconds=S`` answers after S seconds (a request that stays in
flight); ``GET /fork`` forks a child that does not exec (as pyroute2 does to open a
socket in a network namespace), sleeps 10 s and exits, and answers its pid; any
other path answers 200 with the method and path. Without
``--gunicorn`` it runs like the all-in-one (HttpServer.serve in this process);
with it, like netweave-server (gunicorn's arbiter and one ApiWorker).
"""
import argparse
import json
import os
import signal
import sys
import time
import urllib.parse

from netweave.core.api import http_server


def app(environ, start_response):
    query = urllib.parse.parse_qs(environ["QUERY_STRING"])
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(float(query.get("seconds", ["1"])[0]))
    if environ["PATH_INFO"] == "/fork":
        ready, started = os.pipe()
        child = os.fork()
        if child == 0:
            os.write(started, b".")  # os.fork has returned here: the at-fork handlers ran
            time.sleep(10)
            os._exit(0)
        os.close(started)
        os.read(ready, 1)
        os.close(ready)
        body = json.dumps({"pid": child}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    body = json.dumps({"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"],
                       "query_length": len(environ["QUERY_STRING"]),
                       "body_length": len(environ["wsgi.input"].read())}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--gunicorn", action="store_true")
    parser.add_argument("--request-timeout", type=float, default=60.0)
    parser.add_argument("--graceful-timeout", type=float, default=30.0)
    parser.add_argument("--max-connections", type=int, default=10000)
    args = parser.parse_args()
    limits = http_server.Limits(request_timeout=args.request_timeout, graceful_timeout=args.graceful_timeout,
                                max_body=1024 * 1024, max_connections=args.max_connections)
    if not args.gunicorn:
        listener = http_server.listen("127.0.0.1", args.port, 128)
        print("serving", flush=True)
        http_server.HttpServer(app, limits).serve([listener])
        print("stopped", flush=True)
        return 0

    from gunicorn.app import base

    from netweave.core.cmd import server

    class Application(base.BaseApplication):
        http_limits = limits

        def load_config(self):
            for key, value in {"bind": "127.0.0.1:%d" % args.port, "workers": 1,
                               "worker_class": server.ApiWorker, "graceful_timeout": int(args.graceful_timeout) + 5,
                               "loglevel": "info"}.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    Application().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
