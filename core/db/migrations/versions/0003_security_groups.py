"""security groups, rules, port security and allowed address pairs

Revision ID: 0003_security_groups
Revises: 0002_agents
Create Date: 2026-11-24
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0003_security_groups'
down_revision = '0002_agents'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
