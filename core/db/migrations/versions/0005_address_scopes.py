"""Address scopes

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


def downgrade():
    with op.batch_alter_table('address_scopes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_address_scopes_project_id'))
    op.drop_table('address_scopes')
