"""the counters the agent last reported for each listener

Revision ID: lbaasv2_0002
Revises: lbaasv2_0001
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = 'lbaasv2_0002'
down_revision = 'lbaasv2_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'lbaas_listener_stats',
        sa.Column('listener_id', sa.String(length=36), nullable=False),
        sa.Column('active_connections', sa.BigInteger(), nullable=False),
        sa.Column('total_connections', sa.BigInteger(), nullable=False),
        sa.Column('bytes_in', sa.BigInteger(), nullable=False),
        sa.Column('bytes_out', sa.BigInteger(), nullable=False),
        sa.Column('request_errors', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['listener_id'], ['lbaas_listeners.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('listener_id'),
    )


def downgrade():
    op.drop_table('lbaas_listener_stats')
