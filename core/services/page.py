"""A page of rows, as the statement that selected them; side tables are read joined to it.

A port list reads its ports with one statement, then its side tables
(addresses, tags, DHCP options, the extension drivers' tables) joined to that
statement's ids instead of sending the ids back as parameters: all of them in
one more statement (``fetch``: a UNION ALL of the side reads), whose rows
``rows`` then hands out side by side. A single port is read the same way, as
a page of one row whose statement is a module constant with a bound parameter
(``bind`` gives it its value): the statements joined to it are then built once
per process, and so are their SQL and cache keys, which cost more than running
them when built per request.
"""
import operator

import sqlalchemy as sa

from netweave.core.db import mysql


class Side:
    """What pages read of a side table: rows of (``key``, *``columns``), ``key`` being the
    id of the page's row they belong to, in ascending ``order_by`` (columns of the table).
    Build it once (a module constant): its joined forms are then built once too.

    The database reads the rows unordered and ``arrange`` orders them here: a page's
    sides are few rows apiece, and an ORDER BY over a union of them made the
    database sort every side's rows by every side's terms, which cost more than
    reading them (values of one column compare alike in any database; text by code
    point here, not by a database's collation)."""

    def __init__(self, key, *columns, order_by=(), where=None, joined=None):
        """``where``: a condition on the side's table; the side then holds only the rows that
        meet it (a side whose readers take a missing row for a default value reads only
        the rows that differ from it). ``joined``: where the columns come from when they
        span tables (a join that holds the key's table); else the key's table."""
        if not columns:
            raise ValueError("a side selects at least one column besides its key")
        self.key = key
        self.columns = columns
        self.where = where
        self.source = key.table if joined is None else joined
        # Read after its own columns: those it is ordered by but does not hand out.
        extra = [c for c in order_by if c is not key and not any(c is s for s in columns)]
        self.selected = (key, *columns, *extra)
        self.width = 1 + len(columns)
        order = [next(i for i, s in enumerate(self.selected) if s is c) for c in order_by]
        self._sort_key = operator.itemgetter(*order) if order else None
        self.statement = sa.select(*self.selected).select_from(self.source)
        if where is not None:
            self.statement = self.statement.where(where)

    def arrange(self, rows):
        """``rows`` as read (laid out as ``selected``) in order, with the key and the
        side's own columns."""
        if self._sort_key is not None:
            rows = sorted(rows, key=self._sort_key)
        if len(self.selected) > self.width:
            rows = [row[:self.width] for row in rows]
        return rows


