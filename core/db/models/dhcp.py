"""Which DHCP agents host which networks, and the extra DHCP options of ports."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class NetworkDhcpAgentBinding(mb.Base):
    """One DHCP agent serving one network.

    ``binding_index`` numbers a network's agents from 1. The scheduler only
    takes indexes up to ``dhcp_agents_per_network``, and the unique constraint
    on (network_id, binding_index) makes two racing schedulers collide instead
    of both adding an agent, so a network never gets more agents than asked.
    """

    __tablename__ = "networkdhcpagentbindings"
    __table_args__ = (sa.UniqueConstraint("network_id", "binding_index",
                                          name="uniq_network_dhcp_agent_binding0network_id0binding_index"),)

    network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True)
    dhcp_agent_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True)
    binding_index: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False, default=1)


class ExtraDhcpOpt(mb.Base):
    """A DHCP option a port's host gets on top of the subnet's (extra_dhcp_opt extension)."""

    __tablename__ = "extradhcpopts"
    __table_args__ = (sa.UniqueConstraint("port_id", "opt_name", "ip_version",
                                          name="uniq_extradhcpopts0portid0optname0ipversion"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), nullable=False)
    opt_name: orm.Mapped[str] = orm.mapped_column(sa.String(64), nullable=False)
    opt_value: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False)
    ip_version: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False, default=4)
