"""Engine and session handling: one transaction per API call, retried on conflicts.

Allocations (IPs, MACs, segment ids, prefixes) rely on unique constraints and
version columns rather than locks; a request that loses such a race raises
``RetryRequest`` (or the database raises a conflict) and ``retry_db_errors``
runs the whole unit of work again on a fresh session.
"""
import contextlib
import fcntl
import functools
import logging
import os
import random
import sqlite3
import threading
import time

import sqlalchemy as sa
from sqlalchemy import event, orm
from sqlalchemy import exc as sa_exc

from netweave.core.db import mysql

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
        # The engine reads run on (reader_connection, reader_scope): ``engine`` itself
        # but on MariaDB/MySQL, where reads have connections of their own (create_engine).
        self.reader_engine = None
        self.sessionmaker = None
        self._lock = threading.Lock()

    def configure(self, url, **kwargs):
        with self._lock:
            for engine in {self.engine, self.reader_engine} - {None}:
                engine.dispose()
            self.engine = create_engine(url, **kwargs)
            self.reader_engine = create_engine(url, reads_only=True, **kwargs) or self.engine
            self.sessionmaker = orm.sessionmaker(bind=self.engine, expire_on_commit=False)
        return self.engine

    def engines(self):
        """Every engine in use (one, or the writers' and the readers'): for whoever
        listens to their events."""
        return [self.engine] + ([self.reader_engine] if self.reader_engine is not self.engine else [])


DATABASE = _Database()


SQLITE_BUSY_TIMEOUT = 30.0  # seconds
# The driver of a postgresql:// URL that names none. Not SQLAlchemy's default
# (psycopg2) but psycopg 3: it prepares a statement on the server once a connection
# has sent it five times, so PostgreSQL stops planning each request's queries anew
# (planning was most of a port show's database time).
POSTGRESQL_DRIVER = "postgresql+psycopg"


class _WriterQueue:
    """Lets the writers of one SQLite file wait for each other in the kernel, not in
    SQLite's busy handler.

    A writer that finds the file locked sleeps in SQLite's busy handler, in
    steps growing to 100 ms, so under contention the lock is often free while
    every waiter sleeps: throughput drops and latencies reach seconds. Here each
    connection first takes an exclusive flock on a file next to the database,
    through a descriptor of its own, so threads and worker processes queue
    alike and the kernel wakes the next one as soon as the lock is let go. It
    is held from BEGIN IMMEDIATE to COMMIT or ROLLBACK, the span SQLite holds
    its write lock anyway. SQLite's lock still decides; the queue only shortens
    the waits. Unlike the busy timeout, the queue has no time limit: a writer
    waits as long as the transactions ahead of it last (one stuck for more
    than 30 s used to make the others fail with "database is locked" instead).
    Other programs writing the file (netweave-db-manage) do not queue and meet
    SQLite's busy timeout as before.

    A thread that opens a second write transaction while its first one is still
    open does not queue again (it would wait for itself): it goes straight to
    SQLite, which answers "database is locked" after the busy timeout, as before.
    """

    def __init__(self, database_path):
        self.lock_path = database_path + "-writers.lock"
        self._guard = threading.Lock()
        self._holders = {}  # thread id -> transactions of that thread holding the queue

    def open(self):
        return os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def acquire(self, fd):
        """Wait for our turn on ``fd``; returns the holding thread's id, or None when
        this thread already holds the queue through another connection."""
        thread = threading.get_ident()
        with self._guard:
            if self._holders.get(thread):
                return None
        fcntl.flock(fd, fcntl.LOCK_EX)
        with self._guard:
            self._holders[thread] = self._holders.get(thread, 0) + 1
        return thread

    def release(self, fd, thread):
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            with self._guard:
                left = self._holders.get(thread, 1) - 1
                if left > 0:
                    self._holders[thread] = left
                else:
                    self._holders.pop(thread, None)


