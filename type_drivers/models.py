"""Allocation and tunnel endpoint tables of the type drivers.

One row per segmentation id of the configured ranges (``allocated`` says whether a
network holds it), plus allocated rows for provider ids outside the ranges. The
primary key is what makes two servers unable to hand out the same id.
"""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base

PHYSNET_LEN = 64
IP_ADDRESS_LEN = 64
HOST_LEN = 255


def _allocated_column(index=False):
    return orm.mapped_column(sa.Boolean, nullable=False, default=False, server_default=sa.false(),
                             index=index)


class FlatAllocation(model_base.Base):
    """A physical network carrying its (only) flat network."""

    __tablename__ = "ml2_flat_allocations"

    physical_network: orm.Mapped[str] = orm.mapped_column(sa.String(PHYSNET_LEN), primary_key=True)


class VlanAllocation(model_base.Base):
    __tablename__ = "ml2_vlan_allocations"
    __table_args__ = (
        # Free-id lookups filter on exactly these two columns.
        sa.Index("ix_ml2_vlan_allocations_physical_network_allocated", "physical_network", "allocated"),
    )

    physical_network: orm.Mapped[str] = orm.mapped_column(sa.String(PHYSNET_LEN), primary_key=True)
    vlan_id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    allocated: orm.Mapped[bool] = _allocated_column()


class VxlanAllocation(model_base.Base):
    __tablename__ = "ml2_vxlan_allocations"

    vxlan_vni: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    allocated: orm.Mapped[bool] = _allocated_column(index=True)


class GreAllocation(model_base.Base):
    __tablename__ = "ml2_gre_allocations"

    # GRE keys go up to 2**32 - 1, past a signed 32-bit INTEGER.
    gre_id: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    allocated: orm.Mapped[bool] = _allocated_column(index=True)


class GeneveAllocation(model_base.Base):
    __tablename__ = "ml2_geneve_allocations"

    geneve_vni: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    allocated: orm.Mapped[bool] = _allocated_column(index=True)


class VxlanEndpoint(model_base.Base):
    """A host's VXLAN tunnel endpoint (VTEP), registered by its agent's tunnel_sync."""

    __tablename__ = "ml2_vxlan_endpoints"
    __table_args__ = (sa.UniqueConstraint("host", name="unique_ml2_vxlan_endpoints0host"),)

    ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(IP_ADDRESS_LEN), primary_key=True)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(HOST_LEN), nullable=True)


class GreEndpoint(model_base.Base):
    __tablename__ = "ml2_gre_endpoints"
    __table_args__ = (sa.UniqueConstraint("host", name="unique_ml2_gre_endpoints0host"),)

    ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(IP_ADDRESS_LEN), primary_key=True)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(HOST_LEN), nullable=True)


class GeneveEndpoint(model_base.Base):
    __tablename__ = "ml2_geneve_endpoints"
    __table_args__ = (sa.UniqueConstraint("host", name="unique_ml2_geneve_endpoints0host"),)

    ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(IP_ADDRESS_LEN), primary_key=True)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(HOST_LEN), nullable=True)
