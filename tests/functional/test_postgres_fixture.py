"""The private PostgreSQL server and per-test databases work end to end."""
import contextlib

import pytest
import sqlalchemy as sa


@pytest.mark.parametrize("round_", [1, 2])
def test_fresh_database_per_test(postgres_url, round_):
    # Both rounds create the same table: the second only passes if the
    # first one's database was not reused.
    engine = sa.create_engine(postgres_url)
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


def test_server_is_private_and_fast(postgres_server):
    with contextlib.closing(postgres_server.connect()) as conn, conn.cursor() as cur:
        cur.execute("show listen_addresses")
        assert cur.fetchone()[0] == "127.0.0.1"
        cur.execute("show fsync")
        assert cur.fetchone()[0] == "off"
    assert postgres_server.url_for("x").endswith(f"127.0.0.1:{postgres_server.port}/x")
