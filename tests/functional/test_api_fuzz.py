"""Property-based fuzzing of the whole API, driven by its own OpenAPI description.

A netweave-server with every service plugin (router, port_security, trunk,
lbaasv2 with its noop driver) runs on SQLite, PostgreSQL and MariaDB. The test reads
/v2.0/openapi.json from it, and Hypothesis (seeded, ``FUZZ_SEED``) draws
``FUZZ_REQUESTS`` requests from the description (tests/harness/openapi_fuzz.py):
valid and invalid bodies, filters, fields, sorting and pagination parameters,
path ids of existing rows and of none, identities and If-Match headers. Every
answer must be no 5xx and conform to the description: a documented success
status with a conforming body, or an error in Neutron's shape.

Each Hypothesis example is one request of every documented operation, sent in
an order drawn from the seed by ``FUZZ_SENDERS`` threads against as many API
workers, while the next example is drawn. The seed fixes the choices; the ids
they pick depend on what earlier requests created and deleted. Sending stops
after ``FUZZ_SECONDS``, and the test fails if fewer than 5,000 requests went out
(on MariaDB, which gets ``FUZZ_MARIADB_REQUESTS``, a tenth by default, if fewer than those).

Problems are collected, not raised at the first one, so one run reports them
all. ``FUZZ_VERBOSE=1`` prints the answers' statuses, a few errors and the
slowest operations.
"""
import collections
import json
import os
import queue
import random
import threading
import time

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, seed, settings

from harness import openapi_fuzz
from harness.server import start_server

