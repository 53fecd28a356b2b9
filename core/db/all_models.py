"""Imports every table definition so metadata (and Alembic) sees the whole schema."""
from netweave.core.db.models import agent, network, port, provisioning, quota, subnet, subnetpool, tag  # noqa: F401
from netweave.type_drivers import models as type_driver_models  # noqa: F401
from netweave.core.db.model_base import Base

metadata = Base.metadata
