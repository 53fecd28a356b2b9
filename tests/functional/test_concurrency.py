"""Concurrent API clients against netweave-server with several gunicorn workers.

Every test starts a real server (``netweave-db-manage upgrade heads`` then
``netweave-server``) on a SQLite file shared by the workers, and again on a
fresh database of the private PostgreSQL and MariaDB servers. Client threads, each with
its own keep-alive HTTP session, race for addresses, MACs, VXLAN ids and
subnet pool prefixes; the tests check that nothing is handed out twice and
that losing a race never shows up as a server error.
"""
import collections
import threading

import netaddr
import pytest
import requests

from harness import ml2_plugin
from harness import server as server_harness

pytestmark = pytest.mark.slow

PROJECT = "concurrency-project"
HEADERS = {"X-Project-Id": PROJECT, "Content-Type": "application/json"}

DATABASES = ml2_plugin.ALL_BACKENDS

# A /24 with Neutron's default pool: .1 is the gateway, .0 and .255 are not usable.
PORT_CIDR = "10.20.30.0/24"
PORT_POOL_SIZE = 253
PORT_CLIENTS = 16

NETWORK_CLIENTS = 8
VNI_COUNT = 20
NETWORK_ATTEMPTS_PER_CLIENT = 4  # 32 attempts for 20 ids

POOL_CLIENTS = 8
POOL_PREFIX = "10.200.0.0/22"
POOL_PREFIXLEN = 26  # 16 subnets fit


# --- servers -------------------------------------------------------------------------


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    """None for the server's own SQLite file, else a fresh PostgreSQL or MariaDB database."""
    if request.param == "sqlite":
        return None
    return ml2_plugin.database_url(request, tmp_path)


@pytest.fixture
def start(database_url, tmp_path):
    """``start(workers, ml2=None, env=None)``: a server on the test's database, stopped afterwards."""
    started = []

    def run(workers, ml2=None, env=None):
        directory = tmp_path / ("server-%d" % len(started))
        server = server_harness.start_server(str(directory), database_url=database_url, workers=workers,
                                              ml2=ml2, env=env)
        started.append(server)
        return server

    yield run
    # Before postgres_url or mariadb_url drops the database.
    for server in reversed(started):
        server.stop()


# --- helpers --------------------------------------------------------------------------


def post(session, url, resource, body):
    return session.post("%s/v2.0/%s" % (url, resource), json=body, headers=HEADERS, timeout=120)


def created(response, member):
    assert response.status_code == 201, response.text
    return response.json()[member]


def neutron_error(response):
    """The error type of a NeutronError body; fails on any other shape."""
    body = response.json()
    assert set(body) == {"NeutronError"}, body
    error = body["NeutronError"]
    assert {"type", "message", "detail"} <= set(error), error
    assert isinstance(error["message"], str) and error["message"], error
    return error["type"]


def run_clients(count, work):
    """Run ``work(session)`` in ``count`` threads released together.

    Each thread has its own requests.Session (its own keep-alive connection).
    Returns the values the threads returned; re-raises the first exception.
    """
    barrier = threading.Barrier(count)
    results = [None] * count
    errors = []

    def body(index):
        with requests.Session() as session:
            session.trust_env = False  # no proxy for 127.0.0.1
            try:
                barrier.wait(timeout=60)
                results[index] = work(session)
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)
                barrier.abort()

    threads = [threading.Thread(target=body, args=(i,), name="client-%d" % i) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads), "a client thread hung"
    if errors:
        raise errors[0]
    return results


def describe_unexpected(outcomes, server):
    lines = ["%s %s" % (status, text[:300]) for status, text in outcomes[:10]]
    return "unexpected responses (%d):\n%s\nserver log:\n%s" % (
        len(outcomes), "\n".join(lines), server.process.log_tail(60))


def admin_session():
    session = requests.Session()
    session.trust_env = False
    return session


# --- ports ----------------------------------------------------------------------------


# Two and four workers; on MariaDB the harder race, four, only (it is the slowest test there).
PORT_RACES = [pytest.param("sqlite", 2, id="sqlite-2"), pytest.param("sqlite", 4, id="sqlite-4"),
              pytest.param("postgresql", 2, marks=pytest.mark.postgres, id="postgresql-2"),
              pytest.param("postgresql", 4, marks=pytest.mark.postgres, id="postgresql-4"),
              pytest.param("mariadb", 4, marks=pytest.mark.mariadb, id="mariadb-4")]


