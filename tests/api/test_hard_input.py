"""Hostile input against netweave-server on SQLite, PostgreSQL and MariaDB: never a 5xx.

Each value in a query string, a path or a body is checked against its
attribute before any query, and what a database still refuses (a value too
long or out of range, a NUL, a row removed concurrently) is answered as a 4xx
in Neutron's error shape. The same requests go to a server on each database:
PostgreSQL and MariaDB refuse much that SQLite stores, MariaDB compares
strings by its tables' collation, and the answers must not differ.
"""
import json
import re
import socket
import threading
import time
import urllib.parse
import uuid

import pytest
import requests
import sqlalchemy as sa

from harness.server import start_server

REQUEST_ID_RE = re.compile(r"^req-[0-9a-f-]{36}$")
# Long enough a head for 2,000 sort keys: the database, not the HTTP layer, must cope.
BIG_HEADS = "\n[DEFAULT]\nmax_header_line = 65536\nmax_header_size = 131072\n"


class Server:
    def __init__(self, running, database_url=None):
        self.url = running.url + "/v2.0"
        self.database_url = database_url
        self.rows = {}

    def call(self, method, path, body=None, headers=None, raw=None):
        kwargs = {"headers": dict({"Content-Type": "application/json"}, **(headers or {})), "timeout": 60}
        if raw is not None:
            kwargs["data"] = raw
        elif body is not None:
            kwargs["json"] = body
        return requests.request(method, self.url + path, **kwargs)

    def create(self, collection, member, **body):
        response = self.call("POST", "/" + collection, {member: body})
        assert response.status_code == 201, response.text
        return response.json()[member]


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory):
    running = start_server(str(tmp_path_factory.mktemp("sqlite")), extra=BIG_HEADS)
    yield Server(running)
    running.stop()


@pytest.fixture(scope="module")
def postgres_api_server(postgres_server, tmp_path_factory):
    name = postgres_server.create_database()
    url = postgres_server.url_for(name)
    running = start_server(str(tmp_path_factory.mktemp("pg")), database_url=url, extra=BIG_HEADS)
    yield Server(running, url)
    running.stop()
    postgres_server.drop_database(name)


@pytest.fixture(scope="module")
def mariadb_api_server(mariadb_server, tmp_path_factory):
    name = mariadb_server.create_database()
    url = mariadb_server.url_for(name)
    running = start_server(str(tmp_path_factory.mktemp("mariadb")), database_url=url, extra=BIG_HEADS)
    yield Server(running, url)
    running.stop()
    mariadb_server.drop_database(name)


SERVERS = {"sqlite": "sqlite_server", "postgresql": "postgres_api_server", "mariadb": "mariadb_api_server"}
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
             pytest.param("mariadb", marks=pytest.mark.mariadb)]


@pytest.fixture(params=DATABASES)
def server(request):
    server = request.getfixturevalue(SERVERS[request.param])
    if not server.rows:
        network = server.create("networks", "network", name="hard-input")
        subnet = server.create("subnets", "subnet", network_id=network["id"], ip_version=4,
                               cidr="10.77.0.0/24")
        port = server.create("ports", "port", network_id=network["id"])
        server.rows.update(network=network["id"], subnet=subnet["id"], port=port["id"])
    return server


def assert_refused(response, statuses=(400,)):
    assert response.status_code in statuses, (response.status_code, response.text)
    error = response.json()["NeutronError"]
    assert set(error) == {"type", "message", "detail"}, error
    assert error["type"] and error["message"], error
    assert REQUEST_ID_RE.match(response.headers.get("X-Openstack-Request-Id", "")), response.headers
    return error


