"""Pooled PostgreSQL and MariaDB connections: pinged after sitting idle, not on every checkout.

Runs against the session's private servers; the server ends our connection
(pg_terminate_backend, KILL), as a database restart would.
"""
import contextlib
import dataclasses

import pytest
import sqlalchemy as sa

from netweave.core.db import api as db_api


@dataclasses.dataclass
class Database:
    url: str
    connection_id_query: str  # the id of the connection running it
    end_connection: object  # callable(id): the server drops that connection


def _postgres(request):
    server = request.getfixturevalue("postgres_server")

    def end(pid):
        with contextlib.closing(server.connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
            assert cur.fetchone()[0] is True

    return Database(request.getfixturevalue("postgres_url"), "SELECT pg_backend_pid()", end)


def _mariadb(request):
    server = request.getfixturevalue("mariadb_server")

    def end(connection_id):
        with contextlib.closing(server.connect()) as conn, conn.cursor() as cur:
            cur.execute("KILL %d" % int(connection_id))

    return Database(request.getfixturevalue("mariadb_url"), "SELECT CONNECTION_ID()", end)


@pytest.fixture(params=[pytest.param(_postgres, marks=pytest.mark.postgres, id="postgresql"),
                        pytest.param(_mariadb, marks=pytest.mark.mariadb, id="mariadb")])
def database(request):
    return request.param(request)


@pytest.fixture
def engine(database, monkeypatch):
    engine = db_api.DATABASE.configure(database.url, pool_size=2, max_overflow=0)
    pings = []
    for each in db_api.DATABASE.engines():  # (MariaDB's reads have an engine of their own)
        def counted_ping(dbapi_conn, real_ping=each.dialect.do_ping):
            pings.append(dbapi_conn)
            return real_ping(dbapi_conn)

        monkeypatch.setattr(each.dialect, "do_ping", counted_ping)
    engine.pings = pings
    yield engine
    engine.dispose()


def _connection_id(database):
    with db_api.reader_scope() as session:
        return session.scalar(sa.text(database.connection_id_query))


def test_connections_in_steady_use_are_not_pinged(engine, database):
    for _ in range(20):
        _connection_id(database)
    assert engine.pings == []


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(engine, database, monkeypatch):
    old = _connection_id(database)
    database.end_connection(old)
    monkeypatch.setattr(db_api, "IDLE_PING_AFTER", 0.0)
    new = _connection_id(database)
    assert new != old
    assert len(engine.pings) >= 1


def test_a_connection_dropped_in_steady_use_is_retried_by_the_unit_of_work(engine, database):
    old = _connection_id(database)
    database.end_connection(old)
    attempts = []

    @db_api.retry_db_errors
    def unit_of_work():
        attempts.append(1)
        return _connection_id(database)

    assert unit_of_work() != old
    assert len(attempts) == 2
    assert engine.pings == []


def test_sqlite_engines_do_not_ping(tmp_path):
    engine = db_api.create_engine("sqlite:///%s" % (tmp_path / "ping.db"))
    try:
        # One writer at a time on a local file: nothing to ping, no checkout hook at all.
        assert len(engine.pool.dispatch.checkout) == 0
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
