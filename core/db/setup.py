"""Database URL resolution, engine set-up and schema migration.

The schema is one Alembic history with a branch per package: the core is the
branch ``core`` and every ``netweave.db.migrations`` entry point adds its own.
Upgrading means upgrading every branch to its head (``heads``).

Alembic (with Mako, about 10 MB) is imported by the functions that migrate or
inspect the schema, not by this module: the API server's processes configure
their engine from here and never migrate.
"""
import os

from netweave.core.db import api as db_api
from netweave.core.db import plugin_schema

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")
CORE_VERSIONS_DIR = os.path.join(MIGRATIONS_DIR, "versions")
ALL_HEADS = "heads"


def database_url(conf):
    if conf.database.connection:
        return conf.database.connection
    os.makedirs(conf.state_path, exist_ok=True)
    return "sqlite:///%s" % os.path.join(os.path.abspath(conf.state_path), "netweave.sqlite")


def configure(conf):
    url = database_url(conf)
    kwargs = {}
    if not url.startswith("sqlite"):
        kwargs = {"pool_size": conf.database.max_pool_size, "max_overflow": conf.database.max_overflow}
    return db_api.DATABASE.configure(url, **kwargs)


def version_locations():
    """The folders of every branch's revisions, the core's first."""
    folders = [CORE_VERSIONS_DIR]
    for folder in plugin_schema.migration_branches().values():
        if os.path.realpath(folder) not in {os.path.realpath(f) for f in folders}:
            folders.append(folder)
    return folders


def alembic_config(url):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(version_locations()).replace("%", "%%"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def target_revision(revision):
    """``head`` means the head of every branch: the schema is all of them together."""
    return ALL_HEADS if revision == "head" else revision


def upgrade(url, revision=ALL_HEADS):
    from alembic import command

    command.upgrade(alembic_config(url), target_revision(revision))


def expected_heads(url):
    """The head revision of every installed branch."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def current_heads(url):
    """The revisions the database is at, one per branch it has (empty when it has none)."""
    from alembic.runtime.migration import MigrationContext

    engine = db_api.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
