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


class AddressScopeRBAC(mb.Base):
    """rbac-policies on address_scopes (action access_as_shared)."""
    __tablename__ = "addressscoperbacs"
    __table_args__ = (sa.UniqueConstraint("action", "object_id", "target_tenant",
                                          name="uniq_addressscoperbacs0action0object_id0target_tenant"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), index=True)
    object_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("address_scopes.id", ondelete="CASCADE"), index=True)
    target_tenant: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), index=True)
    action: orm.Mapped[str] = orm.mapped_column(sa.String(32))
