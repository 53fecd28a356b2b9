"""the az branch

Revision ID: az_0001
Revises:
Create Date: 2026-12-05

Zones are what the agents report (the core's agents table) and networks keep
their hints in the core's own column, so the branch starts from the core with
nothing of its own; routers' hints follow in az_0002, once the router
branch's routers table exists.
"""
revision = 'az_0001'
down_revision = None
branch_labels = ('az',)
# The agents table and networks.availability_zone_hints.
depends_on = '0002_agents'


def upgrade():
    pass


def downgrade():
    pass
