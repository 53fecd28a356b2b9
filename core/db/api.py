"""Engine and session handling: one transaction per API call, retried on conflicts.

Allocations (IPs, MACs, segment ids, prefixes) rely on unique constraints and
version columns rather than locks; a request that loses such a race raises
``RetryRequest`` (or the database raises a conflict) and ``retry_db_errors``
runs the whole unit of work again on a fresh session.
"""
import contextlib
import functools
import logging
import random
import threading
import time

import sqlalchemy as sa
from sqlalchemy import event, exc as sa_exc, orm

LOG = logging.getLogger(__name__)

MAX_RETRIES = 20
READER_OPTION = "netweave_reader"


class RetryRequest(Exception):
    """Raised inside a unit of work to ask for it to be run again."""


class DBDuplicateEntry(Exception):
    def __init__(self, columns=(), inner=None):
        super().__init__(str(inner))
        self.columns = columns
        self.inner = inner


class _Database:
    def __init__(self):
        self.engine = None
        self.sessionmaker = None
        self._lock = threading.Lock()

    def configure(self, url, **kwargs):
        with self._lock:
            if self.engine is not None:
                self.engine.dispose()
            self.engine = create_engine(url, **kwargs)
            self.sessionmaker = orm.sessionmaker(bind=self.engine, expire_on_commit=False)
        return self.engine


DATABASE = _Database()


def _sqlite_setup(engine):
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # pysqlite's own transaction handling would defer BEGIN; we issue it ourselves.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the lock up front (IMMEDIATE), so two of them queue on busy_timeout
        # instead of deadlocking when both try to upgrade a read lock; readers never block.
        if conn.get_execution_options().get(READER_OPTION):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url, **kwargs):
    url_obj = sa.engine.make_url(url)
    if url_obj.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=5, max_overflow=10,
                                  connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _sqlite_setup(engine)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        engine = sa.create_engine(url, **kwargs)
    return engine


def get_engine():
    if DATABASE.engine is None:
        raise RuntimeError("database is not configured")
    return DATABASE.engine


@contextlib.contextmanager
def session_scope():
    """A session whose transaction commits on success and rolls back on error."""
    session = DATABASE.sessionmaker()
    try:
        with session.begin():
            yield session
    finally:
        session.close()


@contextlib.contextmanager
def reader_scope():
    """A session for reads: no write lock is taken on SQLite."""
    session = DATABASE.sessionmaker()
    try:
        session.connection(execution_options={READER_OPTION: True})
        yield session
    finally:
        session.rollback()
        session.close()


def _is_retriable(error):
    if isinstance(error, (RetryRequest, orm.exc.StaleDataError)):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        text = str(error.orig).lower()
        markers = ("deadlock", "could not serialize", "serialization failure", "database is locked",
                   "lock wait timeout", "1213", "1205")
        return any(m in text for m in markers)
    return False


def is_duplicate(error):
    if not isinstance(error, sa_exc.IntegrityError):
        return False
    text = str(error.orig).lower()
    return "unique" in text or "duplicate" in text


def retry_db_errors(func):
    """Run a unit of work again when it lost a race (conflict, deadlock, stale version)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for attempt in range(MAX_RETRIES):
            try:
                return func(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - filtered just below
                # A duplicate key here is a lost race: callers check user-given values
                # before inserting, so the next attempt turns a real clash into a 409.
                retriable = _is_retriable(error) or is_duplicate(error)
                if not retriable or attempt == MAX_RETRIES - 1:
                    raise
                # Jittered back-off keeps competing workers from colliding again in lockstep.
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise AssertionError("unreachable")

    return wrapper

