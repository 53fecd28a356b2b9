"""Segment allocation through the TypeManager on a real database.

Every unit of work runs like an API request: its own session_scope() wrapped in
retry_db_errors. Each test runs on a SQLite file and on a private PostgreSQL
server (tests/fixtures/postgres.py); on PostgreSQL, where writers do not queue
for one database lock, the concurrent compare-and-swap claims really race.
"""
import threading

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.plugins.ml2 import type_manager as type_manager_mod
from netweave.type_drivers import models

PROJECT = "project-a"
THREADS = 8


@pytest.fixture
def config():
    """``config(group, name, value)`` overrides an option until the test ends."""
    overridden = []

    def override(group, name, value):
        cfg.CONF.set_override(name, value, group=group)
        overridden.append((group, name))

    yield override
    for group, name in reversed(overridden):
        cfg.CONF.clear_override(name, group=group)


def _use_database(url):
    engine = db_api.create_engine(url)
    try:
        model_base.Base.metadata.create_all(engine)
    finally:
        engine.dispose()
    db_api.DATABASE.configure(url)


@pytest.fixture(params=ml2_plugin.ALL_BACKENDS)
def database(request, tmp_path):
    """The SQLite file database, then a fresh PostgreSQL database, then a fresh MariaDB one."""
    url = ml2_plugin.database_url(request, tmp_path)
    _use_database(url)
    yield url
    # Before postgres_url or mariadb_url drops the database.
    db_api.DATABASE.engine.dispose()


@pytest.fixture
def ml2(config):
    """``ml2(tenant_types, vlan_ranges, vni_ranges)``: configure and start a TypeManager."""

    def start(tenant_network_types=(), network_vlan_ranges=(), vni_ranges=()):
        config("ml2", "type_drivers", ["local", "flat", "vlan", "vxlan", "gre", "geneve"])
        config("ml2", "tenant_network_types", list(tenant_network_types))
        config("ml2_type_vlan", "network_vlan_ranges", list(network_vlan_ranges))
        config("ml2_type_vxlan", "vni_ranges", list(vni_ranges))
        manager = type_manager_mod.TypeManager()
        manager.initialize()
        sync(manager)
        return manager

    return start


# --- units of work, each in its own transaction --------------------------------------


@db_api.retry_db_errors
def sync(manager):
    with db_api.session_scope() as session:
        manager.sync_allocations(session)


@db_api.retry_db_errors
def create(manager, **provider):
    request = {"provider:%s" % key: value for key, value in provider.items()}
    with db_api.session_scope() as session:
        segments = manager.create_network_segments(session, request, PROJECT)
    assert len(segments) == 1
    return segments[0]


@db_api.retry_db_errors
def release(manager, segment):
    with db_api.session_scope() as session:
        manager.release_network_segments(session, [segment])


def rows(model):
    """All rows of an allocation table as sorted tuples (allocated column last)."""
    with db_api.reader_scope() as session:
        return sorted(tuple(row) for row in session.execute(sa.select(model.__table__)))


def ids(segments):
    return sorted(segment["segmentation_id"] for segment in segments)


