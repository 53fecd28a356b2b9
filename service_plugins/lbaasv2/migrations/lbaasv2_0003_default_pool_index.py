"""An index on lbaas_listeners.default_pool_id: a pool's delete finds the listeners it is the default of without a scan

Revision ID: lbaasv2_0003
Revises: lbaasv2_0002
Create Date: 2026-12-06
"""
from alembic import op

from netweave.core.db import migration_helpers

revision = 'lbaasv2_0003'
down_revision = 'lbaasv2_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lbaas_listeners', schema=None) as batch_op:
        batch_op.create_index('ix_lbaas_listeners_default_pool_id', ['default_pool_id'], unique=False)


def downgrade():
    migration_helpers.drop_foreign_key_index(
        'lbaas_listeners', 'ix_lbaas_listeners_default_pool_id', ['default_pool_id'])
