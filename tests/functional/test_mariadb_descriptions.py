"""PyMySQL connections as netweave makes them parse each column description once."""
import pytest
import sqlalchemy as sa

from netweave.core.db import api as db_api
from netweave.core.db import mysql

pytestmark = pytest.mark.mariadb


@pytest.mark.parametrize("reads", [True, False], ids=["reader", "writer"])
def test_a_statements_column_descriptions_are_parsed_once(mariadb_url, reads):
    db_api.DATABASE.configure(mariadb_url, pool_size=1, max_overflow=0)
    try:
        scope = db_api.reader_connection if reads else db_api.DATABASE.engine.begin
        marker = "described_%s" % ("reader" if reads else "writer")
        query = sa.text("SELECT 1 AS %s_a, 'x' AS %s_b, NULL AS %s_c" % (marker, marker, marker))
        with scope() as connection:
            result = connection.execute(query)
            assert result.keys() == ["%s_a" % marker, "%s_b" % marker, "%s_c" % marker]
            assert result.all() == [(1, "x", None)]
        parsed = [p for p in mysql._DESCRIPTORS.values() if p.name.startswith(marker)]
        assert len(parsed) == 3
        with scope() as connection:
            assert connection.execute(query).all() == [(1, "x", None)]
            description = connection.connection.dbapi_connection._result.fields
        # The same parsed descriptions served the second result: none was parsed again.
        assert [p for p in mysql._DESCRIPTORS.values() if p.name.startswith(marker)] == parsed
        assert all(any(field is p for p in parsed) for field in description)
    finally:
        for engine in db_api.DATABASE.engines():
            engine.dispose()
