"""securitygroups.stateful (stateful-security-group)

Revision ID: port_security_0003
Revises: port_security_0002
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = 'port_security_0003'
down_revision = 'port_security_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('securitygroups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stateful', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('securitygroups', schema=None) as batch_op:
        batch_op.drop_column('stateful')
