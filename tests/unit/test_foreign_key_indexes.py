"""Every foreign key of the schema (the core's tables and every installed plugin's) has its
columns at the head of an index, the primary key or a unique constraint of its table.

Deleting a referenced row makes the database look for the rows that point at it (to
cascade, set NULL or refuse), and reads go from a row to what points at it: without
such an index each of these scans the whole table, a cost that grows with every row
of it. MySQL and MariaDB index foreign keys by themselves; SQLite and PostgreSQL do not.
"""
import sqlalchemy as sa

from netweave.core.db import all_models


def _leading_columns(table):
    """The column tuples of ``table`` that the database can seek by their first columns."""
    found = [tuple(column.name for column in table.primary_key.columns)]
    found += [tuple(column.name for column in index.columns) for index in table.indexes]
    found += [tuple(column.name for column in constraint.columns) for constraint in table.constraints
              if isinstance(constraint, sa.UniqueConstraint)]
    return found


def _unindexed_foreign_keys(metadata):
    missing = []
    for table in metadata.sorted_tables:
        for foreign_key in table.foreign_key_constraints:
            columns = tuple(foreign_key.column_keys)
            if not any(leading[:len(columns)] == columns for leading in _leading_columns(table)):
                missing.append("%s(%s) -> %s" % (table.name, ", ".join(columns), foreign_key.referred_table.name))
    return missing


def test_every_foreign_key_leads_an_index():
    assert _unindexed_foreign_keys(all_models.metadata) == []


def test_a_foreign_key_behind_another_column_is_found():
    # The check itself: a key second in the primary key, and one with no index at all.
    metadata = sa.MetaData()
    sa.Table("parents", metadata, sa.Column("id", sa.String(36), primary_key=True))
    sa.Table("children", metadata,
             sa.Column("name", sa.String(36), primary_key=True),
             sa.Column("parent_id", sa.String(36), sa.ForeignKey("parents.id"), primary_key=True),
             sa.Column("other_id", sa.String(36), sa.ForeignKey("parents.id")),
             sa.Column("indexed_id", sa.String(36), sa.ForeignKey("parents.id"), index=True),
             sa.Column("unique_id", sa.String(36), sa.ForeignKey("parents.id"), unique=True))
    assert sorted(_unindexed_foreign_keys(metadata)) == ["children(other_id) -> parents",
                                                         "children(parent_id) -> parents"]