class _QueuedConnection(sqlite3.Connection):
    """A pysqlite connection that takes its turn in a _WriterQueue for each write
    transaction and leaves it when the transaction ends (also when the
    connection is closed or dropped in the middle)."""

    writer_queue = None  # set per connection by _sqlite_setup
    _queue_fd = None
    _queued_by = None  # the thread id holding the queue for this connection's transaction

    def enter_writer_queue(self):
        if self.writer_queue is None or self._queued_by is not None:
            return
        if self._queue_fd is None:
            self._queue_fd = self.writer_queue.open()
        self._queued_by = self.writer_queue.acquire(self._queue_fd)

    def leave_writer_queue(self, force=False):
        # Only once the transaction is really over: a failed COMMIT keeps the lock.
        if self._queued_by is not None and (force or not self.in_transaction):
            thread, self._queued_by = self._queued_by, None
            self.writer_queue.release(self._queue_fd, thread)

    def commit(self):
        try:
            super().commit()
        finally:
            self.leave_writer_queue()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self.leave_writer_queue()

    def close(self):
        try:
            super().close()
        finally:
            self.leave_writer_queue(force=True)
            if self._queue_fd is not None:
                fd, self._queue_fd = self._queue_fd, None
                os.close(fd)


def _sqlite_file(url_obj):
    """Path of a file database, or None (memory databases, URI file names)."""
    database = url_obj.database
    if not database or database == ":memory:" or database.startswith("file:") or url_obj.query.get("uri"):
        return None
    return os.path.abspath(database)


def _sqlite_setup(engine, writer_queue=None):
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # pysqlite's own transaction handling would defer BEGIN; we issue it ourselves.
        dbapi_conn.isolation_level = None
        if isinstance(dbapi_conn, _QueuedConnection):
            dbapi_conn.writer_queue = writer_queue
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=%d" % int(SQLITE_BUSY_TIMEOUT * 1000))
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the lock up front (IMMEDIATE), so two of them queue on busy_timeout
        # instead of deadlocking when both try to upgrade a read lock; readers never block.
        if conn.get_execution_options().get(READER_OPTION):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi_conn = conn.connection.dbapi_connection
        queued = isinstance(dbapi_conn, _QueuedConnection)
        if queued:
            dbapi_conn.enter_writer_queue()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if queued:
                dbapi_conn.leave_writer_queue()
            raise


def create_engine(url, reads_only=False, **kwargs):
    """An engine for ``url``. With ``reads_only``, an engine for reads alone when the
    database needs one apart (MariaDB/MySQL through PyMySQL: mysql.configure_engine),
    else None."""
    url_obj = sa.engine.make_url(url)
    if reads_only and not (url_obj.get_backend_name() in mysql.BACKENDS and mysql.reads_apart(url_obj)):
        return None
    if url_obj.get_backend_name() == "sqlite":
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT}
        path = _sqlite_file(url_obj)
        writer_queue = None
        if path is not None:
            writer_queue = _WriterQueue(path)
            connect_args["factory"] = _QueuedConnection
        engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=5, max_overflow=10,
                                  connect_args=connect_args, **kwargs)
        _sqlite_setup(engine, writer_queue)
    else:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        ping_idle = not kwargs.get("pool_pre_ping")
        is_mysql = url_obj.get_backend_name() in mysql.BACKENDS
        if url_obj.drivername == "postgresql":
            url = url_obj = url_obj.set(drivername=POSTGRESQL_DRIVER)
        if is_mysql:
            url = mysql.url_with_charset(url_obj)
            if reads_only:
                kwargs["isolation_level"] = "AUTOCOMMIT"
            kwargs.setdefault("isolation_level", mysql.ISOLATION_LEVEL)
        engine = sa.create_engine(url, **kwargs)
        if is_mysql:
            mysql.configure_engine(engine, reads_only)
        elif url_obj.get_backend_name() == "postgresql" and url_obj.get_driver_name() in ("psycopg", "psycopg2"):
            _postgresql_reads_outside_transactions(engine)
        if ping_idle:
            _ping_idle_connections(engine)
    return engine


