"""Agents: their state reports, their liveness and the /v2.0/agents resource.

Every agent reports its state every ``report_interval`` seconds; the report
creates its row or refreshes it (one row per agent type and host). An agent is
alive while its last heartbeat is at most ``agent_down_time`` seconds old;
liveness is computed when read, so nothing has to sweep the table.
"""
import datetime
import json
import logging

import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.db.models import agent as agent_models
from netweave.core.services import query

LOG = logging.getLogger(__name__)

Agent = agent_models.Agent

# What report_state answers, as Neutron's agents expect: "revived" tells an agent
# the server had given it up for dead, so it must resynchronise everything.
AGENT_NEW = "new"
AGENT_ALIVE = "alive"
AGENT_REVIVED = "revived"

# Neutron shows agent times as "2019-01-09 10:28:53": no "T", no zone.
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# The form agents send their own clock in (Neutron's ISO8601_TIME_FORMAT).
AGENT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"

REQUIRED_KEYS = ("agent_type", "binary", "host", "topic")

COLUMNS = {
    "id": Agent.id, "agent_type": Agent.agent_type, "binary": Agent.binary, "topic": Agent.topic,
    "host": Agent.host, "admin_state_up": Agent.admin_state_up, "description": Agent.description,
    "availability_zone": Agent.availability_zone, "load": Agent.load, "created_at": Agent.created_at,
    "started_at": Agent.started_at, "heartbeat_timestamp": Agent.heartbeat_timestamp,
    # Sorting by liveness is sorting by heartbeat: older heartbeats are the dead ones.
    "alive": Agent.heartbeat_timestamp,
}


def format_time(value):
    return value.strftime(TIME_FORMAT) if value is not None else None


def parse_agent_time(text):
    """The agent's clock from a report, or None when absent or unreadable."""
    if not text:
        return None
    for fmt in (AGENT_TIME_FORMAT, "%Y-%m-%dT%H:%M:%S", TIME_FORMAT):
        try:
            return datetime.datetime.strptime(str(text), fmt)
        except ValueError:
            continue
    return None


def _json_text(value):
    return json.dumps(value if value is not None else {}, sort_keys=True)