def run_in_threads(work, count=THREADS):
    """Run ``work()`` in ``count`` threads released together; return (results, errors)."""
    start = threading.Barrier(count)
    results, errors = [], []

    def body():
        start.wait()
        try:
            results.append(work())
        except Exception as error:  # noqa: BLE001 - the test inspects every outcome
            errors.append(error)

    threads = [threading.Thread(target=body) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


# --- project networks ---------------------------------------------------------------


def test_project_networks_use_first_type_then_next_then_503(database, ml2):
    manager = ml2(tenant_network_types=["vlan", "vxlan"], network_vlan_ranges=["physnet1:40:43"],
                  vni_ranges=["1:3"])
    vlans = [create(manager) for _ in range(4)]
    assert {(s["network_type"], s["physical_network"]) for s in vlans} == {("vlan", "physnet1")}
    assert ids(vlans) == [40, 41, 42, 43]
    assert {s["mtu"] for s in vlans} == {1500}

    vxlans = [create(manager) for _ in range(3)]
    assert {(s["network_type"], s["physical_network"]) for s in vxlans} == {("vxlan", None)}
    assert ids(vxlans) == [1, 2, 3]
    assert {s["mtu"] for s in vxlans} == {1450}

    with pytest.raises(exc.NoNetworkAvailable) as caught:
        create(manager)
    assert caught.value.status == 503
    assert str(caught.value) == "Unable to create the network. No tenant network is available for allocation."


def test_flat_and_local_project_types(database, ml2):
    # flat never serves project networks, so the next type answers.
    manager = ml2(tenant_network_types=["flat", "local"])
    segment = create(manager)
    assert segment["network_type"] == "local"
    assert segment["physical_network"] is None and segment["segmentation_id"] is None
    assert manager.get_network_mtu([segment]) == 1500


def test_failed_request_gives_its_id_back(database, ml2):
    manager = ml2(tenant_network_types=["vxlan"], vni_ranges=["7:7"])
    with pytest.raises(RuntimeError):
        with db_api.session_scope() as session:
            assert manager.create_network_segments(session, {}, PROJECT)[0]["segmentation_id"] == 7
            raise RuntimeError("a later step of the request failed")
    assert rows(models.VxlanAllocation) == [(7, False)]
    assert create(manager)["segmentation_id"] == 7


# --- provider networks ----------------------------------------------------------------


def test_provider_vlan_in_use_is_409(database, ml2):
    manager = ml2(tenant_network_types=["vlan"], network_vlan_ranges=["physnet1:40:43"])
    assert create(manager, network_type="vlan", physical_network="physnet1", segmentation_id=300) == {
        "network_type": "vlan", "physical_network": "physnet1", "segmentation_id": 300, "mtu": 1500}
    assert create(manager, network_type="vlan", physical_network="physnet1", segmentation_id=41)[
        "segmentation_id"] == 41

    for vlan_id in (300, 41):
        with pytest.raises(exc.VlanIdInUse) as caught:
            create(manager, network_type="vlan", physical_network="physnet1", segmentation_id=vlan_id)
        assert caught.value.status == 409
        assert str(caught.value) == (
            "Unable to create the network. The VLAN %d on physical network physnet1 is in use." % vlan_id)

    # Project allocation skips the id a provider network took.
    assert ids([create(manager) for _ in range(3)]) == [40, 42, 43]
    with pytest.raises(exc.NoNetworkAvailable):
        create(manager)


def test_provider_vlan_out_of_range_is_400(database, ml2):
    manager = ml2(network_vlan_ranges=["physnet1:40:43"])
    with pytest.raises(exc.InvalidInput) as caught:
        create(manager, network_type="vlan", physical_network="physnet1", segmentation_id=4095)
    assert str(caught.value) == "Invalid input for operation: segmentation_id out of range (1 through 4094)."
    assert rows(models.VlanAllocation) == [("physnet1", vlan_id, False) for vlan_id in range(40, 44)]


def test_partial_provider_segments_are_allocated_from_the_ranges(database, ml2):
    manager = ml2(network_vlan_ranges=["physnet1:40:40", "physnet2:7:7", "physnet3"], vni_ranges=["5:5"])
    assert create(manager, network_type="vlan", physical_network="physnet2")["segmentation_id"] == 7
    anywhere = create(manager, network_type="vlan")
    assert (anywhere["physical_network"], anywhere["segmentation_id"]) == ("physnet1", 40)
    assert create(manager, network_type="vxlan")["segmentation_id"] == 5
    for partial in ({"network_type": "vlan", "physical_network": "physnet3"}, {"network_type": "vlan"},
                    {"network_type": "vxlan"}):
        with pytest.raises(exc.NoNetworkAvailable):
            create(manager, **partial)
    # A physnet listed without a range still takes explicit ids.
    assert create(manager, network_type="vlan", physical_network="physnet3", segmentation_id=100)[
        "segmentation_id"] == 100


def test_provider_tunnel_id_in_use_is_409(database, ml2):
    manager = ml2(vni_ranges=["1:10"])
    create(manager, network_type="vxlan", segmentation_id=5)
    create(manager, network_type="gre", segmentation_id=2 ** 32 - 1)
    for network_type, tunnel_id in (("vxlan", 5), ("gre", 2 ** 32 - 1)):
        with pytest.raises(exc.TunnelIdInUse) as caught:
            create(manager, network_type=network_type, segmentation_id=tunnel_id)
        assert caught.value.status == 409
        assert str(caught.value) == "Unable to create the network. The tunnel ID %d is in use." % tunnel_id
    # The same number is free in another tunnel type's pool.
    assert create(manager, network_type="geneve", segmentation_id=5)["mtu"] == 1450


def test_second_flat_network_on_a_physnet_is_409(database, ml2):
    manager = ml2()
    first = create(manager, network_type="flat", physical_network="physnet1")
    assert first == {"network_type": "flat", "physical_network": "physnet1", "segmentation_id": None, "mtu": 1500}
    with pytest.raises(exc.FlatNetworkInUse) as caught:
        create(manager, network_type="flat", physical_network="physnet1")
    assert caught.value.status == 409
    assert str(caught.value) == "Unable to create the flat network. Physical network physnet1 is in use."
    create(manager, network_type="flat", physical_network="physnet2")

    release(manager, first)
    assert rows(models.FlatAllocation) == [("physnet2",)]
    create(manager, network_type="flat", physical_network="physnet1")


# --- release and start-up sync ---------------------------------------------------------


def test_release_makes_ids_reusable(database, ml2):
    manager = ml2(tenant_network_types=["vlan", "vxlan"], network_vlan_ranges=["physnet1:40:40"],
                  vni_ranges=["7:7"])
    vlan_segment, vxlan_segment = create(manager), create(manager)
    assert (vlan_segment["segmentation_id"], vxlan_segment["segmentation_id"]) == (40, 7)
    with pytest.raises(exc.NoNetworkAvailable):
        create(manager)

    release(manager, vlan_segment)
    assert rows(models.VlanAllocation) == [("physnet1", 40, False)]
    assert create(manager) == vlan_segment
    release(manager, vxlan_segment)
    with pytest.raises(exc.NoNetworkAvailable):
        create(manager, network_type="vlan", physical_network="physnet1")
    assert create(manager) == vxlan_segment


def test_release_forgets_ids_outside_the_ranges(database, ml2):
    manager = ml2(network_vlan_ranges=["physnet1:40:40"], vni_ranges=["7:7"])
    outside_vlan = create(manager, network_type="vlan", physical_network="physnet1", segmentation_id=300)
    outside_vni = create(manager, network_type="vxlan", segmentation_id=5000)
    assert rows(models.VlanAllocation) == [("physnet1", 40, False), ("physnet1", 300, True)]
    assert rows(models.VxlanAllocation) == [(7, False), (5000, True)]

    release(manager, outside_vlan)
    release(manager, outside_vni)
    assert rows(models.VlanAllocation) == [("physnet1", 40, False)]
    assert rows(models.VxlanAllocation) == [(7, False)]
    assert create(manager, network_type="vxlan", segmentation_id=5000)["segmentation_id"] == 5000


def test_sync_after_range_change_keeps_allocated_rows(database, ml2):
    manager = ml2(network_vlan_ranges=["physnet1:1:5", "physnet2:1:3"], vni_ranges=["1:10"])
    held = [create(manager, network_type="vlan", physical_network="physnet1", segmentation_id=2),
            create(manager, network_type="vlan", physical_network="physnet1", segmentation_id=4),
            create(manager, network_type="vlan", physical_network="physnet2", segmentation_id=1),
            create(manager, network_type="vxlan", segmentation_id=3),
            create(manager, network_type="vxlan", segmentation_id=9)]

    # The operator narrows and moves the ranges and drops physnet2, then restarts.
    manager = ml2(network_vlan_ranges=["physnet1:4:8"], vni_ranges=["5:15", "12:13"])
    expected_vlans = [("physnet1", 2, True), ("physnet1", 4, True), ("physnet1", 5, False),
                      ("physnet1", 6, False), ("physnet1", 7, False), ("physnet1", 8, False),
                      ("physnet2", 1, True)]
    expected_vnis = [(3, True)] + [(vni, vni == 9) for vni in range(5, 16)]
    assert rows(models.VlanAllocation) == expected_vlans
    assert rows(models.VxlanAllocation) == expected_vnis

    sync(manager)   # a second server starting with the same config changes nothing
    assert rows(models.VlanAllocation) == expected_vlans
    assert rows(models.VxlanAllocation) == expected_vnis

    for segment in held:
        release(manager, segment)
    assert rows(models.VlanAllocation) == [("physnet1", vlan_id, False) for vlan_id in range(4, 9)]
    assert rows(models.VxlanAllocation) == [(vni, False) for vni in range(5, 16)]


def test_sync_of_a_large_range(database, ml2):
    ml2(vni_ranges=["1:5000", "4001:6000"])
    with db_api.reader_scope() as session:
        table = models.VxlanAllocation.__table__
        count, low, high = session.execute(
            sa.select(sa.func.count(), sa.func.min(table.c.vxlan_vni), sa.func.max(table.c.vxlan_vni))).one()
    assert (count, low, high) == (6000, 1, 6000)


# --- several servers at once ---------------------------------------------------------------


def test_concurrent_project_allocations_never_share_a_vni(database, ml2):
    manager = ml2(tenant_network_types=["vxlan"], vni_ranges=["1:50"])

    def allocate_until_exhausted():
        got = []
        while True:
            try:
                got.append(create(manager)["segmentation_id"])
            except exc.NoNetworkAvailable:
                return got

    claims = []

    def seen(_conn, _cursor, statement, *_args):
        if statement.startswith("UPDATE ml2_vxlan_allocations"):
            claims.append(statement)

    engine = db_api.DATABASE.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        results, errors = run_in_threads(allocate_until_exhausted)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert errors == []
    everything = [vni for got in results for vni in got]
    assert sorted(everything) == list(range(1, 51))
    assert rows(models.VxlanAllocation) == [(vni, True) for vni in range(1, 51)]
    # Where free rows are read locked (FOR UPDATE SKIP LOCKED) no claim is lost: one
    # UPDATE per id. SQLite's one writer at a time loses none either.
    if db_api.skips_locked_rows(engine.dialect) or engine.dialect.name == "sqlite":
        assert len(claims) == 50


@pytest.mark.parametrize("provider", [
    {"network_type": "vxlan", "segmentation_id": 25},                              # inside the range
    {"network_type": "vxlan", "segmentation_id": 5000},                            # outside: INSERT race
    {"network_type": "vlan", "physical_network": "physnet1", "segmentation_id": 300},
    {"network_type": "flat", "physical_network": "physnet1"},
], ids=["vxlan-in-range", "vxlan-outside-range", "vlan-outside-range", "flat"])
def test_concurrent_requests_for_one_provider_segment(database, ml2, provider):
    manager = ml2(network_vlan_ranges=["physnet1:40:43"], vni_ranges=["1:50"])
    results, errors = run_in_threads(lambda: create(manager, **provider))
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, exc.InUse) and error.status == 409 for error in errors), errors
