"""Ports, their fixed IP allocations and ML2 bindings."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class Port(mb.StandardAttributes, mb.Base):
    __tablename__ = "ports"
    # One MAC per network: the constraint, not a lock, keeps concurrent creates apart.
    __table_args__ = (sa.UniqueConstraint("network_id", "mac_address", name="uniq_ports0network_id0mac_address"),
                      sa.Index("ix_ports_network_id_device_owner", "network_id", "device_owner"),
                      sa.Index("ix_ports_device_id", "device_id"),
                      # A network's ports in id order (list pages, markers): a seek, not a sort.
                      sa.Index("ix_ports_network_id_id", "network_id", "id"),
                      # A project's ports in id order (a member's list pages): a seek too.
                      sa.Index("ix_ports_project_id_id", "project_id", "id"))

    network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("networks.id"), nullable=False)
    mac_address: orm.Mapped[str] = orm.mapped_column(sa.String(32), nullable=False)
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="DOWN")
    device_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    device_owner: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")

    fixed_ips = orm.relationship("IPAllocation", lazy="selectin", cascade="all, delete-orphan",
                                 passive_deletes=True, order_by="IPAllocation.position")
    binding = orm.relationship("PortBinding", lazy="selectin", uselist=False, cascade="all, delete-orphan",
                               passive_deletes=True)


class IPAllocation(mb.Base):
    """One address of one subnet; the primary key makes a double allocation impossible."""

    __tablename__ = "ipallocations"
    # A subnet's addresses (its allocation reads, its delete, its availability) without a
    # scan of every subnet's: the primary key leads with the address.
    __table_args__ = (sa.Index("ix_ipallocations_subnet_id_ip_address", "subnet_id", "ip_address"),)

    ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    subnet_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True)
    network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), index=True)
    position: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)


class PortBinding(mb.Base):
    __tablename__ = "ml2_port_bindings"

    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="", index=True)
    vnic_type: orm.Mapped[str] = orm.mapped_column(sa.String(64), default="normal")
    profile: orm.Mapped[str] = orm.mapped_column(sa.Text, default="{}")
    vif_type: orm.Mapped[str] = orm.mapped_column(sa.String(64), default="unbound")
    vif_details: orm.Mapped[str] = orm.mapped_column(sa.Text, default="{}")
    segment_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(mb.UUID_LEN), nullable=True)
    driver: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
