"""Schemas built once per session and copied into each new, empty test database.

Creating netweave's schema (a hundred tables and their indexes) costs far more
than copying it: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL. ``SchemaTemplates(build, key)`` keeps one template per ``key()``;
``build(url)`` makes the schema in a template database; ``fill(url)`` gives a
new, empty database at ``url`` a copy, or returns False when it cannot (the
database already has tables, or it is neither SQLite nor PostgreSQL); the
caller then builds the schema itself, as it did before.

The PostgreSQL templates live on the server they were made on and go with it.
"""
import contextlib
import os
import shutil
import tempfile
import uuid

_SQLITE_PREFIX = "sqlite:///"


def sqlite_path(url):
    """The file of a ``sqlite:///<path>`` URL; None for anything else."""
    return url[len(_SQLITE_PREFIX):] if url.startswith(_SQLITE_PREFIX) and "?" not in url else None


class SchemaTemplates:
    def __init__(self, build, key=lambda: None):
        self.build = build
        self.key = key
        self.folder = None
        self.sqlite = {}
        self.postgres = {}

    def fill(self, url):
        path = sqlite_path(url)
        if path is not None:
            return self._fill_sqlite(path)
        if url.startswith("postgresql"):
            return self._fill_postgres(url)
        return False

    def _fill_sqlite(self, path):
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return False
        key = self.key()
        if key not in self.sqlite:
            if self.folder is None:
                self.folder = tempfile.mkdtemp(prefix="netweave-schema-")
            template = os.path.join(self.folder, "%s.sqlite" % uuid.uuid4().hex[:12])
            self.build(_SQLITE_PREFIX + template)
            self.sqlite[key] = template
        shutil.copyfile(self.sqlite[key], path)
        return True

    def _fill_postgres(self, url):
        import psycopg
        from sqlalchemy.engine import make_url

        parsed = make_url(url)

        def connect(dbname):
            return contextlib.closing(psycopg.connect(
                host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
                dbname=dbname, connect_timeout=5, autocommit=True))

        with connect(parsed.database) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')")
            if cur.fetchone()[0]:
                return False
        key = (parsed.host, parsed.port, self.key())
        if key not in self.postgres:
            template = "netweave_schema_%s" % uuid.uuid4().hex[:12]
            with connect("postgres") as conn, conn.cursor() as cur:
                cur.execute('CREATE DATABASE "%s"' % template)
            self.build(parsed.set(database=template).render_as_string(hide_password=False))
            self.postgres[key] = template
        # The new database is empty and nothing of the test has used it yet: make it again as a copy.
        with connect("postgres") as conn, conn.cursor() as cur:
            cur.execute('DROP DATABASE "%s" WITH (FORCE)' % parsed.database)
            cur.execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (parsed.database, self.postgres[key]))
        return True

    def remove(self):
        """Delete the SQLite templates."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        self.sqlite.clear()
