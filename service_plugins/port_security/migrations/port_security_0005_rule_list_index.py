"""An index for a group's rules in id order: pages of a group's rules seek, not sort

Revision ID: port_security_0005
Revises: port_security_0004
Create Date: 2026-12-05
"""
from alembic import op

revision = 'port_security_0005'
down_revision = 'port_security_0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('securitygrouprules', schema=None) as batch_op:
        batch_op.create_index('ix_securitygrouprules_security_group_id_id', ['security_group_id', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('securitygrouprules', schema=None) as batch_op:
        batch_op.drop_index('ix_securitygrouprules_security_group_id_id')
