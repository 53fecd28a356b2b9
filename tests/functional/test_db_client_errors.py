"""core/db/errors.py on real databases: what the client caused is a 4xx, the rest stays a 500.

The errors are the ones PostgreSQL and SQLite really raise through SQLAlchemy
(and psycopg2's own refusal of NUL characters), not constructed ones.
"""
import pytest
import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.api import faults
from netweave.core.db import errors as db_errors

SCHEMA = [
    "CREATE TABLE parents (id VARCHAR(36) PRIMARY KEY, name VARCHAR(8) NOT NULL, size INTEGER, "
    "created TIMESTAMP)",
    "CREATE TABLE children (id VARCHAR(36) PRIMARY KEY, "
    "parent_id VARCHAR(36) NOT NULL REFERENCES parents(id))",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = "sqlite:///%s" % (tmp_path / "errors.sqlite")
    else:
        url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    if request.param == "sqlite":
        sa.event.listen(engine, "connect", lambda conn, _record: conn.execute("PRAGMA foreign_keys=ON"))
    with engine.begin() as connection:
        for statement in SCHEMA:
            connection.execute(sa.text(statement))
        connection.execute(sa.text("INSERT INTO parents (id, name) VALUES ('p1', 'one')"))
    yield engine
    engine.dispose()


def _raised(engine, statement, params=None):
    with pytest.raises(Exception) as info:
        with engine.begin() as connection:
            connection.execute(sa.text(statement), params or {})
    return info.value


def _answer(error):
    response = faults.to_response(error)
    return response.status_int, response.json["NeutronError"]


def test_a_row_referring_to_a_missing_one_is_a_409(engine):
    error = _raised(engine, "INSERT INTO children (id, parent_id) VALUES ('c1', 'gone')")
    assert isinstance(db_errors.as_client_error(error), exc.ConcurrentlyRemoved)
    assert _answer(error)[0] == 409


def test_a_duplicate_is_a_409(engine):
    error = _raised(engine, "INSERT INTO parents (id, name) VALUES ('p1', 'again')")
    assert isinstance(db_errors.as_client_error(error), exc.ConcurrentlyModified)
    assert _answer(error)[0] == 409


def test_a_missing_required_value_is_a_400(engine):
    error = _raised(engine, "INSERT INTO parents (id) VALUES ('p2')")
    status, body = _answer(error)
    assert (status, body["type"]) == (400, "InvalidInput")


def test_postgresql_refusals_of_values_are_400s(postgres_url):
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(SCHEMA[0]))
        refused = [
            ("INSERT INTO parents (id, name) VALUES ('p3', :name)", {"name": "much too long"}),
            ("INSERT INTO parents (id, name, size) VALUES ('p4', 'x', :size)", {"size": 99999999999}),
            ("SELECT * FROM parents WHERE created = :when", {"when": "abc"}),
            ("SELECT * FROM parents WHERE name = :name", {"name": "a\x00b"}),
        ]
        for statement, params in refused:
            error = _raised(engine, statement, params)
            status, body = _answer(error)
            assert (status, body["type"]) == (400, "InvalidInput"), (statement, error)
    finally:
        engine.dispose()


def test_other_database_errors_stay_500s(engine):
    error = _raised(engine, "SELECT * FROM no_such_table")
    assert db_errors.as_client_error(error) is None
    assert _answer(error)[0] == 500
    assert db_errors.as_client_error(ValueError("some other value")) is None
