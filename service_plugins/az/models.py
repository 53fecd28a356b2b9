"""Tables of the az plugin: the availability zone hints of routers.

A network's hints live in the core's ``networks.availability_zone_hints``
column; a router's in this side table (the router plugin's own table knows
nothing of zones). Both hold the hints as Neutron stores them: a JSON list.
"""
import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base as mb


class RouterAvailabilityZoneHints(mb.Base):
    __tablename__ = "router_availability_zone_hints"

    router_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(mb.UUID_LEN), sa.ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True)
    availability_zone_hints: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False)
