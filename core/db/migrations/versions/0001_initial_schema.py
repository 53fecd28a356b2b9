"""initial schema

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0001_initial'
down_revision = None
branch_labels = ('core',)
depends_on = None


def upgrade():
    op.create_table('ml2_flat_allocations',
    sa.Column('physical_network', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('physical_network')
    )
    op.create_table('ml2_geneve_allocations',
    sa.Column('geneve_vni', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('allocated', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('geneve_vni')
    )
    with op.batch_alter_table('ml2_geneve_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ml2_geneve_allocations_allocated'), ['allocated'], unique=False)

    op.create_table('ml2_geneve_endpoints',
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('ip_address'),
    sa.UniqueConstraint('host', name='unique_ml2_geneve_endpoints0host')
    )
    op.create_table('ml2_gre_allocations',
    sa.Column('gre_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('allocated', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('gre_id')
    )
    with op.batch_alter_table('ml2_gre_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ml2_gre_allocations_allocated'), ['allocated'], unique=False)

    op.create_table('ml2_gre_endpoints',
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('ip_address'),
    sa.UniqueConstraint('host', name='unique_ml2_gre_endpoints0host')
    )
    op.create_table('ml2_vlan_allocations',
    sa.Column('physical_network', sa.String(length=64), nullable=False),
    sa.Column('vlan_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('allocated', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('physical_network', 'vlan_id')
    )
    with op.batch_alter_table('ml2_vlan_allocations', schema=None) as batch_op:
        batch_op.create_index('ix_ml2_vlan_allocations_physical_network_allocated',
                              ['physical_network', 'allocated'], unique=False)

    op.create_table('ml2_vxlan_allocations',
    sa.Column('vxlan_vni', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('allocated', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('vxlan_vni')
    )
    with op.batch_alter_table('ml2_vxlan_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ml2_vxlan_allocations_allocated'), ['allocated'], unique=False)

    op.create_table('ml2_vxlan_endpoints',
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('ip_address'),
    sa.UniqueConstraint('host', name='unique_ml2_vxlan_endpoints0host')
    )
    op.create_table('networks',
    sa.Column('admin_state_up', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('mtu', sa.Integer(), nullable=False),
    sa.Column('vlan_transparent', sa.Boolean(), nullable=True),
    sa.Column('availability_zone_hints', sa.String(length=255), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_networks_project_id'), ['project_id'], unique=False)

    op.create_table('quotas',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('limit', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'resource', name='uniq_quotas0project_id0resource')
    )
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotas_project_id'), ['project_id'], unique=False)

    op.create_table('subnetpools',
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.Column('default_prefixlen', sa.Integer(), nullable=False),
    sa.Column('min_prefixlen', sa.Integer(), nullable=False),
    sa.Column('max_prefixlen', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('default_quota', sa.Integer(), nullable=True),
    sa.Column('address_scope_id', sa.String(length=36), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('subnetpools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subnetpools_project_id'), ['project_id'], unique=False)

    op.create_table('tags',
    sa.Column('resource_id', sa.String(length=36), nullable=False),
    sa.Column('tag', sa.String(length=255), nullable=False),
    sa.Column('resource_type', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('resource_id', 'tag')
    )
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tags_resource_type'), ['resource_type'], unique=False)

    op.create_table('externalnetworks',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('network_id')
    )
    op.create_table('networkrbacs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('target_tenant', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['networks.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('action', 'object_id', 'target_tenant', name='uniq_networkrbacs0action0object_id0target_tenant')
    )
    with op.batch_alter_table('networkrbacs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_networkrbacs_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_networkrbacs_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_networkrbacs_target_tenant'), ['target_tenant'], unique=False)

    op.create_table('networksegments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('network_type', sa.String(length=32), nullable=False),
    sa.Column('physical_network', sa.String(length=64), nullable=True),
    sa.Column('segmentation_id', sa.BigInteger(), nullable=True),
    sa.Column('is_dynamic', sa.Boolean(), nullable=False),
    sa.Column('segment_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('networksegments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_networksegments_network_id'), ['network_id'], unique=False)

    op.create_table('ports',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('mac_address', sa.String(length=32), nullable=False),
    sa.Column('admin_state_up', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('device_id', sa.String(length=255), nullable=False),
    sa.Column('device_owner', sa.String(length=255), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('network_id', 'mac_address', name='uniq_ports0network_id0mac_address')
    )
    with op.batch_alter_table('ports', schema=None) as batch_op:
        batch_op.create_index('ix_ports_device_id', ['device_id'], unique=False)
        batch_op.create_index('ix_ports_network_id_device_owner', ['network_id', 'device_owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_ports_project_id'), ['project_id'], unique=False)

    op.create_table('subnetpoolprefixes',
    sa.Column('cidr', sa.String(length=64), nullable=False),
    sa.Column('subnetpool_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['subnetpool_id'], ['subnetpools.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cidr', 'subnetpool_id')
    )
    op.create_table('subnets',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('segment_id', sa.String(length=36), nullable=True),
    sa.Column('subnetpool_id', sa.String(length=36), nullable=True),
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.Column('cidr', sa.String(length=64), nullable=False),
    sa.Column('gateway_ip', sa.String(length=64), nullable=True),
    sa.Column('enable_dhcp', sa.Boolean(), nullable=False),
    sa.Column('ipv6_ra_mode', sa.String(length=32), nullable=True),
    sa.Column('ipv6_address_mode', sa.String(length=32), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('subnets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subnets_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subnets_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subnets_subnetpool_id'), ['subnetpool_id'], unique=False)

    op.create_table('dnsnameservers',
    sa.Column('address', sa.String(length=128), nullable=False),
    sa.Column('subnet_id', sa.String(length=36), nullable=False),
    sa.Column('order', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['subnet_id'], ['subnets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('address', 'subnet_id')
    )
    op.create_table('ipallocationpools',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('subnet_id', sa.String(length=36), nullable=False),
    sa.Column('first_ip', sa.String(length=64), nullable=False),
    sa.Column('last_ip', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['subnet_id'], ['subnets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ipallocationpools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ipallocationpools_subnet_id'), ['subnet_id'], unique=False)

    op.create_table('ipallocations',
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.Column('subnet_id', sa.String(length=36), nullable=False),
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subnet_id'], ['subnets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ip_address', 'subnet_id')
    )
    with op.batch_alter_table('ipallocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ipallocations_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ipallocations_port_id'), ['port_id'], unique=False)

    op.create_table('ml2_port_bindings',
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('vnic_type', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.Text(), nullable=False),
    sa.Column('vif_type', sa.String(length=64), nullable=False),
    sa.Column('vif_details', sa.Text(), nullable=False),
    sa.Column('segment_id', sa.String(length=36), nullable=True),
    sa.Column('driver', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('port_id')
    )
    with op.batch_alter_table('ml2_port_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ml2_port_bindings_host'), ['host'], unique=False)

    op.create_table('subnet_service_types',
    sa.Column('subnet_id', sa.String(length=36), nullable=False),
    sa.Column('service_type', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['subnet_id'], ['subnets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subnet_id', 'service_type')
    )
    op.create_table('subnetroutes',
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('nexthop', sa.String(length=64), nullable=False),
    sa.Column('subnet_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['subnet_id'], ['subnets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('destination', 'nexthop', 'subnet_id')
    )


def downgrade():
    op.drop_table('subnetroutes')
    op.drop_table('subnet_service_types')
    op.drop_table('ml2_port_bindings')
    op.drop_table('ipallocations')
    op.drop_table('ipallocationpools')
    op.drop_table('dnsnameservers')
    op.drop_table('subnets')
    op.drop_table('subnetpoolprefixes')
    op.drop_table('ports')
    op.drop_table('networksegments')
    op.drop_table('networkrbacs')
    op.drop_table('externalnetworks')
    op.drop_table('tags')
    op.drop_table('subnetpools')
    op.drop_table('quotas')
    op.drop_table('networks')
    op.drop_table('ml2_vxlan_endpoints')
    op.drop_table('ml2_vxlan_allocations')
    op.drop_table('ml2_vlan_allocations')
    op.drop_table('ml2_gre_endpoints')
    op.drop_table('ml2_gre_allocations')
    op.drop_table('ml2_geneve_endpoints')
    op.drop_table('ml2_geneve_allocations')
    op.drop_table('ml2_flat_allocations')
