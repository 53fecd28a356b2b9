"""Subnets with their pools, DNS servers, host routes and service types."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class Subnet(mb.StandardAttributes, mb.Base):
    __tablename__ = "subnets"

    network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    segment_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(mb.UUID_LEN), nullable=True)
    subnetpool_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(mb.UUID_LEN), nullable=True, index=True)
    ip_version: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    cidr: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    gateway_ip: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    enable_dhcp: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    ipv6_ra_mode: orm.Mapped[str | None] = orm.mapped_column(sa.String(32), nullable=True)
    ipv6_address_mode: orm.Mapped[str | None] = orm.mapped_column(sa.String(32), nullable=True)

    allocation_pools = orm.relationship("IPAllocationPool", lazy="selectin", cascade="all, delete-orphan",
                                        passive_deletes=True, order_by="IPAllocationPool.position")
    dns_nameservers = orm.relationship("DNSNameServer", lazy="selectin", cascade="all, delete-orphan",
                                       passive_deletes=True, order_by="DNSNameServer.order")
    routes = orm.relationship("SubnetRoute", lazy="selectin", cascade="all, delete-orphan",
                              passive_deletes=True)
    service_types = orm.relationship("SubnetServiceType", lazy="selectin", cascade="all, delete-orphan",
                                     passive_deletes=True)


class IPAllocationPool(mb.Base):
    __tablename__ = "ipallocationpools"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    subnet_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("subnets.id", ondelete="CASCADE"), index=True)
    first_ip: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    last_ip: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    position: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)


class DNSNameServer(mb.Base):
    __tablename__ = "dnsnameservers"

    address: orm.Mapped[str] = orm.mapped_column(sa.String(128), primary_key=True)
    # Indexed apart: the primary key leads with the address, and a subnet's read wants its own.
    subnet_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True, index=True)
    order: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)


class SubnetRoute(mb.Base):
    __tablename__ = "subnetroutes"

    destination: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    nexthop: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    subnet_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True, index=True)


class SubnetServiceType(mb.Base):
    __tablename__ = "subnet_service_types"

    subnet_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True)
    service_type: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
