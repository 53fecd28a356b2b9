"""An index for a project's ports in id order: a member's list pages seek, not sort

Revision ID: 0007_port_project_index
Revises: 0006_port_list_index
Create Date: 2026-12-05
"""
from alembic import op

revision = '0007_port_project_index'
down_revision = '0006_port_list_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ports', schema=None) as batch_op:
        batch_op.create_index('ix_ports_project_id_id', ['project_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('ports', schema=None) as batch_op:
        batch_op.drop_index('ix_ports_project_id_id')
