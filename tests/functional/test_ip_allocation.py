"""Fixed IP allocation, subnet pool carving and MAC retries on a real database."""
import collections
import datetime
import random
import threading

import netaddr
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import exc as orm_exc

from harness import ml2_plugin
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.db.models import network as network_models
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.db.models import subnetpool as subnetpool_models
from netweave.core.ipam import ip_allocator, mac_generator, prefix_allocator, subnet_request

BASE_MAC = "fa:16:3e:00:00:00"


# --- database set-up -------------------------------------------------------------------

def _configure(url):
    engine = db_api.DATABASE.configure(url)
    model_base.Base.metadata.create_all(engine)
    return engine


@pytest.fixture
def sqlite_db(tmp_path):
    engine = _configure("sqlite:///%s" % (tmp_path / "ipam.db"))
    yield engine
    engine.dispose()


# The postgres and mariadb markers let -m "not postgres" (or "not mariadb") drop those runs.
@pytest.fixture(params=ml2_plugin.ALL_BACKENDS)
def any_db(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    engine = _configure(url)
    yield engine
    engine.dispose()


def make_network(session):
    network = network_models.Network(name="net")
    session.add(network)
    session.flush()
    return network.id


def make_subnet(session, network_id, cidr, gateway_ip="auto", allocation_pools=None, ip_version=4, **extra):
    body = {"cidr": cidr, "ip_version": ip_version, "gateway_ip": gateway_ip,
            "allocation_pools": allocation_pools, "enable_dhcp": extra.get("ipv6_ra_mode") is not None, **extra}
    values = subnet_request.prepare_subnet_create(body)
    subnet = subnet_models.Subnet(network_id=network_id, cidr=values["cidr"], ip_version=values["ip_version"],
                                  gateway_ip=values["gateway_ip"], enable_dhcp=values["enable_dhcp"],
                                  ipv6_ra_mode=values["ipv6_ra_mode"],
                                  ipv6_address_mode=values["ipv6_address_mode"],
                                  subnetpool_id=extra.get("subnetpool_id"))
    subnet.allocation_pools = [subnet_models.IPAllocationPool(first_ip=p["start"], last_ip=p["end"], position=i)
                               for i, p in enumerate(values["allocation_pools"])]
    session.add(subnet)
    session.flush()
    return subnet.id


def network_subnets(session, network_id):
    query = (select(subnet_models.Subnet).where(subnet_models.Subnet.network_id == network_id)
             .order_by(subnet_models.Subnet.created_at, subnet_models.Subnet.id))
    return list(session.scalars(query))


def add_port(session, network_id, mac=None, device_owner=""):
    port = port_models.Port(network_id=network_id, mac_address=mac or mac_generator.generate_mac(BASE_MAC),
                            device_owner=device_owner)
    session.add(port)
    session.flush()
    return port


def allocate(session, network_id, port, fixed_ips=None):
    """Plan the port's addresses and store them, in the caller's transaction."""
    ips = ip_allocator.plan_ips(session, network_id, network_subnets(session, network_id), fixed_ips,
                                mac_address=port.mac_address, device_owner=port.device_owner)
    ip_allocator.insert_planned(session, network_id, port.id, ips)
    return ips


@db_api.retry_db_errors
def create_port(network_id, fixed_ips=None, mac=None, device_owner=""):
    """What the core plugin does for POST /ports off SQLite: one transaction, retried as a whole."""
    with db_api.session_scope() as session:
        port = add_port(session, network_id, mac, device_owner)
        return port.id, allocate(session, network_id, port, fixed_ips)


@pytest.fixture
def small_net(sqlite_db):
    """A network with a /28 whose pool is .2-.14 (13 addresses)."""
    with db_api.session_scope() as session:
        network_id = make_network(session)
        subnet_id = make_subnet(session, network_id, "10.0.0.0/28")
    return network_id, subnet_id


# --- pure helpers -------------------------------------------------------------------------

def test_free_addresses_skip_allocated_and_stop_at_limit():
    assert ip_allocator.free_addresses([(10, 20)], [10, 11, 13], 3) == [12, 14, 15]
    assert ip_allocator.free_addresses([(10, 12), (30, 31)], [11], 10) == [10, 12, 30, 31]
    assert ip_allocator.free_addresses([(10, 12)], [10, 11, 12], 5) == []
    assert ip_allocator.free_addresses([(10, 14)], [], 10, skip={11}) == [10, 12, 13, 14]


def test_free_addresses_on_a_slash8_do_not_walk_the_pool():
    pool = [(int(netaddr.IPAddress("10.0.0.2")), int(netaddr.IPAddress("10.255.255.254")))]
    allocated = list(range(pool[0][0], pool[0][0] + 5000))
    found = ip_allocator.free_addresses(pool, allocated, ip_allocator.FREE_WINDOW)
    assert len(found) == ip_allocator.FREE_WINDOW and found[0] == pool[0][0] + 5000


def test_plan_ip_changes_keeps_reuses_adds_and_removes():
    original = [{"subnet_id": "a", "ip_address": "10.0.0.5"}, {"subnet_id": "a", "ip_address": "10.0.0.6"},
                {"subnet_id": "b", "ip_address": "10.1.0.5"}, {"subnet_id": "s", "ip_address": "2001:db8::5"}]
    requested = [{"ip_address": "10.0.0.6"}, {"subnet_id": "b"}, {"subnet_id": "a", "ip_address": "10.0.0.9"}]
    keep, add, remove = ip_allocator.plan_ip_changes(original, requested, keep_subnet_ids={"s"})
    assert keep == [original[1], original[2], original[3]]
    assert add == [{"subnet_id": "a", "ip_address": "10.0.0.9"}]
    assert remove == [original[0]]


# --- allocation on SQLite -------------------------------------------------------------------

def test_default_allocation_until_exhaustion(small_net):
    network_id, subnet_id = small_net
    seen = set()
    for _ in range(13):
        _, ips = create_port(network_id)
        assert len(ips) == 1 and ips[0]["subnet_id"] == subnet_id
        seen.add(ips[0]["ip_address"])
    assert seen == {"10.0.0.%d" % i for i in range(2, 15)}
    with pytest.raises(exc.IpAddressGenerationFailure) as err:
        create_port(network_id)
    assert err.value.status == 409
    assert err.value.msg == "No more IP addresses available on network %s." % network_id
    with db_api.session_scope() as session:
        # The failed request left no port behind.
        assert session.scalar(select(func.count()).select_from(port_models.Port)) == 13


def test_specific_ip_taken(small_net):
    network_id, subnet_id = small_net
    _, ips = create_port(network_id, [{"subnet_id": subnet_id, "ip_address": "10.0.0.7"}])
    assert ips == [{"subnet_id": subnet_id, "ip_address": "10.0.0.7"}]
    with pytest.raises(exc.IpAddressAlreadyAllocated) as err:
        create_port(network_id, [{"ip_address": "10.0.0.7"}])
    assert err.value.status == 409
    assert err.value.msg == "IP address 10.0.0.7 already allocated in subnet %s" % subnet_id


def test_specific_ip_outside_the_pool_but_inside_the_subnet(sqlite_db):
    with db_api.session_scope() as session:
        network_id = make_network(session)
        subnet_id = make_subnet(session, network_id, "10.0.0.0/24",
                                allocation_pools=[{"start": "10.0.0.100", "end": "10.0.0.110"}])
    _, ips = create_port(network_id, [{"subnet_id": subnet_id, "ip_address": "10.0.0.20"}])
    assert ips[0]["ip_address"] == "10.0.0.20"


@pytest.mark.parametrize("ip", ["10.0.0.0", "10.0.0.15", "10.0.1.3"])
def test_specific_ip_not_valid_for_the_subnet(small_net, ip):
    network_id, subnet_id = small_net
    with pytest.raises(exc.InvalidIpForSubnet) as err:
        create_port(network_id, [{"subnet_id": subnet_id, "ip_address": ip}])
    assert err.value.msg == "IP address %s is not a valid IP for the specified subnet." % ip
    assert err.value.status == 400


def test_ip_without_subnet_must_fit_one_of_the_network(small_net):
    network_id, _ = small_net
    with pytest.raises(exc.InvalidIpForNetwork, match="not a valid IP for any of the subnets"):
        create_port(network_id, [{"ip_address": "192.168.0.5"}])


def test_subnet_of_another_network(small_net):
    network_id, _ = small_net
    with db_api.session_scope() as session:
        other_net = make_network(session)
        other_subnet = make_subnet(session, other_net, "10.9.0.0/24")
    with pytest.raises(exc.InvalidInput, match="fixed_ips included invalid subnet %s" % other_subnet):
        create_port(network_id, [{"subnet_id": other_subnet}])
    with pytest.raises(exc.SubnetNotFound):
        create_port(network_id, [{"subnet_id": "no-such-subnet"}])


def test_too_many_and_duplicate_fixed_ips(small_net):
    network_id, subnet_id = small_net
    with pytest.raises(exc.InvalidInput, match="Exceeded maximum amount of fixed ips per port"):
        create_port(network_id, [{"subnet_id": subnet_id}] * 6)
    with pytest.raises(exc.InvalidAttribute, match="Duplicate IP address '10.0.0.3'"):
        create_port(network_id, [{"ip_address": "10.0.0.3"}, {"ip_address": "10.0.0.3"}])


def test_two_addresses_from_one_subnet(small_net):
    network_id, subnet_id = small_net
    _, ips = create_port(network_id, [{"subnet_id": subnet_id},
                                      {"subnet_id": subnet_id, "ip_address": "10.0.0.2"}])
    assert ips[1] == {"subnet_id": subnet_id, "ip_address": "10.0.0.2"}
    assert ips[0]["ip_address"] != "10.0.0.2"


def test_network_without_subnets_gives_no_ips(sqlite_db):
    with db_api.session_scope() as session:
        network_id = make_network(session)
    assert create_port(network_id)[1] == []
    with pytest.raises(exc.InvalidInput, match="IP allocation requires subnets for network"):
        create_port(network_id, [{"ip_address": "10.0.0.5"}])


def test_split_pools_never_hand_out_the_gap(sqlite_db):
    pools = [{"start": "192.168.1.2", "end": "192.168.1.49"}, {"start": "192.168.1.56", "end": "192.168.1.254"}]
    with db_api.session_scope() as session:
        network_id = make_network(session)
        make_subnet(session, network_id, "192.168.1.0/24", allocation_pools=pools)
    given = {create_port(network_id)[1][0]["ip_address"] for _ in range(60)}
    assert len(given) == 60
    assert not given & {"192.168.1.%d" % i for i in list(range(50, 56)) + [0, 1, 255]}


def test_dhcp_port_takes_the_lowest_free_address(sqlite_db):
    with db_api.session_scope() as session:
        network_id = make_network(session)
        make_subnet(session, network_id, "192.168.100.0/24")
    assert create_port(network_id, device_owner="network:dhcp")[1][0]["ip_address"] == "192.168.100.2"
    assert create_port(network_id, device_owner="network:dhcp")[1][0]["ip_address"] == "192.168.100.3"


def test_default_takes_the_next_ipv4_subnet_when_the_first_is_full(small_net):
    network_id, first = small_net
    with db_api.session_scope() as session:
        second = make_subnet(session, network_id, "10.0.1.0/24")
        # created_at has second precision; make the creation order unambiguous.
        first_row = session.get(subnet_models.Subnet, first)
        session.get(subnet_models.Subnet, second).created_at = first_row.created_at + datetime.timedelta(seconds=1)
    for _ in range(13):
        assert create_port(network_id)[1][0]["subnet_id"] == first
    assert create_port(network_id)[1][0]["subnet_id"] == second


def make_dual_stack_network():
    """A network with an IPv4, a stateful IPv6 and a SLAAC subnet: (network, v4, stateful, slaac)."""
    with db_api.session_scope() as session:
        network_id = make_network(session)
        v4 = make_subnet(session, network_id, "10.0.0.0/24")
        stateful = make_subnet(session, network_id, "2001:db8:1::/64", ip_version=6)
        slaac = make_subnet(session, network_id, "2001:db8:2::/64", ip_version=6,
                            ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    return network_id, v4, stateful, slaac


def test_default_on_dual_stack_with_slaac(sqlite_db):
    network_id, v4, stateful, slaac = make_dual_stack_network()
    port_id, ips = create_port(network_id, mac="fa:16:3e:12:34:56")
    assert [ip["subnet_id"] for ip in ips] == [v4, stateful, slaac]
    assert ips[2]["ip_address"] == "2001:db8:2:0:f816:3eff:fe12:3456"
    with pytest.raises(exc.AllocationOnAutoAddressSubnet):
        create_port(network_id, [{"subnet_id": slaac, "ip_address": "2001:db8:2::9"}])
    # A router interface asks for the SLAAC subnet by id and gets a pool address instead.
    _, router_ips = create_port(network_id, [{"subnet_id": slaac}], device_owner="network:router_interface")
    assert router_ips[0]["subnet_id"] == slaac and router_ips[0]["ip_address"] != ips[2]["ip_address"]


def addresses_of(port):
    return ip_allocator.PortAddresses(port.id, port.network_id, port.device_owner, [
        {"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in port.fixed_ips])


def test_release_and_update_port_ips(small_net):
    network_id, subnet_id = small_net
    port_id, ips = create_port(network_id, [{"subnet_id": subnet_id, "ip_address": "10.0.0.5"},
                                            {"subnet_id": subnet_id, "ip_address": "10.0.0.6"}])
    with db_api.session_scope() as session:
        port = session.get(port_models.Port, port_id)
        changes = ip_allocator.update_port_ips(session, addresses_of(port), [
            {"ip_address": "10.0.0.6"}, {"subnet_id": subnet_id, "ip_address": "10.0.0.9"}],
            network_subnets(session, network_id))
        session.expire(port, ["fixed_ips"])
        assert changes.removed == [{"subnet_id": subnet_id, "ip_address": "10.0.0.5"}]
        assert changes.added == [{"subnet_id": subnet_id, "ip_address": "10.0.0.9"}]
        assert [ip["ip_address"] for ip in changes.fixed_ips] == ["10.0.0.6", "10.0.0.9"]
        assert [a.ip_address for a in port.fixed_ips] == ["10.0.0.6", "10.0.0.9"]
    # The released address is free for someone else.
    assert create_port(network_id, [{"ip_address": "10.0.0.5"}])[1][0]["ip_address"] == "10.0.0.5"
    with db_api.session_scope() as session:
        # A subnet-only entry keeps the address the port already has there.
        port = session.get(port_models.Port, port_id)
        changes = ip_allocator.update_port_ips(session, addresses_of(port), [{"subnet_id": subnet_id}],
                                               network_subnets(session, network_id))
        assert changes.fixed_ips == [{"subnet_id": subnet_id, "ip_address": "10.0.0.6"}]
        assert changes.removed == [{"subnet_id": subnet_id, "ip_address": "10.0.0.9"}]
    with pytest.raises(exc.IpAddressAlreadyAllocated):
        with db_api.session_scope() as session:
            ip_allocator.update_port_ips(session, addresses_of(session.get(port_models.Port, port_id)),
                                         [{"ip_address": "10.0.0.5"}], network_subnets(session, network_id))
    with db_api.session_scope() as session:
        assert ip_allocator.release_ips(session, port_id) == [{"subnet_id": subnet_id, "ip_address": "10.0.0.6"}]


def test_subnet_ip_availability_book_example(sqlite_db):
    with db_api.session_scope() as session:
        network_id = make_network(session)
        make_subnet(session, network_id, "192.168.100.0/24")
    create_port(network_id, device_owner="network:dhcp")
    with db_api.reader_scope() as session:
        subnet = network_subnets(session, network_id)[0]
        total, used = ip_allocator.subnet_ip_availability(session, subnet)
    assert (total, used) == (253, 1)
    assert total - used == 252


def test_mac_clash_is_retried_with_a_new_mac(small_net):
    network_id, _ = small_net
    taken_mac = "fa:16:3e:aa:bb:cc"
    create_port(network_id, mac=taken_mac)
    attempts = []

    @db_api.retry_db_errors
    def create_with_unlucky_first_mac():
        mac = taken_mac if not attempts else mac_generator.generate_mac(BASE_MAC)
        attempts.append(mac)
        with db_api.session_scope() as session:
            port = add_port(session, network_id, mac)
            allocate(session, network_id, port)
            return port.mac_address

    assert create_with_unlucky_first_mac() != taken_mac
    assert len(attempts) == 2


def test_a_lost_address_race_asks_for_a_retry(small_net, monkeypatch):
    network_id, subnet_id = small_net
    create_port(network_id, [{"ip_address": "10.0.0.4"}])
    # Pretend the free-address scan ran before the other request committed .4.
    monkeypatch.setattr(ip_allocator, "pick_free_address", lambda *args, **kwargs: int(netaddr.IPAddress("10.0.0.4")))
    with pytest.raises(db_api.RetryRequest):
        with db_api.session_scope() as session:
            allocate(session, network_id, add_port(session, network_id))


@db_api.retry_db_errors
def create_port_planned(network_id, fixed_ips=None, mac=None, device_owner=""):
    """Reads first (plan_ips, as a create on SQLite does before its write transaction),
    then the port and its planned addresses in a transaction of their own."""
    mac = mac or mac_generator.generate_mac(BASE_MAC)
    with db_api.reader_scope() as session:
        ips = ip_allocator.plan_ips(session, network_id, network_subnets(session, network_id), fixed_ips,
                                    mac_address=mac, device_owner=device_owner)
    with db_api.session_scope() as session:
        port = add_port(session, network_id, mac, device_owner)
        ip_allocator.insert_planned(session, network_id, port.id, ips)
        return port.id, ips


def _stored_ips(port_id):
    allocs = port_models.IPAllocation
    with db_api.reader_scope() as session:
        rows = session.execute(select(allocs.subnet_id, allocs.ip_address).where(allocs.port_id == port_id)
                               .order_by(allocs.position))
        return [{"subnet_id": subnet_id, "ip_address": ip} for subnet_id, ip in rows]


def test_planned_addresses_of_one_port_never_repeat(small_net):
    network_id, subnet_id = small_net
    port_id, ips = create_port_planned(network_id, [{"subnet_id": subnet_id},
                                                    {"subnet_id": subnet_id, "ip_address": "10.0.0.2"}])
    assert ips[1] == {"subnet_id": subnet_id, "ip_address": "10.0.0.2"}
    assert ips[0]["ip_address"] != "10.0.0.2"
    assert _stored_ips(port_id) == ips
    # Lowest first: the specific address is planned before the automatic picks skip it.
    # (It must not be the first port's random pick, or it would be a clash instead.)
    specific = next(a for a in ("10.0.0.%d" % i for i in range(3, 15)) if a != ips[0]["ip_address"])
    _, dhcp = create_port_planned(network_id, [{"subnet_id": subnet_id}, {"ip_address": specific},
                                               {"subnet_id": subnet_id}], device_owner="network:dhcp")
    taken = {ips[0]["ip_address"], "10.0.0.2", specific}
    lowest = [a for a in ("10.0.0.%d" % i for i in range(3, 15)) if a not in taken]
    assert [ip["ip_address"] for ip in dhcp] == [lowest[0], specific, lowest[1]]


def test_planned_allocation_read_before_the_write_transaction(sqlite_db):
    network_id, v4, stateful, slaac = make_dual_stack_network()
    port_id, ips = create_port_planned(network_id, mac="fa:16:3e:12:34:56")
    assert [ip["subnet_id"] for ip in ips] == [v4, stateful, slaac]
    assert ips[2]["ip_address"] == "2001:db8:2:0:f816:3eff:fe12:3456"
    assert _stored_ips(port_id) == ips
    with pytest.raises(exc.IpAddressAlreadyAllocated):
        create_port_planned(network_id, [{"ip_address": ips[0]["ip_address"]}])
    with pytest.raises(exc.AllocationOnAutoAddressSubnet):
        create_port_planned(network_id, [{"subnet_id": slaac, "ip_address": "2001:db8:2::9"}])


def test_an_address_taken_after_the_plan_asks_for_a_retry(small_net):
    network_id, subnet_id = small_net
    with db_api.reader_scope() as session:
        planned = ip_allocator.plan_ips(session, network_id, network_subnets(session, network_id),
                                        [{"ip_address": "10.0.0.7"}])
    create_port(network_id, [{"ip_address": "10.0.0.7"}])
    with pytest.raises(db_api.RetryRequest):
        with db_api.session_scope() as session:
            port = add_port(session, network_id)
            ip_allocator.insert_planned(session, network_id, port.id, planned)


# --- subnet pool carving --------------------------------------------------------------------

def _make_pool(session, prefixes, default_prefixlen):
    spec = prefix_allocator.validate_pool_request(prefixes, default_prefixlen=default_prefixlen)
    pool = subnetpool_models.SubnetPool(
        name="MySubnetPool", ip_version=spec["ip_version"], min_prefixlen=spec["min_prefixlen"],
        max_prefixlen=spec["max_prefixlen"], default_prefixlen=spec["default_prefixlen"],
        prefixes=[subnetpool_models.SubnetPoolPrefix(cidr=p) for p in spec["prefixes"]])
    session.add(pool)
    session.flush()
    return pool.id


@db_api.retry_db_errors
def carve_subnet(network_id, pool_id, prefixlen=None):
    with db_api.session_scope() as session:
        pool = session.get(subnetpool_models.SubnetPool, pool_id)
        cidr = prefix_allocator.allocate_from_pool(session, pool, prefixlen=prefixlen)
        make_subnet(session, network_id, cidr, subnetpool_id=pool_id)
        return cidr


def test_carving_from_a_pool_bumps_its_revision(sqlite_db):
    with db_api.session_scope() as session:
        network_id = make_network(session)
        pool_id = _make_pool(session, ["172.31.0.0/16"], 28)
    assert carve_subnet(network_id, pool_id) == "172.31.0.0/28"
    assert carve_subnet(network_id, pool_id) == "172.31.0.16/28"
    with db_api.session_scope() as session:
        assert session.get(subnetpool_models.SubnetPool, pool_id).revision_number == 2


def test_a_stale_pool_row_is_reread_before_carving(sqlite_db):
    with db_api.session_scope() as session:
        network_id = make_network(session)
        pool_id = _make_pool(session, ["172.31.0.0/16"], 28)
    with db_api.session_scope() as session:
        # Read by a request that is then overtaken by another carving.
        stale = session.get(subnetpool_models.SubnetPool, pool_id)
        session.expunge(stale)
    assert carve_subnet(network_id, pool_id) == "172.31.0.0/28"
    with db_api.session_scope() as session:
        session.add(stale)
        assert prefix_allocator.allocate_from_pool(session, stale) == "172.31.0.16/28"
        assert stale.revision_number == 2


def test_the_pool_revision_is_a_compare_and_swap(sqlite_db):
    # The backstop behind allocate_from_pool's re-read: an UPDATE from an old
    # revision matches no row, so the losing transaction is retried.
    with db_api.session_scope() as session:
        pool_id = _make_pool(session, ["172.31.0.0/16"], 28)
    with db_api.session_scope() as session:
        stale = session.get(subnetpool_models.SubnetPool, pool_id)
        session.expunge(stale)
    with db_api.session_scope() as session:
        session.get(subnetpool_models.SubnetPool, pool_id).default_prefixlen = 24
    with pytest.raises(orm_exc.StaleDataError):
        with db_api.session_scope() as session:
            session.add(stale)
            stale.default_prefixlen = 26
            session.flush()


# --- concurrency --------------------------------------------------------------------------

def _hammer(worker_count, work):
    """Run ``work`` in threads released together; collect results and errors."""
    barrier = threading.Barrier(worker_count)
    results, errors = collections.defaultdict(list), []

    def run(index):
        barrier.wait()
        try:
            work(index, results[index])
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(worker_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


@pytest.mark.slow
def test_concurrent_ports_never_share_an_ip_or_mac(any_db):
    with db_api.session_scope() as session:
        network_id = make_network(session)
        make_subnet(session, network_id, "192.168.50.0/24")

    def work(_index, created):
        while True:
            try:
                created.append(create_port(network_id))
            except exc.IpAddressGenerationFailure:
                return

    results, errors = _hammer(16, work)
    assert errors == []
    ips = [ips[0]["ip_address"] for created in results.values() for _, ips in created]
    assert len(ips) == 253 and len(set(ips)) == 253
    assert set(ips) == {"192.168.50.%d" % i for i in range(2, 255)}
    with db_api.reader_scope() as session:
        macs = list(session.scalars(select(port_models.Port.mac_address)))
        rows = session.scalar(select(func.count()).select_from(port_models.IPAllocation))
    assert len(macs) == 253 and len(set(macs)) == 253
    assert rows == 253


@pytest.mark.slow
def test_concurrent_carving_never_overlaps(any_db):
    with db_api.session_scope() as session:
        network_id = make_network(session)
        pool_id = _make_pool(session, ["172.31.0.0/24"], 28)

    def work(_index, carved):
        while True:
            try:
                carved.append(carve_subnet(network_id, pool_id, prefixlen=random.choice([28, 28, 27])))
            except exc.SubnetAllocationError:
                return

    results, errors = _hammer(8, work)
    assert errors == []
    cidrs = [c for carved in results.values() for c in carved]
    assert cidrs
    for i, cidr in enumerate(cidrs):
        assert netaddr.IPNetwork(cidr) in netaddr.IPNetwork("172.31.0.0/24")
        for other in cidrs[i + 1:]:
            assert not netaddr.IPSet([cidr]) & netaddr.IPSet([other])