# (id, method, path, body, headers, statuses); paths may name {network}, {subnet}, {port}.
CASES = [
    # NUL characters: psycopg refuses them before the query is even sent.
    ("tag-add-nul", "PUT", "/networks/{network}/tags/a%00b", None, None, (400,)),
    ("tags-replace-nul", "PUT", "/networks/{network}/tags", {"tags": ["a\u0000b"]}, None, (400,)),
    ("tag-check-nul", "GET", "/networks/{network}/tags/a%00b", None, None, (404,)),
    ("tag-remove-nul", "DELETE", "/networks/{network}/tags/a%00b", None, None, (404,)),
    ("filter-tags-nul", "GET", "/networks?tags=a%00b", None, None, (400,)),
    ("filter-not-tags-any-nul", "GET", "/networks?not-tags-any=a%00b", None, None, (400,)),
    ("filter-name-nul", "GET", "/networks?name=a%00b", None, None, (400,)),
    ("filter-project-nul", "GET", "/ports?project_id=a%00b", None, None, (400,)),
    ("filter-device-owner-nul", "GET", "/ports?device_owner=%00", None, None, (400,)),
    ("body-project-nul", "POST", "/networks", {"network": {"project_id": "a\u0000b"}}, None, (400,)),
    ("path-network-nul", "GET", "/networks/%00", None, None, (404,)),
    ("path-port-nul", "PUT", "/ports/%00", {"port": {"name": "x"}}, None, (404,)),
    ("path-quota-nul", "GET", "/quotas/a%00b", None, None, (404,)),
    ("path-quota-nul-put", "PUT", "/quotas/a%00b", {"quota": {"network": 5}}, None, (404,)),
    # Values of the wrong type for their column.
    ("filter-created-at-text", "GET", "/networks?created_at=abc", None, None, (400,)),
    ("filter-updated-at-text", "GET", "/ports?updated_at=2024-13-45", None, None, (400,)),
    ("filter-default-quota-text", "GET", "/subnetpools?default_quota=abc", None, None, (400,)),
    ("filter-revision-text", "GET", "/networks?revision_number=abc", None, None, (400,)),
    # Over-long ids.
    ("path-quota-300", "GET", "/quotas/" + "p" * 300, None, None, (404,)),
    ("path-quota-300-put", "PUT", "/quotas/" + "p" * 300, {"quota": {"network": 5}}, None, (404,)),
    ("path-network-300", "GET", "/networks/" + "n" * 300, None, None, (404,)),
    ("header-project-300-list", "GET", "/networks", None, {"X-Project-Id": "p" * 300}, (400,)),
    ("header-project-300-create", "POST", "/networks", {"network": {"name": "long-project"}},
     {"X-Project-Id": "p" * 300}, (400,)),
    ("body-project-300", "POST", "/networks", {"network": {"project_id": "p" * 300}}, None, (400,)),
    # Integers past a column's range.
    ("body-default-quota-huge", "POST", "/subnetpools",
     {"subnetpool": {"name": "huge", "prefixes": ["10.88.0.0/16"], "default_quota": 99999999999}}, None,
     (400,)),
    ("body-mtu-huge", "POST", "/networks", {"network": {"mtu": 99999999999}}, None, (400,)),
    ("body-sg-rule-port-huge", "POST", "/security-group-rules",
     {"security_group_rule": {"security_group_id": str(uuid.uuid4()), "direction": "ingress",
                              "protocol": "tcp", "port_range_min": 2 ** 40}}, None, (400, 404)),
    # Attributes that are no filters (filter-validation is advertised).
    ("filter-allocation-pools", "GET", "/subnets?allocation_pools=x", None, None, (400,)),
    ("filter-prefixlen", "GET", "/subnets?prefixlen=x", None, None, (400,)),
    ("filter-unknown", "GET", "/networks?colour=blue", None, None, (400,)),
    # Tags Neutron would store but no client could use.
    ("tags-replace-crlf", "PUT", "/networks/{network}/tags", {"tags": ["a\r\nb"]}, None, (400,)),
    ("tags-replace-blank", "PUT", "/networks/{network}/tags", {"tags": ["   "]}, None, (400,)),
    ("tags-replace-empty", "PUT", "/networks/{network}/tags", {"tags": [""]}, None, (400,)),
    ("tags-replace-256", "PUT", "/networks/{network}/tags", {"tags": ["t" * 256]}, None, (400,)),
    ("tag-add-lf", "PUT", "/networks/{network}/tags/a%0Ab", None, None, (400,)),
    ("tag-add-blank", "PUT", "/networks/{network}/tags/%20%20", None, None, (400,)),
    ("port-create-tag-nul", "POST", "/ports", {"port": {"network_id": "{network}", "tags": ["a\u0000"]}},
     None, (400,)),
]


