"""Database URL resolution, engine set-up and schema migration."""
import os

from alembic import command
from alembic.config import Config

from netweave.core.db import api as db_api

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


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


def alembic_config(url):
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url, revision="head"):
    command.upgrade(alembic_config(url), revision)


def current_revision(url):
    from alembic.runtime.migration import MigrationContext
    engine = db_api.create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
