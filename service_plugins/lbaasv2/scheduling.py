"""Placing load balancers on Loadbalancerv2 agents: the alive, admin-up one hosting the fewest.

A load balancer keeps its agent while that agent is alive; one whose agent is
gone (or that never had one) goes to the least loaded alive agent the next time
it changes or an agent asks for its work.
"""
import sqlalchemy as sa

from netweave.core.db import api as db_api
from netweave.core.db.models.agent import Agent
from netweave.service_plugins.lbaasv2 import constants as const
from netweave.service_plugins.lbaasv2 import models


def pick_agent(candidates, loads):
    """The candidate (id) with the fewest load balancers; ties go to the lowest id. Pure."""
    if not candidates:
        return None
    return min(candidates, key=lambda agent_id: (loads.get(agent_id, 0), agent_id))


class Scheduler:
    def __init__(self, agents):
        self.agents = agents  # the core's AgentService (liveness)

    def _alive(self, session):
        rows = session.scalars(sa.select(Agent).where(Agent.agent_type == const.AGENT_TYPE,
                                                      Agent.admin_state_up.is_(True))).all()
        return {r.id: r.host for r in rows if self.agents.is_alive(r.heartbeat_timestamp)}

    @db_api.retry_db_errors
    def host_of(self, lb_id):
        """The host of the agent serving ``lb_id``, scheduling it first when needed; None without agents."""
        with db_api.session_scope() as session:
            lb = session.get(models.LoadBalancer, lb_id)
            if lb is None:
                return None
            alive = self._alive(session)
            if lb.agent_id not in alive:
                loads = dict(session.execute(
                    sa.select(models.LoadBalancer.agent_id, sa.func.count())
                    .where(models.LoadBalancer.agent_id.is_not(None))
                    .group_by(models.LoadBalancer.agent_id)).all())
                lb.agent_id = pick_agent(list(alive), loads)
            return alive.get(lb.agent_id)

    def loadbalancers_of_host(self, host):
        """The load balancers an agent on ``host`` serves, scheduling waiting ones to it."""
        with db_api.reader_scope() as session:
            agent_id = session.scalar(sa.select(Agent.id).where(Agent.agent_type == const.AGENT_TYPE,
                                                               Agent.host == host))
            if agent_id is None:
                return []
            waiting = session.scalars(sa.select(models.LoadBalancer.id).where(
                sa.or_(models.LoadBalancer.agent_id.is_(None), models.LoadBalancer.agent_id != agent_id))).all()
        for lb_id in waiting:
            self.host_of(lb_id)
        with db_api.reader_scope() as session:
            return list(session.scalars(sa.select(models.LoadBalancer.id)
                                        .where(models.LoadBalancer.agent_id == agent_id)))
