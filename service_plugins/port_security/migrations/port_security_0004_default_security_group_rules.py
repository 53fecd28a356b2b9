"""securitygroupdefaultrules (security-groups-default-rules), seeded with Neutron's defaults

Revision ID: port_security_0004
Revises: port_security_0003
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = 'port_security_0004'
down_revision = 'port_security_0003'
branch_labels = None
depends_on = None

# The rules new groups got before the templates existed (models.SEED_DEFAULT_RULES).
_SEED = (
    ("c1c3e9a1-0000-4000-8000-000000000001", "egress", "IPv4", None),
    ("c1c3e9a1-0000-4000-8000-000000000002", "egress", "IPv6", None),
    ("c1c3e9a1-0000-4000-8000-000000000003", "ingress", "IPv4", "PARENT"),
    ("c1c3e9a1-0000-4000-8000-000000000004", "ingress", "IPv6", "PARENT"),
)


def upgrade():
    table = op.create_table('securitygroupdefaultrules',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('direction', sa.String(length=36), nullable=False),
    sa.Column('ethertype', sa.String(length=40), nullable=False),
    sa.Column('protocol', sa.String(length=40), nullable=True),
    sa.Column('port_range_min', sa.Integer(), nullable=True),
    sa.Column('port_range_max', sa.Integer(), nullable=True),
    sa.Column('remote_ip_prefix', sa.String(length=255), nullable=True),
    sa.Column('remote_group_id', sa.String(length=36), nullable=True),
    sa.Column('used_in_default_sg', sa.Boolean(), nullable=False),
    sa.Column('used_in_non_default_sg', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(table, [
        {"id": rule_id, "description": "", "direction": direction, "ethertype": ethertype, "protocol": None,
         "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": remote,
         "used_in_default_sg": True, "used_in_non_default_sg": remote is None}
        for rule_id, direction, ethertype, remote in _SEED])


def downgrade():
    op.drop_table('securitygroupdefaultrules')
