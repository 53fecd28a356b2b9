"""Alembic revisions of the example_service branch."""
