"""The private MariaDB server and per-test databases work end to end."""
import contextlib
import os

import pytest
import sqlalchemy as sa


@pytest.mark.parametrize("round_", [1, 2])
def test_fresh_database_per_test(mariadb_url, round_):
    # Both rounds create the same table: the second only passes if the
    # first one's database was not reused.
    engine = sa.create_engine(mariadb_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            assert conn.execute(sa.text("select 1")).scalar() == 1
            conn.execute(sa.text("create table widget (id integer primary key, name text)"))
            conn.execute(sa.text("insert into widget values (1, 'a'), (2, 'b')"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from widget")).scalar() == 2
    finally:
        engine.dispose()


def test_server_is_private_and_fast(mariadb_server):
    with contextlib.closing(mariadb_server.connect()) as conn, conn.cursor() as cur:
        cur.execute("select @@bind_address, @@socket, @@innodb_flush_log_at_trx_commit, @@innodb_doublewrite, "
                    "@@log_bin, @@performance_schema, @@datadir")
        bind, socket, flush, doublewrite, log_bin, perf_schema, datadir = cur.fetchone()
    assert (bind, socket) == ("127.0.0.1", mariadb_server.socket_path)
    assert (flush, doublewrite, log_bin, perf_schema) == (0, 0, 0, 0)
    assert os.path.realpath(datadir) == os.path.realpath(mariadb_server.data_dir)
    if os.geteuid() == 0:
        assert os.stat(mariadb_server.data_dir).st_uid != 0  # not run as root
    assert mariadb_server.url_for("x") == f"mysql+pymysql://root@127.0.0.1:{mariadb_server.port}/x"


def test_drop_ends_connections_still_in_a_transaction(mariadb_server):
    name = mariadb_server.create_database()
    holder = mariadb_server.connect(name)
    try:
        with holder.cursor() as cur:
            cur.execute("create table t (id integer primary key)")
            cur.execute("begin")
            cur.execute("select * from t")  # a metadata lock on t until the transaction ends
        mariadb_server.drop_database(name)
        with contextlib.closing(mariadb_server.connect()) as admin, admin.cursor() as cur:
            cur.execute("show databases like %s", (name,))
            assert cur.fetchall() == ()
    finally:
        with contextlib.suppress(Exception):  # the drop killed it
            holder.close()
