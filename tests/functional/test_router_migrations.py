"""The router plugin's Alembic branch: found through its entry point, upgraded on its own or with
every head, equal to its models (unique constraints included), and removable."""
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from harness.ml2_plugin import ALL_BACKENDS, database_url
from netweave.core.db import all_models, plugin_schema
from netweave.core.db import api as db_api
from netweave.core.db import setup as db_setup

ROUTER_TABLES = {"routers", "routerports", "routerroutes", "floatingips", "routerl3agentbindings"}
HEAD = "router_0003"


@pytest.fixture(params=ALL_BACKENDS)
def url(request, tmp_path):
    return database_url(request, tmp_path)


def _inspect(url, check):
    engine = db_api.create_engine(url)
    try:
        with engine.connect() as connection:
            return check(connection)
    finally:
        engine.dispose()


def _tables(url):
    return _inspect(url, lambda c: set(sa.inspect(c).get_table_names()))


def test_branch_is_declared_by_entry_point():
    assert plugin_schema.migration_branches()["router"].endswith("service_plugins/router/migrations")
    assert "netweave.service_plugins.router.models" in all_models.PLUGIN_MODEL_MODULES
    script = ScriptDirectory.from_config(db_setup.alembic_config("sqlite://"))
    first = script.get_revision("router_0001")
    assert script.get_revision("router@head").revision == HEAD
    # The L3 agent bindings need the core's agents table.
    assert script.get_revision("router_0002").dependencies == "0002_agents"
    assert script.get_revision(HEAD).down_revision == "router_0002"
    assert (first.revision, first.down_revision, first.branch_labels, first.dependencies) == (
        "router_0001", None, {"router"}, "0001_initial")


def test_router_branch_alone_then_down_again(url):
    config = db_setup.alembic_config(url)
    command.upgrade(config, "router@head")
    tables = _tables(url)
    # The core tables it depends on come with it, the DHCP agents' do not.
    assert ROUTER_TABLES | {"ports", "networks", "agents"} <= tables
    assert "networkdhcpagentbindings" not in tables

    def router_diff(connection):
        diff = compare_metadata(MigrationContext.configure(connection), all_models.metadata)
        return [d for d in diff if d[0] not in ("add_table", "add_index")
                or (d[1].name if d[0] == "add_table" else d[1].table.name) in ROUTER_TABLES]
    assert _inspect(url, router_diff) == []

    def uniques(connection):
        return {tuple(u["column_names"]) for u in sa.inspect(connection).get_unique_constraints("floatingips")}
    assert {("floating_network_id", "floating_ip_address"),
            ("floating_network_id", "fixed_port_id", "fixed_ip_address")} <= _inspect(url, uniques)
    command.downgrade(config, "router@base")
    assert not ROUTER_TABLES & _tables(url)
    assert "ports" in _tables(url)


def test_upgrade_heads_includes_the_router_tables(url):
    db_setup.upgrade(url)
    assert HEAD in db_setup.current_heads(url)
    assert ROUTER_TABLES <= _tables(url)
