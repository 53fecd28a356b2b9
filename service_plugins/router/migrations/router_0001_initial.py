"""routers, router ports, extra routes and floating IPs

Revision ID: router_0001
Revises:
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = 'router_0001'
down_revision = None
branch_labels = ('router',)
# networks and ports.
depends_on = '0001_initial'


def _standard_columns():
    return [
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('project_id', sa.String(length=255), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('revision_number', sa.BigInteger(), nullable=False),
    ]


def upgrade():
    op.create_table(
        'routers',
        sa.Column('admin_state_up', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('gw_port_id', sa.String(length=36), nullable=True),
        sa.Column('enable_snat', sa.Boolean(), nullable=False),
        *_standard_columns(),
        sa.ForeignKeyConstraint(['gw_port_id'], ['ports.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('routers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routers_project_id'), ['project_id'], unique=False)

    op.create_table(
        'routerports',
        sa.Column('router_id', sa.String(length=36), nullable=False),
        sa.Column('port_id', sa.String(length=36), nullable=False),
        sa.Column('port_type', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['port_id'], ['ports.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['router_id'], ['routers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('router_id', 'port_id'),
        sa.UniqueConstraint('port_id'),
    )

    op.create_table(
        'routerroutes',
        sa.Column('router_id', sa.String(length=36), nullable=False),
        sa.Column('destination', sa.String(length=64), nullable=False),
        sa.Column('nexthop', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['router_id'], ['routers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('router_id', 'destination', 'nexthop'),
    )

    op.create_table(
        'floatingips',
        sa.Column('floating_ip_address', sa.String(length=64), nullable=False),
        sa.Column('floating_network_id', sa.String(length=36), nullable=False),
        sa.Column('floating_port_id', sa.String(length=36), nullable=False),
        sa.Column('fixed_port_id', sa.String(length=36), nullable=True),
        sa.Column('fixed_ip_address', sa.String(length=64), nullable=True),
        sa.Column('router_id', sa.String(length=36), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        *_standard_columns(),
        sa.ForeignKeyConstraint(['fixed_port_id'], ['ports.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['floating_network_id'], ['networks.id']),
        sa.ForeignKeyConstraint(['floating_port_id'], ['ports.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['router_id'], ['routers.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('floating_network_id', 'floating_ip_address',
                            name='uniq_floatingips0floatingnetworkid0floatingipaddress'),
        sa.UniqueConstraint('floating_network_id', 'fixed_port_id', 'fixed_ip_address',
                            name='uniq_floatingips0floatingnetworkid0fixedportid0fixedipaddress'),
        sa.UniqueConstraint('floating_port_id'),
    )
    with op.batch_alter_table('floatingips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_floatingips_fixed_port_id'), ['fixed_port_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_floatingips_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_floatingips_router_id'), ['router_id'], unique=False)


def downgrade():
    op.drop_table('floatingips')
    op.drop_table('routerroutes')
    op.drop_table('routerports')
    op.drop_table('routers')
