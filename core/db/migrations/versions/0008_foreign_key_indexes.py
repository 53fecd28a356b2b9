"""Indexes that lead with a foreign key's column where none did: a subnet's addresses,
DNS servers and routes, a pool's prefixes are read (and deleted with it) without a scan

Revision ID: 0008_foreign_key_indexes
Revises: 0007_port_project_index
Create Date: 2026-12-06
"""
from alembic import op

from netweave.core.db import migration_helpers

revision = '0008_foreign_key_indexes'
down_revision = '0007_port_project_index'
branch_labels = None
depends_on = None

# (table, index, its columns, the foreign key's columns it leads with)
INDEXES = [
    ('ipallocations', 'ix_ipallocations_subnet_id_ip_address', ['subnet_id', 'ip_address'], ['subnet_id']),
    ('dnsnameservers', 'ix_dnsnameservers_subnet_id', ['subnet_id'], ['subnet_id']),
    ('subnetroutes', 'ix_subnetroutes_subnet_id', ['subnet_id'], ['subnet_id']),
    ('subnetpoolprefixes', 'ix_subnetpoolprefixes_subnetpool_id', ['subnetpool_id'], ['subnetpool_id']),
]


def upgrade():
    for table, name, columns, _key_columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    for table, name, _columns, key_columns in reversed(INDEXES):
        migration_helpers.drop_foreign_key_index(table, name, key_columns)
