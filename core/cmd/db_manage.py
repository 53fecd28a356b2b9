"""netweave-db-manage: schema migrations (upgrade, current, history).

``upgrade`` defaults to ``heads``: the core branch and the branch of every
package declaring ``netweave.db.migrations`` entry points (``head`` means the same).
"""
import sys

from alembic import command
from oslo_config import cfg

from netweave.core.cmd import common
from netweave.core.db import plugin_schema
from netweave.core.db import setup as db_setup


def _add_commands(subparsers):
    upgrade = subparsers.add_parser("upgrade", help="Upgrade the schema to a revision (default: every "
                                                    "branch to its head).")
    upgrade.add_argument("revision", nargs="?", default=db_setup.ALL_HEADS)
    subparsers.add_parser("current", help="Show the revisions the database is at, one per branch.")
    subparsers.add_parser("history", help="List the known revisions of every branch.")


def main(argv=None):
    conf = cfg.CONF
    conf.register_cli_opt(cfg.SubCommandOpt("command", handler=_add_commands))
    common.parse_config(sys.argv[1:] if argv is None else argv, conf)
    url = db_setup.database_url(conf)
    try:
        return _run(conf.command, url)
    except plugin_schema.SchemaEntryPointError as error:
        # A package's broken netweave.db.models or netweave.db.migrations entry point.
        common.fail(str(error))


def _run(command_opts, url):
    alembic_cfg = db_setup.alembic_config(url)
    name = command_opts.name
    if name == "upgrade":
        command.upgrade(alembic_cfg, db_setup.target_revision(command_opts.revision))
        print("Database upgraded to %s" % command_opts.revision)
    elif name == "current":
        heads = db_setup.current_heads(url)
        print("\n".join(sorted(heads)) if heads else "empty")
    elif name == "history":
        command.history(alembic_cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
