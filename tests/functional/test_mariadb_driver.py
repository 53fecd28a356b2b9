"""PyMySQL connections as netweave makes them (core/db/mysql.py): each column description
parsed once, rows cut from their packets in one loop, DATETIME values parsed in C,
statements marked mysql.PREPARE prepared once per connection; what they read is what
PyMySQL's own connections read."""
import contextlib
import datetime
import decimal
import time

import pymysql
import pytest
import sqlalchemy as sa

from netweave.core.db import api as db_api
from netweave.core.db import mysql

pytestmark = pytest.mark.mariadb


@pytest.fixture
def database(mariadb_url):
    db_api.DATABASE.configure(mariadb_url, pool_size=1, max_overflow=0)
    try:
        yield mariadb_url
    finally:
        for engine in db_api.DATABASE.engines():
            engine.dispose()


def _described(marker):
    """The parsed description sets kept for results whose columns start with ``marker``."""
    return [kept for kept in mysql._DESCRIPTIONS.values() if kept[0][0].name.startswith(marker)]


@pytest.mark.parametrize("reads", [True, False], ids=["reader", "writer"])
def test_a_statements_column_descriptions_are_parsed_once(database, reads):
    scope = db_api.reader_connection if reads else db_api.DATABASE.engine.begin
    marker = "described_%s" % ("reader" if reads else "writer")
    query = sa.text("SELECT 1 AS %s_a, 'x' AS %s_b, NULL AS %s_c" % (marker, marker, marker))
    with scope() as connection:
        result = connection.execute(query)
        assert list(result.keys()) == ["%s_a" % marker, "%s_b" % marker, "%s_c" % marker]
        assert result.all() == [(1, "x", None)]
    (kept,) = _described(marker)
    with scope() as connection:
        assert connection.execute(query).all() == [(1, "x", None)]
        described = connection.connection.dbapi_connection._result
    # The same parsed set served the second result: nothing was parsed again.
    assert _described(marker) == [kept]
    assert all(field is parsed for field, parsed in zip(described.fields, kept[0], strict=True))
    assert described.description is kept[2]


# Values of every length coding: short, 2-byte (>= 251 bytes), 3-byte (>= 65,536 bytes),
# NULL, multi-byte and 4-byte characters, binary bytes, numbers (integers and floats convert
# from their bytes), booleans, datetimes.
ROWS = [
    ("a", "short", None, 0, True, datetime.datetime(2026, 12, 6, 1, 2, 3),
     datetime.datetime(2026, 12, 6, 1, 2, 3, 456789), b"\x00\xff", -(2 ** 62), -2.5e-300, decimal.Decimal("-0.001")),
    ("b", "é漢字😀" * 40, "x" * 300, 2 ** 31 - 1, False, datetime.datetime(1970, 1, 1),
     datetime.datetime(2000, 2, 29, 23, 59, 59, 1), b"", 2 ** 62, 1.0 / 3, decimal.Decimal("1234567.125")),
    ("c", "", "y" * 70_000, None, None, None, None, None, None, None, None),
]


def _create_rows():
    with db_api.DATABASE.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE driver_rows (id VARCHAR(8) PRIMARY KEY, name VARCHAR(255), body MEDIUMTEXT, "
            "size INT, flag BOOL, made DATETIME, exact DATETIME(6), raw BLOB, big BIGINT, ratio DOUBLE, "
            "price DECIMAL(10, 3)) DEFAULT CHARSET utf8mb4")
        connection.exec_driver_sql("INSERT INTO driver_rows VALUES (%s)" % ", ".join(["%s"] * len(ROWS[0])), ROWS)


def test_rows_read_as_pymysql_reads_them(database):
    _create_rows()
    query = "SELECT * FROM driver_rows ORDER BY id"
    with db_api.reader_connection() as connection:
        ours = [tuple(row) for row in connection.exec_driver_sql(query).all()]
        assert isinstance(connection.connection.dbapi_connection, mysql._Connection)
    plain = _plain_connection(database)
    try:
        with plain.cursor() as cursor:
            cursor.execute(query)
            theirs = list(cursor.fetchall())
    finally:
        plain.close()
    assert ours == theirs
    # And what was written (BOOL reads back as 0/1).
    expected = [row[:4] + (None if row[4] is None else int(row[4]),) + row[5:] for row in ROWS]
    assert ours == expected


def test_datetimes_the_standard_library_refuses_go_to_pymysql():
    for text in ("0000-00-00 00:00:00", "2026-02-31 00:00:00", "2026-12-06 01:02:03"):
        assert mysql._datetime(text) == pymysql.converters.convert_datetime(text)


def _plain_connection(url):
    url = sa.engine.make_url(url)
    return pymysql.connect(host=url.host, port=url.port, user=url.username, password=url.password or "",
                           database=url.database, charset="utf8mb4")


