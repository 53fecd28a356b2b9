"""Address scopes: the subnet pools of one scope share a single address space."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class AddressScope(mb.Base):
    __tablename__ = "address_scopes"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), index=True)
    shared: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    ip_version: orm.Mapped[int] = orm.mapped_column(sa.Integer)
