"""Alembic revisions of the branch ``az`` (the availability zone hints of routers)."""
