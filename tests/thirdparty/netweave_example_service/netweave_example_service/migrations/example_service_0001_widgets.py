"""widgets

The first revision of the example_service branch; it needs netweave's networks
and ports tables, created by the core revision 0001_initial.

Revision ID: example_service_0001
Revises:
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = 'example_service_0001'
down_revision = None
branch_labels = ('example_service',)
depends_on = '0001_initial'


def upgrade():
    op.create_table('example_widgets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('port_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('port_id')
    )
    with op.batch_alter_table('example_widgets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_example_widgets_project_id'), ['project_id'], unique=False)


def downgrade():
    with op.batch_alter_table('example_widgets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_example_widgets_project_id'))
    op.drop_table('example_widgets')
