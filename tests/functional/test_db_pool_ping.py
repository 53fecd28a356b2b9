"""Pooled PostgreSQL connections: pinged after sitting idle, not on every checkout.

Runs against the session's private PostgreSQL server; the server ends our
backends with pg_terminate_backend, as a database restart would.
"""
import contextlib

import pytest
import sqlalchemy as sa

from netweave.core.db import api as db_api


@pytest.fixture
def engine(postgres_url, monkeypatch):
    engine = db_api.DATABASE.configure(postgres_url, pool_size=2, max_overflow=0)
    pings = []
    real_ping = engine.dialect.do_ping

    def counted_ping(dbapi_conn):
        pings.append(dbapi_conn)
        return real_ping(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)
    engine.pings = pings
    yield engine
    engine.dispose()


def _backend_pid():
    with db_api.reader_scope() as session:
        return session.scalar(sa.text("SELECT pg_backend_pid()"))


def _terminate(postgres_server, pid):
    with contextlib.closing(postgres_server.connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert cur.fetchone()[0] is True


@pytest.mark.postgres
def test_connections_in_steady_use_are_not_pinged(engine):
    for _ in range(20):
        _backend_pid()
    assert engine.pings == []


@pytest.mark.postgres
def test_an_idle_connection_the_server_dropped_is_replaced_before_use(engine, postgres_server, monkeypatch):
    old = _backend_pid()
    _terminate(postgres_server, old)
    monkeypatch.setattr(db_api, "IDLE_PING_AFTER", 0.0)
    new = _backend_pid()
    assert new != old
    assert len(engine.pings) >= 1


@pytest.mark.postgres
def test_a_connection_dropped_in_steady_use_is_retried_by_the_unit_of_work(engine, postgres_server):
    old = _backend_pid()
    _terminate(postgres_server, old)
    attempts = []

    @db_api.retry_db_errors
    def unit_of_work():
        attempts.append(1)
        return _backend_pid()

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
