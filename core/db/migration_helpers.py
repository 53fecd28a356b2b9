"""Schema operations that migrations of several branches share."""
from alembic import op

from netweave.core.db import mysql


def drop_foreign_key_index(table, name, key_columns):
    """Drop index ``name`` of ``table``, which leads with ``key_columns``, a foreign key's.

    MySQL and MariaDB keep an index for every foreign key: they made one for this key
    by themselves, and dropped it when ``name`` was created to serve the key instead.
    They refuse to drop ``name`` alone (error 1553), so the same statement gives the key
    back an index of its own, named as they name one (after its first column).
    """
    bind = op.get_bind()
    if mysql.is_mysql(bind.dialect):
        quote = bind.dialect.identifier_preparer.quote
        op.execute("ALTER TABLE %s DROP INDEX %s, ADD INDEX %s (%s)" % (
            quote(table), quote(name), quote(key_columns[0]), ", ".join(quote(c) for c in key_columns)))
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_index(name)
