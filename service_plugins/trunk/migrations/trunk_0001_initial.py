"""trunks and subports

Revision ID: trunk_0001
Revises:
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = 'trunk_0001'
down_revision = None
branch_labels = ('trunk',)
# ports.
depends_on = '0001_initial'


def upgrade():
    op.create_table(
        'trunks',
        sa.Column('admin_state_up', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('port_id', sa.String(length=36), nullable=False),
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('project_id', sa.String(length=255), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('revision_number', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['port_id'], ['ports.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('port_id'),
    )
    with op.batch_alter_table('trunks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trunks_project_id'), ['project_id'], unique=False)

    op.create_table(
        'subports',
        sa.Column('port_id', sa.String(length=36), nullable=False),
        sa.Column('trunk_id', sa.String(length=36), nullable=False),
        sa.Column('segmentation_type', sa.String(length=32), nullable=False),
        sa.Column('segmentation_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['port_id'], ['ports.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['trunk_id'], ['trunks.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('port_id'),
        sa.UniqueConstraint('trunk_id', 'segmentation_type', 'segmentation_id',
                            name='uniq_subport0trunk_id0segmentation_type0segmentation_id'),
    )
    with op.batch_alter_table('subports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subports_trunk_id'), ['trunk_id'], unique=False)


def downgrade():
    op.drop_table('subports')
    op.drop_table('trunks')
