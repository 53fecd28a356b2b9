"""Imports every table definition so metadata (and Alembic) sees the whole schema."""
from netweave.core.db.model_base import Base
from netweave.core.db.models import (  # noqa: F401
    agent,
    dhcp,
    network,
    port,
    provisioning,
    quota,
    subnet,
    subnetpool,
    tag,
)
from netweave.service_plugins.port_security import models as port_security_models  # noqa: F401
from netweave.type_drivers import models as type_driver_models  # noqa: F401

metadata = Base.metadata
