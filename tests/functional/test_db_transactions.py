"""Reads outside transactions, writes inside one, on PostgreSQL and MariaDB.

A read (db_api.reader_connection, reader_scope) runs its statements in
autocommit mode: no BEGIN before them, no ROLLBACK after. A unit of work
that writes (session_scope) is still one transaction: all or nothing, unseen
by others until it commits. On PostgreSQL one pooled connection serves reads and
writes in turn; MariaDB's reads have connections of their own.
"""
import contextlib
import threading

import pytest
import sqlalchemy as sa

from netweave.core.db import api as db_api

METADATA = sa.MetaData()
ITEMS = sa.Table("tx_items", METADATA, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                 sa.Column("name", sa.String(32), nullable=False))


def _configured(url):
    engine = db_api.DATABASE.configure(url, pool_size=2, max_overflow=0)
    METADATA.create_all(engine)
    return engine


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres, id="postgresql"),
                        pytest.param("mariadb", marks=pytest.mark.mariadb, id="mariadb")])
def engine(request):
    engine = _configured(request.getfixturevalue("%s_url" % request.param))
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def mariadb_engine(mariadb_url):
    engine = _configured(mariadb_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _in_transaction(connection):
    """Whether the server has a transaction open on ``connection``'s DBAPI connection, as
    its last reply said."""
    dbapi_conn = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        import psycopg
        return dbapi_conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    from pymysql.constants import SERVER_STATUS
    return bool(dbapi_conn.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS)


def _mariadb_counters(connection):
    rows = connection.exec_driver_sql("SHOW SESSION STATUS WHERE Variable_name IN ('Com_begin', 'Com_rollback')")
    return {name: int(value) for name, value in rows}


def test_a_read_opens_no_transaction(engine):
    with db_api.reader_connection() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(ITEMS)).scalar() == 0
        assert not _in_transaction(connection)
    with db_api.reader_scope() as session:
        assert session.execute(sa.select(ITEMS.c.id)).all() == []
        assert not _in_transaction(session.connection())


@pytest.mark.mariadb
def test_a_read_sends_no_begin_and_no_rollback_to_mariadb(mariadb_engine):
    # (PostgreSQL keeps no per-session statement counters: test_a_read_opens_no_transaction.)
    with db_api.reader_connection() as connection:
        before = _mariadb_counters(connection)
    for _ in range(3):
        with db_api.reader_connection() as connection:
            connection.execute(sa.select(ITEMS.c.id)).all()
    with db_api.reader_connection() as connection:
        # Used one at a time, the readers' pool made one connection: its counters moved by none.
        assert _mariadb_counters(connection) == before


def test_a_write_is_one_transaction_before_and_after_reads(engine):
    with db_api.reader_connection() as connection:
        connection.execute(sa.select(ITEMS.c.id)).all()
    with pytest.raises(RuntimeError), db_api.session_scope() as session:
        session.execute(sa.insert(ITEMS).values(id=1, name="lost"))
        assert _in_transaction(session.connection())
        raise RuntimeError("the unit of work fails after its first write")
    with db_api.reader_connection() as connection:
        assert connection.execute(sa.select(ITEMS.c.id)).all() == []
    with db_api.session_scope() as session:
        session.execute(sa.insert(ITEMS).values(id=2, name="kept"))
        session.execute(sa.insert(ITEMS).values(id=3, name="kept"))
    with db_api.reader_scope() as session:
        assert session.execute(sa.select(ITEMS.c.id).order_by(ITEMS.c.id)).scalars().all() == [2, 3]


def test_an_open_write_is_unseen_by_reads_until_it_commits(engine):
    written, checked = threading.Event(), threading.Event()
    seen = []

    def read_while_open():
        written.wait(10)
        with db_api.reader_connection() as connection:
            seen.append(connection.execute(sa.select(ITEMS.c.id)).scalars().all())
        checked.set()

    reader = threading.Thread(target=read_while_open)
    reader.start()
    with contextlib.ExitStack() as stack:
        stack.callback(reader.join, 10)
        with db_api.session_scope() as session:
            session.execute(sa.insert(ITEMS).values(id=7, name="pending"))
            written.set()
            assert checked.wait(10)
    assert seen == [[]]
    with db_api.reader_connection() as connection:
        assert connection.execute(sa.select(ITEMS.c.id)).scalars().all() == [7]


@pytest.mark.postgres
def test_postgresql_without_a_driver_named_prepares_repeated_statements(postgres_url):
    """A plain postgresql:// URL gets psycopg, which prepares a statement on the server
    once a connection has sent it often: PostgreSQL then stops planning it anew."""
    engine = _configured(postgres_url.replace("postgresql+psycopg://", "postgresql://", 1))
    try:
        assert engine.dialect.driver == "psycopg"
        query = sa.select(ITEMS.c.name).where(ITEMS.c.id == sa.bindparam("id"))
        with db_api.reader_connection() as connection:
            for item in range(6):
                assert connection.execute(query, {"id": item}).all() == []
            prepared = connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
        assert any("tx_items" in statement for statement in prepared), prepared
    finally:
        engine.dispose()