class _Union:
    """Several sides joined to one page, read by one statement: each branch selects a
    constant naming its side, its key, then the other columns its side reads
    (Side.selected) in slots. Sides share slots by column type, so the union is as wide
    as the widest mix of types rather than as all the sides' columns together; a slot
    a branch does not use is NULL, typed as the slot's columns so that results convert
    alike in every branch (PostgreSQL resolves a UNION's branches pairwise, and two
    untyped NULLs would make a text column the next branch cannot join)."""

    def __init__(self, page_ids, sides, key_param=None, head=None, prepare=False):
        """``key_param``: the sides select the rows whose key is that parameter (a page
        of one row) instead of joining ``page_ids``. ``head``: (that page's statement,
        its id column), whose own rows then come first, as branch number len(sides),
        its columns in slots too (``head_getter`` gives them back in the statement's
        order). ``prepare``: the statement is a template's, run with every show
        (mysql.PREPARE)."""
        heads = [] if head is None else [list(head[0].selected_columns)]
        slot_types = []  # per slot: the type of the columns it holds
        layouts = []  # per branch (the head's first): the slot of each column it reads after the key
        for columns in heads + [list(side.selected[1:]) for side in sides]:
            layout = []
            for column in columns:
                kind = type(column.type)
                slot = next((i for i, t in enumerate(slot_types) if type(t) is kind and i not in layout), None)
                if slot is None:
                    slot = len(slot_types)
                    slot_types.append(column.type)
                layout.append(slot)
            layouts.append(layout)

        def slotted(index, key, columns, layout):
            if head is not None and index != len(sides):
                # After the head's branch, whose typed columns set each slot's type: a
                # NULL needs no cast, which spares the database parsing one per slot.
                values = [sa.null() for _slot_type in slot_types]
            else:
                values = [sa.cast(sa.null(), slot_type) for slot_type in slot_types]
            for column, slot in zip(columns, layout):
                values[slot] = column
            selected = [sa.literal_column(str(index), sa.Integer).label("side"), key.label("key")]
            selected.extend(value.label("s%d" % slot) for slot, value in enumerate(values))
            return selected

        branches = []
        if head is not None:
            # The head's rows first: a UNION's result converts values by its first branch's types.
            branches.append(head[0].with_only_columns(*slotted(len(sides), head[1], heads[0], layouts[0])))
        for index, side in enumerate(sides):
            selected = slotted(index, side.key, side.selected[1:], layouts[len(heads) + index])
            if key_param is not None:
                branch = sa.select(*selected).select_from(side.source).where(side.key == sa.bindparam(key_param))
            else:
                branch = sa.select(*selected).select_from(side.source.join(page_ids, list(page_ids.c)[0] == side.key))
            branches.append(branch if side.where is None else branch.where(side.where))
        self.statement = sa.union_all(*branches)
        if prepare:
            self.statement = self.statement.execution_options(**{mysql.PREPARE: True})
        # A side's row as it reads it alone: the key, then its columns out of their slots.
        self.getters = [operator.itemgetter(1, *(2 + slot for slot in layout)) for layout in layouts[len(heads):]]
        self.head_getter = None
        if heads:
            positions = [2 + slot for slot in layouts[0]]
            getter = operator.itemgetter(*positions)
            # (itemgetter of one position gives the value, not a tuple of it)
            self.head_getter = getter if len(positions) > 1 else (lambda row: (getter(row),))


# (sides, page statement's cache key) -> (_Union, the bound parameters of the statement
# it was built from, in cache key order): see Page._union.
_UNIONS = {}
_UNIONS_KEPT = 256


