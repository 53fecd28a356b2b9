"""core/db/errors.py on real databases: what the client caused is a 4xx, the rest stays a 500.

The errors are the ones SQLite, PostgreSQL and MariaDB really raise through
SQLAlchemy (and psycopg's own refusal of NUL characters), not constructed ones.
"""
import threading

import pytest
import sqlalchemy as sa

from harness import ml2_plugin
from netweave.core import exceptions as exc
from netweave.core.api import faults
from netweave.core.db import api as db_api
from netweave.core.db import errors as db_errors

SCHEMA = [
    "CREATE TABLE parents (id VARCHAR(36) PRIMARY KEY, name VARCHAR(8) NOT NULL, size INTEGER, "
    "created TIMESTAMP)",
    "CREATE TABLE children (id VARCHAR(36) PRIMARY KEY, "
    "parent_id VARCHAR(36) NOT NULL REFERENCES parents(id))",
]


@pytest.fixture(params=ml2_plugin.ALL_BACKENDS)
def engine(request, tmp_path):
    # netweave's own engine set-up: foreign keys on for SQLite, strict mode for MySQL.
    engine = db_api.create_engine(ml2_plugin.database_url(request, tmp_path))
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
        error = _raised(engine, "SELECT * FROM parents WHERE name = :name", {"name": "a\x00b"})
        assert "a string contains a NUL character" in _answer(error)[1]["message"], error
    finally:
        engine.dispose()


def test_removing_a_row_still_referred_to_is_a_409(engine):
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO children (id, parent_id) VALUES ('c1', 'p1')"))
    error = _raised(engine, "DELETE FROM parents WHERE id = 'p1'")
    assert isinstance(db_errors.as_client_error(error), exc.ConcurrentlyRemoved)


def test_mariadb_refusals_of_values_are_400s(mariadb_url):
    # Strict mode (netweave sets it) raises these as errors, some as OperationalError.
    engine = db_api.create_engine(mariadb_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(SCHEMA[0]))
        refused = [
            ("INSERT INTO parents (id, name) VALUES ('p3', :name)", {"name": "much too long"}),  # 1406
            ("INSERT INTO parents (id, name, size) VALUES ('p4', 'x', :size)", {"size": 99999999999}),  # 1264
            ("INSERT INTO parents (id, name, size) VALUES ('p5', 'x', :size)", {"size": "abc"}),  # 1366
            ("INSERT INTO parents (id, name, created) VALUES ('p6', 'x', :when)", {"when": "abc"}),  # 1292
            ("INSERT INTO parents (id) VALUES ('p7')", {}),  # 1364
        ]
        for statement, params in refused:
            error = _raised(engine, statement, params)
            status, body = _answer(error)
            assert (status, body["type"]) == (400, "InvalidInput"), (statement, error)
    finally:
        engine.dispose()


def _cross_lock(engine, first, second, barrier, outcome):
    """Lock row ``first``, wait for the other thread to lock its row, then ask for ``second``."""
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE parents SET size = 1 WHERE id = :id"), {"id": first})
            barrier.wait(10)
            connection.execute(sa.text("UPDATE parents SET size = 2 WHERE id = :id"), {"id": second})
        outcome.append(None)
    except Exception as error:  # noqa: BLE001 - the test inspects it
        outcome.append(error)


def test_mariadb_deadlocks_and_lock_waits_are_retried(mariadb_url):
    engine = db_api.create_engine(mariadb_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(SCHEMA[0]))
            connection.execute(sa.text("INSERT INTO parents (id, name) VALUES ('a', 'a'), ('b', 'b')"))
        # A real deadlock (1213): two transactions each wait for the row the other holds.
        barrier, outcome = threading.Barrier(2), []
        threads = [threading.Thread(target=_cross_lock, args=(engine, first, second, barrier, outcome))
                   for first, second in (("a", "b"), ("b", "a"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        deadlocks = [error for error in outcome if error is not None]
        assert len(outcome) == 2 and len(deadlocks) == 1, outcome
        assert db_api._is_retriable(deadlocks[0]) and db_errors.as_client_error(deadlocks[0]) is None
        # A lock wait timeout (1205): a row held by another transaction past the wait limit.
        with engine.begin() as holder:
            holder.execute(sa.text("UPDATE parents SET size = 3 WHERE id = 'a'"))
            error = _raised_with_short_wait(engine)
        assert db_api._is_retriable(error) and db_errors.as_client_error(error) is None
        # What is not a lost race is not retried.
        assert not db_api._is_retriable(_raised(engine, "INSERT INTO parents (id) VALUES ('c')"))
    finally:
        engine.dispose()


def _raised_with_short_wait(engine):
    with pytest.raises(sa.exc.OperationalError) as info:
        with engine.begin() as connection:
            connection.execute(sa.text("SET SESSION innodb_lock_wait_timeout = 1"))
            connection.execute(sa.text("UPDATE parents SET size = 4 WHERE id = 'a'"))
    return info.value


def test_other_database_errors_stay_500s(engine):
    error = _raised(engine, "SELECT * FROM no_such_table")
    assert db_errors.as_client_error(error) is None
    assert _answer(error)[0] == 500
    assert db_errors.as_client_error(ValueError("some other value")) is None
