"""The widgets table, declared on netweave's Base so Alembic and the schema checks see it."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class Widget(mb.Base):
    __tablename__ = "example_widgets"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), nullable=False, index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(mb.NAME_LEN), nullable=False, default="")
    network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("networks.id", ondelete="CASCADE"), nullable=False)
    # Unique: a port belongs to one widget at most.
    port_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="SET NULL"), nullable=True, unique=True)