class Page:
    """``statement`` selected the rows; ``id_column`` is their id among its columns;
    ``params`` are the values of its bound parameters.

    ``key_param`` names the bound parameter holding the id of the one row a page
    may hold (a show's template): its sides are then read by that id rather
    than joined to the statement, which spares the database planning a join of
    every side to it on every call (on PostgreSQL that planning cost more than
    running the read). Read them only once the page's own row was found: a
    side's rows are not checked against the statement's other conditions."""

    def __init__(self, statement, id_column, params=None, joins=None, key_param=None):
        self.statement = statement
        self.id_column = id_column
        self.params = params or {}
        self.key_param = key_param
        # (sides, ...) -> the statements joined to this page. Shared by the pages
        # ``bind`` makes of one template.
        self._joins = {} if joins is None else joins
        self._fetched = {}  # Side -> its rows, read by ``fetch``

    def bind(self, **params):
        """This page with values for its bound parameters; it shares the joins built so far."""
        return Page(self.statement, self.id_column, params, self._joins, self.key_param)

    def _ids(self):
        return self.statement.with_only_columns(self.id_column).subquery()

    def joined(self, side):
        """``side`` (a Side) restricted to the page's rows."""
        found = self._joins.get(side)
        if found is None:
            # Two threads may both build it: the same statement either way.
            if self.key_param is not None:
                found = self._joins[side] = side.statement.where(
                    side.key == sa.bindparam(self.key_param)).execution_options(**{mysql.PREPARE: True})
            else:
                ids = self._ids()
                found = self._joins[side] = side.statement.join(ids, list(ids.c)[0] == side.key)
        return found

    def fetch(self, connection, sides):
        """Read the rows of every side of ``sides`` in one statement; ``rows`` then
        returns them without asking the database again. ``connection``: a Core
        Connection (db_api.reader_connection, or a session's ``connection()``): pages
        select table columns, never ORM entities, and Core runs them without the ORM's
        result machinery (which fetched a row at a time)."""
        sides = tuple(side for side in dict.fromkeys(sides) if side not in self._fetched)
        if not sides:
            return
        if len(sides) == 1:
            self.rows(connection, sides[0])
            return
        union, params = self._union(sides)
        lists = [[] for _side in sides]
        getters = union.getters
        for row in connection.execute(union.statement, params).all():
            index = row[0]
            lists[index].append(getters[index](row))
        for side, rows in zip(sides, lists):
            self._fetched[side] = side.arrange(rows)

    def read(self, connection, sides):
        """(the column keys of the page's statement, its rows), with ``sides`` read as
        ``fetch`` reads them when there are rows (``rows`` then hands them out). A page
        of one row (``key_param``) reads its row and its sides in one statement, a
        UNION ALL whose first branch is the page's statement: one round trip, and one
        result's column descriptions, fewer. Rows are tuples in the statement's order."""
        sides = tuple(side for side in dict.fromkeys(sides) if side not in self._fetched)
        if self.key_param is None or not sides:
            result = self.execute(connection)
            keys, rows = tuple(result.keys()), result.all()
            if rows and sides:
                self.fetch(connection, sides)
            return keys, rows
        found = self._joins.get(("head", sides))
        if found is None:
            # Two threads may both build it: equivalent unions either way.
            union = _Union(None, sides, self.key_param, (self.statement, self.id_column), prepare=True)
            found = self._joins[("head", sides)] = (tuple(self.statement.selected_columns.keys()), union)
        keys, union = found
        rows, lists = [], [[] for _side in sides]
        getters, head, own = union.getters, len(sides), union.head_getter
        for row in connection.execute(union.statement, self.params).all():
            index = row[0]
            if index == head:
                rows.append(own(row))
            else:
                lists[index].append(getters[index](row))
        if rows:
            for side, side_rows in zip(sides, lists):
                self._fetched[side] = side.arrange(side_rows)
        return keys, rows

    def _union(self, sides):
        """The _Union reading ``sides`` for this page, and the parameters to run it with.

        A list builds a new statement per request, but the same few shapes recur (the
        same filters, a limit, a marker): a union is built once per shape (SQLAlchemy's
        cache key of the page statement) and run with this page's values, which the
        cache key lists in the same order for every statement of that shape. Building
        a union and its cache key cost a page of one more than reading it.
        """
        union = self._joins.get(sides)
        if union is not None:
            # Built for this very statement (a template's pages share it).
            return union, self.params
        if self.key_param is not None:
            union = self._joins[sides] = _Union(None, sides, self.key_param, prepare=True)
            return union, self.params
        key = self.statement._generate_cache_key()
        if key is None:
            # A statement SQLAlchemy cannot cache: a union of its own.
            union = self._joins[sides] = _Union(self._ids_cte(), sides)
            return union, self.params
        shared = _UNIONS.get((sides, key.key))
        if shared is None:
            if len(_UNIONS) >= _UNIONS_KEPT:
                _UNIONS.clear()  # an unusual variety of lists: start over rather than grow
            # Two threads may both build it: equivalent unions either way.
            shared = _UNIONS[(sides, key.key)] = (_Union(self._ids_cte(), sides), key.bindparams)
        union, built_with = shared
        if all(mine is theirs for mine, theirs in zip(key.bindparams, built_with)):
            self._joins[sides] = union  # built from this statement: found first next time
            return union, self.params
        params = {theirs.key: mine.effective_value for mine, theirs in zip(key.bindparams, built_with)}
        params.update(self.params)
        return union, params

    def _ids_cte(self):
        # A CTE: the page's ids are selected once, not once per branch.
        return self.statement.with_only_columns(self.id_column).cte("page_ids")

    def rows(self, connection, side):
        """The rows of ``side`` (key first) that belong to the page's rows."""
        found = self._fetched.get(side)
        if found is None:
            found = self._fetched[side] = side.arrange(connection.execute(self.joined(side), self.params).all())
        return found

    def execute(self, connection):
        """The page's own rows (a Result)."""
        return connection.execute(self.statement, self.params)




def bound(name):
    """A bound parameter a template page's statement takes its value from (see Page.bind)."""
    return sa.bindparam(name)