SEED = int(os.environ.get("FUZZ_SEED", "20261205"))
REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "5200"))
# MariaDB gets a tenth (ten requests of every operation): what differs there is how the database
# stores and refuses values, not the API logic the SQLite and PostgreSQL runs cover at length.
MARIADB_REQUESTS = int(os.environ.get("FUZZ_MARIADB_REQUESTS", str(REQUESTS // 10)))
TIME_BUDGET = float(os.environ.get("FUZZ_SECONDS", "165"))
# Requests in flight at once, against as many API workers.
SENDERS = int(os.environ.get("FUZZ_SENDERS", "2"))

PLUGINS = """
[DEFAULT]
service_plugins = router,port_security,trunk,lbaasv2

[lbaasv2]
driver = noop
"""
ML2 = {"extension_drivers": "port_security,trunk"}


@pytest.fixture(scope="module")
def sqlite_fuzz_server(tmp_path_factory):
    server = start_server(str(tmp_path_factory.mktemp("fuzz-sqlite")), workers=SENDERS, ml2=ML2, extra=PLUGINS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pg_fuzz_server(postgres_server, tmp_path_factory):
    name = postgres_server.create_database()
    server = start_server(str(tmp_path_factory.mktemp("fuzz-pg")), database_url=postgres_server.url_for(name),
                          workers=SENDERS, ml2=ML2, extra=PLUGINS)
    yield server
    server.stop()
    postgres_server.drop_database(name)


@pytest.fixture(scope="module")
def mariadb_fuzz_server(mariadb_server, tmp_path_factory):
    name = mariadb_server.create_database()
    server = start_server(str(tmp_path_factory.mktemp("fuzz-mariadb")), database_url=mariadb_server.url_for(name),
                          workers=SENDERS, ml2=ML2, extra=PLUGINS)
    yield server
    server.stop()
    mariadb_server.drop_database(name)


def _seed_rows(session, url, pool):
    """Rows for the fuzzer's ids to name: one of everything, made as admin."""
    def create(collection, member, body):
        response = session.post(url + "/v2.0/" + collection.replace("_", "-"), json={member: body})
        assert response.status_code == 201, (collection, response.text)
        item = response.json()[member]
        pool.add(collection, item["id"])
        return item

    external = create("networks", "network", {"name": "fuzz-external", "router:external": True})
    create("subnets", "subnet", {"network_id": external["id"], "cidr": "10.250.0.0/24", "ip_version": 4})
    network = create("networks", "network", {"name": "fuzz-net"})
    subnet = create("subnets", "subnet", {"network_id": network["id"], "cidr": "10.0.0.0/24", "ip_version": 4})
    create("subnets", "subnet", {"network_id": network["id"], "cidr": "fd00::/64", "ip_version": 6})
    scope = create("address_scopes", "address_scope", {"name": "fuzz-scope", "ip_version": 4})
    create("subnetpools", "subnetpool", {"name": "fuzz-pool", "prefixes": ["10.100.0.0/16"],
                                         "default_prefixlen": 26, "address_scope_id": scope["id"]})
    port = create("ports", "port", {"network_id": network["id"]})
    create("ports", "port", {"network_id": network["id"], "tags": ["red"]})
    router = create("routers", "router", {"name": "fuzz-router",
                                          "external_gateway_info": {"network_id": external["id"]}})
    session.put(url + "/v2.0/routers/%s/add_router_interface" % router["id"], json={"subnet_id": subnet["id"]})
    group = create("security_groups", "security_group", {"name": "fuzz-group"})
    create("security_group_rules", "security_group_rule", {"security_group_id": group["id"],
                                                           "direction": "ingress", "protocol": "tcp"})
    create("trunks", "trunk", {"port_id": port["id"]})
    create("floatingips", "floatingip", {"floating_network_id": external["id"]})
    create("rbac_policies", "rbac_policy", {"object_type": "network", "object_id": network["id"],
                                            "action": "access_as_shared", "target_tenant": "fuzz-member-project"})
    # Whatever the server made on its own (default security groups, agents, ...).
    for collection in ("security_groups", "agents", "network_segment_ranges", "service_providers"):
        response = session.get(url + "/v2.0/" + collection.replace("_", "-"))
        if response.status_code == 200:
            for item in response.json().get(collection, []):
                if "id" in item:
                    pool.add(collection, item["id"])


def _note_created(request, body, pool):
    if request.method != "POST" or not isinstance(body, dict):
        return
    collection = request.template.split("/")[2].replace("-", "_")
    for value in body.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                pool.add(collection, item["id"])


class Sender:
    """Sends requests and judges the answers in a thread of its own, so that the server
    answers one request while Hypothesis draws the next ones."""

    def __init__(self, url, doc, pool):
        self.url = url
        self.lock = threading.Lock()
        self.pool = pool
        self.conformance = openapi_fuzz.Conformance(doc)
        self.queue = queue.Queue(maxsize=20)
        self.sent = 0
        self.server_seconds = 0.0
        self.seconds_by_operation = collections.Counter()
        self.statuses = collections.Counter()
        self.operations = collections.Counter()
        self.by_operation = collections.Counter()
        self.errors = collections.defaultdict(list)  # operation -> a few (status, answer, request)
        self.problems = collections.defaultdict(list)   # kind -> [(request, status, problem, body)]
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(SENDERS)]
        for thread in self.threads:
            thread.start()

    def _run(self):
        session = requests.Session()  # one per thread: Session is not thread-safe
        while True:
            request = self.queue.get()
            if request is None:
                return
            try:
                response = session.request(request.method, self.url + request.path, params=request.query,
                                           headers=dict(request.headers, **{"Content-Type": "application/json"}),
                                           data=request.encoded_body(), timeout=30)
            except Exception as error:  # noqa: BLE001 - a failed send is a finding too
                with self.lock:
                    self.problems["%s: %s" % (request.operation, type(error).__name__)].append(
                        (request.describe(), 0, repr(error), ""))
                continue
            problem = self.conformance.problem(request, response.status_code, response.content)
            with self.lock:
                self._note(request, response, problem)

    def _note(self, request, response, problem):
        self.sent += 1
        self.server_seconds += response.elapsed.total_seconds()
        self.seconds_by_operation[request.operation] += response.elapsed.total_seconds()
        self.statuses[response.status_code] += 1
        self.operations[request.operation] += 1
        self.by_operation[(request.operation, response.status_code)] += 1
        if response.status_code >= 400 and len(self.errors[request.operation]) < 4:
            self.errors[request.operation].append((response.status_code, response.text[:200], request.describe()[:300]))
        if problem is None:
            if response.status_code == 201 and response.content:
                _note_created(request, response.json(), self.pool)
            if request.operation.startswith("delete_") and response.status_code == 204:
                _, _, collection, item_id = request.path.split("/")
                self.pool.remove(collection.replace("-", "_"), item_id)
            return
        kind = "%s %s -> %s" % (request.operation, request.method, problem.split(":")[0][:120])
        self.problems[kind].append((request.describe(), response.status_code, problem, response.text[:400]))

    def finish(self):
        for _thread in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            thread.join()


def _fuzz(server, database, total=REQUESTS):
    session = requests.Session()
    url = server.url
    description = session.get(url + "/v2.0/openapi.json")
    assert description.status_code == 200, description.text
    doc = description.json()
    pool = openapi_fuzz.IdPool()
    _seed_rows(session, url, pool)
    requests_of = openapi_fuzz.Requests(doc, pool, openapi_fuzz.member_schema_collections(doc))
    sender = Sender(url, doc, pool)
    started = time.monotonic()

    per_example = len(requests_of.operations)
    shuffle = random.Random(SEED)

    @seed(SEED)
    @settings(max_examples=-(-total // per_example), database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(batch=requests_of.strategy)
    def run(batch):
        # One request of every operation, in an order of the seed's.
        batch = list(batch)
        shuffle.shuffle(batch)
        for request in batch:
            if time.monotonic() - started > TIME_BUDGET:
                return
            sender.queue.put(request)

    try:
        run()
    finally:
        sender.finish()
    elapsed = time.monotonic() - started
    summary = ("%s: %d requests in %.0f s (%.0f/s, %.0f s waiting for answers); statuses %s; "
               "%d operations exercised"
               % (database, sender.sent, elapsed, sender.sent / max(elapsed, 0.001), sender.server_seconds,
                  dict(sorted(sender.statuses.items())), len(sender.operations)))
    print(summary)
    if os.environ.get("FUZZ_VERBOSE"):
        for (operation, status), count in sorted(sender.by_operation.items()):
            print("  %-40s %d %d" % (operation, status, count))
        for operation, errors in sorted(sender.errors.items()):
            for error in errors:
                print("  %s %s" % (operation, error))
        for operation, seconds in sender.seconds_by_operation.most_common(15):
            print("  %-40s %.1f s for %d" % (operation, seconds, sender.operations[operation]))
    report = []
    for kind, cases in sorted(sender.problems.items()):
        request, status, problem, text = cases[0]
        report.append("%d x %s\n    e.g. %s\n    -> %d %s\n    %s" % (len(cases), kind, request, status, problem,
                                                                          text))
    assert not sender.problems, summary + "\n" + "\n".join(report)
    minimum = min(total, 5000)
    assert sender.sent >= minimum, "only %d requests in the time budget: %s" % (sender.sent, summary)
    # Enough of the description was exercised, and requests got past validation.
    documented = sum(1 for item in doc["paths"].values() for verb in item if verb != "parameters")
    assert len(sender.operations) >= 0.9 * documented, summary
    assert sender.statuses[200] + sender.statuses[201] + sender.statuses[204] >= 0.2 * sender.sent, summary


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_fuzz_sqlite(sqlite_fuzz_server):
    _fuzz(sqlite_fuzz_server, "sqlite")


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_fuzz_postgresql(pg_fuzz_server):
    _fuzz(pg_fuzz_server, "postgresql")


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_fuzz_mariadb(mariadb_fuzz_server):
    _fuzz(mariadb_fuzz_server, "mariadb", MARIADB_REQUESTS)


def test_the_description_is_served_without_identity(sqlite_fuzz_server):
    response = requests.get(sqlite_fuzz_server.url + "/v2.0/openapi.json",
                            headers={"X-Project-Id": "anyone", "X-Roles": "reader"})
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    assert {"router", "trunk", "security-group", "port-security"} <= set(doc["x-extensions"])
    assert "/v2.0/trunks/{id}/add_subports" in doc["paths"]
    refused = requests.post(sqlite_fuzz_server.url + "/v2.0/openapi.json", data=json.dumps({}))
    assert refused.status_code == 405
    assert set(refused.json()["NeutronError"]) == {"type", "message", "detail"}
