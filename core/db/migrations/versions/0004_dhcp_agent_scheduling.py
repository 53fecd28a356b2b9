"""DHCP agents hosting networks

Revision ID: 0004_dhcp_agents
Revises: 0003_security_groups
Create Date: 2026-11-24
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0004_dhcp_agents'
down_revision = '0003_security_groups'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
