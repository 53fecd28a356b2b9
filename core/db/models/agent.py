"""Agents: one row per (agent type, host), refreshed by every state report."""
import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class Agent(mb.Base):
    __tablename__ = "agents"
    # One agent of a kind per host: its reports update the row instead of adding rows.
    __table_args__ = (sa.UniqueConstraint("agent_type", "host", name="uniq_agents0agent_type0host"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    agent_type: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False)
    binary: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False)
    topic: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False, index=True)
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, nullable=False, default=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(mb.DESCRIPTION_LEN), nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime, nullable=False)
    started_at: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime, nullable=False)
    heartbeat_timestamp: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime, nullable=False)
    # JSON texts, as the agent reported them.
    configurations: orm.Mapped[str] = orm.mapped_column(sa.Text, nullable=False, default="{}")
    resource_versions: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    load: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False, default=0)
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
