"""Alembic revisions of the branch ``lbaasv2`` (load balancers and their tree)."""
