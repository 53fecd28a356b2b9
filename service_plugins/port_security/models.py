"""Tables of security groups, their rules, port bindings, port security and allowed address pairs.

Table names are Neutron's. The port and network side tables are also reachable as
relationships of Port and Network (loaded with "selectin"), so a list of many ports
reads each side table once, not once per port.
"""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models


class SecurityGroup(mb.StandardAttributes, mb.Base):
    __tablename__ = "securitygroups"

    # False: the agents filter the group's ports without connection tracking (stateful-security-group).
    stateful: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, nullable=False, default=True,
                                                   server_default=sa.true())

    rules = orm.relationship("SecurityGroupRule", lazy="selectin", cascade="all, delete-orphan",
                             passive_deletes=True, foreign_keys="SecurityGroupRule.security_group_id",
                             order_by="SecurityGroupRule.created_at", back_populates="security_group")


class SecurityGroupRule(mb.StandardAttributes, mb.Base):
    __tablename__ = "securitygrouprules"
    # A page of one group's rules (?security_group_id=, in id order past a marker) seeks it.
    __table_args__ = (sa.Index("ix_securitygrouprules_security_group_id_id", "security_group_id", "id"),)

    security_group_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("securitygroups.id", ondelete="CASCADE"), nullable=False,
        index=True)
    # A rule naming a group as its remote goes away with that group, as in Neutron.
    remote_group_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("securitygroups.id", ondelete="CASCADE"), nullable=True,
        index=True)
    direction: orm.Mapped[str] = orm.mapped_column(sa.String(36), nullable=False)
    ethertype: orm.Mapped[str] = orm.mapped_column(sa.String(40), nullable=False)
    protocol: orm.Mapped[str | None] = orm.mapped_column(sa.String(40), nullable=True)
    port_range_min: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    port_range_max: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    remote_ip_prefix: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)

    security_group = orm.relationship("SecurityGroup", foreign_keys=[security_group_id], back_populates="rules")


class DefaultSecurityGroupRule(mb.Base):
    """A template (default-security-group-rules) of the rules every new group starts with.

    ``remote_group_id`` "PARENT" stands for the new group itself.
    """

    __tablename__ = "securitygroupdefaultrules"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    description: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False, default="")
    direction: orm.Mapped[str] = orm.mapped_column(sa.String(36), nullable=False)
    ethertype: orm.Mapped[str] = orm.mapped_column(sa.String(40), nullable=False)
    protocol: orm.Mapped[str | None] = orm.mapped_column(sa.String(40), nullable=True)
    port_range_min: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    port_range_max: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    remote_ip_prefix: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    remote_group_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(mb.UUID_LEN), nullable=True)
    used_in_default_sg: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, nullable=False, default=False)
    used_in_non_default_sg: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, nullable=False, default=True)


PARENT = "PARENT"
# Neutron's templates: egress anywhere for every group, ingress from its own members for
# the default group. The migration inserts them; so does a schema made from the models.
SEED_DEFAULT_RULES = tuple(
    dict(id=rule_id, description="", direction=direction, ethertype=ethertype, protocol=None,
         port_range_min=None, port_range_max=None, remote_ip_prefix=None, remote_group_id=remote,
         used_in_default_sg=True, used_in_non_default_sg=remote is None)
    for rule_id, direction, ethertype, remote in (
        ("c1c3e9a1-0000-4000-8000-000000000001", "egress", "IPv4", None),
        ("c1c3e9a1-0000-4000-8000-000000000002", "egress", "IPv6", None),
        ("c1c3e9a1-0000-4000-8000-000000000003", "ingress", "IPv4", PARENT),
        ("c1c3e9a1-0000-4000-8000-000000000004", "ingress", "IPv6", PARENT)))


@sa.event.listens_for(DefaultSecurityGroupRule.__table__, "after_create")
def _seed_default_rules(table, connection, **_kw):
    connection.execute(table.insert(), [dict(row) for row in SEED_DEFAULT_RULES])


class DefaultSecurityGroup(mb.Base):
    """The one ``default`` group of a project: the primary key makes a second one impossible."""

    __tablename__ = "default_security_group"

    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), primary_key=True)
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("securitygroups.id", ondelete="CASCADE"), nullable=False, index=True)


class SecurityGroupRBAC(mb.Base):
    """rbac-policies of object_type security_group: the groups shared with other projects."""

    __tablename__ = "securitygrouprbacs"
    __table_args__ = (sa.UniqueConstraint("action", "object_id", "target_tenant",
                                          name="uniq_securitygrouprbacs0action0object_id0target_tenant"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.UUID_LEN), primary_key=True, default=mb.new_uuid)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), index=True)
    object_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("securitygroups.id", ondelete="CASCADE"), index=True)
    target_tenant: orm.Mapped[str] = orm.mapped_column(sa.String(mb.PROJECT_ID_LEN), index=True)
    action: orm.Mapped[str] = orm.mapped_column(sa.String(32))


class SecurityGroupPortBinding(mb.Base):
    __tablename__ = "securitygroupportbindings"

    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    # No cascade: a group bound to ports cannot be deleted (SecurityGroupInUse).
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("securitygroups.id"), primary_key=True, index=True)


class PortSecurityBinding(mb.Base):
    __tablename__ = "portsecuritybindings"

    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    port_security_enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, nullable=False)


class NetworkSecurityBinding(mb.Base):
    __tablename__ = "networksecuritybindings"

    network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True)
    port_security_enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, nullable=False)


class AllowedAddressPair(mb.Base):
    __tablename__ = "allowedaddresspairs"

    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    mac_address: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)


# The side tables as relationships of the core rows they extend.
port_models.Port.security_group_bindings = orm.relationship(
    SecurityGroupPortBinding, lazy="selectin", cascade="all, delete-orphan", passive_deletes=True,
    order_by=SecurityGroupPortBinding.security_group_id)
port_models.Port.port_security = orm.relationship(
    PortSecurityBinding, lazy="selectin", uselist=False, cascade="all, delete-orphan", passive_deletes=True)
port_models.Port.allowed_address_pairs = orm.relationship(
    AllowedAddressPair, lazy="selectin", cascade="all, delete-orphan", passive_deletes=True,
    order_by=(AllowedAddressPair.ip_address, AllowedAddressPair.mac_address))
net_models.Network.port_security = orm.relationship(
    NetworkSecurityBinding, lazy="selectin", uselist=False, cascade="all, delete-orphan", passive_deletes=True)
