"""L3 agent scheduling: which L3 agent hosts which router (Neutron's LeastRoutersScheduler).

A router is scheduled once it has something to route: a gateway or an
interface. It then goes to one alive, enabled L3 agent, the one hosting the
fewest routers (ties by host); an agent that does not handle internal-only
routers (its report's ``handle_internal_only_routers``) only takes routers
with a gateway. Routers left without an agent (none was alive) are taken by
the next agent that asks for its routers (``router_auto_schedule``); routers
of agents dead for twice ``agent_down_time`` move to live ones
(``allow_automatic_l3agent_failover``).

Concurrency: a legacy router has one binding, ``binding_index`` 1, unique per
router: racing schedulers collide in the database and the loser retries,
then sees the winner's agent.

Which of the candidate agents a router gets is the process's placement
policy's choice (core.services.agent_placement: the least loaded unless a
plugin installs another, e.g. availability-zone aware placement).
"""
import json
import logging

import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.db.models import agent as agent_models
from netweave.core.rpc import topics
from netweave.core.services import agent_liveness, agent_placement
from netweave.service_plugins.router import exceptions as router_exc
from netweave.service_plugins.router import models, scheduling_models

LOG = logging.getLogger(__name__)

Agent = agent_models.Agent
Binding = scheduling_models.RouterL3AgentBinding
Router = models.Router
RouterPort = models.RouterPort

# Agent modes that host centralized (legacy) routers.
SERVING_MODES = ("legacy", "dvr_snat")
LEGACY_BINDING_INDEX = 1

# What the scheduler reads of an agent: enough to order and place candidates and to notify them.
AgentInfo = agent_placement.AgentInfo


class InvalidL3Agent(exc.NotFound):
    message = "Agent %(id)s is not a L3 Agent or has been disabled"


class RouterHostedByL3Agent(exc.Conflict):
    message = "The router %(router_id)s has been already hosted by the L3 Agent %(agent_id)s."


class RouterNotHostedByL3Agent(exc.Conflict):
    message = "The router %(router_id)s is not hosted by L3 agent %(agent_id)s."


def _configurations(text):
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _serves(configurations):
    return configurations.get("agent_mode", "legacy") in SERVING_MODES


