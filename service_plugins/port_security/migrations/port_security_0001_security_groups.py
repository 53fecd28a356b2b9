"""security groups, rules, port security and allowed address pairs

The first revision of the port_security branch; it needs the core's ports and
networks tables (0001_initial).

Revision ID: port_security_0001
Revises:
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = 'port_security_0001'
down_revision = None
branch_labels = ('port_security',)
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
    op.create_table('securitygroups',
    *_standard_columns(),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('securitygroups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_securitygroups_project_id'), ['project_id'], unique=False)

    op.create_table('securitygrouprules',
    sa.Column('security_group_id', sa.String(length=36), nullable=False),
    sa.Column('remote_group_id', sa.String(length=36), nullable=True),
    sa.Column('direction', sa.String(length=36), nullable=False),
    sa.Column('ethertype', sa.String(length=40), nullable=False),
    sa.Column('protocol', sa.String(length=40), nullable=True),
    sa.Column('port_range_min', sa.Integer(), nullable=True),
    sa.Column('port_range_max', sa.Integer(), nullable=True),
    sa.Column('remote_ip_prefix', sa.String(length=255), nullable=True),
    *_standard_columns(),
    sa.ForeignKeyConstraint(['remote_group_id'], ['securitygroups.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['security_group_id'], ['securitygroups.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('securitygrouprules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_securitygrouprules_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_securitygrouprules_remote_group_id'), ['remote_group_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_securitygrouprules_security_group_id'), ['security_group_id'],
                              unique=False)

    op.create_table('default_security_group',
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('security_group_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['security_group_id'], ['securitygroups.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id')
    )
    op.create_table('securitygroupportbindings',
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('security_group_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['security_group_id'], ['securitygroups.id'], ),
    sa.PrimaryKeyConstraint('port_id', 'security_group_id')
    )
    with op.batch_alter_table('securitygroupportbindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_securitygroupportbindings_security_group_id'), ['security_group_id'],
                              unique=False)

    op.create_table('portsecuritybindings',
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('port_security_enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('port_id')
    )
    op.create_table('networksecuritybindings',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('port_security_enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('network_id')
    )
    op.create_table('allowedaddresspairs',
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('mac_address', sa.String(length=32), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('port_id', 'mac_address', 'ip_address')
    )


def downgrade():
    op.drop_table('allowedaddresspairs')
    op.drop_table('networksecuritybindings')
    op.drop_table('portsecuritybindings')
    op.drop_table('securitygroupportbindings')
    op.drop_table('default_security_group')
    op.drop_table('securitygrouprules')
    op.drop_table('securitygroups')
