"""Start-up shared by the console scripts: configuration, logging, database."""
import logging
import sys

from oslo_config import cfg
from oslo_log import log as oslo_log

from netweave.core.config import common as _common_opts  # noqa: F401 - registers options
from netweave.core.config import ml2 as _ml2_opts  # noqa: F401
from netweave.core.db import setup as db_setup

LOG = logging.getLogger(__name__)
_LOGGING_REGISTERED = False


def parse_config(argv, conf=cfg.CONF, default_config_files=None):
    global _LOGGING_REGISTERED
    if not _LOGGING_REGISTERED:
        oslo_log.register_options(conf)
        _LOGGING_REGISTERED = True
    conf(argv, project="netweave", default_config_files=default_config_files or [])
    oslo_log.setup(conf, "netweave")
    return conf


class SchemaOutOfDate(RuntimeError):
    pass


def schema_problem(url):
    """Why the database at url cannot be served (an old schema), or None when it can.

    Every installed branch must be at its head; the operator runs
    ``netweave-db-manage upgrade heads``.
    """
    expected = db_setup.expected_heads(url)
    current = db_setup.current_heads(url)
    if current == expected:
        return None
    return ("Database schema is at %s, expected %s: run "
            "'netweave-db-manage --config-file ... upgrade heads'"
            % (", ".join(sorted(current)) or "no revision", ", ".join(sorted(expected))))


def require_current_schema(conf):
    """Refuse to serve an old schema."""
    problem = schema_problem(db_setup.database_url(conf))
    if problem is not None:
        raise SchemaOutOfDate(problem)


def fail(message):
    sys.stderr.write("netweave: %s\n" % message)
    sys.exit(2)
