"""When an agent counts as alive, dead or serving: one judgement for every scheduler.

An agent is alive while its last heartbeat is newer than ``agent_down_time``;
failover calls it dead only after DEAD_AGENT_FACTOR such periods, so a late
heartbeat is no reason to move what it hosts; and a server judges deaths only
once it has been up that long itself (after an outage every agent looks dead
at first). Agents that are administratively down serve nothing unless
``enable_services_on_agents_with_admin_state_down``.
"""
import datetime

import sqlalchemy as sa

from netweave.core.db import model_base
from netweave.core.db.models import agent as agent_models

DEAD_AGENT_FACTOR = 2

Agent = agent_models.Agent


class AgentLiveness:
    def __init__(self, conf, clock=model_base.utcnow):
        self.conf = conf
        self.clock = clock
        self.started_at = clock()

    def alive_cutoff(self, now=None):
        """Heartbeats at or after this instant mean alive."""
        return (now or self.clock()) - datetime.timedelta(seconds=self.conf.agent_down_time)

    def dead_cutoff(self, now=None):
        """Heartbeats before this instant mean dead, for failover."""
        return (now or self.clock()) - datetime.timedelta(seconds=self.conf.agent_down_time * DEAD_AGENT_FACTOR)

    def judges_deaths(self, now=None):
        """Whether this server has been up long enough to call an agent dead."""
        return (now or self.clock()) - self.started_at >= datetime.timedelta(
            seconds=self.conf.agent_down_time * DEAD_AGENT_FACTOR)

    def may_serve(self, agent):
        return agent.admin_state_up or self.conf.enable_services_on_agents_with_admin_state_down

    def serving_clause(self):
        """SQL condition on Agent: the agents that may serve."""
        if self.conf.enable_services_on_agents_with_admin_state_down:
            return sa.true()
        return Agent.admin_state_up.is_(True)