def test_an_error_after_the_descriptions_is_raised_and_the_connection_goes_on(database):
    # The server describes the columns, then finds the subquery's second row and sends
    # an error packet where the rows would be.
    query = "SELECT 1 AS a, (SELECT 1 UNION ALL SELECT 2) AS b"
    plain = _plain_connection(database)
    try:
        with plain.cursor() as cursor, pytest.raises(pymysql.err.MySQLError) as theirs:
            cursor.execute(query)
    finally:
        plain.close()
    with db_api.reader_connection() as connection:
        with pytest.raises(sa.exc.DBAPIError) as ours:
            connection.exec_driver_sql(query)
        assert type(ours.value.orig) is type(theirs.value)
        assert ours.value.orig.args == theirs.value.args == (1242, "Subquery returns more than 1 row")
        assert connection.exec_driver_sql("SELECT 2").all() == [(2,)]


def _kill(mariadb_server, connection_id):
    """End a connection on the server's side, and wait until the server has let it go."""
    admin = mariadb_server.connect()
    try:
        with admin.cursor() as cursor:
            cursor.execute("KILL %d" % connection_id)
            deadline = time.monotonic() + 10
            while True:
                cursor.execute("SELECT COUNT(*) FROM information_schema.processlist WHERE id = %s", (connection_id,))
                if cursor.fetchone()[0] == 0:
                    return
                assert time.monotonic() < deadline, "the server still holds connection %d" % connection_id
                time.sleep(0.01)
    finally:
        admin.close()


def test_a_connection_the_server_ended_raises_what_pymysql_raises_and_is_replaced(database, mariadb_server):
    plain = _plain_connection(database)
    try:
        with plain.cursor() as cursor:
            cursor.execute("SELECT CONNECTION_ID()")
            (plain_id,), = cursor.fetchall()
            _kill(mariadb_server, plain_id)
            with pytest.raises(pymysql.err.MySQLError) as theirs:
                cursor.execute("SELECT 1")
    finally:
        plain.close()
    with db_api.reader_connection() as connection:
        (ours_id,), = connection.exec_driver_sql("SELECT CONNECTION_ID()").all()
        ours_connection = connection.connection.dbapi_connection
        assert isinstance(ours_connection, mysql._Connection)
        _kill(mariadb_server, ours_id)
        with pytest.raises(sa.exc.DBAPIError) as ours:
            connection.exec_driver_sql("SELECT 1")
    assert type(ours.value.orig) is type(theirs.value) is pymysql.err.OperationalError
    assert ours.value.orig.args[0] == theirs.value.args[0]
    # SQLAlchemy takes it for a disconnect: the pool drops it, the next read has a new one.
    assert ours.value.connection_invalidated
    assert not ours_connection.open
    with db_api.reader_connection() as connection:
        (new_id,), = connection.exec_driver_sql("SELECT CONNECTION_ID()").all()
        assert new_id != ours_id


@contextlib.contextmanager
def _server_setting(mariadb_server, name, value):
    """SET GLOBAL ``name`` for the block (connections made in it see it), then back."""
    admin = mariadb_server.connect()
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT @@GLOBAL.%s" % name)
            (before,), = cursor.fetchall()
            cursor.execute("SET GLOBAL %s = %d" % (name, value))
        try:
            yield
        finally:
            with admin.cursor() as cursor:
                cursor.execute("SET GLOBAL %s = %d" % (name, before))
    finally:
        admin.close()


@pytest.mark.parametrize("length", [2 ** 24 - 11, 2 ** 24 + 10], ids=["exactly-16MB-packet", "over-16MB"])
def test_a_row_of_16_megabytes_or_more_spans_packets(database, mariadb_server, length):
    # A payload of 2**24 - 1 bytes continues in the next packet, even an empty one: a
    # value of 2**24 - 11 bytes with its 4-byte length, and 'after' with its 1-byte
    # length, make exactly that. The packet limit is raised for connections made from
    # here on: the database fixture's pool has none yet.
    with _server_setting(mariadb_server, "max_allowed_packet", 64 * 2 ** 20):
        with db_api.reader_connection() as connection:
            (value, after), = connection.exec_driver_sql("SELECT REPEAT('x', %d), 'after'" % length).all()
            assert isinstance(connection.connection.dbapi_connection, mysql._Connection)
            assert (len(value), value.strip("x"), after) == (length, "", "after")
            assert connection.exec_driver_sql("SELECT 3").all() == [(3,)]


def _statement_counters(connection):
    """(PREPAREs, EXECUTEs) this connection's session sent so far."""
    rows = dict(connection.exec_driver_sql(
        "SHOW SESSION STATUS WHERE Variable_name IN ('Com_prepare_sql', 'Com_execute_sql')").all())
    return int(rows["Com_prepare_sql"]), int(rows["Com_execute_sql"])


