"""Alembic revisions of the port_security branch (entry point in netweave.db.migrations)."""
