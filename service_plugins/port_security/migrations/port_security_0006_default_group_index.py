"""An index on default_security_group.security_group_id: a group's delete finds its row without a scan

Revision ID: port_security_0006
Revises: port_security_0005
Create Date: 2026-12-06
"""
from alembic import op

from netweave.core.db import migration_helpers

revision = 'port_security_0006'
down_revision = 'port_security_0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('default_security_group', schema=None) as batch_op:
        batch_op.create_index('ix_default_security_group_security_group_id', ['security_group_id'], unique=False)


def downgrade():
    migration_helpers.drop_foreign_key_index(
        'default_security_group', 'ix_default_security_group_security_group_id', ['security_group_id'])