class L3AgentScheduler:
    def __init__(self, conf, clock=model_base.utcnow, placement=None):
        self.conf = conf
        self.clock = clock
        self.liveness = agent_liveness.AgentLiveness(conf, clock)
        self.placement = placement if placement is not None else agent_placement.Placement()

    # --- reads -----------------------------------------------------------------

    def hosts_of(self, session, router_ids):
        """{router_id: [host, ...]} of the agents hosting ``router_ids`` that may serve them."""
        router_ids = sorted({r for r in router_ids if r})
        result = {}
        if not router_ids:
            return result
        stmt = (sa.select(Binding.router_id, Agent.host).join(Agent, Agent.id == Binding.l3_agent_id)
                .where(Binding.router_id.in_(router_ids)).order_by(Binding.router_id, Agent.host))
        if not self.conf.enable_services_on_agents_with_admin_state_down:
            stmt = stmt.where(Agent.admin_state_up.is_(True))
        for router_id, host in session.execute(stmt):
            result.setdefault(router_id, []).append(host)
        return result

    def agent_ids_hosting(self, session, router_id):
        return list(session.scalars(sa.select(Binding.l3_agent_id).where(Binding.router_id == router_id)
                                    .order_by(Binding.binding_index)))

    def router_ids_on_agent(self, session, agent_id):
        return list(session.scalars(sa.select(Binding.router_id).where(Binding.l3_agent_id == agent_id)
                                    .order_by(Binding.router_id)))

    def _host_agent(self, session, host):
        return session.scalar(sa.select(Agent).where(Agent.agent_type == topics.AGENT_TYPE_L3, Agent.host == host))

    def router_ids_for_host(self, session, host, router_ids=None):
        """Ids of the routers the L3 agent of ``host`` hosts (of ``router_ids`` when given);
        none when that agent is unknown or disabled."""
        agent = self._host_agent(session, host)
        if agent is None or not self.liveness.may_serve(agent):
            return []
        stmt = sa.select(Binding.router_id).where(Binding.l3_agent_id == agent.id).order_by(Binding.router_id)
        if router_ids is not None:
            stmt = stmt.where(Binding.router_id.in_(list(router_ids)))
        return list(session.scalars(stmt))

    def _candidates(self, session, needs_gateway_handling=False, exclude=()):
        """Alive, enabled L3 agents hosting legacy routers, least routers first (ties by host)."""
        rows = session.execute(
            sa.select(Agent.id, Agent.host, Agent.configurations, Agent.availability_zone)
            .where(Agent.agent_type == topics.AGENT_TYPE_L3, Agent.admin_state_up.is_(True),
                   Agent.heartbeat_timestamp >= self.liveness.alive_cutoff(self.clock()))).all()
        excluded = set(exclude)
        eligible = []
        for row in rows:
            configurations = _configurations(row.configurations)
            if row.id in excluded or not _serves(configurations):
                continue
            if not needs_gateway_handling and configurations.get("handle_internal_only_routers") is False:
                continue
            eligible.append(row)
        if not eligible:
            return []
        counts = dict(session.execute(
            sa.select(Binding.l3_agent_id, sa.func.count())
            .where(Binding.l3_agent_id.in_([r.id for r in eligible])).group_by(Binding.l3_agent_id)).all())
        return sorted((AgentInfo(r.id, r.host, counts.get(r.id, 0), r.availability_zone) for r in eligible),
                      key=lambda a: (a.load, a.host))

    def _unscheduled(self, session, router_ids=None):
        """{router_id: has a gateway} of routers with a gateway or an interface and no agent."""
        stmt = (sa.select(Router.id, Router.gw_port_id)
                .where(sa.exists().where(RouterPort.router_id == Router.id),
                       ~sa.exists().where(Binding.router_id == Router.id))
                .order_by(Router.id))
        if router_ids is not None:
            stmt = stmt.where(Router.id.in_(list(router_ids)))
        return {router_id: gw_port_id is not None for router_id, gw_port_id in session.execute(stmt)}

    # --- automatic scheduling ------------------------------------------------------

    def schedule_routers(self, router_ids):
        """Give each of ``router_ids`` that needs one an agent -> {router_id: AgentInfo} of the new bindings."""
        router_ids = sorted({r for r in router_ids if r})
        if not router_ids:
            return {}
        # Read first: most calls find every router scheduled, or no agent to take them,
        # and need no write transaction (on SQLite, the one lock every writer waits for).
        with db_api.reader_scope() as session:
            unscheduled = self._unscheduled(session, router_ids)
            if not unscheduled:
                return {}
            if len(unscheduled) == 1:
                # A request's one router: chosen in this read, then bound by a write that only inserts.
                [(router_id, has_gateway)] = unscheduled.items()
                agent = self._choose(session, router_id, has_gateway)
                if agent is None:
                    LOG.warning("No alive L3 agent can host router %s yet", router_id)
                    return {}
            elif not self._candidates(session, needs_gateway_handling=True):
                for router_id in unscheduled:
                    LOG.warning("No alive L3 agent can host router %s yet", router_id)
                return {}
        if len(unscheduled) == 1:
            try:
                return self._bind(router_id, agent)
            except sa.exc.DBAPIError:
                # Bound meanwhile, the router gone, or a conflict: the full transaction settles it.
                LOG.debug("Binding router %s to %s lost a race; scheduling it again", router_id, agent.host)
        return self._schedule_committed(router_ids)

    @staticmethod
    def _bind(router_id, agent):
        """Bind a router to the agent chosen for it; the unique (router_id, binding_index) and the
        foreign key fail the insert when another scheduler won or the router went."""
        with db_api.session_scope() as session:
            session.add(Binding(router_id=router_id, l3_agent_id=agent.id, binding_index=LEGACY_BINDING_INDEX))
            session.flush()
        LOG.info("Router %s scheduled to the L3 agent on %s", router_id, agent.host)
        return {router_id: agent}

    @db_api.retry_db_errors
    def _schedule_committed(self, router_ids):
        with db_api.session_scope() as session:
            chosen = {}
            for router_id, has_gateway in self._unscheduled(session, router_ids).items():
                agent = self._choose(session, router_id, has_gateway)
                if agent is None:
                    LOG.warning("No alive L3 agent can host router %s yet", router_id)
                    continue
                session.add(Binding(router_id=router_id, l3_agent_id=agent.id, binding_index=LEGACY_BINDING_INDEX))
                # The unique (router_id, binding_index) fails here when another scheduler won.
                session.flush()
                chosen[router_id] = agent
                LOG.info("Router %s scheduled to the L3 agent on %s", router_id, agent.host)
            return chosen

    def _choose(self, session, router_id, has_gateway, replacing=()):
        """The agent the placement policy picks for a router among the candidates, or None."""
        request = agent_placement.PlacementRequest(
            agent_placement.ROUTER, router_id,
            candidates=tuple(self._candidates(session, needs_gateway_handling=has_gateway,
                                              exclude={a.id for a in replacing})),
            count=1, replacing=tuple(replacing))
        chosen = self.placement.choose(session, request)
        return chosen[0] if chosen else None

    def auto_schedule(self, host):
        """Let the L3 agent on ``host`` take the routers without agent; returns their ids."""
        with db_api.reader_scope() as session:
            if not self._takeable(session, host):
                return []
        return self._auto_schedule_committed(host)

    def _takeable(self, session, host):
        agent = self._host_agent(session, host)
        if (agent is None or not agent.admin_state_up
                or agent.heartbeat_timestamp < self.liveness.alive_cutoff(self.clock())):
            return []
        configurations = _configurations(agent.configurations)
        if not _serves(configurations):
            return []
        internal_too = configurations.get("handle_internal_only_routers") is not False
        wanted = [router_id for router_id, has_gateway in self._unscheduled(session).items()
                  if has_gateway or internal_too]
        if not wanted:
            return []
        alive = self._candidates(session, needs_gateway_handling=True)
        me = next((a for a in alive if a.id == agent.id), AgentInfo(agent.id, agent.host, 0, agent.availability_zone))
        return self.placement.takeable(session, agent_placement.ROUTER, wanted, me, alive)

    @db_api.retry_db_errors
    def _auto_schedule_committed(self, host):
        with db_api.session_scope() as session:
            taken = self._takeable(session, host)
            agent = self._host_agent(session, host)
            for router_id in taken:
                session.add(Binding(router_id=router_id, l3_agent_id=agent.id, binding_index=LEGACY_BINDING_INDEX))
            session.flush()
        if taken:
            LOG.info("L3 agent on %s took %d routers without agent", host, len(taken))
        return taken

    # --- failover ---------------------------------------------------------------------

    def reschedule_from_dead_agents(self):
        """Move routers off L3 agents dead for twice agent_down_time.

        Returns [(router_id, dead agent host, new AgentInfo or None)]; nothing when
        failover is off or this server has not been up long enough to tell.
        """
        if not self.conf.allow_automatic_l3agent_failover:
            return []
        now = self.clock()
        if not self.liveness.judges_deaths(now):
            return []
        with db_api.reader_scope() as session:
            dead = session.execute(
                sa.select(Binding.router_id, Binding.l3_agent_id, Agent.host, Agent.availability_zone)
                .join(Agent, Agent.id == Binding.l3_agent_id)
                .where(Agent.heartbeat_timestamp < self.liveness.dead_cutoff(now), Agent.admin_state_up.is_(True))
                .order_by(Binding.router_id)).all()
        moved = []
        for router_id, agent_id, host, zone in dead:
            outcome = self._move(router_id, AgentInfo(agent_id, host, 0, zone))
            if outcome is not None:
                moved.append((router_id, host, outcome.get(router_id)))
        if moved:
            LOG.warning("Moved %d routers off dead L3 agents", len(moved))
        return moved

    @db_api.retry_db_errors
    def _move(self, router_id, dead):
        with db_api.session_scope() as session:
            removed = session.execute(sa.delete(Binding).where(Binding.router_id == router_id,
                                                               Binding.l3_agent_id == dead.id))
            if not removed.rowcount:
                return None  # another server moved it first
            session.flush()
            chosen = {}
            has_gateway = self._unscheduled(session, [router_id]).get(router_id)
            if has_gateway is not None:
                agent = self._choose(session, router_id, has_gateway, replacing=(dead,))
                if agent is not None:
                    session.add(Binding(router_id=router_id, l3_agent_id=agent.id,
                                        binding_index=LEGACY_BINDING_INDEX))
                    session.flush()
                    chosen[router_id] = agent
            return chosen

    # --- manual (API) ------------------------------------------------------------------

    def check_agent(self, session, agent_id):
        agent = session.get(Agent, agent_id)
        if agent is None:
            raise exc.AgentNotFound(id=agent_id)
        return agent

    @db_api.retry_db_errors
    def add_router(self, agent_id, router_id):
        """Bind a router to an agent by hand; returns the agent's host."""
        with db_api.session_scope() as session:
            agent = self.check_agent(session, agent_id)
            if agent.agent_type != topics.AGENT_TYPE_L3 or not self.liveness.may_serve(agent) \
                    or not _serves(_configurations(agent.configurations)):
                raise InvalidL3Agent(id=agent_id)
            if session.get(Router, router_id) is None:
                raise router_exc.RouterNotFound(router_id=router_id)
            bound = self.agent_ids_hosting(session, router_id)
            if bound:
                # A legacy router lives on one agent: move it by removing it first.
                raise RouterHostedByL3Agent(router_id=router_id, agent_id=bound[0])
            session.add(Binding(router_id=router_id, l3_agent_id=agent_id, binding_index=LEGACY_BINDING_INDEX))
            session.flush()
            return agent.host

    @db_api.retry_db_errors
    def remove_router(self, agent_id, router_id):
        """Unbind a router from an agent; returns the agent's host."""
        with db_api.session_scope() as session:
            agent = self.check_agent(session, agent_id)
            removed = session.execute(sa.delete(Binding).where(Binding.router_id == router_id,
                                                               Binding.l3_agent_id == agent_id))
            if not removed.rowcount:
                raise RouterNotHostedByL3Agent(router_id=router_id, agent_id=agent_id)
            return agent.host
