"""The schema is one Alembic history with a branch per package, upgraded to every head.

The core is branch ``core`` (0001 -> 0002 -> 0004); port_security's tables are
its own branch, found through the ``netweave.db.migrations`` entry point, that
depends on the core revision holding the ports table. Upgrading to ``heads``
must give exactly the tables the models declare, on SQLite and PostgreSQL.
"""
import os
import types

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from harness.ml2_plugin import ALL_BACKENDS, database_url
from netweave.core.cmd import common
from netweave.core.db import all_models, plugin_schema
from netweave.core.db import api as db_api
from netweave.core.db import setup as db_setup

PORT_SECURITY_TABLES = {"securitygroups", "securitygrouprules", "default_security_group",
                        "securitygroupportbindings", "portsecuritybindings", "networksecuritybindings",
                        "allowedaddresspairs", "securitygrouprbacs",
                        "securitygroupdefaultrules"}


def _tables(url):
    engine = db_api.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _schema_diff(url):
    engine = db_api.create_engine(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), all_models.metadata)
    finally:
        engine.dispose()


def _missing_table(diff):
    """The table a schema difference adds (a whole table, or an index of it), else None."""
    if diff[0] == "add_table":
        return diff[1].name
    if diff[0] == "add_index":
        return diff[1].table.name
    return None


def test_branches_come_from_the_entry_points():
    branches = plugin_schema.migration_branches()
    assert {"core", "port_security"} <= set(branches)
    assert branches["core"] == db_setup.CORE_VERSIONS_DIR
    assert branches["port_security"].endswith("service_plugins/port_security/migrations")
    script = ScriptDirectory.from_config(db_setup.alembic_config("sqlite://"))
    # Other installed plugins (the router) add branches of their own.
    assert {"0001_initial", "port_security_0001"} <= set(script.get_bases())
    assert script.get_revision("0001_initial").branch_labels == {"core"}
    assert script.get_revision("core@head").revision == "0008_foreign_key_indexes"
    first = script.get_revision("port_security_0001")
    assert first.down_revision is None
    assert first.branch_labels == {"port_security"}
    assert first.dependencies == "0001_initial"  # the core revision that creates ports and networks
    assert script.get_revision("0004_dhcp_agents").down_revision == "0002_agents"
    assert script.get_revision("0005_address_scopes").down_revision == "0004_dhcp_agents"
    assert script.get_revision("0006_port_list_index").down_revision == "0005_address_scopes"
    assert script.get_revision("0007_port_project_index").down_revision == "0006_port_list_index"
    assert script.get_revision("0008_foreign_key_indexes").down_revision == "0007_port_project_index"


def test_models_come_from_the_entry_points():
    assert {"netweave.type_drivers.models", "netweave.service_plugins.port_security.models"} <= set(
        all_models.PLUGIN_MODEL_MODULES)
    assert PORT_SECURITY_TABLES <= set(all_models.metadata.tables)


@pytest.fixture(params=ALL_BACKENDS)
def url(request, tmp_path):
    return database_url(request, tmp_path)


def test_upgrade_heads_gives_the_models_schema(url):
    db_setup.upgrade(url)
    assert db_setup.current_heads(url) == db_setup.expected_heads(url)
    assert {"0008_foreign_key_indexes", "port_security_0006"} <= db_setup.current_heads(url)
    assert PORT_SECURITY_TABLES <= _tables(url)
    assert _schema_diff(url) == []


def test_head_is_every_branch_too(url):
    db_setup.upgrade(url, "head")
    assert db_setup.current_heads(url) == db_setup.expected_heads(url)


def test_branches_upgrade_and_downgrade_on_their_own(url):
    config = db_setup.alembic_config(url)
    command.upgrade(config, "core@head")
    assert db_setup.current_heads(url) == {"0008_foreign_key_indexes"}
    assert not PORT_SECURITY_TABLES & _tables(url)
    command.upgrade(config, "port_security@head")
    assert PORT_SECURITY_TABLES <= _tables(url)
    # Only the tables of the branches not upgraded (other plugins') are missing.
    present = _tables(url)
    assert [d for d in _schema_diff(url)
            if _missing_table(d) is None or _missing_table(d) in present | PORT_SECURITY_TABLES] == []
    command.downgrade(config, "port_security@base")
    assert db_setup.current_heads(url) == {"0008_foreign_key_indexes"}
    assert not PORT_SECURITY_TABLES & _tables(url)
    assert "ports" in _tables(url)


