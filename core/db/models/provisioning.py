"""Provisioning blocks: which parties still have to confirm a port before it is ACTIVE."""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class ProvisioningBlock(mb.Base):
    __tablename__ = "provisioningblocks"

    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    # Who must confirm: "L2", "DHCP", ... (any short name; see services/provisioning.py).
    entity: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
