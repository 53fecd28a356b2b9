"""Sampled address picks on a real database (SQLite and PostgreSQL).

Pools larger than DENSE_POOL are served by checking random candidates; these
tests fill such pools to the last address, from one thread and from many,
and check the fallback read finds the last free addresses and a full pool
is a clean IpAddressGenerationFailure.
"""
import threading

import netaddr
import pytest
import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.db.models import network as network_models
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.ipam import ip_allocator, mac_generator

BASE_MAC = "fa:16:3e:00:00:00"
CIDR = "10.77.0.0/25"  # pool .2-.126 (gateway .1): 125 addresses, sampled
POOL = [str(netaddr.IPAddress(a)) for a in range(int(netaddr.IPAddress("10.77.0.2")),
                                                 int(netaddr.IPAddress("10.77.0.126")) + 1)]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def network(request, tmp_path):
    url = ("sqlite:///%s" % (tmp_path / "sampling.db") if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    engine = db_api.DATABASE.configure(url)
    model_base.Base.metadata.create_all(engine)
    with db_api.session_scope() as session:
        net = network_models.Network(name="sampling")
        session.add(net)
        session.flush()
        subnet = subnet_models.Subnet(network_id=net.id, cidr=CIDR, ip_version=4, gateway_ip="10.77.0.1",
                                      enable_dhcp=False)
        subnet.allocation_pools = [subnet_models.IPAllocationPool(first_ip=POOL[0], last_ip=POOL[-1], position=0)]
        session.add(subnet)
        session.flush()
        ids = net.id, subnet.id
    assert len(POOL) > ip_allocator.DENSE_POOL
    yield ids
    engine.dispose()


def _subnets(session, network_id):
    return list(session.scalars(sa.select(subnet_models.Subnet).where(subnet_models.Subnet.network_id == network_id)))


def _new_port(session, network_id, mac):
    port = port_models.Port(network_id=network_id, mac_address=mac)
    session.add(port)
    session.flush()
    return port


@db_api.retry_db_errors
def create_planned(network_id):
    """As a port create on SQLite: plan with reads only, then insert in a write transaction."""
    mac = mac_generator.generate_mac(BASE_MAC)
    with db_api.reader_scope() as session:
        ips = ip_allocator.plan_ips(session, network_id, _subnets(session, network_id), None, mac_address=mac)
    with db_api.session_scope() as session:
        port = _new_port(session, network_id, mac)
        ip_allocator.insert_planned(session, network_id, port.id, ips)
    return ips[0]["ip_address"]


@db_api.retry_db_errors
def create_in_transaction(network_id):
    """As a port create elsewhere: the pick and the insert in one transaction."""
    with db_api.session_scope() as session:
        port = _new_port(session, network_id, mac_generator.generate_mac(BASE_MAC))
        ips = ip_allocator.plan_ips(session, network_id, _subnets(session, network_id), None,
                                    mac_address=port.mac_address)
        ip_allocator.insert_planned(session, network_id, port.id, ips)
    return ips[0]["ip_address"]


def _stored(subnet_id):
    allocs = port_models.IPAllocation
    with db_api.reader_scope() as session:
        return list(session.scalars(sa.select(allocs.ip_address).where(allocs.subnet_id == subnet_id)))


def test_both_paths_fill_a_sampled_pool_to_the_last_address(network):
    network_id, subnet_id = network
    got = [(create_planned if i % 2 else create_in_transaction)(network_id) for i in range(len(POOL))]
    assert sorted(got, key=netaddr.IPAddress) == POOL
    for create in (create_planned, create_in_transaction):
        with pytest.raises(exc.IpAddressGenerationFailure):
            create(network_id)
    assert sorted(_stored(subnet_id), key=netaddr.IPAddress) == POOL


def test_the_last_free_address_is_found_by_the_fallback_read(network):
    network_id, subnet_id = network
    with db_api.session_scope() as session:
        filler = _new_port(session, network_id, mac_generator.generate_mac(BASE_MAC))
        session.execute(sa.insert(port_models.IPAllocation.__table__), [
            {"ip_address": ip, "subnet_id": subnet_id, "network_id": network_id, "port_id": filler.id,
             "position": 0} for ip in POOL])
    statements = []

    def seen(_conn, _cursor, statement, parameters, *_rest):
        values = parameters.values() if isinstance(parameters, dict) else parameters
        statements.append((" ".join(statement.split()), set(values)))

    allocs = port_models.IPAllocation
    sa.event.listen(db_api.DATABASE.engine, "before_cursor_execute", seen)
    try:
        # One free address at a time, in several places of the pool.
        for last in (POOL[57], POOL[0], POOL[-1], POOL[90]):
            with db_api.session_scope() as session:
                session.execute(sa.delete(allocs).where(allocs.ip_address == last, allocs.subnet_id == subnet_id))
            del statements[:]
            assert create_planned(network_id) == last
            candidates = [(s, values) for s, values in statements if "ip_address IN" in s]
            whole = [s for s, _ in statements
                     if s.startswith("SELECT ipallocations.ip_address FROM ipallocations WHERE") and " IN " not in s]
            assert len(candidates) == 1
            # Unless a candidate happened to be the free address, all missed and the subnet was read whole.
            assert len(whole) == (0 if last in candidates[0][1] else 1), statements
    finally:
        sa.event.remove(db_api.DATABASE.engine, "before_cursor_execute", seen)
    with pytest.raises(exc.IpAddressGenerationFailure):
        create_in_transaction(network_id)


def test_concurrent_creates_share_no_address_and_stop_cleanly_when_full(network):
    network_id, subnet_id = network
    results, failures, errors = [], [], []
    lock = threading.Lock()

    def worker(index):
        create = create_planned if index % 2 else create_in_transaction
        for _ in range(20):
            try:
                ip = create(network_id)
            except exc.IpAddressGenerationFailure:
                with lock:
                    failures.append(index)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                with lock:
                    errors.append(repr(error))
            else:
                with lock:
                    results.append(ip)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(results) == len(set(results)) == len(POOL)
    assert len(failures) == 8 * 20 - len(POOL)
    assert sorted(_stored(subnet_id), key=netaddr.IPAddress) == POOL
