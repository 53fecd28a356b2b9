"""SQLite writers queue in the engine (core/db/api.py): no lost updates, no stuck queue."""
import os
import threading

import sqlalchemy as sa

from netweave.core.db import api as db_api


def _engine(tmp_path):
    engine = db_api.create_engine("sqlite:///%s" % (tmp_path / "queue.sqlite"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (0)")
    return engine


def _value(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT n FROM counter")).scalar()


def test_concurrent_read_modify_write_loses_nothing(tmp_path):
    engine = _engine(tmp_path)
    errors = []

    def work():
        try:
            for _ in range(25):
                with engine.begin() as conn:
                    value = conn.execute(sa.text("SELECT n FROM counter")).scalar()
                    conn.execute(sa.text("UPDATE counter SET n = :n"), {"n": value + 1})
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert _value(engine) == 200
    assert os.path.exists(str(tmp_path / "queue.sqlite") + "-writers.lock")
    engine.dispose()


def test_queue_is_left_on_rollback_and_on_close(tmp_path):
    engine = _engine(tmp_path)
    conn = engine.connect()
    trans = conn.begin()
    conn.execute(sa.text("UPDATE counter SET n = 5"))
    trans.rollback()
    conn.close()

    # A connection dropped in the middle of a write transaction.
    conn = engine.connect()
    conn.begin()
    conn.execute(sa.text("UPDATE counter SET n = 7"))
    conn.invalidate()
    conn.close()

    done = threading.Event()

    def write():
        with engine.begin() as other:
            other.execute(sa.text("UPDATE counter SET n = 9"))
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(10)
    assert done.is_set(), "the writer queue was left held"
    assert _value(engine) == 9
    engine.dispose()


def test_readers_do_not_queue(tmp_path):
    engine = _engine(tmp_path)
    db_api.DATABASE.configure("sqlite:///%s" % (tmp_path / "queue.sqlite"))
    try:
        with db_api.session_scope() as writer:
            writer.execute(sa.text("UPDATE counter SET n = 3"))
            seen = []
            thread = threading.Thread(target=lambda: seen.append(_read()))
            thread.start()
            thread.join(10)
            # The reader answered while the write transaction was open, from before it.
            assert seen == [0]
        assert _read() == 3
    finally:
        db_api.DATABASE.engine.dispose()
        engine.dispose()


def _read():
    with db_api.reader_scope() as session:
        return session.execute(sa.text("SELECT n FROM counter")).scalar()


def test_a_thread_already_in_the_queue_does_not_wait_for_itself(tmp_path):
    queue = db_api._WriterQueue(str(tmp_path / "nested.sqlite"))
    first, second = queue.open(), queue.open()
    try:
        holder = queue.acquire(first)
        assert holder == threading.get_ident()
        # A second write transaction of the same thread is left to SQLite's busy timeout.
        assert queue.acquire(second) is None
        queue.release(first, holder)
        assert queue.acquire(second) == holder
        queue.release(second, holder)
    finally:
        os.close(first)
        os.close(second)


def test_a_reader_connection_neither_queues_nor_sees_a_write_midway(tmp_path):
    engine = _engine(tmp_path)
    db_api.DATABASE.configure("sqlite:///%s" % (tmp_path / "queue.sqlite"))
    try:
        with db_api.reader_connection() as reader:
            first = reader.execute(sa.text("SELECT n FROM counter")).scalar()
            done = threading.Event()

            def write():
                with db_api.session_scope() as writer:
                    writer.execute(sa.text("UPDATE counter SET n = 5"))
                done.set()

            thread = threading.Thread(target=write)
            thread.start()
            thread.join(10)
            # The writer did not wait for the open read; the read's second statement
            # still sees the snapshot its first one saw.
            assert done.is_set()
            assert (first, reader.execute(sa.text("SELECT n FROM counter")).scalar()) == (0, 0)
            dbapi_connection = reader.connection.dbapi_connection
        # Back in the pool with its read transaction ended.
        assert not dbapi_connection.in_transaction
        with db_api.reader_connection() as reader:
            assert reader.execute(sa.text("SELECT n FROM counter")).scalar() == 5
    finally:
        db_api.DATABASE.engine.dispose()
        engine.dispose()
