"""Which L3 agents host which routers (the l3_agent_scheduler extension's table)."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class RouterL3AgentBinding(mb.Base):
    """One L3 agent hosting one router.

    A legacy router has one agent: ``binding_index`` 1. The unique constraint on
    (router_id, binding_index) makes two racing schedulers collide instead of
    both binding the router, so it never lands on two agents at once.
    """

    __tablename__ = "routerl3agentbindings"
    __table_args__ = (sa.UniqueConstraint("router_id", "binding_index",
                                          name="uniq_router_l3_agent_binding0router_id0binding_index0"),)

    router_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True)
    l3_agent_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True)
    binding_index: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False, default=1)
