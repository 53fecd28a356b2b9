"""DHCP agent scheduling: which DHCP agents serve which networks.

A network needs DHCP servers once it has a DHCP-enabled subnet; it then gets
``dhcp_agents_per_network`` alive, enabled DHCP agents, least loaded first.
Networks left without agents (none was alive when their subnet appeared) are
taken by the next agent that reports in (``network_auto_schedule``); networks
of agents dead for twice ``agent_down_time`` move to live ones
(``allow_automatic_dhcp_failover``).

Concurrency: every binding takes a ``binding_index`` from 1 to the wanted
count, unique per network, so racing schedulers (in other workers or servers)
collide in the database; the loser retries and then sees the winner's agents.

Which of the candidate agents a network gets is the process's placement
policy's choice (agent_placement.py: least loaded first unless a plugin
installs another, e.g. availability-zone aware placement).
"""
import functools
import json
import logging
import uuid

import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.db.models import agent as agent_models
from netweave.core.db.models import dhcp as dhcp_models
from netweave.core.db.models import network as net_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.rpc import topics
from netweave.core.services import agent_liveness, agent_placement

LOG = logging.getLogger(__name__)

Agent = agent_models.Agent
Binding = dhcp_models.NetworkDhcpAgentBinding
Subnet = subnet_models.Subnet
Network = net_models.Network

DHCP_DEVICE_OWNER = "network:dhcp"


class InvalidDHCPAgent(exc.AgentNotFound):
    message = "Agent %(id)s is not a valid DHCP Agent or has been disabled."


class NetworkHostedByDHCPAgent(exc.Conflict):
    message = "The network %(network_id)s has been already hosted by the DHCP Agent %(agent_id)s."


class NetworkNotHostedByDhcpAgent(exc.Conflict):
    message = "The network %(network_id)s is not hosted by the DHCP agent %(agent_id)s."


def dhcp_device_id(host, network_id):
    """The device_id of the DHCP port an agent on ``host`` owns on a network (as the agent computes it)."""
    return "dhcp%s-%s" % (uuid.uuid5(uuid.NAMESPACE_DNS, str(host)), network_id)


def dhcp_enabled_networks():
    """SELECT of the ids of networks with at least one DHCP-enabled subnet."""
    return sa.select(Subnet.network_id).where(Subnet.enable_dhcp.is_(True)).distinct()


@functools.lru_cache(maxsize=4)
def _serves_dhcp_statement(any_admin_state, check_subnets):
    """The query of ``serves_dhcp_for``, built once per shape: it runs inside every port
    create's write transaction, where building it cost as much as running it.

    Parameters: network_id, alive_since and, with ``check_subnets``, subnet_ids.
    """
    hosted = [Binding.network_id == sa.bindparam("network_id"), Binding.dhcp_agent_id == Agent.id,
              Agent.heartbeat_timestamp >= sa.bindparam("alive_since")]
    if not any_admin_state:
        hosted.append(Agent.admin_state_up.is_(True))
    condition = sa.exists().where(*hosted)
    if check_subnets:
        dhcp_subnet = sa.exists().where(Subnet.id.in_(sa.bindparam("subnet_ids", expanding=True)),
                                        Subnet.enable_dhcp.is_(True))
        condition = sa.and_(dhcp_subnet, condition)
    return sa.select(condition)


# What the scheduler reads of an agent: enough to order and place candidates and to notify them.
AgentInfo = agent_placement.AgentInfo


@functools.lru_cache(maxsize=2)
def _hosting_hosts_statement(any_admin_state):
    """The query of ``hosting_hosts``, built once per shape: every notification to a
    network's DHCP agents asks it, and building it (and its cache key) cost several
    times running it. Parameters: network_id, alive_since."""
    hosted = [Binding.network_id == sa.bindparam("network_id"),
              Agent.heartbeat_timestamp >= sa.bindparam("alive_since")]
    if not any_admin_state:
        hosted.append(Agent.admin_state_up.is_(True))
    return sa.select(Agent.host).join(Binding, Binding.dhcp_agent_id == Agent.id).where(*hosted).order_by(Agent.host)


