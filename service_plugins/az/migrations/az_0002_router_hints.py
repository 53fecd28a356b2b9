"""availability zone hints of routers

Revision ID: az_0002
Revises: az_0001
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = 'az_0002'
down_revision = 'az_0001'
branch_labels = None
# The routers table, of the router plugin's branch.
depends_on = 'router_0001'


def upgrade():
    op.create_table(
        'router_availability_zone_hints',
        sa.Column('router_id', sa.String(length=36), nullable=False),
        sa.Column('availability_zone_hints', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['router_id'], ['routers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('router_id'),
    )


def downgrade():
    op.drop_table('router_availability_zone_hints')