@pytest.mark.parametrize("database_url, workers", PORT_RACES, indirect=["database_url"])
def test_ports_exhaust_a_subnet_without_duplicates(start, workers):
    server = start(workers)
    with admin_session() as session:
        network = created(post(session, server.url, "networks", {"network": {"name": "race"}}), "network")
        subnet = created(post(session, server.url, "subnets", {"subnet": {
            "network_id": network["id"], "cidr": PORT_CIDR, "ip_version": 4}}), "subnet")
    pool = subnet["allocation_pools"]
    assert len(pool) == 1
    pool_range = netaddr.IPRange(pool[0]["start"], pool[0]["end"])
    assert pool_range.size == PORT_POOL_SIZE

    def client(session):
        ports, unexpected = [], []
        exhausted = 0
        while True:
            response = post(session, server.url, "ports", {"port": {"network_id": network["id"]}})
            if response.status_code == 201:
                ports.append(response.json()["port"])
                continue
            if response.status_code == 409 and neutron_error(response) == "IpAddressGenerationFailure":
                exhausted += 1
                return ports, unexpected, exhausted
            unexpected.append((response.status_code, response.text))
            if len(unexpected) > 5:
                return ports, unexpected, exhausted

    results = run_clients(PORT_CLIENTS, client)
    ports = [port for got, _unexpected, _ex in results for port in got]
    unexpected = [item for _got, bad, _ex in results for item in bad]
    assert not unexpected, describe_unexpected(unexpected, server)
    # Every client stopped on a clean 409 once the pool was empty.
    assert all(exhausted == 1 for _got, _bad, exhausted in results)

    ips = [ip["ip_address"] for port in ports for ip in port["fixed_ips"]]
    macs = [port["mac_address"] for port in ports]
    assert [ip for ip, n in collections.Counter(ips).items() if n > 1] == []
    assert [mac for mac, n in collections.Counter(macs).items() if n > 1] == []
    assert all(len(port["fixed_ips"]) == 1 and port["fixed_ips"][0]["subnet_id"] == subnet["id"]
               for port in ports)
    assert all(netaddr.IPAddress(ip) in pool_range for ip in ips)
    assert len(ports) == PORT_POOL_SIZE

    # What the database holds agrees with what the clients were told.
    with admin_session() as session:
        listed = session.get("%s/v2.0/ports" % server.url, params={"network_id": network["id"]},
                             headers=HEADERS, timeout=60)
        assert listed.status_code == 200
        stored = listed.json()["ports"]
        assert sorted(p["id"] for p in stored) == sorted(p["id"] for p in ports)
        assert sorted(ip["ip_address"] for p in stored for ip in p["fixed_ips"]) == sorted(ips)
        # The pool stays empty.
        again = post(session, server.url, "ports", {"port": {"network_id": network["id"]}})
        assert again.status_code == 409
        assert neutron_error(again) == "IpAddressGenerationFailure"


# --- project networks (VXLAN ids) ------------------------------------------------------


def test_project_networks_take_each_vni_once(start):
    # The generated ml2_conf.ini fixes vni_ranges; an OS_<GROUP>__<OPTION>
    # variable takes precedence over config files in oslo.config.
    server = start(2, ml2={"tenant_network_types": "vxlan"},
                   env={"OS_ML2_TYPE_VXLAN__VNI_RANGES": "1:%d" % VNI_COUNT})

    def client(session):
        outcomes = []
        for i in range(NETWORK_ATTEMPTS_PER_CLIENT):
            response = post(session, server.url, "networks", {"network": {"name": "net-%d" % i}})
            if response.status_code == 201:
                outcomes.append(("created", response.json()["network"]))
            elif response.status_code == 503 and neutron_error(response) == "NoNetworkAvailable":
                outcomes.append(("unavailable", None))
            else:
                outcomes.append(("unexpected", (response.status_code, response.text)))
        return outcomes

    outcomes = [item for result in run_clients(NETWORK_CLIENTS, client) for item in result]
    unexpected = [value for kind, value in outcomes if kind == "unexpected"]
    assert not unexpected, describe_unexpected(unexpected, server)
    networks = [value for kind, value in outcomes if kind == "created"]
    assert len(networks) == VNI_COUNT
    assert sum(kind == "unavailable" for kind, _ in outcomes) == (
        NETWORK_CLIENTS * NETWORK_ATTEMPTS_PER_CLIENT - VNI_COUNT)
    assert {n["provider:network_type"] for n in networks} == {"vxlan"}
    vnis = [n["provider:segmentation_id"] for n in networks]
    assert sorted(vnis) == list(range(1, VNI_COUNT + 1))

    with admin_session() as session:
        listed = session.get("%s/v2.0/networks" % server.url, headers=HEADERS, timeout=60).json()["networks"]
    assert sorted(n["provider:segmentation_id"] for n in listed) == sorted(vnis)


# --- subnet pool carving ----------------------------------------------------------------


def test_subnets_carved_from_one_pool_never_overlap(start):
    server = start(2)
    with admin_session() as session:
        pool = created(post(session, server.url, "subnetpools", {"subnetpool": {
            "name": "race", "prefixes": [POOL_PREFIX], "default_prefixlen": POOL_PREFIXLEN}}), "subnetpool")
        networks = [created(post(session, server.url, "networks", {"network": {"name": "pool-%d" % i}}),
                            "network")
                    for i in range(POOL_CLIENTS)]
    next_network = iter(networks)
    pick = threading.Lock()

    def client(session):
        with pick:
            network = next(next_network)
        subnets, unexpected = [], []
        while True:
            response = post(session, server.url, "subnets", {"subnet": {
                "network_id": network["id"], "ip_version": 4, "subnetpool_id": pool["id"]}})
            if response.status_code == 201:
                subnets.append(response.json()["subnet"])
            elif response.status_code == 409 and neutron_error(response) == "SubnetAllocationError":
                return subnets, unexpected
            else:
                unexpected.append((response.status_code, response.text))
                if len(unexpected) > 5:
                    return subnets, unexpected

    results = run_clients(POOL_CLIENTS, client)
    unexpected = [item for _subnets, bad in results for item in bad]
    assert not unexpected, describe_unexpected(unexpected, server)
    subnets = [subnet for got, _bad in results for subnet in got]
    cidrs = [netaddr.IPNetwork(s["cidr"]) for s in subnets]
    assert all(s["subnetpool_id"] == pool["id"] for s in subnets)
    assert all(cidr.prefixlen == POOL_PREFIXLEN and cidr in netaddr.IPNetwork(POOL_PREFIX) for cidr in cidrs)
    overlapping = [(a, b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:]
                   if a.first <= b.last and b.first <= a.last]
    assert overlapping == []
    # Carving went on until the pool was full.
    assert len(cidrs) == netaddr.IPNetwork(POOL_PREFIX).size // 2 ** (32 - POOL_PREFIXLEN)
    assert netaddr.IPSet(cidrs) == netaddr.IPSet([POOL_PREFIX])
