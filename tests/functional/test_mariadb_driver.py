"""PyMySQL connections as netweave makes them (core/db/mysql.py): each column description
parsed once, rows cut from their packets in one loop, DATETIME values parsed in C; what
they read is what PyMySQL's own connections read."""
import datetime

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


@pytest.mark.parametrize("reads", [True, False], ids=["reader", "writer"])
def test_a_statements_column_descriptions_are_parsed_once(database, reads):
    scope = db_api.reader_connection if reads else db_api.DATABASE.engine.begin
    marker = "described_%s" % ("reader" if reads else "writer")
    query = sa.text("SELECT 1 AS %s_a, 'x' AS %s_b, NULL AS %s_c" % (marker, marker, marker))
    with scope() as connection:
        result = connection.execute(query)
        assert list(result.keys()) == ["%s_a" % marker, "%s_b" % marker, "%s_c" % marker]
        assert result.all() == [(1, "x", None)]
    parsed = [p for p in mysql._DESCRIPTORS.values() if p.name.startswith(marker)]
    assert len(parsed) == 3
    with scope() as connection:
        assert connection.execute(query).all() == [(1, "x", None)]
        description = connection.connection.dbapi_connection._result.fields
    # The same parsed descriptions served the second result: none was parsed again.
    assert [p for p in mysql._DESCRIPTORS.values() if p.name.startswith(marker)] == parsed
    assert all(any(field is p for p in parsed) for field in description)


# Values of every length coding: short, 2-byte (>= 251 bytes), 3-byte (>= 65,536 bytes),
# NULL, multi-byte and 4-byte characters, binary bytes, numbers, booleans, datetimes.
ROWS = [
    ("a", "short", None, 0, True, datetime.datetime(2026, 12, 6, 1, 2, 3),
     datetime.datetime(2026, 12, 6, 1, 2, 3, 456789), b"\x00\xff", -(2 ** 62)),
    ("b", "é漢字😀" * 40, "x" * 300, 2 ** 31 - 1, False, datetime.datetime(1970, 1, 1),
     datetime.datetime(2000, 2, 29, 23, 59, 59, 1), b"", 2 ** 62),
    ("c", "", "y" * 70_000, None, None, None, None, None, None),
]


def test_rows_read_as_pymysql_reads_them(database):
    with db_api.DATABASE.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE driver_rows (id VARCHAR(8) PRIMARY KEY, name VARCHAR(255), body MEDIUMTEXT, "
            "size INT, flag BOOL, made DATETIME, exact DATETIME(6), raw BLOB, big BIGINT) "
            "DEFAULT CHARSET utf8mb4")
        connection.exec_driver_sql("INSERT INTO driver_rows VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", ROWS)
    query = "SELECT * FROM driver_rows ORDER BY id"
    with db_api.reader_connection() as connection:
        ours = [tuple(row) for row in connection.exec_driver_sql(query).all()]
        assert isinstance(connection.connection.dbapi_connection, mysql._Connection)
    url = sa.engine.make_url(database)
    plain = pymysql.connect(host=url.host, port=url.port, user=url.username, password=url.password or "",
                            database=url.database, charset="utf8mb4")
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
