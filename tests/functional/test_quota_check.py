"""QuotaService.check: the stored limit and the usage in one statement, on a real database (on MySQL a
second count when a stored limit is above the default)."""
import pytest
import sqlalchemy as sa
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import exceptions as exc
from netweave.core.config import common  # noqa: F401 - registers [quotas]
from netweave.core.db import (
    all_models,  # noqa: F401 - every mapper, for the relationships
    mysql,
)
from netweave.core.db import api as db_api
from netweave.core.db.models import network as net_models
from netweave.core.services import quotas


@pytest.fixture(params=ml2_plugin.ALL_BACKENDS)
def service(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    engine = db_api.DATABASE.configure(url)
    all_models.metadata.create_all(engine)
    service = quotas.QuotaService(cfg.CONF)
    service.register("network", net_models.Network)
    cfg.CONF.set_override("quota_network", 3, "quotas")
    try:
        yield service
    finally:
        cfg.CONF.clear_override("quota_network", "quotas")
        engine.dispose()


def _add_networks(project, count):
    with db_api.session_scope() as session:
        for _ in range(count):
            session.add(net_models.Network(project_id=project, name="q"))


def _check(service, project, adding=1, raised=False):
    """``raised``: the project's stored limit is above the default (a second count on MySQL)."""
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE
            statements.append(statement)

    sa.event.listen(db_api.DATABASE.engine, "before_cursor_execute", seen)
    try:
        with db_api.session_scope() as session:
            return service.check(session, project, "network", adding)
    finally:
        sa.event.remove(db_api.DATABASE.engine, "before_cursor_execute", seen)
        # MySQL has no expression in LIMIT: its one statement counts as far as the default
        # needs, and a raised limit is counted again.
        recount = raised and mysql.is_mysql(db_api.DATABASE.engine.dialect)
        assert len(statements) == (2 if recount else 1) or not project, statements


def test_default_limit_counts_only_the_project(service):
    _add_networks("qa", 2)
    _add_networks("qb", 3)
    assert _check(service, "qa") == 3
    with pytest.raises(exc.OverQuota):
        _check(service, "qa", adding=2)
    with pytest.raises(exc.OverQuota):
        _check(service, "qb")


def test_a_stored_limit_wins_and_minus_one_lifts_it(service):
    _add_networks("qc", 3)
    with db_api.session_scope() as session:
        service.update(session, "qc", {"network": 5})
    assert _check(service, "qc", adding=2, raised=True) == 5
    with pytest.raises(exc.OverQuota):
        _check(service, "qc", adding=3, raised=True)
    with db_api.session_scope() as session:
        service.update(session, "qc", {"network": -1})
    assert _check(service, "qc", adding=1000) is None
    # Another project's override does not leak.
    _add_networks("qd", 3)
    with pytest.raises(exc.OverQuota):
        _check(service, "qd")


def test_check_usage_recounts_against_a_known_limit(service):
    _add_networks("qe", 2)
    with db_api.session_scope() as session:
        service.check_usage(session, "qe", "network", 3)
    _add_networks("qe", 1)
    with pytest.raises(exc.OverQuota):
        with db_api.session_scope() as session:
            service.check_usage(session, "qe", "network", 3)
    assert _check(service, None) is None


def test_rows_added_in_the_same_session_are_counted(service):
    _add_networks("qf", 2)
    with db_api.session_scope() as session:
        session.add(net_models.Network(project_id="qf", name="pending"))
        with pytest.raises(exc.OverQuota):
            service.check(session, "qf", "network")


def test_first_below_usage_names_a_limit_under_the_projects_count(service):
    _add_networks("qc", 2)
    with db_api.reader_scope() as session:
        assert service.first_below_usage(session, "qc", {"network": 1}) == ("network", 1, 2)
        assert service.first_below_usage(session, "qc", {"network": 2}) is None
        assert service.first_below_usage(session, "qc", {"network": -1}) is None
        assert service.first_below_usage(session, "qd", {"network": 0}) is None
