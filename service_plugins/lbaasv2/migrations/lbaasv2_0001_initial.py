"""load balancers, listeners, pools, members, health monitors and their stats

Revision ID: lbaasv2_0001
Revises:
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = 'lbaasv2_0001'
down_revision = None
branch_labels = ('lbaasv2',)
# ports and agents.
depends_on = '0002_agents'


def _standard_columns():
    return [
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('project_id', sa.String(length=255), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('revision_number', sa.BigInteger(), nullable=False),
        sa.Column('provisioning_status', sa.String(length=16), nullable=False),
        sa.Column('operating_status', sa.String(length=16), nullable=False),
        sa.Column('admin_state_up', sa.Boolean(), nullable=False),
    ]


def _lb_column():
    return sa.Column('loadbalancer_id', sa.String(length=36),
                     sa.ForeignKey('lbaas_loadbalancers.id', ondelete='CASCADE'), nullable=False, index=True)


def upgrade():
    op.create_table(
        'lbaas_loadbalancers',
        *_standard_columns(),
        sa.Column('vip_subnet_id', sa.String(length=36), nullable=False),
        sa.Column('vip_network_id', sa.String(length=36), nullable=False),
        sa.Column('vip_port_id', sa.String(length=36), sa.ForeignKey('ports.id', ondelete='SET NULL'),
                  nullable=True, unique=True),
        sa.Column('vip_address', sa.String(length=64), nullable=True),
        sa.Column('provider', sa.String(length=64), nullable=False),
        sa.Column('agent_id', sa.String(length=36), sa.ForeignKey('agents.id', ondelete='SET NULL'),
                  nullable=True, index=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_lbaas_loadbalancers_project_id', 'lbaas_loadbalancers', ['project_id'])
    op.create_table(
        'lbaas_pools',
        *_standard_columns(),
        _lb_column(),
        sa.Column('protocol', sa.String(length=32), nullable=False),
        sa.Column('lb_algorithm', sa.String(length=32), nullable=False),
        sa.Column('persistence_type', sa.String(length=32), nullable=True),
        sa.Column('persistence_cookie_name', sa.String(length=1024), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_lbaas_pools_project_id', 'lbaas_pools', ['project_id'])
    op.create_table(
        'lbaas_listeners',
        *_standard_columns(),
        _lb_column(),
        sa.Column('protocol', sa.String(length=32), nullable=False),
        sa.Column('protocol_port', sa.Integer(), nullable=False),
        sa.Column('connection_limit', sa.Integer(), nullable=False),
        sa.Column('default_pool_id', sa.String(length=36), sa.ForeignKey('lbaas_pools.id', ondelete='SET NULL'),
                  nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('loadbalancer_id', 'protocol_port',
                            name='uniq_lbaas_listeners0loadbalancer_id0protocol_port'),
    )
    op.create_index('ix_lbaas_listeners_project_id', 'lbaas_listeners', ['project_id'])
    op.create_table(
        'lbaas_members',
        *_standard_columns(),
        sa.Column('pool_id', sa.String(length=36), sa.ForeignKey('lbaas_pools.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        _lb_column(),
        sa.Column('subnet_id', sa.String(length=36), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('protocol_port', sa.Integer(), nullable=False),
        sa.Column('weight', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('pool_id', 'address', 'protocol_port', name='uniq_lbaas_members0pool_id0address0port'),
    )
    op.create_index('ix_lbaas_members_project_id', 'lbaas_members', ['project_id'])
    op.create_table(
        'lbaas_healthmonitors',
        *_standard_columns(),
        sa.Column('pool_id', sa.String(length=36), sa.ForeignKey('lbaas_pools.id', ondelete='CASCADE'),
                  nullable=False, unique=True),
        _lb_column(),
        sa.Column('type', sa.String(length=16), nullable=False),
        sa.Column('delay', sa.Integer(), nullable=False),
        sa.Column('timeout', sa.Integer(), nullable=False),
        sa.Column('max_retries', sa.Integer(), nullable=False),
        sa.Column('max_retries_down', sa.Integer(), nullable=False),
        sa.Column('http_method', sa.String(length=16), nullable=True),
        sa.Column('url_path', sa.String(length=255), nullable=True),
        sa.Column('expected_codes', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_lbaas_healthmonitors_project_id', 'lbaas_healthmonitors', ['project_id'])
    op.create_table(
        'lbaas_loadbalancer_stats',
        sa.Column('loadbalancer_id', sa.String(length=36),
                  sa.ForeignKey('lbaas_loadbalancers.id', ondelete='CASCADE'), nullable=False),
        sa.Column('active_connections', sa.BigInteger(), nullable=False),
        sa.Column('total_connections', sa.BigInteger(), nullable=False),
        sa.Column('bytes_in', sa.BigInteger(), nullable=False),
        sa.Column('bytes_out', sa.BigInteger(), nullable=False),
        sa.Column('request_errors', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('loadbalancer_id'),
    )


def downgrade():
    op.drop_table('lbaas_loadbalancer_stats')
    op.drop_table('lbaas_healthmonitors')
    op.drop_table('lbaas_members')
    op.drop_table('lbaas_listeners')
    op.drop_table('lbaas_pools')
    op.drop_table('lbaas_loadbalancers')
