"""Per-project quota limits that override the configured defaults."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class Quota(mb.Base):
    __tablename__ = "quotas"
    __table_args__ = (sa.UniqueConstraint("project_id", "resource", name="uniq_quotas0project_id0resource"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), index=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)
