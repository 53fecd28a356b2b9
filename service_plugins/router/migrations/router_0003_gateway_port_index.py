"""An index on routers.gw_port_id: a port's delete finds the router whose gateway it is without a scan

Revision ID: router_0003
Revises: router_0002
Create Date: 2026-12-06
"""
from alembic import op

from netweave.core.db import migration_helpers

revision = 'router_0003'
down_revision = 'router_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('routers', schema=None) as batch_op:
        batch_op.create_index('ix_routers_gw_port_id', ['gw_port_id'], unique=False)


def downgrade():
    migration_helpers.drop_foreign_key_index(
        'routers', 'ix_routers_gw_port_id', ['gw_port_id'])
