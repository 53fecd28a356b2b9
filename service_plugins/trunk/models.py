"""Tables of the trunk plugin: trunks and their subports.

The constraints keep the rules a concurrent writer could break: a port is the
parent of at most one trunk (unique trunks.port_id), the subport of at most one
trunk (subports.port_id is the primary key), and a (type, id) pair appears once
per trunk. Trunks and subports go with their ports' rows.
"""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class Trunk(mb.StandardAttributes, mb.Base):
    __tablename__ = "trunks"

    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True, nullable=False)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="DOWN", nullable=False)
    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), nullable=False, unique=True)

    sub_ports = orm.relationship("SubPort", lazy="selectin", cascade="all, delete-orphan", passive_deletes=True,
                                 order_by="(SubPort.segmentation_type, SubPort.segmentation_id)")


class SubPort(mb.Base):
    __tablename__ = "subports"
    __table_args__ = (
        sa.UniqueConstraint("trunk_id", "segmentation_type", "segmentation_id",
                            name="uniq_subport0trunk_id0segmentation_type0segmentation_id"),
    )

    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    trunk_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("trunks.id", ondelete="CASCADE"), nullable=False, index=True)
    segmentation_type: orm.Mapped[str] = orm.mapped_column(sa.String(32), nullable=False)
    segmentation_id: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False)
