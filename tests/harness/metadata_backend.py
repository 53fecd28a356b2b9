"""A stand-in for Nova's metadata API, on the loopback, for metadata tests.

It answers only requests signed with the shared secret, as Nova does:
X-Instance-ID-Signature must be hex(HMAC-SHA256(secret, X-Instance-ID)),
else 403; a request without X-Instance-ID gets 400 and an unknown instance
404. Each instance (``add_instance``) has its own answers:

  /latest/meta-data/                 the list of keys
  /latest/meta-data/<key>            instance-id, hostname, local-ipv4, project-id
  /openstack/latest/meta_data.json   {"uuid", "hostname", "project_id"}
  POST /openstack/latest/password    stores the body; GET returns it

``requests`` records (method, path, headers, body) of every request;
``force_status`` makes every answer that status, to test how errors are passed
on; ``delay`` (seconds) makes every answer slow, to test concurrency.

    with MetadataBackend("secret") as backend:
        backend.add_instance("uuid-1", hostname="vm1", project_id="p1")
        backend.port ...
"""
import hashlib
import hmac
import http.server
import json
import threading
import time

from harness.processes import LOCALHOST


def signature(secret, instance_id):
    return hmac.new(secret.encode("utf-8"), instance_id.encode("utf-8"), hashlib.sha256).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args):
        pass

    def _reply(self, status, body, content_type="text/plain"):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _serve(self):
        backend = self.server.backend
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        backend.record(self.command, self.path, dict(self.headers.items()), body)
        if backend.delay:
            time.sleep(backend.delay)
        if backend.forced_status is not None:
            return self._reply(backend.forced_status, "forced")
        instance_id = self.headers.get("X-Instance-ID")
        if not instance_id:
            return self._reply(400, "X-Instance-ID header is missing")
        expected = signature(backend.secret, instance_id)
        if not hmac.compare_digest(expected, self.headers.get("X-Instance-ID-Signature") or ""):
            return self._reply(403, "Invalid proxy request signature.")
        instance = backend.instances.get(instance_id)
        if instance is None:
            return self._reply(404, "Instance not found")
        return self._reply(*backend.answer(instance, self.command, self.path.split("?")[0], body))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


class MetadataBackend:
    def __init__(self, secret, host=LOCALHOST):
        self.secret = secret
        self.instances = {}
        self.requests = []
        self.forced_status = None
        self.delay = 0.0
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer((host, 0), _Handler)
        self._server.daemon_threads = True
        self._server.backend = self
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="metadata-backend", daemon=True)
        self._thread.start()

    def add_instance(self, instance_id, hostname=None, project_id="", local_ipv4=""):
        self.instances[instance_id] = {"instance-id": instance_id, "hostname": hostname or instance_id[:8],
                                       "project-id": project_id, "local-ipv4": local_ipv4, "password": b""}

    def force_status(self, status):
        self.forced_status = status

    def record(self, method, path, headers, body):
        with self._lock:
            self.requests.append((method, path, headers, body))

    def answer(self, instance, method, path, body):
        """(status, body, content type) for an authenticated request."""
        if path == "/openstack/latest/password":
            if method == "POST":
                instance["password"] = body
                return 200, "", "text/plain"
            return 200, instance["password"], "text/plain"
        if path == "/openstack/latest/meta_data.json":
            data = {"uuid": instance["instance-id"], "hostname": instance["hostname"],
                    "project_id": instance["project-id"]}
            return 200, json.dumps(data), "application/json"
        if path in ("/latest/meta-data", "/latest/meta-data/"):
            keys = sorted(k for k in instance if k != "password")
            return 200, "\n".join(keys), "text/plain"
        prefix = "/latest/meta-data/"
        key = path[len(prefix):] if path.startswith(prefix) else None
        if key in instance and key != "password":
            return 200, instance[key], "text/plain"
        return 404, "Not found", "text/plain"

    def close(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
