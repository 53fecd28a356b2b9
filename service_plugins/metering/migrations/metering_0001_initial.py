"""metering labels and rules

Revision ID: metering_0001
Revises:
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = 'metering_0001'
down_revision = None
branch_labels = ('metering',)
# Nothing of the core is referenced; the core's first revision all the same, as every branch.
depends_on = '0001_initial'


def upgrade():
    op.create_table(
        'meteringlabels',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('project_id', sa.String(length=255), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.String(length=1024), nullable=False),
        sa.Column('shared', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('meteringlabels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meteringlabels_project_id'), ['project_id'], unique=False)

    op.create_table(
        'meteringlabelrules',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('metering_label_id', sa.String(length=36), nullable=False),
        sa.Column('direction', sa.String(length=16), nullable=False),
        sa.Column('excluded', sa.Boolean(), nullable=False),
        sa.Column('remote_ip_prefix', sa.String(length=64), nullable=True),
        sa.Column('source_ip_prefix', sa.String(length=64), nullable=True),
        sa.Column('destination_ip_prefix', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['metering_label_id'], ['meteringlabels.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('meteringlabelrules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meteringlabelrules_metering_label_id'), ['metering_label_id'],
                              unique=False)


def downgrade():
    op.drop_table('meteringlabelrules')
    op.drop_table('meteringlabels')