class AgentService:
    def __init__(self, conf, clock=model_base.utcnow):
        self.conf = conf
        # UTC "now" without zone, second precision: the form rows store.
        self.clock = clock

    # --- liveness ----------------------------------------------------------

    def _cutoff(self, now):
        return now - datetime.timedelta(seconds=self.conf.agent_down_time)

    def is_alive(self, heartbeat, now=None):
        now = now if now is not None else self.clock()
        return heartbeat is not None and heartbeat >= self._cutoff(now)

    def make_dict(self, row, now=None):
        return {
            "id": row.id,
            "agent_type": row.agent_type,
            "binary": row.binary,
            "host": row.host,
            "topic": row.topic,
            "admin_state_up": row.admin_state_up,
            "alive": self.is_alive(row.heartbeat_timestamp, now),
            "heartbeat_timestamp": format_time(row.heartbeat_timestamp),
            "created_at": format_time(row.created_at),
            "started_at": format_time(row.started_at),
            "configurations": json.loads(row.configurations or "{}"),
            "availability_zone": row.availability_zone,
            "description": row.description,
            "resources_synced": None,
            "load": row.load,
        }

    # --- state reports -----------------------------------------------------

    @db_api.retry_db_errors
    def report_state(self, context, agent_state, reported_time=None):
        """Create or refresh the reporting agent's row; returns new, alive or revived.

        ``agent_state`` holds agent_type, binary, host and topic, and may hold
        configurations, resource_versions, load, availability_zone and
        start_flag (true in an agent's first report after it started).
        """
        missing = [key for key in REQUIRED_KEYS if not agent_state.get(key)]
        if missing:
            raise exc.InvalidInput(error_message="Agent state lacks %s" % ", ".join(missing))
        now = self.clock()
        self._check_clock(agent_state, reported_time, now)
        values = {
            "binary": agent_state["binary"],
            "topic": agent_state["topic"],
            "configurations": _json_text(agent_state.get("configurations")),
            "resource_versions": (_json_text(agent_state["resource_versions"])
                                  if agent_state.get("resource_versions") is not None else None),
            "load": int(agent_state.get("load") or 0),
            "availability_zone": agent_state.get("availability_zone"),
            "heartbeat_timestamp": now,
        }
        with db_api.session_scope() as session:
            row = session.scalar(sa.select(Agent).where(Agent.agent_type == agent_state["agent_type"],
                                                        Agent.host == agent_state["host"]))
            if row is None:
                # A duplicate insert by a concurrent first report is retried as an update.
                session.add(Agent(agent_type=agent_state["agent_type"], host=agent_state["host"],
                                  admin_state_up=self.conf.enable_new_agents, created_at=now,
                                  started_at=now, **values))
                LOG.info("New agent %s on host %s", agent_state["agent_type"], agent_state["host"])
                return AGENT_NEW
            status = AGENT_ALIVE if self.is_alive(row.heartbeat_timestamp, now) else AGENT_REVIVED
            for key, value in values.items():
                setattr(row, key, value)
            if agent_state.get("start_flag"):
                row.started_at = now
            if status == AGENT_REVIVED:
                LOG.info("Agent %s on host %s is alive again", row.agent_type, row.host)
            return status

    def _check_clock(self, agent_state, reported_time, now):
        agent_time = parse_agent_time(reported_time)
        if agent_time is None:
            return
        skew = abs((now - agent_time).total_seconds())
        # Heartbeats are judged by the server's clock; a skewed agent clock is only
        # worth a warning, but a large one usually means a host without NTP.
        if skew > self.conf.agent_down_time:
            LOG.warning("Agent %s on host %s sent time %s, %d seconds off the server's %s, more "
                        "than agent_down_time", agent_state.get("agent_type"), agent_state.get("host"),
                        reported_time, skew, format_time(now))

    # --- lookups for binding -----------------------------------------------

    def agents_on_host(self, agent_type, host, session=None):
        """Agents of ``agent_type`` on ``host`` as API dicts (``alive`` included).

        Mechanism drivers call this while binding, inside the binding's
        transaction: pass that ``session`` so no second connection is taken.
        """
        stmt = sa.select(Agent).where(Agent.agent_type == agent_type, Agent.host == host)
        if session is not None:
            rows = session.scalars(stmt).all()
            return [self.make_dict(r) for r in rows]
        with db_api.reader_scope() as own:
            return [self.make_dict(r) for r in own.scalars(stmt).all()]

    # --- API -----------------------------------------------------------------

    def _get_row(self, session, agent_id):
        row = session.get(Agent, agent_id)
        if row is None:
            raise exc.AgentNotFound(id=agent_id)
        return row

    def get(self, context, agent_id, fields=None):
        with db_api.reader_scope() as session:
            return query.select_fields(self.make_dict(self._get_row(session, agent_id)), fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None):
        filters = dict(filters or {})
        now = self.clock()
        stmt = sa.select(Agent)
        if "alive" in filters:
            wanted = set(filters.pop("alive"))
            if wanted == {True}:
                stmt = stmt.where(Agent.heartbeat_timestamp >= self._cutoff(now))
            elif wanted == {False}:
                stmt = stmt.where(Agent.heartbeat_timestamp < self._cutoff(now))
        if "agent_type" in filters:
            # Neutron on MySQL, its usual database, compares agent types without regard to case,
            # and clients rely on it (tempest asks for "DHCP Agent"): so here, on any database.
            wanted_types = [value.lower() for value in filters.pop("agent_type") if value is not None]
            stmt = stmt.where(sa.func.lower(Agent.agent_type).in_(wanted_types))
        with db_api.reader_scope() as session:
            rows, leftover = query.fetch_page(session, stmt, Agent, COLUMNS, filters, sorts, limit, marker,
                                              page_reverse)
            items = [self.make_dict(r, now) for r in rows]
        return query.finish_page(items, leftover, page_reverse, fields)

    @db_api.retry_db_errors
    def update(self, context, agent_id, data):
        with db_api.session_scope() as session:
            row = self._get_row(session, agent_id)
            for key in ("admin_state_up", "description"):
                if key in data:
                    setattr(row, key, data[key])
            session.flush()
            return self.make_dict(row)

    @db_api.retry_db_errors
    def delete(self, context, agent_id):
        with db_api.session_scope() as session:
            session.delete(self._get_row(session, agent_id))
