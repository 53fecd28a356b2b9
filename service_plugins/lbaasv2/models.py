"""Tables of LBaaS v2: load balancers, listeners, pools, members, health monitors.

A load balancer owns everything under it (ON DELETE CASCADE down the tree);
its VIP is an ordinary port, deleted by the plugin through the core's port service.
The unique constraints carry the API's one-per rules: one listener per
(load balancer, port), one health monitor per pool, one member per
(pool, address, port).
"""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb

_ID = mb.UUID_LEN


def _lb_fk():
    return orm.mapped_column(sa.String(_ID), sa.ForeignKey("lbaas_loadbalancers.id", ondelete="CASCADE"),
                             nullable=False, index=True)


class _Statuses:
    provisioning_status: orm.Mapped[str] = orm.mapped_column(sa.String(16), nullable=False)
    operating_status: orm.Mapped[str] = orm.mapped_column(sa.String(16), nullable=False)
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, nullable=False, default=True)


class LoadBalancer(_Statuses, mb.StandardAttributes, mb.Base):
    __tablename__ = "lbaas_loadbalancers"

    vip_subnet_id: orm.Mapped[str] = orm.mapped_column(sa.String(_ID), nullable=False)
    vip_network_id: orm.Mapped[str] = orm.mapped_column(sa.String(_ID), nullable=False)
    vip_port_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(_ID), sa.ForeignKey("ports.id", ondelete="SET NULL"), nullable=True, unique=True)
    vip_address: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    provider: orm.Mapped[str] = orm.mapped_column(sa.String(64), nullable=False)
    # The agent the load balancer is scheduled to (None until one is alive).
    agent_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(_ID), sa.ForeignKey("agents.id", ondelete="SET NULL"), nullable=True, index=True)


class Listener(_Statuses, mb.StandardAttributes, mb.Base):
    __tablename__ = "lbaas_listeners"
    __table_args__ = (sa.UniqueConstraint("loadbalancer_id", "protocol_port",
                                          name="uniq_lbaas_listeners0loadbalancer_id0protocol_port"),)

    loadbalancer_id: orm.Mapped[str] = _lb_fk()
    protocol: orm.Mapped[str] = orm.mapped_column(sa.String(32), nullable=False)
    protocol_port: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False)
    connection_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False, default=-1)
    default_pool_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(_ID), sa.ForeignKey("lbaas_pools.id", ondelete="SET NULL"), nullable=True, index=True)


class Pool(_Statuses, mb.StandardAttributes, mb.Base):
    __tablename__ = "lbaas_pools"

    loadbalancer_id: orm.Mapped[str] = _lb_fk()
    protocol: orm.Mapped[str] = orm.mapped_column(sa.String(32), nullable=False)
    lb_algorithm: orm.Mapped[str] = orm.mapped_column(sa.String(32), nullable=False)
    persistence_type: orm.Mapped[str | None] = orm.mapped_column(sa.String(32), nullable=True)
    persistence_cookie_name: orm.Mapped[str | None] = orm.mapped_column(sa.String(1024), nullable=True)


class Member(_Statuses, mb.StandardAttributes, mb.Base):
    __tablename__ = "lbaas_members"
    __table_args__ = (sa.UniqueConstraint("pool_id", "address", "protocol_port",
                                          name="uniq_lbaas_members0pool_id0address0port"),)

    pool_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(_ID), sa.ForeignKey("lbaas_pools.id", ondelete="CASCADE"), nullable=False, index=True)
    loadbalancer_id: orm.Mapped[str] = _lb_fk()
    subnet_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(_ID), nullable=True)
    address: orm.Mapped[str] = orm.mapped_column(sa.String(64), nullable=False)
    protocol_port: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False)
    weight: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False, default=1)


class HealthMonitor(_Statuses, mb.StandardAttributes, mb.Base):
    __tablename__ = "lbaas_healthmonitors"

    pool_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(_ID), sa.ForeignKey("lbaas_pools.id", ondelete="CASCADE"), nullable=False, unique=True)
    loadbalancer_id: orm.Mapped[str] = _lb_fk()
    type: orm.Mapped[str] = orm.mapped_column(sa.String(16), nullable=False)
    delay: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False)
    timeout: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False)
    max_retries: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False)
    max_retries_down: orm.Mapped[int] = orm.mapped_column(sa.Integer, nullable=False, default=3)
    http_method: orm.Mapped[str | None] = orm.mapped_column(sa.String(16), nullable=True)
    url_path: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    expected_codes: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)


# The counters the agent reports (haproxy's frontend columns, agent/stats.py), in Octavia's names.
COUNTERS = ("active_connections", "bytes_in", "bytes_out", "request_errors", "total_connections")


class _Counters:
    active_connections: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, nullable=False, default=0)
    total_connections: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, nullable=False, default=0)
    bytes_in: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, nullable=False, default=0)
    bytes_out: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, nullable=False, default=0)
    request_errors: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, nullable=False, default=0)


class LoadBalancerStats(_Counters, mb.Base):
    """The counters the agent last reported for a load balancer."""

    __tablename__ = "lbaas_loadbalancer_stats"

    loadbalancer_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(_ID), sa.ForeignKey("lbaas_loadbalancers.id", ondelete="CASCADE"), primary_key=True)


class ListenerStats(_Counters, mb.Base):
    """The counters the agent last reported for a listener (its haproxy frontend)."""

    __tablename__ = "lbaas_listener_stats"

    listener_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(_ID), sa.ForeignKey("lbaas_listeners.id", ondelete="CASCADE"), primary_key=True)
