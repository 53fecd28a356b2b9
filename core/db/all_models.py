"""Imports every table definition so metadata (and Alembic) sees the whole schema.

The core's own tables are imported here; every other package's (type drivers,
service plugins, third-party plugins) come from the ``netweave.db.models``
entry points.
"""
from netweave.core.db import plugin_schema
from netweave.core.db.model_base import Base
from netweave.core.db.models import (  # noqa: F401
    address_scope,
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

PLUGIN_MODEL_MODULES = plugin_schema.import_models()

metadata = Base.metadata