def _fill(value, rows):
    if isinstance(value, str):
        return value.format(**rows)
    if isinstance(value, dict):
        return {k: _fill(v, rows) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, rows) for v in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_value_is_refused(server, case):
    _id, method, path, body, headers, statuses = case
    response = server.call(method, _fill(path, server.rows), _fill(body, server.rows), headers)
    assert_refused(response, statuses)


def test_refusals_leave_nothing_written(server):
    """A refused create or tag change writes nothing, whichever layer refused it."""
    refused = [("POST", "/networks", {"network": {"name": "long-project"}}, {"X-Project-Id": "p" * 300}),
               ("POST", "/subnetpools", {"subnetpool": {"name": "huge", "prefixes": ["10.89.0.0/16"],
                                                        "default_quota": 2 ** 31}}, None),
               ("PUT", "/networks/%s/tags" % server.rows["network"], {"tags": ["ok", "a\u0000"]}, None)]
    for method, path, body, headers in refused:
        assert_refused(server.call(method, path, body, headers))
    assert server.call("GET", "/networks?name=long-project").json()["networks"] == []
    assert server.call("GET", "/subnetpools?name=huge").json()["subnetpools"] == []
    assert server.call("GET", "/networks/%s/tags" % server.rows["network"]).json()["tags"] == []


def test_valid_values_still_served(server):
    network = server.rows["network"]
    assert server.call("PUT", "/networks/%s/tags/red,blue" % network).status_code == 201
    assert server.call("PUT", "/networks/%s/tags/%s" % (network, "t" * 255)).status_code == 201
    try:
        assert server.call("GET", "/networks/%s/tags/red,blue" % network).status_code == 204
        created = server.call("GET", "/networks/%s" % network).json()["network"]["created_at"]
        for query in ("created_at=%s" % created, "created_at=%s" % created.rstrip("Z"),
                      "revision_number=1", "default_quota=5"):
            collection = "subnetpools" if query.startswith("default_quota") else "networks"
            assert server.call("GET", "/%s?%s" % (collection, query)).status_code == 200, query
        upper = server.call("GET", "/networks/%s" % network.upper())
        assert upper.status_code == 200 and upper.json()["network"]["id"] == network
    finally:
        server.call("DELETE", "/networks/%s/tags" % network)


def test_names_and_tags_are_stored_and_compared_exactly(server):
    """Case, trailing spaces and 4-byte characters count on every database: MariaDB's default
    collations would fold case and ignore trailing spaces, and its utf8 holds 3 bytes a character."""
    names = ["Exact", "exact", "exact ", "\U0001d518nicode \U0001f40d"]
    ids = [server.create("networks", "network", name=name)["id"] for name in names]
    try:
        for network_id, name in zip(ids, names):
            assert server.call("GET", "/networks/" + network_id).json()["network"]["name"] == name
            found = server.call("GET", "/networks?name=" + urllib.parse.quote(name)).json()["networks"]
            assert [n["id"] for n in found] == [network_id], name
        query = "&".join("name=" + urllib.parse.quote(name) for name in names)
        ordered = server.call("GET", "/networks?sort_key=name&sort_dir=asc&" + query).json()["networks"]
        assert [n["name"] for n in ordered] == sorted(names)  # code point order
        tags = ["Web", "web", "web ", "\U0001f40d"]
        response = server.call("PUT", "/networks/%s/tags" % ids[0], {"tags": tags})
        assert response.status_code == 200, response.text
        assert sorted(server.call("GET", "/networks/%s/tags" % ids[0]).json()["tags"]) == sorted(tags)
        for tag in tags:
            found = server.call("GET", "/networks?tags=" + urllib.parse.quote(tag)).json()["networks"]
            assert [n["id"] for n in found] == [ids[0]], tag
        assert server.call("GET", "/networks/%s/tags/WEB" % ids[0]).status_code == 404
    finally:
        for network_id in ids:
            server.call("DELETE", "/networks/" + network_id)


