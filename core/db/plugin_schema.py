"""The schema that installed packages contribute through entry points.

``netweave.db.models``: ``<name> = <module>``, a module imported for the tables
it declares on ``netweave.core.db.model_base.Base``.

``netweave.db.migrations``: ``<branch> = <package>``, a package whose folder
holds the Alembic revisions of branch ``<branch>``. The core is the branch
``core``; a plugin's first revision has ``branch_labels = ("<branch>",)``,
``down_revision = None`` and ``depends_on`` the core revision it builds on.
"""
import importlib
import os

from netweave.core import entry_points

MODELS_GROUP = "netweave.db.models"
MIGRATIONS_GROUP = "netweave.db.migrations"
CORE_BRANCH = "core"


class SchemaEntryPointError(RuntimeError):
    """An entry point of the schema groups that cannot be used."""


def _import(entry_point):
    if ":" in entry_point.value:
        raise SchemaEntryPointError("%s must name a module, not an attribute" % entry_points.describe(entry_point))
    try:
        return importlib.import_module(entry_point.value)
    except Exception as error:  # whatever a broken package raises on import
        raise SchemaEntryPointError("%s cannot be imported: %s: %s"
                                    % (entry_points.describe(entry_point), type(error).__name__, error)) from error


def import_models():
    """Import every module of netweave.db.models; returns their names."""
    return [_import(entry_point).__name__ for entry_point in entry_points.installed(MODELS_GROUP)]


def migration_branches():
    """{branch: folder of its revisions} for every entry point of netweave.db.migrations."""
    branches = {}
    for entry_point in entry_points.installed(MIGRATIONS_GROUP):
        if entry_point.name in branches:
            raise SchemaEntryPointError("migration branch '%s' is declared twice (entry point group %s)"
                                        % (entry_point.name, MIGRATIONS_GROUP))
        package = _import(entry_point)
        folders = list(getattr(package, "__path__", ()))
        if len(folders) != 1 or not os.path.isdir(folders[0]):
            raise SchemaEntryPointError("%s must name a package in one folder" % entry_points.describe(entry_point))
        branches[entry_point.name] = folders[0]
    return branches
