"""Agents on a real database: state reports, liveness, API reads and writes, the migration."""
import datetime

import pytest
import sqlalchemy as sa
from alembic import command
from oslo_config import cfg

from netweave.core import context as context_mod
from netweave.core import exceptions as exc
from netweave.core.config import common as _common_opts  # noqa: F401 - registers agent_down_time
from netweave.core.db import all_models
from netweave.core.db import api as db_api
from netweave.core.db import setup as db_setup
from netweave.core.services import agents

CTX = context_mod.get_admin_context()
START = datetime.datetime(2018, 1, 8, 19, 4, 53)


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += datetime.timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    if request.param == "sqlite":
        url = "sqlite:///%s" % (tmp_path / "agents.db")
    else:
        url = request.getfixturevalue("postgres_url")
    engine = db_api.DATABASE.configure(url)
    all_models.metadata.create_all(engine)
    yield url
    engine.dispose()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(database, clock):
    cfg.CONF.set_override("agent_down_time", 10)
    yield agents.AgentService(cfg.CONF, clock=clock)
    cfg.CONF.clear_override("agent_down_time")
    cfg.CONF.clear_override("enable_new_agents")


def state(host="compute1", agent_type="Linux bridge agent", **extra):
    result = {"agent_type": agent_type, "binary": "netweave-linuxbridge-agent", "host": host,
              "topic": "q-agent-notifier", "configurations": {"interface_mappings": {"physnet1": "eth1"}}}
    result.update(extra)
    return result


def test_first_report_creates_the_agent_as_neutron_shows_it(service):
    assert service.report_state(CTX, state(start_flag=True), "2018-01-08T19:04:52.500000") == agents.AGENT_NEW
    (agent,) = service.list(CTX)
    assert agent == {
        "id": agent["id"], "agent_type": "Linux bridge agent", "binary": "netweave-linuxbridge-agent",
        "host": "compute1", "topic": "q-agent-notifier", "admin_state_up": True, "alive": True,
        "heartbeat_timestamp": "2018-01-08 19:04:53", "created_at": "2018-01-08 19:04:53",
        "started_at": "2018-01-08 19:04:53", "configurations": {"interface_mappings": {"physnet1": "eth1"}},
        "availability_zone": None, "description": None, "resources_synced": None, "load": 0}


def test_reports_refresh_one_row_and_start_flag_moves_started_at(service, clock):
    service.report_state(CTX, state(start_flag=True))
    clock.advance(5)
    assert service.report_state(CTX, state(configurations={"devices": 3}, load=3)) == agents.AGENT_ALIVE
    (agent,) = service.list(CTX)
    assert agent["started_at"] == "2018-01-08 19:04:53"
    assert agent["heartbeat_timestamp"] == "2018-01-08 19:04:58"
    assert agent["configurations"] == {"devices": 3} and agent["load"] == 3
    clock.advance(5)
    service.report_state(CTX, state(start_flag=True))
    (agent,) = service.list(CTX)
    assert agent["started_at"] == "2018-01-08 19:05:03"
    assert agent["created_at"] == "2018-01-08 19:04:53"


def test_agent_dies_after_agent_down_time_and_is_revived_by_a_report(service, clock):
    service.report_state(CTX, state())
    clock.advance(10)
    assert service.list(CTX)[0]["alive"]  # exactly agent_down_time old: still alive
    clock.advance(1)
    assert not service.list(CTX)[0]["alive"]
    assert service.report_state(CTX, state()) == agents.AGENT_REVIVED
    assert service.list(CTX)[0]["alive"]


