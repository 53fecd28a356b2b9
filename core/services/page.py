"""A page of rows, as the statement that selected them; side tables are read joined to it.

A port list reads its ports with one statement, then each side table
(addresses, tags, DHCP options, the extension drivers' tables) with one query
joined to that statement's ids instead of sending the ids back as parameters.
A single port is read the same way, as a page of one row whose statement is a
module constant with a bound parameter (``bind`` gives it its value): the
statements joined to it are then built once per process, and so are their
SQL and cache keys, which cost more than running them when built per request.
"""
import sqlalchemy as sa


class Page:
    """``statement`` selected the rows; ``id_column`` is their id among its columns;
    ``params`` are the values of its bound parameters."""

    def __init__(self, statement, id_column, params=None, joins=None):
        self.statement = statement
        self.id_column = id_column
        self.params = params or {}
        # (side statement, its key column) -> the side statement joined to this page.
        # Shared by the pages ``bind`` makes of one template.
        self._joins = {} if joins is None else joins

    def bind(self, **params):
        """This page with values for its bound parameters; it shares the joins built so far."""
        return Page(self.statement, self.id_column, params, self._joins)

    def where(self, *conditions):
        """A page of the rows of this one that meet ``conditions`` (joins not shared)."""
        return Page(self.statement.where(*conditions), self.id_column, self.params)

    def joined(self, side, key):
        """``side``, a statement on a side table (built once, a module constant), restricted
        to the page's rows by its column ``key``."""
        cache_key = (side, key)
        found = self._joins.get(cache_key)
        if found is None:
            ids = self.statement.with_only_columns(self.id_column).subquery()
            # Two threads may both build it: the same statement either way.
            found = self._joins[cache_key] = side.join(ids, list(ids.c)[0] == key)
        return found

    def rows(self, session, side, key):
        """The rows of ``side`` that belong to the page's rows."""
        return session.execute(self.joined(side, key), self.params).all()

    def execute(self, session):
        """The page's own rows (a Result)."""
        return session.execute(self.statement, self.params)


def bound(name):
    """A bound parameter a template page's statement takes its value from (see Page.bind)."""
    return sa.bindparam(name)
