"""Tables of the router plugin: routers, their ports and extra routes, floating IPs.

Concurrency rests on constraints, not locks: a port belongs to at most one
router (the primary key of routerports), an external address to at most one
floating IP, and a fixed address of a port to at most one floating IP per
external network; routers and floating IPs carry the standard revision number,
so two writers of one row cannot both win.
"""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class Router(mb.StandardAttributes, mb.Base):
    __tablename__ = "routers"

    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True, nullable=False)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="ACTIVE", nullable=False)
    # The gateway port goes away with the router's own delete, never behind its back.
    gw_port_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id"), nullable=True, index=True)
    enable_snat: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True, nullable=False)

    routes = orm.relationship("RouterRoute", lazy="selectin", cascade="all, delete-orphan",
                              passive_deletes=True, order_by="(RouterRoute.destination, RouterRoute.nexthop)")


class RouterPort(mb.Base):
    """A port plugged into a router: its interfaces and its gateway."""

    __tablename__ = "routerports"

    router_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True)
    # Part of the primary key and unique by itself: one port, one router.
    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True, unique=True)
    port_type: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False)


class RouterRoute(mb.Base):
    """One extra route of a router (the extraroute extension)."""

    __tablename__ = "routerroutes"

    router_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True)
    destination: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    nexthop: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)


class FloatingIP(mb.StandardAttributes, mb.Base):
    __tablename__ = "floatingips"
    __table_args__ = (
        sa.UniqueConstraint("floating_network_id", "floating_ip_address",
                            name="uniq_floatingips0floatingnetworkid0floatingipaddress"),
        # NULLs differ from each other, so any number of floating IPs may be unassociated.
        sa.UniqueConstraint("floating_network_id", "fixed_port_id", "fixed_ip_address",
                            name="uniq_floatingips0floatingnetworkid0fixedportid0fixedipaddress"),
    )

    floating_ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(64), nullable=False)
    floating_network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("networks.id"), nullable=False)
    # The floating IP lives as long as its hidden port on the external network.
    floating_port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), nullable=False, unique=True)
    fixed_port_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="SET NULL"), nullable=True, index=True)
    fixed_ip_address: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    router_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("routers.id"), nullable=True, index=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="DOWN", nullable=False)
