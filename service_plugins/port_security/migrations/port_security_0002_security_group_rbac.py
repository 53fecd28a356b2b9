"""rbac-policies on security groups (securitygrouprbacs)

Revision ID: port_security_0002
Revises: port_security_0001
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = 'port_security_0002'
down_revision = 'port_security_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('securitygrouprbacs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('target_tenant', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['securitygroups.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('action', 'object_id', 'target_tenant',
                        name='uniq_securitygrouprbacs0action0object_id0target_tenant')
    )
    with op.batch_alter_table('securitygrouprbacs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_securitygrouprbacs_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_securitygrouprbacs_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_securitygrouprbacs_target_tenant'), ['target_tenant'], unique=False)


def downgrade():
    op.drop_table('securitygrouprbacs')