# Parameters of several kinds, one used twice, and a literal percent sign (which
# SQLAlchemy doubles for PyMySQL and a prepared statement must not).
SELECTED = sa.text("SELECT id, name, size, flag, made, raw, big, 'a%b' AS pct FROM driver_rows "
                   "WHERE (id = :id OR size = :size OR name LIKE :pattern OR made = :made) "
                   "AND (:id IS NOT NULL OR :flag) ORDER BY id")
VALUES = [{"id": "a", "size": None, "pattern": "nothing", "made": None, "flag": True},
          {"id": None, "size": 2 ** 31 - 1, "pattern": "nothing", "made": None, "flag": True},
          {"id": None, "size": None, "pattern": "é漢字%", "made": None, "flag": 1},
          {"id": "zz", "size": None, "pattern": "x", "made": datetime.datetime(2026, 12, 6, 1, 2, 3), "flag": False},
          {"id": None, "size": None, "pattern": "%", "made": None, "flag": False},
          {"id": "it's", "size": 0, "pattern": "\\%", "made": None, "flag": True}]


def test_a_prepared_statement_reads_what_its_text_reads(database):
    _create_rows()
    prepared = SELECTED.execution_options(**{mysql.PREPARE: True})
    with db_api.reader_connection() as connection:
        before = _statement_counters(connection)
        for values in VALUES:
            ours = connection.execute(prepared, values).all()
            assert ours == connection.execute(SELECTED, values).all(), values
        # One PREPARE on this connection; every call after it an EXECUTE.
        assert _statement_counters(connection) == (before[0] + 1, before[1] + len(VALUES))
        assert connection.execute(prepared, VALUES[0]).all() == [
            ("a", "short", 0, 1, datetime.datetime(2026, 12, 6, 1, 2, 3), b"\x00\xff", -(2 ** 62), "a%b")]
    # A new connection (the server forgot the old one's statements) prepares it again.
    db_api.get_reader_engine().dispose()
    with db_api.reader_connection() as connection:
        before = _statement_counters(connection)
        assert connection.execute(prepared, VALUES[0]).all()
        assert _statement_counters(connection) == (before[0] + 1, before[1] + 1)


@pytest.mark.filterwarnings("ignore:The 'reconnect' argument is deprecated:DeprecationWarning")
def test_a_reconnected_connection_prepares_again(database, mariadb_server):
    _create_rows()
    prepared = SELECTED.execution_options(**{mysql.PREPARE: True})
    with db_api.reader_connection() as connection:
        assert connection.execute(prepared, VALUES[0]).all()
        driver = connection.connection.dbapi_connection
        # The server ends the session, and with it the session's prepared statements.
        admin = mariadb_server.connect()
        try:
            with admin.cursor() as cursor:
                cursor.execute("KILL %d" % driver.thread_id())
        finally:
            admin.close()
        with pytest.raises(pymysql.err.OperationalError):
            driver.ping(reconnect=False)
        driver.ping(reconnect=True)  # the same object, a new session
        before = _statement_counters(connection)
        assert connection.execute(prepared, VALUES[0]).all() == connection.execute(SELECTED, VALUES[0]).all()
        assert _statement_counters(connection)[0] == before[0] + 1


def test_past_the_servers_limit_statements_run_as_text(database, mariadb_server):
    with _server_setting(mariadb_server, "max_prepared_stmt_count", 0):
        with db_api.reader_connection() as connection:
            statement = sa.text("SELECT 40 + :n").execution_options(**{mysql.PREPARE: True})
            for _ in range(2):
                assert connection.execute(statement, {"n": 2}).scalar() == 42
            assert list(connection.connection.dbapi_connection._prepared.values()) == [None]


def test_statements_past_the_per_connection_count_run_as_text(database):
    with db_api.reader_connection() as connection:
        before = _statement_counters(connection)
        for number in range(mysql._PREPARED_KEPT + 5):
            statement = sa.text("SELECT %d + :n" % number).execution_options(**{mysql.PREPARE: True})
            assert connection.execute(statement, {"n": 1}).scalar() == number + 1
        assert _statement_counters(connection) == (before[0] + mysql._PREPARED_KEPT,
                                                   before[1] + mysql._PREPARED_KEPT)


def test_a_statement_the_server_will_not_prepare_runs_as_text(database):
    # PREPARE refuses a PREPARE (error 1295); sent as text, this one prepares 'inner'.
    refused = sa.text("PREPARE inner_statement FROM 'SELECT 7'").execution_options(**{mysql.PREPARE: True})
    with db_api.reader_connection() as connection:
        for _ in range(2):
            connection.execute(refused)
            assert connection.exec_driver_sql("EXECUTE inner_statement").all() == [(7,)]
        assert list(connection.connection.dbapi_connection._prepared.values()) == [None]