class DhcpAgentScheduler:
    """Bindings of networks to DHCP agents: automatic, manual, and failover."""

    def __init__(self, conf, clock=model_base.utcnow, placement=None):
        self.conf = conf
        self.clock = clock
        self.liveness = agent_liveness.AgentLiveness(conf, clock)
        self.placement = placement if placement is not None else agent_placement.Placement()

    # --- reads -----------------------------------------------------------------

    def hosting_hosts(self, session, network_id):
        """Hosts of the alive, serving DHCP agents of a network: the ones to notify (read on
        ``session``, a Session or a Core Connection)."""
        now = self.clock()
        stmt = _hosting_hosts_statement(bool(self.conf.enable_services_on_agents_with_admin_state_down))
        return list(session.scalars(stmt, {"network_id": network_id, "alive_since": self.liveness.alive_cutoff(now)}))

    def agent_ids_hosting(self, session, network_id):
        return list(session.scalars(sa.select(Binding.dhcp_agent_id).where(Binding.network_id == network_id)
                                    .order_by(Binding.binding_index)))

    def network_ids_on_agent(self, session, agent_id):
        return list(session.scalars(sa.select(Binding.network_id).where(Binding.dhcp_agent_id == agent_id)
                                    .order_by(Binding.network_id)))

    def active_network_ids_on_host(self, session, host):
        """Admin-up networks hosted by the DHCP agent of ``host``, if that agent may serve."""
        agent = session.scalar(sa.select(Agent).where(Agent.agent_type == topics.AGENT_TYPE_DHCP,
                                                      Agent.host == host))
        if agent is None or not (agent.admin_state_up
                                 or self.conf.enable_services_on_agents_with_admin_state_down):
            return []
        return list(session.scalars(
            sa.select(Binding.network_id).join(Network, Network.id == Binding.network_id)
            .where(Binding.dhcp_agent_id == agent.id, Network.admin_state_up.is_(True))
            .order_by(Binding.network_id)))

    def serves_dhcp_for(self, session, network_id, subnet_ids, dhcp_enabled=None):
        """Whether an alive DHCP agent hosts the network and some of ``subnet_ids`` has DHCP on.

        ``dhcp_enabled``, when the caller read the network's subnets already, is
        the set of those with DHCP on: the subnets are then not read again.
        One round trip at most: it runs inside every port create.
        """
        subnet_ids = set(subnet_ids)
        if dhcp_enabled is not None:
            subnet_ids &= set(dhcp_enabled)
        if not subnet_ids:
            return False
        params = {"network_id": network_id, "alive_since": self.liveness.alive_cutoff(self.clock())}
        if dhcp_enabled is None:
            params["subnet_ids"] = sorted(subnet_ids)
        stmt = _serves_dhcp_statement(bool(self.conf.enable_services_on_agents_with_admin_state_down),
                                      dhcp_enabled is None)
        return bool(session.scalar(stmt, params))

    def _candidates(self, session, exclude=()):
        """Alive, enabled DHCP agents not in ``exclude``, least loaded first (ties by host)."""
        now = self.clock()
        rows = session.execute(
            sa.select(Agent.id, Agent.host, Agent.configurations, Agent.availability_zone)
            .where(Agent.agent_type == topics.AGENT_TYPE_DHCP, Agent.admin_state_up.is_(True),
                   Agent.heartbeat_timestamp >= self.liveness.alive_cutoff(now))).all()
        rows = [r for r in rows if r.id not in set(exclude)]
        if not rows:
            return []
        load_type = self.conf.dhcp_load_type
        if load_type == "networks":
            # Counted from the bindings, not the last report: a burst of new networks
            # spreads out before the agents report their new load.
            counts = dict(session.execute(
                sa.select(Binding.dhcp_agent_id, sa.func.count())
                .where(Binding.dhcp_agent_id.in_([r.id for r in rows]))
                .group_by(Binding.dhcp_agent_id)).all())
            agents = [AgentInfo(r.id, r.host, counts.get(r.id, 0), r.availability_zone) for r in rows]
        else:
            agents = [AgentInfo(r.id, r.host, _reported(r.configurations, load_type), r.availability_zone)
                      for r in rows]
        return sorted(agents, key=lambda a: (a.load, a.host))

    # --- automatic scheduling ------------------------------------------------

    def schedule_network(self, network_id):
        """Give the network the DHCP agents it lacks; returns the newly added AgentInfos."""
        # Read first: most calls find nothing to do and need no write transaction.
        with db_api.reader_scope() as session:
            if not self._lacks_agents(session, network_id):
                return []
        return self._schedule_committed(network_id)

    def _lacks_agents(self, session, network_id):
        if session.scalar(dhcp_enabled_networks().where(Subnet.network_id == network_id)) is None:
            return False
        count = session.scalar(sa.select(sa.func.count()).select_from(Binding)
                               .where(Binding.network_id == network_id))
        return count < self.conf.dhcp_agents_per_network

    @db_api.retry_db_errors
    def _schedule_committed(self, network_id):
        with db_api.session_scope() as session:
            return self._schedule_in(session, network_id)

    def _schedule_in(self, session, network_id, replacing=()):
        if session.scalar(dhcp_enabled_networks().where(Subnet.network_id == network_id)) is None:
            return []
        bound = session.execute(sa.select(Binding.dhcp_agent_id, Binding.binding_index, Agent.host,
                                          Agent.availability_zone)
                                .join(Agent, Agent.id == Binding.dhcp_agent_id)
                                .where(Binding.network_id == network_id)).all()
        wanted = self.conf.dhcp_agents_per_network - len(bound)
        if wanted <= 0:
            return []
        taken = {row.binding_index for row in bound}
        free = [i for i in range(1, self.conf.dhcp_agents_per_network + 1) if i not in taken]
        request = agent_placement.PlacementRequest(
            agent_placement.NETWORK, network_id,
            candidates=tuple(self._candidates(session, exclude={row.dhcp_agent_id for row in bound})),
            count=min(wanted, len(free)),
            hosting=tuple(AgentInfo(r.dhcp_agent_id, r.host, 0, r.availability_zone) for r in bound),
            replacing=tuple(replacing))
        chosen = self.placement.choose(session, request)[:request.count]
        for agent, index in zip(chosen, free):
            session.add(Binding(network_id=network_id, dhcp_agent_id=agent.id, binding_index=index))
        # The unique (network_id, binding_index) fails here when another scheduler won.
        session.flush()
        if chosen:
            LOG.info("Network %s scheduled to DHCP agents on %s", network_id, ", ".join(a.host for a in chosen))
        return chosen

    def auto_schedule(self, host):
        """Let the DHCP agent on ``host`` take networks still short of agents; returns their ids."""
        # Read first: an agent's periodic report usually finds nothing to take.
        with db_api.reader_scope() as session:
            if not self._networks_short_for(session, host):
                return []
        return self._auto_schedule_committed(host)

    def _networks_short_for(self, session, host):
        """Ids of networks lacking agents that the DHCP agent on ``host`` may take."""
        agent = session.scalar(sa.select(Agent).where(Agent.agent_type == topics.AGENT_TYPE_DHCP,
                                                      Agent.host == host))
        if (agent is None or not agent.admin_state_up
                or agent.heartbeat_timestamp < self.liveness.alive_cutoff(self.clock())):
            return []
        counts = (sa.select(Binding.network_id, sa.func.count().label("agents"))
                  .group_by(Binding.network_id).subquery())
        mine = sa.select(Binding.network_id).where(Binding.dhcp_agent_id == agent.id)
        short = list(session.scalars(
            sa.select(Network.id).outerjoin(counts, counts.c.network_id == Network.id)
            .where(Network.id.in_(dhcp_enabled_networks()), Network.id.not_in(mine),
                   sa.func.coalesce(counts.c.agents, 0) < self.conf.dhcp_agents_per_network)
            .order_by(Network.id)))
        if not short:
            return []
        alive = self._candidates(session)
        me = next((a for a in alive if a.id == agent.id), AgentInfo(agent.id, agent.host, 0, agent.availability_zone))
        return self.placement.takeable(session, agent_placement.NETWORK, short, me, alive)

    @db_api.retry_db_errors
    def _auto_schedule_committed(self, host):
        with db_api.session_scope() as session:
            short = self._networks_short_for(session, host)
            agent_id = session.scalar(sa.select(Agent.id).where(Agent.agent_type == topics.AGENT_TYPE_DHCP,
                                                                Agent.host == host))
            taken_networks = []
            for network_id in short:
                taken = set(session.scalars(sa.select(Binding.binding_index)
                                            .where(Binding.network_id == network_id)))
                index = next(i for i in range(1, self.conf.dhcp_agents_per_network + 1) if i not in taken)
                session.add(Binding(network_id=network_id, dhcp_agent_id=agent_id, binding_index=index))
                taken_networks.append(network_id)
            session.flush()
        if taken_networks:
            LOG.info("DHCP agent on %s took %d networks lacking agents", host, len(taken_networks))
        return taken_networks

    # --- failover ----------------------------------------------------------------

    def reschedule_from_dead_agents(self):
        """Move networks off DHCP agents dead for twice agent_down_time.

        Returns [(network_id, dead agent host, [new AgentInfo, ...])]; nothing
        when failover is off or this server has not been up long enough to tell.
        """
        if not self.conf.allow_automatic_dhcp_failover:
            return []
        now = self.clock()
        if not self.liveness.judges_deaths(now):
            return []
        moved = []
        for network_id, agent_id, host, zone in self._dead_bindings(now):
            new_agents = self._move(network_id, AgentInfo(agent_id, host, 0, zone))
            if new_agents is not None:
                moved.append((network_id, host, new_agents))
        if moved:
            LOG.warning("Moved %d networks off dead DHCP agents", len(moved))
        return moved

    def _dead_bindings(self, now):
        with db_api.reader_scope() as session:
            return session.execute(
                sa.select(Binding.network_id, Binding.dhcp_agent_id, Agent.host, Agent.availability_zone)
                .join(Agent, Agent.id == Binding.dhcp_agent_id)
                .where(Agent.heartbeat_timestamp < self.liveness.dead_cutoff(now))
                .order_by(Binding.network_id)).all()

    @db_api.retry_db_errors
    def _move(self, network_id, dead):
        with db_api.session_scope() as session:
            removed = session.execute(sa.delete(Binding).where(Binding.network_id == network_id,
                                                               Binding.dhcp_agent_id == dead.id))
            if not removed.rowcount:
                return None  # another server moved it first
            session.flush()
            return self._schedule_in(session, network_id, replacing=(dead,))

    # --- manual (API) ------------------------------------------------------------

    def _agent_row(self, session, agent_id):
        agent = session.get(Agent, agent_id)
        if agent is None:
            raise exc.AgentNotFound(id=agent_id)
        return agent

    @db_api.retry_db_errors
    def add_network(self, agent_id, network_id):
        """Bind a network to an agent by hand (beyond dhcp_agents_per_network if need be)."""
        with db_api.session_scope() as session:
            agent = self._agent_row(session, agent_id)
            if agent.agent_type != topics.AGENT_TYPE_DHCP or not (
                    agent.admin_state_up or self.conf.enable_services_on_agents_with_admin_state_down):
                raise InvalidDHCPAgent(id=agent_id)
            if session.get(Network, network_id) is None:
                raise exc.NetworkNotFound(net_id=network_id)
            indexes = {agent: index for agent, index in session.execute(
                sa.select(Binding.dhcp_agent_id, Binding.binding_index).where(Binding.network_id == network_id))}
            if agent_id in indexes:
                raise NetworkHostedByDHCPAgent(network_id=network_id, agent_id=agent_id)
            index = next(i for i in range(1, len(indexes) + 2) if i not in set(indexes.values()))
            session.add(Binding(network_id=network_id, dhcp_agent_id=agent_id, binding_index=index))
            session.flush()
            return agent.host

    @db_api.retry_db_errors
    def remove_network(self, agent_id, network_id):
        """Unbind a network from an agent; returns the agent's host."""
        with db_api.session_scope() as session:
            agent = self._agent_row(session, agent_id)
            removed = session.execute(sa.delete(Binding).where(Binding.network_id == network_id,
                                                               Binding.dhcp_agent_id == agent_id))
            if not removed.rowcount:
                raise NetworkNotHostedByDhcpAgent(network_id=network_id, agent_id=agent_id)
            return agent.host

    def check_agent(self, session, agent_id):
        """The agent row (AgentNotFound when there is none); other kinds of agent host no networks."""
        return self._agent_row(session, agent_id)


def _reported(configurations, key):
    try:
        return int(json.loads(configurations or "{}").get(key) or 0)
    except (ValueError, TypeError, AttributeError):
        return 0
