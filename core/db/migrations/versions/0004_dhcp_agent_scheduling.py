"""DHCP agents hosting networks

Revision ID: 0004_dhcp_agents
Revises: 0002_agents
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_dhcp_agents'
down_revision = '0002_agents'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('networkdhcpagentbindings',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('dhcp_agent_id', sa.String(length=36), nullable=False),
    sa.Column('binding_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dhcp_agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('network_id', 'dhcp_agent_id'),
    sa.UniqueConstraint('network_id', 'binding_index',
                        name='uniq_network_dhcp_agent_binding0network_id0binding_index')
    )
    with op.batch_alter_table('networkdhcpagentbindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_networkdhcpagentbindings_dhcp_agent_id'), ['dhcp_agent_id'],
                              unique=False)

    op.create_table('extradhcpopts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('opt_name', sa.String(length=64), nullable=False),
    sa.Column('opt_value', sa.String(length=255), nullable=False),
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('port_id', 'opt_name', 'ip_version', name='uniq_extradhcpopts0portid0optname0ipversion')
    )


def downgrade():
    op.drop_table('extradhcpopts')
    op.drop_table('networkdhcpagentbindings')