def test_every_branch_downgrades_to_base(url):
    # Dropping a table drops its indexes: a downgrade that dropped them first would fail
    # on MySQL/MariaDB, where an index a foreign key uses cannot be dropped.
    db_setup.upgrade(url)
    command.downgrade(db_setup.alembic_config(url), "base")
    assert db_setup.current_heads(url) == set()
    assert _tables(url) <= {"alembic_version"}


def test_every_table_on_mariadb_is_utf8mb4_with_an_exact_collation(mariadb_url):
    # The private server's defaults are latin1 and a case-insensitive collation: netweave sets its own.
    db_setup.upgrade(mariadb_url)
    engine = db_api.create_engine(mariadb_url)
    try:
        with engine.connect() as connection:
            tables = connection.execute(sa.text(
                "SELECT table_name, table_collation, engine FROM information_schema.tables "
                "WHERE table_schema = DATABASE()")).all()
            collations = set(connection.execute(sa.text(
                "SELECT DISTINCT collation_name FROM information_schema.columns "
                "WHERE table_schema = DATABASE() AND collation_name IS NOT NULL")).scalars())
    finally:
        engine.dispose()
    assert PORT_SECURITY_TABLES | {"ports", "networks", "routers", "alembic_version"} <= {t[0] for t in tables}
    assert {(collation, kind) for _name, collation, kind in tables} == {("utf8mb4_nopad_bin", "InnoDB")}
    assert collations == {"utf8mb4_nopad_bin"}


def test_port_security_branch_pulls_in_the_core_revision_it_depends_on(url):
    command.upgrade(db_setup.alembic_config(url), "port_security@head")
    assert {"ports", "networks"} | PORT_SECURITY_TABLES <= _tables(url)
    assert "agents" not in _tables(url)  # 0002 is not needed by port_security


def _conf(url):
    """The two options require_current_schema reads."""
    return types.SimpleNamespace(database=types.SimpleNamespace(connection=url), state_path=None)


def test_schema_currency_check_compares_every_head(url):
    with pytest.raises(common.SchemaOutOfDate, match="no revision"):
        common.require_current_schema(_conf(url))
    command.upgrade(db_setup.alembic_config(url), "core@head")
    with pytest.raises(common.SchemaOutOfDate) as raised:
        common.require_current_schema(_conf(url))
    assert "port_security_0006" in str(raised.value) and "upgrade heads" in str(raised.value)
    db_setup.upgrade(url)
    common.require_current_schema(_conf(url))


def test_every_branch_entry_point_names_its_first_revisions_label():
    """The contract of netweave.db.migrations: ``<branch> = <package>`` whose first revision is labelled
    ``<branch>``; a plugin's also starts from nothing and depends on a core revision."""
    script = ScriptDirectory.from_config(db_setup.alembic_config("sqlite://"))
    core_revisions = {rev.revision for rev in script.walk_revisions() if "core" in rev.branch_labels}
    for branch, folder in plugin_schema.migration_branches().items():
        in_folder = [rev for rev in script.walk_revisions()
                     if os.path.dirname(os.path.realpath(rev.path)) == os.path.realpath(folder)]
        bases = [rev for rev in in_folder if rev.down_revision is None]
        assert len(bases) == 1, (branch, [rev.revision for rev in bases])
        assert branch in bases[0].branch_labels, (branch, bases[0].branch_labels)
        if branch != "core":
            dependencies = bases[0].dependencies
            dependencies = (dependencies,) if isinstance(dependencies, str) else tuple(dependencies or ())
            assert dependencies and set(dependencies) <= core_revisions, (branch, dependencies)