def _postgresql_reads_outside_transactions(engine):
    """Reads (READER_OPTION) run in autocommit mode: without the BEGIN the driver sends
    before a transaction's first statement and the ROLLBACK that ends it, two of a
    single-port show's four round trips. In READ COMMITTED, PostgreSQL's level, each
    statement of a transaction reads its own snapshot anyway, so a read sees what it
    saw before. psycopg and psycopg2 keep the mode on the client (setting it sends
    nothing), and skip the rollback of a connection with no transaction open."""

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        dbapi_conn = conn.connection.dbapi_connection
        reader = bool(conn.get_execution_options().get(READER_OPTION))
        if dbapi_conn.autocommit != reader:
            dbapi_conn.autocommit = reader


# A pooled connection unused for this long is pinged before it is handed out again.
IDLE_PING_AFTER = 10.0  # seconds
_IDLE_SINCE = "netweave_idle_since"


def _ping_idle_connections(engine):
    """SQLAlchemy's pool_pre_ping, for connections that sat idle only.

    Pinging on every checkout costs a round trip per request; a connection in
    steady use is known to be alive, and one that breaks in use anyway (the
    server restarted) is invalidated and the unit of work retried. Connections
    idle long enough for the server to have gone away are pinged; a dead one
    is replaced before anyone gets it.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn, record):
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn, record, _proxy):
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < IDLE_PING_AFTER:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
            # The ping may have opened a transaction on the driver's connection.
            dbapi_conn.rollback()
        except Exception as error:  # noqa: BLE001 - any failure means the connection is gone
            raise sa_exc.DisconnectionError("idle connection is dead: %s" % error) from error


def get_engine():
    if DATABASE.engine is None:
        raise RuntimeError("database is not configured")
    return DATABASE.engine


def get_reader_engine():
    if DATABASE.reader_engine is None:
        raise RuntimeError("database is not configured")
    return DATABASE.reader_engine


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
    """A session for reads: no write lock is taken on SQLite. Reads made of Core
    statements only take reader_connection, which costs less."""
    session = DATABASE.sessionmaker(bind=get_reader_engine())
    try:
        session.connection(execution_options={READER_OPTION: True})
        yield session
    finally:
        session.rollback()
        session.close()


@contextlib.contextmanager
def reader_connection():
    """A pooled connection in a read transaction (no write lock on SQLite), rolled back
    after: for reads made of Core statements. An ORM session costs a read about as much
    again as its statements (its transaction's set-up, rollback and close); code that
    needs ORM objects on this connection makes a session on it (``orm.Session(bind=...)``)."""
    with get_reader_engine().connect() as connection:
        connection.execution_options(**{READER_OPTION: True})
        # Closing the connection rolls this back, once: the pool then skips its own reset.
        connection.begin()
        yield connection


def _is_retriable(error):
    if isinstance(error, (RetryRequest, orm.exc.StaleDataError)):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        code = mysql.error_code(error)
        if code is not None:
            return code in mysql.RETRIABLE
        text = str(error.orig).lower()
        markers = ("deadlock", "could not serialize", "serialization failure", "database is locked")
        return any(m in text for m in markers)
    return False


def is_duplicate(error):
    if not isinstance(error, sa_exc.IntegrityError):
        return False
    code = mysql.error_code(error)
    if code is not None:
        return code in mysql.DUPLICATE_KEY
    text = str(error.orig).lower()
    return "unique" in text or "duplicate" in text


def is_foreign_key_violation(error):
    if not isinstance(error, sa_exc.IntegrityError):
        return False
    code = mysql.error_code(error)
    if code is not None:
        return code in mysql.FOREIGN_KEY_VIOLATION
    return "foreign key" in str(error.orig).lower()


def skips_locked_rows(dialect):
    """Whether the server takes ``FOR UPDATE SKIP LOCKED``: PostgreSQL, MySQL 8.0.1 and
    later, MariaDB 10.6 and later. (SQLite has one writer at a time: nothing to skip.)"""
    if dialect.name == "postgresql":
        return True
    if mysql.is_mysql(dialect):
        return (dialect.server_version_info or ()) >= ((10, 6) if dialect.is_mariadb else (8, 0, 1))
    return False


def single_writer():
    """True when the database lets one write transaction run at a time (SQLite): reads
    a writer can do before its transaction then keep the others waiting less."""
    return get_engine().dialect.name == "sqlite"


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

