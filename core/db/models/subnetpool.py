"""Subnet pools and their prefixes."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class SubnetPool(mb.StandardAttributes, mb.Base):
    __tablename__ = "subnetpools"

    ip_version: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    default_prefixlen: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    min_prefixlen: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    max_prefixlen: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    shared: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    is_default: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    default_quota: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    address_scope_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(mb.UUID_LEN), nullable=True)

    prefixes = orm.relationship("SubnetPoolPrefix", lazy="selectin", cascade="all, delete-orphan",
                                passive_deletes=True)


class SubnetPoolPrefix(mb.Base):
    __tablename__ = "subnetpoolprefixes"

    cidr: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    subnetpool_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("subnetpools.id", ondelete="CASCADE"), primary_key=True, index=True)


class SubnetPoolRBAC(mb.Base):
    """rbac-policies on subnetpools (action access_as_shared)."""
    __tablename__ = "subnetpoolrbacs"
    __table_args__ = (sa.UniqueConstraint("action", "object_id", "target_tenant",
                                          name="uniq_subnetpoolrbacs0action0object_id0target_tenant"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), index=True)
    object_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("subnetpools.id", ondelete="CASCADE"), index=True)
    target_tenant: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), index=True)
    action: orm.Mapped[str] = orm.mapped_column(sa.String(32))
