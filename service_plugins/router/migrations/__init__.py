"""Alembic revisions of the branch ``router`` (routers, router ports, extra routes, floating IPs)."""
