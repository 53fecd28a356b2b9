"""Tables of the metering plugin: labels and their rules (Neutron's meteringlabels and
meteringlabelrules). A label's rules go with it."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class MeteringLabel(mb.Base):
    __tablename__ = "meteringlabels"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False, index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False, default="")
    description: orm.Mapped[str] = orm.mapped_column(sa.String(1024), nullable=False, default="")
    shared: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, nullable=False, default=False)

    rules = orm.relationship("MeteringLabelRule", lazy="selectin", cascade="all, delete-orphan",
                             passive_deletes=True, order_by="MeteringLabelRule.id")


class MeteringLabelRule(mb.Base):
    __tablename__ = "meteringlabelrules"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    metering_label_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("meteringlabels.id", ondelete="CASCADE"), nullable=False, index=True)
    direction: orm.Mapped[str] = orm.mapped_column(sa.String(16), nullable=False)
    excluded: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, nullable=False, default=False)
    remote_ip_prefix: orm.Mapped[str] = orm.mapped_column(sa.String(64), nullable=True)
    source_ip_prefix: orm.Mapped[str] = orm.mapped_column(sa.String(64), nullable=True)
    destination_ip_prefix: orm.Mapped[str] = orm.mapped_column(sa.String(64), nullable=True)
