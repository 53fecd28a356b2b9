"""The real ML2 plugin in the test process, with an agent-based mechanism driver.

``in_process_plugin(url)`` creates the schema at ``url`` (a new, empty database
gets a copy of one made once, see harness/db_templates.py), points the process's
database at it and returns an initialised Ml2Plugin using project networks
of type vxlan (VNIs 100-199). Its mechanism drivers are the configured ones
(none) plus ``AgentBasedDriver``, reachable as ``plugin.driver``: it binds a
port only on a host whose Linux bridge agent is alive and enabled, as the
Linux bridge and Open vSwitch drivers do through PortContext.host_agents.

``plugin_overrides()`` is a context manager holding the [ml2] overrides; the
type drivers read cfg.CONF, so they must stay in force while the plugin is used.
"""
import atexit
import contextlib

import pytest
from oslo_config import cfg

from harness import db_templates
from netweave.core.db import all_models
from netweave.core.db import api as db_api
from netweave.core.plugins.ml2 import driver_api
from netweave.core.plugins.ml2 import plugin as plugin_mod
from netweave.core.rpc import topics

OVERRIDES = [("tenant_network_types", ["vxlan"], "ml2"), ("vni_ranges", ["100:199"], "ml2_type_vxlan")]
VIF_TYPE = "bridge"


class AgentBasedDriver(driver_api.MechanismDriver):
    """Binds the first segment on hosts whose Linux bridge agent is alive and enabled."""

    def __init__(self):
        self.seen_agents = []
        self.status_updates = []

    def bind_port(self, context):
        agents = context.host_agents(topics.AGENT_TYPE_LINUXBRIDGE)
        self.seen_agents.append(agents)
        if any(a["alive"] and a["admin_state_up"] for a in agents) and context.segments_to_bind:
            context.set_binding(context.segments_to_bind[0]["id"], VIF_TYPE, {"port_filter": True})

    def update_port_postcommit(self, context):
        if context.original and context.original["status"] != context.current["status"]:
            self.status_updates.append((context.original["status"], context.current["status"]))


@contextlib.contextmanager
def plugin_overrides():
    for name, value, group in OVERRIDES:
        cfg.CONF.set_override(name, value, group)
    try:
        yield
    finally:
        for name, _value, group in OVERRIDES:
            cfg.CONF.clear_override(name, group)


# The database backends of the functional tests, as fixture params.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
# MariaDB too, for the tests of database behaviour (migrations, races, errors a
# database raises): the others cover logic that does not differ between databases.
MARIADB = pytest.param("mariadb", marks=pytest.mark.mariadb)
ALL_BACKENDS = BACKENDS + [MARIADB]


def database_url(request, tmp_path, backend=None):
    """A file database in ``tmp_path`` for "sqlite", else a fresh database of the
    session's PostgreSQL ("postgresql") or MariaDB ("mariadb") server."""
    backend = backend or request.param
    if backend == "sqlite":
        return "sqlite:///%s" % (tmp_path / "plugin.db")
    if backend == "mariadb":
        return request.getfixturevalue("mariadb_url")
    return request.getfixturevalue("postgres_url")


@contextlib.contextmanager
def running_plugin(url):
    """in_process_plugin under plugin_overrides; the engine is disposed afterwards."""
    with plugin_overrides():
        plugin = in_process_plugin(url)
        try:
            yield plugin
        finally:
            db_api.DATABASE.engine.dispose()


def _create_all(url):
    engine = db_api.create_engine(url)
    try:
        all_models.metadata.create_all(engine)
    finally:
        engine.dispose()


# Schemas made by create_all, keyed by the tables the models declare (a test may import more).
MODELS = db_templates.SchemaTemplates(_create_all, lambda: tuple(sorted(all_models.metadata.tables)))
atexit.register(MODELS.remove)


def in_process_plugin(url):
    # A new, empty database gets a copy of the schema; create_all then finds every table there.
    MODELS.fill(url)
    engine = db_api.DATABASE.configure(url)
    all_models.metadata.create_all(engine)
    plugin = plugin_mod.Ml2Plugin(cfg.CONF)
    plugin.initialize(sync=True)
    plugin.driver = AgentBasedDriver()
    plugin.mechanism_manager.drivers.append(("agent_based", plugin.driver))
    return plugin


def linuxbridge_state(host, **extra):
    """A Linux bridge agent's state report."""
    state = {"agent_type": topics.AGENT_TYPE_LINUXBRIDGE, "binary": "netweave-linuxbridge-agent",
             "host": host, "topic": topics.AGENT,
             "configurations": {"interface_mappings": {"physnet1": "eth1"}, "devices": 0}}
    state.update(extra)
    return state
