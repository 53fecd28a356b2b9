"""The DNS name and domain of ports, and the DNS domain of networks (Neutron's table names).

A port or network without a row has '' for each. The rows go with their
port or network (ON DELETE CASCADE).
"""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb
from netweave.core.db.models import network as net_models

FQDN_LEN = 255


class PortDns(mb.Base):
    __tablename__ = "portdnses"

    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    dns_name: orm.Mapped[str] = orm.mapped_column(sa.String(FQDN_LEN), nullable=False, default="")
    dns_domain: orm.Mapped[str] = orm.mapped_column(sa.String(FQDN_LEN), nullable=False, default="")


class NetworkDnsDomain(mb.Base):
    __tablename__ = "networkdnsdomains"

    network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True)
    dns_domain: orm.Mapped[str] = orm.mapped_column(sa.String(FQDN_LEN), nullable=False)


# Network dicts are built from Network objects without a session at hand (lists too):
# the domain comes with the network, one query per page.
net_models.Network.dns_domain_row = orm.relationship(
    NetworkDnsDomain, lazy="selectin", uselist=False, cascade="all, delete-orphan", passive_deletes=True)
