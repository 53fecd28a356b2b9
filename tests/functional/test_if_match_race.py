"""If-Match under concurrency, through the HTTP API of a server with several workers.

Client threads released together send the same ``If-Match: revision_number=N``
to one resource. The revision is checked inside the writing transaction as a
compare-and-swap on revision_number, so exactly one request wins; every other
gets 412 (or 404 once a delete has won), never a 5xx, on SQLite and PostgreSQL.
"""
import threading

import pytest
import requests

from harness import ml2_plugin
from harness import server as server_harness

pytestmark = pytest.mark.slow

PROJECT = "if-match-project"
HEADERS = {"X-Project-Id": PROJECT, "Content-Type": "application/json"}
CLIENTS = 8
ROUNDS = 3


@pytest.fixture(params=ml2_plugin.ALL_BACKENDS)
def server(request, tmp_path):
    database_url = None if request.param == "sqlite" else ml2_plugin.database_url(request, tmp_path)
    running = server_harness.start_server(str(tmp_path / "server"), database_url=database_url, workers=4,
                                          ml2={"extension_drivers": "port_security"},
                                          extra="\n[DEFAULT]\nservice_plugins = port_security\n")
    yield running
    running.stop()


def _session():
    session = requests.Session()
    session.trust_env = False  # no proxy for 127.0.0.1
    return session


def _create(session, url, collection, member, body):
    response = session.post("%s/v2.0/%s" % (url, collection), json={member: body}, headers=HEADERS, timeout=60)
    assert response.status_code == 201, response.text
    return response.json()[member]


def _race(url, requests_to_send):
    """Send ``requests_to_send`` ((method, path, body, revision) each) from threads
    released together; returns [(status, error type or None)] in the same order."""
    barrier = threading.Barrier(len(requests_to_send))
    outcomes = [None] * len(requests_to_send)

    def client(index):
        method, path, body, revision = requests_to_send[index]
        headers = dict(HEADERS, **{"If-Match": "revision_number=%d" % revision})
        with _session() as session:
            barrier.wait(timeout=60)
            response = session.request(method, url + path, json=body, headers=headers, timeout=120)
            error = response.json()["NeutronError"]["type"] if response.status_code >= 400 else None
            outcomes[index] = (response.status_code, error)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(requests_to_send))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert None not in outcomes, "a client failed: %s" % outcomes
    return outcomes


def _resources(session, url):
    """(collection, member, resource, body of an update) for each kind with revisions."""
    network = _create(session, url, "networks", "network", {"name": "race"})
    subnet = _create(session, url, "subnets", "subnet", {"network_id": network["id"], "cidr": "10.60.0.0/24",
                                                         "ip_version": 4})
    port = _create(session, url, "ports", "port", {"network_id": network["id"]})
    pool = _create(session, url, "subnetpools", "subnetpool", {"name": "race", "prefixes": ["10.90.0.0/16"],
                                                               "default_prefixlen": 24})
    group = _create(session, url, "security-groups", "security_group", {"name": "race"})
    return [("networks", "network", network), ("subnets", "subnet", subnet), ("ports", "port", port),
            ("subnetpools", "subnetpool", pool), ("security-groups", "security_group", group)]


def _show(session, url, collection, member, item_id):
    response = session.get("%s/v2.0/%s/%s" % (url, collection, item_id), headers=HEADERS, timeout=60)
    return response.status_code, response.json().get(member)


def test_concurrent_updates_with_one_if_match_let_exactly_one_win(server):
    with _session() as session:
        for collection, member, item in _resources(session, server.url):
            path = "/v2.0/%s/%s" % (collection, item["id"])
            for round_ in range(ROUNDS):
                revision = _show(session, server.url, collection, member, item["id"])[1]["revision_number"]
                outcomes = _race(server.url, [("PUT", path, {member: {"description": "client %d" % i}}, revision)
                                              for i in range(CLIENTS)])
                won = [i for i, (status, _error) in enumerate(outcomes) if status == 200]
                assert len(won) == 1, (collection, round_, outcomes)
                lost = [outcome for i, outcome in enumerate(outcomes) if i not in won]
                assert lost == [(412, "RevisionNumberConstraintFailed")] * (CLIENTS - 1), (collection, lost)
                status, now = _show(session, server.url, collection, member, item["id"])
                assert status == 200 and now["description"] == "client %d" % won[0]
                assert now["revision_number"] > revision
    assert "not checked inside its transaction" not in server.process.log_tail(100000)


def test_an_update_and_deletes_racing_with_one_if_match_let_exactly_one_win(server):
    with _session() as session:
        resources = _resources(session, server.url)
        # Ports first, and subnets before their network: each delete must be allowed.
        order = ["ports", "subnetpools", "security-groups", "subnets", "networks"]
        for collection, member, item in sorted(resources, key=lambda r: order.index(r[0])):
            if collection in ("subnets", "networks"):
                for port in session.get(server.url + "/v2.0/ports", headers=HEADERS, timeout=60).json()["ports"]:
                    session.delete(server.url + "/v2.0/ports/" + port["id"], headers=HEADERS, timeout=60)
            path = "/v2.0/%s/%s" % (collection, item["id"])
            revision = _show(session, server.url, collection, member, item["id"])[1]["revision_number"]
            sent = [("PUT", path, {member: {"description": "update"}}, revision)] + \
                [("DELETE", path, None, revision)] * (CLIENTS - 1)
            outcomes = _race(server.url, sent)
            won = [i for i, (status, _error) in enumerate(outcomes) if status in (200, 204)]
            assert len(won) == 1, (collection, outcomes)
            lost = [outcome for i, outcome in enumerate(outcomes) if i not in won]
            status = _show(session, server.url, collection, member, item["id"])[0]
            if won == [0]:
                # The update won: no delete went through behind it.
                assert status == 200 and lost == [(412, "RevisionNumberConstraintFailed")] * (CLIENTS - 1), \
                    (collection, outcomes)
            else:
                # A delete won: the others find the revision moved or the resource gone.
                assert status == 404 and all(o[0] in (404, 412) for o in lost), (collection, outcomes)
    assert "not checked inside its transaction" not in server.process.log_tail(100000)
