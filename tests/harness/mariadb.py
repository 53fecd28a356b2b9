"""A private, throw-away MariaDB server for tests and benchmarks.

``start_private_mariadb()`` runs mariadb-install-db into a new temporary
folder (in memory, under /dev/shm, when it can) and starts ``mariadbd --no-defaults`` on 127.0.0.1 at a free port with
a socket of its own, durability switched off for speed. As root it runs as the
``mysql`` system user (the Debian package creates it). Nothing of the machine's
/etc/mysql applies: the server keeps MariaDB's built-in defaults (latin1,
REPEATABLE READ), so the product must set what it relies on itself. ``stop()``
shuts it down and deletes the folder.

Fixtures:
  mariadb_server  (session) the running server, a PrivateMariaDB
  mariadb_url     (function) URL of a fresh, empty database, dropped afterwards

Outside pytest:
    with start_private_mariadb() as server:
        url = server.url_for(server.create_database("bench"))
"""
import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import uuid

import pytest

from harness import private_daemon
from harness.processes import LOCALHOST, start_process
from harness.system import find_executable, start_or_require

SUPERUSER = "root"
SYSTEM_USER = "mysql"


class MariaDBUnavailable(RuntimeError):
    """This machine cannot run a private MariaDB server."""


def find_mariadb():
    """(mariadb-install-db, mariadbd) paths, or None when either is missing."""
    install_db, server = find_executable("mariadb-install-db"), find_executable("mariadbd")
    return (install_db, server) if install_db and server else None


# Test data is disposable: trade durability for speed, and keep the server small.
FAST_SETTINGS = {
    "innodb-flush-log-at-trx-commit": "0",
    "innodb-doublewrite": "0",
    "innodb-buffer-pool-size": "64M",
    "innodb-log-file-size": "32M",
    "performance-schema": "OFF",
    "max-connections": "300",
    "default-time-zone": "+00:00",
}


class PrivateMariaDB:
    """A running private server; see start_private_mariadb()."""

    def __init__(self, base_dir, install_db, mariadbd, user):
        self.base_dir = base_dir
        self.data_dir = os.path.join(base_dir, "data")
        self.tmp_dir = os.path.join(base_dir, "tmp")
        self.socket_path = os.path.join(base_dir, "mariadb.sock")
        self.log_path = os.path.join(base_dir, "mariadb.log")
        self.install_db = install_db
        self.mariadbd = mariadbd
        self.run_as = user
        self.host = LOCALHOST
        self.port = None
        self.process = None

    def url_for(self, dbname=""):
        """SQLAlchemy URL of database ``dbname`` on this server, as an operator would write it."""
        return f"mysql+pymysql://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def connect(self, dbname=None):
        """A PyMySQL connection in autocommit mode."""
        import pymysql

        return pymysql.connect(host=self.host, port=self.port, user=SUPERUSER, database=dbname,
                               charset="utf8mb4", connect_timeout=5, autocommit=True)

    def create_database(self, name=None):
        """Create an empty database (random name if none given); return its name.

        It gets the server's default character set, as ``CREATE DATABASE name``
        from an operator's guide would."""
        name = name or f"test_{uuid.uuid4().hex[:16]}"
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
        return name

    def drop_database(self, name):
        """Drop ``name``, ending any connection still using it first (an open
        transaction's metadata lock would make the DROP wait)."""
        import pymysql

        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
                        (name,))
            for (thread_id,) in cur.fetchall():
                with contextlib.suppress(pymysql.err.OperationalError):  # gone meanwhile
                    cur.execute(f"KILL {int(thread_id)}")
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")

    def _install_db(self):
        argv = [self.install_db, "--no-defaults", f"--datadir={self.data_dir}",
                "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"]
        if self.run_as:
            argv.append(f"--user={self.run_as}")
        argv += [f"--{key}={value}" for key, value in FAST_SETTINGS.items()]
        result = subprocess.run(argv, cwd=self.base_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed ({result.returncode}):\n{result.stdout}")

    def _start(self, port, timeout):
        self.port = port
        # --no-defaults must come first; the mysql user's identity comes from
        # start_process, so the server never starts as root.
        argv = [self.mariadbd, "--no-defaults", f"--datadir={self.data_dir}", f"--tmpdir={self.tmp_dir}",
                f"--socket={self.socket_path}", f"--pid-file={os.path.join(self.base_dir, 'mariadb.pid')}",
                f"--bind-address={self.host}", f"--port={port}", "--skip-name-resolve", "--skip-log-bin"]
        argv += [f"--{key}={value}" for key, value in FAST_SETTINGS.items()]
        self.process = start_process(argv, self.log_path, cwd=self.base_dir, user=self.run_as)
        self.process.wait_until(self._accepts_queries, timeout, "it accepted queries")

    def _accepts_queries(self):
        import pymysql

        try:
            self.connect().close()
            return True
        except pymysql.err.OperationalError:
            return False

    def stop(self):
        """Shut the server down and delete its folder. Safe to call twice."""
        atexit.unregister(self.stop)
        try:
            if self.process is not None:
                # SIGTERM is mariadbd's normal shutdown; it ends client connections itself.
                self.process.stop(grace=30, sig=signal.SIGTERM, whole_group=False)
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# InnoDB syncs every file it creates, so DDL (migrations, a database per test)
# costs seconds per schema on a disk and next to nothing on tmpfs, where a
# sync is a no-op. The data is thrown away anyway and stays small.
MEMORY_TMPDIR = "/dev/shm"


def _default_tmpdir():
    if os.path.isdir(MEMORY_TMPDIR) and os.access(MEMORY_TMPDIR, os.W_OK | os.X_OK):
        return MEMORY_TMPDIR
    return None  # the system temp folder


def start_private_mariadb(tmpdir=None, port=None, timeout=60):
    """Start a private server in a new folder under ``tmpdir`` (default:
    /dev/shm when usable, else the system temp folder). Raises
    MariaDBUnavailable when the machine cannot run one. The server is also
    stopped at interpreter exit if nobody did."""
    executables = find_mariadb()
    if executables is None:
        raise MariaDBUnavailable("mariadbd or mariadb-install-db not found (Debian package mariadb-server)")
    user = private_daemon.service_account(SYSTEM_USER, "mariadb-server", MariaDBUnavailable)
    base_dir = tempfile.mkdtemp(prefix="netweave-mariadb-", dir=tmpdir or _default_tmpdir())
    server = PrivateMariaDB(base_dir, *executables, user)
    atexit.register(server.stop)
    try:
        private_daemon.prepare_folders(base_dir, user, [server.tmp_dir], MariaDBUnavailable)
        server._install_db()
        private_daemon.start_on_a_free_port(server, port, timeout, "Address already in use")
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def mariadb_server():
    """The session's private MariaDB server (PrivateMariaDB)."""
    server = start_or_require(start_private_mariadb, MariaDBUnavailable)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mariadb_url(mariadb_server):
    """SQLAlchemy URL of a new empty database, dropped after the test.

    Dispose of engines made from it; the drop ends leftover connections anyway.
    """
    name = mariadb_server.create_database()
    yield mariadb_server.url_for(name)
    mariadb_server.drop_database(name)
