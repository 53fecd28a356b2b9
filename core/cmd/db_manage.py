"""netweave-db-manage: schema migrations (upgrade, current, history)."""
import sys

from alembic import command
from oslo_config import cfg

from netweave.core.cmd import common
from netweave.core.db import setup as db_setup


def _add_commands(subparsers):
    upgrade = subparsers.add_parser("upgrade", help="Upgrade the schema to a revision.")
    upgrade.add_argument("revision", nargs="?", default="head")
    subparsers.add_parser("current", help="Show the schema revision of the database.")
    subparsers.add_parser("history", help="List the known revisions.")


def main(argv=None):
    conf = cfg.CONF
    conf.register_cli_opt(cfg.SubCommandOpt("command", handler=_add_commands))
    common.parse_config(sys.argv[1:] if argv is None else argv, conf)
    url = db_setup.database_url(conf)
    alembic_cfg = db_setup.alembic_config(url)
    name = conf.command.name
    if name == "upgrade":
        command.upgrade(alembic_cfg, conf.command.revision)
        print("Database upgraded to %s" % conf.command.revision)
    elif name == "current":
        print(db_setup.current_revision(url) or "empty")
    elif name == "history":
        command.history(alembic_cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