def test_repeated_sort_keys_are_served(server):
    """3,000 sort keys (SQLite takes at most 2,000 ORDER BY terms): repeats order nothing more."""
    query = "&".join(["sort_key=name"] * 1500 + ["sort_key=id"] * 1500)
    response = server.call("GET", "/networks?" + query)
    assert response.status_code == 200, response.text[:300]
    assert server.rows["network"] in [n["id"] for n in response.json()["networks"]]
    paired = "&".join(["sort_key=name&sort_dir=desc"] * 3 + ["sort_key=id&sort_dir=asc"])
    assert server.call("GET", "/networks?" + paired).status_code == 200


def test_hundred_and_two_ids_are_served(server):
    """A filter on 102 ids (the CLI asks so for a page of ports' networks) is no 414."""
    ids = [server.rows["network"]] + [str(uuid.uuid4()) for _ in range(101)]
    response = server.call("GET", "/networks?" + "&".join("id=%s" % i for i in ids))
    assert response.status_code == 200, response.text[:300]
    assert [n["id"] for n in response.json()["networks"]] == [server.rows["network"]]


@pytest.mark.parametrize("database", DATABASES[1:])
def test_port_deleted_while_its_fixed_ips_change(request, database):
    """The port goes away between the update's read and its write of the new address:
    the update answers 404 (its retry finds no port), never a foreign key violation as a 500."""
    server = request.getfixturevalue(SERVERS[database])
    network = server.create("networks", "network", name="race")
    subnet = server.create("subnets", "subnet", network_id=network["id"], ip_version=4, cidr="10.78.0.0/24")
    engine = sa.create_engine(server.database_url)
    try:
        for attempt in range(3):
            port = server.create("ports", "port", network_id=network["id"])
            answers = {}
            with engine.connect() as connection:
                transaction = connection.begin()
                # Delete the port in a transaction of our own and keep it open: the update
                # reads the port as it was and then waits on the row for its writes.
                connection.execute(sa.text("DELETE FROM ports WHERE id = :id"), {"id": port["id"]})

                body = {"port": {"fixed_ips": [{"subnet_id": subnet["id"],
                                                "ip_address": "10.78.0.%d" % (100 + attempt)}]}}
                worker = threading.Thread(target=lambda path=f"/ports/{port['id']}", body=body, into=answers:
                                          into.update(put=server.call("PUT", path, body)))
                worker.start()
                time.sleep(1.0)
                transaction.commit()
            worker.join(60)
            assert not worker.is_alive()
            assert_refused(answers["put"], (404,))
            assert server.call("GET", "/ports/%s" % port["id"]).status_code == 404
    finally:
        engine.dispose()
        server.call("DELETE", "/networks/%s" % network["id"])


@pytest.mark.parametrize("head, body", [
    (b"Content-Length: abc\r\n", b""),
    (b"Content-Length: 3\r\nContent-Length: 4\r\n", b"abcd"),
    (b"Content-Type: application/json\r\nContent-Length: 5\r\n", b"{abc}"),
    (b"Content-Type: text/plain\r\nContent-Length: 4\r\n", b"<a/>"),
    (b"Content-Type: application/json\r\nContent-Length: 4\r\n", b"\xff\xfe{}"[:4]),
    (b"Content-Type: application/json\r\nContent-Length: 33\r\n", b'{"network": {"name": "a\\u0000"}}'),
    (b"Transfer-Encoding: chunked\r\n", b"zz\r\n"),
], ids=["content-length-text", "content-length-twice", "json-invalid", "content-type-text",
        "body-not-utf8", "json-nul", "chunk-invalid"])
def test_malformed_http_gets_a_neutron_error(server, head, body):
    """Errors of the HTTP layer and of the body's decoding share the application's error shape."""
    host, port = server.url.split("//")[1].split("/")[0].split(":")
    request = b"POST /v2.0/networks HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n" + body
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head_part, _sep, payload = answer.partition(b"\r\n\r\n")
    status_line = head_part.split(b"\r\n")[0].decode("latin-1")
    assert status_line.startswith("HTTP/1.1 400 "), answer[:300]
    error = json.loads(payload)["NeutronError"]
    assert set(error) == {"type", "message", "detail"} and error["type"] == "HTTPBadRequest", error
    assert b"x-openstack-request-id: req-" in head_part.lower()
