"""An index for a network's ports in id order: list pages and markers seek, not sort

Revision ID: 0006_port_list_index
Revises: 0005_address_scopes
Create Date: 2026-12-05
"""
from alembic import op

revision = '0006_port_list_index'
down_revision = '0005_address_scopes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ports', schema=None) as batch_op:
        batch_op.create_index('ix_ports_network_id_id', ['network_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('ports', schema=None) as batch_op:
        batch_op.drop_index('ix_ports_network_id_id')
