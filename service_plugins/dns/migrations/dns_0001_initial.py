"""ports' DNS names and domains, networks' DNS domains

Revision ID: dns_0001
Revises:
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = 'dns_0001'
down_revision = None
branch_labels = ('dns',)
# networks and ports.
depends_on = '0001_initial'


def upgrade():
    op.create_table(
        'portdnses',
        sa.Column('port_id', sa.String(length=36), nullable=False),
        sa.Column('dns_name', sa.String(length=255), nullable=False),
        sa.Column('dns_domain', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['port_id'], ['ports.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('port_id'),
    )
    op.create_table(
        'networkdnsdomains',
        sa.Column('network_id', sa.String(length=36), nullable=False),
        sa.Column('dns_domain', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['network_id'], ['networks.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('network_id'),
    )


def downgrade():
    op.drop_table('networkdnsdomains')
    op.drop_table('portdnses')