def test_filters_on_type_host_binary_and_liveness(service, clock):
    service.report_state(CTX, state(host="compute1"))
    service.report_state(CTX, state(host="compute2"))
    clock.advance(8)
    service.report_state(CTX, state(host="controller", agent_type="DHCP agent", binary="netweave-dhcp-agent",
                                    topic="dhcp_agent", availability_zone="nova"))
    clock.advance(5)

    def hosts(**filters):
        return sorted(a["host"] for a in service.list(CTX, filters={k: [v] for k, v in filters.items()}))

    assert hosts(agent_type="Linux bridge agent") == ["compute1", "compute2"]
    # Without regard to case, as Neutron on MySQL answers (tempest asks for "DHCP Agent").
    assert hosts(agent_type="DHCP Agent") == ["controller"]
    assert hosts(agent_type="dhcp AGENT") == ["controller"]
    assert hosts(host="compute2") == ["compute2"]
    assert hosts(binary="netweave-dhcp-agent") == ["controller"]
    assert hosts(alive=True) == ["controller"]
    assert hosts(alive=False) == ["compute1", "compute2"]
    assert hosts(availability_zone="nova") == ["controller"]
    both = service.list(CTX, filters={"alive": [True, False]})
    assert len(both) == 3
    sorted_by_host = service.list(CTX, sorts=[("host", False)], fields=["host"])
    assert sorted_by_host == [{"host": "controller"}, {"host": "compute2"}, {"host": "compute1"}]


def test_update_delete_and_unknown_agents(service):
    service.report_state(CTX, state())
    agent_id = service.list(CTX)[0]["id"]
    updated = service.update(CTX, agent_id, {"admin_state_up": False, "description": "maintenance"})
    assert updated["admin_state_up"] is False and updated["description"] == "maintenance"
    # The agent's own reports do not undo what the administrator set.
    service.report_state(CTX, state())
    assert service.get(CTX, agent_id, fields=["admin_state_up", "description"]) == {
        "admin_state_up": False, "description": "maintenance"}
    service.delete(CTX, agent_id)
    with pytest.raises(exc.AgentNotFound):
        service.get(CTX, agent_id)
    with pytest.raises(exc.AgentNotFound):
        service.delete(CTX, agent_id)
    # A deleted agent that reports again comes back as a new one.
    assert service.report_state(CTX, state()) == agents.AGENT_NEW


def test_new_agents_disabled_by_configuration(service):
    cfg.CONF.set_override("enable_new_agents", False)
    service.report_state(CTX, state())
    assert service.list(CTX)[0]["admin_state_up"] is False


def test_incomplete_report_is_refused(service):
    with pytest.raises(exc.InvalidInput):
        service.report_state(CTX, {"agent_type": "Linux bridge agent", "host": "compute1"})


def test_agents_on_host_for_binding(service, clock):
    service.report_state(CTX, state(host="compute1"))
    service.report_state(CTX, state(host="compute1", agent_type="Open vSwitch agent"))
    found = service.agents_on_host("Linux bridge agent", "compute1")
    assert [(a["agent_type"], a["alive"]) for a in found] == [("Linux bridge agent", True)]
    clock.advance(11)
    with db_api.session_scope() as session:
        found = service.agents_on_host("Linux bridge agent", "compute1", session=session)
    assert [a["alive"] for a in found] == [False]
    assert service.agents_on_host("Linux bridge agent", "compute9") == []


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_migration_adds_and_removes_the_tables(request, tmp_path, backend):
    url = ("sqlite:///%s" % (tmp_path / "migrate.db") if backend == "sqlite"
           else request.getfixturevalue("postgres_url"))
    db_setup.upgrade(url, "0001_initial")
    db_setup.upgrade(url)
    assert db_setup.current_heads(url) == db_setup.expected_heads(url)
    engine = db_api.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        assert {"agents", "provisioningblocks"} <= set(inspector.get_table_names())
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("agents")}
        assert ("agent_type", "host") in uniques
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), all_models.metadata) == []
    finally:
        engine.dispose()
    command.downgrade(db_setup.alembic_config(url), "0001_initial")
    engine = db_api.create_engine(url)
    try:
        assert not {"agents", "provisioningblocks"} & set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
