"""Address scopes; rbac-policies on address scopes and subnet pools

Revision ID: 0005_address_scopes
Revises: 0004_dhcp_agents
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_address_scopes'
down_revision = '0004_dhcp_agents'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('address_scopes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('address_scopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_scopes_project_id'), ['project_id'], unique=False)
    op.create_table('addressscoperbacs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('target_tenant', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['address_scopes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('action', 'object_id', 'target_tenant',
                        name='uniq_addressscoperbacs0action0object_id0target_tenant')
    )
    with op.batch_alter_table('addressscoperbacs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_addressscoperbacs_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_addressscoperbacs_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_addressscoperbacs_target_tenant'), ['target_tenant'], unique=False)
    op.create_table('subnetpoolrbacs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('target_tenant', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['subnetpools.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('action', 'object_id', 'target_tenant',
                        name='uniq_subnetpoolrbacs0action0object_id0target_tenant')
    )
    with op.batch_alter_table('subnetpoolrbacs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subnetpoolrbacs_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subnetpoolrbacs_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subnetpoolrbacs_target_tenant'), ['target_tenant'], unique=False)


def downgrade():
    op.drop_table('subnetpoolrbacs')
    op.drop_table('addressscoperbacs')
    op.drop_table('address_scopes')
