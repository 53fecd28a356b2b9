"""Networks, their segments, external flag and RBAC entries."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class Network(mb.StandardAttributes, mb.Base):
    __tablename__ = "networks"

    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="ACTIVE")
    mtu: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=1500)
    vlan_transparent: orm.Mapped[bool | None] = orm.mapped_column(sa.Boolean, nullable=True)
    availability_zone_hints: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="[]")

    segments = orm.relationship("NetworkSegment", lazy="selectin", cascade="all, delete-orphan",
                                order_by="NetworkSegment.segment_index", passive_deletes=True)
    subnets = orm.relationship("Subnet", lazy="selectin", viewonly=True, order_by="Subnet.created_at")
    rbac_entries = orm.relationship("NetworkRBAC", lazy="selectin", cascade="all, delete-orphan",
                                    passive_deletes=True)
    external = orm.relationship("ExternalNetwork", lazy="selectin", uselist=False,
                                cascade="all, delete-orphan", passive_deletes=True)


class NetworkSegment(mb.Base):
    __tablename__ = "networksegments"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    network_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    physical_network: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    segmentation_id: orm.Mapped[int | None] = orm.mapped_column(sa.BigInteger, nullable=True)
    is_dynamic: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    segment_index: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)


class ExternalNetwork(mb.Base):
    __tablename__ = "externalnetworks"

    network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True)
    is_default: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)


class NetworkRBAC(mb.Base):
    __tablename__ = "networkrbacs"
    __table_args__ = (sa.UniqueConstraint("action", "object_id", "target_tenant",
                                          name="uniq_networkrbacs0action0object_id0target_tenant"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), index=True)
    object_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    target_tenant: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), index=True)
    action: orm.Mapped[str] = orm.mapped_column(sa.String(32))
