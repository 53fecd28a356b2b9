"""which L3 agents host which routers

Revision ID: router_0002
Revises: router_0001
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = 'router_0002'
down_revision = 'router_0001'
branch_labels = None
# The agents table.
depends_on = '0002_agents'


def upgrade():
    op.create_table(
        'routerl3agentbindings',
        sa.Column('router_id', sa.String(length=36), nullable=False),
        sa.Column('l3_agent_id', sa.String(length=36), nullable=False),
        sa.Column('binding_index', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['router_id'], ['routers.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['l3_agent_id'], ['agents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('router_id', 'l3_agent_id'),
        sa.UniqueConstraint('router_id', 'binding_index',
                            name='uniq_router_l3_agent_binding0router_id0binding_index0'),
    )
    with op.batch_alter_table('routerl3agentbindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routerl3agentbindings_l3_agent_id'), ['l3_agent_id'], unique=False)


def downgrade():
    op.drop_table('routerl3agentbindings')
