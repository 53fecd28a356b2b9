"""Tags of any standard resource, keyed by the resource's UUID."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class Tag(mb.Base):
    __tablename__ = "tags"

    resource_id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True)
    tag: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    resource_type: orm.Mapped[str] = orm.mapped_column(sa.String(64), index=True)
