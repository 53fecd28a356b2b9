"""core/services/page.py on a real database (SQLite and PostgreSQL): several side tables
read in one statement give each side the rows, values, types and order that reading it
alone gives, for a page with a bound parameter, a LIMIT and an empty side, with sides
sharing the union's slots."""
import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from harness import ml2_plugin
from netweave.core.services import page as page_mod

METADATA = sa.MetaData()
ITEMS = sa.Table("pt_items", METADATA, sa.Column("id", sa.String(36), primary_key=True),
                 sa.Column("owner", sa.String(36)))
# Handed out in ``position`` order, a column the side does not select.
ADDRESSES = sa.Table("pt_addresses", METADATA, sa.Column("item_id", sa.String(36)),
                     sa.Column("address", sa.String(64)), sa.Column("position", sa.Integer))
FLAGS = sa.Table("pt_flags", METADATA, sa.Column("item_id", sa.String(36)), sa.Column("enabled", sa.Boolean),
                 sa.Column("weight", sa.Integer))
STAMPS = sa.Table("pt_stamps", METADATA, sa.Column("item_id", sa.String(36)), sa.Column("at", sa.DateTime))
EMPTY = sa.Table("pt_empty", METADATA, sa.Column("item_id", sa.String(36)), sa.Column("note", sa.Text))
# Two text columns, sharing the union's slots with the addresses' text.
LABELS = sa.Table("pt_labels", METADATA, sa.Column("item_id", sa.String(36)), sa.Column("label", sa.String(64)),
                  sa.Column("value", sa.String(255)))

SIDES = (
    page_mod.Side(ADDRESSES.c.item_id, ADDRESSES.c.address, order_by=(ADDRESSES.c.item_id, ADDRESSES.c.position)),
    page_mod.Side(FLAGS.c.item_id, FLAGS.c.enabled, FLAGS.c.weight, order_by=(FLAGS.c.weight,)),
    page_mod.Side(STAMPS.c.item_id, STAMPS.c.at),
    page_mod.Side(EMPTY.c.item_id, EMPTY.c.note),
    page_mod.Side(LABELS.c.item_id, LABELS.c.label, LABELS.c.value, order_by=(LABELS.c.label,)),
)
OWNED = page_mod.Page(sa.select(ITEMS).where(ITEMS.c.owner == page_mod.bound("owner")).order_by(ITEMS.c.id),
                      ITEMS.c.id)


@pytest.fixture(params=ml2_plugin.ALL_BACKENDS)
def session(request, tmp_path):
    engine = sa.create_engine(ml2_plugin.database_url(request, tmp_path))
    METADATA.create_all(engine)
    try:
        with orm.Session(engine) as session:
            yield session
    finally:
        METADATA.drop_all(engine)
        engine.dispose()


def _fill(session):
    session.execute(sa.insert(ITEMS), [{"id": "i%d" % n, "owner": "a" if n < 4 else "b"} for n in range(6)])
    # Positions inserted out of order, and addresses whose text order is not theirs.
    session.execute(sa.insert(ADDRESSES), [
        {"item_id": "i1", "address": "10.0.0.9", "position": 1}, {"item_id": "i1", "address": "10.0.0.10",
                                                                  "position": 0},
        {"item_id": "i0", "address": "z", "position": 0}, {"item_id": "i5", "address": "other", "position": 0}])
    session.execute(sa.insert(FLAGS), [{"item_id": "i2", "enabled": True, "weight": 7},
                                       {"item_id": "i3", "enabled": False, "weight": 3},
                                       {"item_id": "i2", "enabled": False, "weight": -1}])
    session.execute(sa.insert(STAMPS), [{"item_id": "i3", "at": datetime.datetime(2026, 12, 5, 14, 30, 1)}])
    session.execute(sa.insert(LABELS), [{"item_id": "i1", "label": "zone", "value": "b" * 200},
                                        {"item_id": "i0", "label": "rack", "value": "r1"}])
    session.flush()


def test_sides_read_together_are_those_read_alone(session):
    _fill(session)
    statements = []
    sa.event.listen(session.get_bind(), "before_cursor_execute",
                    lambda *args: statements.append(args[2]))
    together = OWNED.bind(owner="a")
    connection = session.connection()
    together.fetch(connection, SIDES)
    assert len(statements) == 1
    got = [list(together.rows(connection, side)) for side in SIDES]
    assert len(statements) == 1  # rows() of fetched sides asks nothing more
    alone = OWNED.bind(owner="a")
    expected = [[tuple(row) for row in alone.rows(connection, side)] for side in SIDES]
    assert [[tuple(row) for row in rows] for rows in got] == expected
    assert got[0] == [("i0", "z"), ("i1", "10.0.0.10"), ("i1", "10.0.0.9")]
    assert got[1] == [("i2", False, -1), ("i3", False, 3), ("i2", True, 7)]
    assert all(isinstance(value, bool) for _id, value, _weight in got[1])
    assert got[2][0][1].year == 2026 and got[2][0][1].second == 1
    assert got[3] == []
    assert got[4] == [("i0", "rack", "r1"), ("i1", "zone", "b" * 200)]


def test_sides_share_the_unions_slots_by_type():
    """Side, key, then a slot per type as often as one side needs it: two strings (the
    labels), an integer, a boolean, a timestamp, a text; not one per column (eight)."""
    union, _params = OWNED.bind(owner="a")._union(SIDES)
    assert len(union.statement.selected_columns) == 2 + 6


def test_a_limited_page_reads_only_its_own_rows(session):
    _fill(session)
    page = page_mod.Page(sa.select(ITEMS).order_by(ITEMS.c.id.desc()).limit(2), ITEMS.c.id)
    connection = session.connection()
    page.fetch(connection, SIDES)
    # i5 and i4: only i5 has an address, neither has flags.
    assert page.rows(connection, SIDES[0]) == [("i5", "other")]
    assert page.rows(connection, SIDES[1]) == []


def test_a_side_without_columns_is_refused():
    with pytest.raises(ValueError):
        page_mod.Side(FLAGS.c.item_id)


def test_pages_of_one_shape_share_a_union_and_read_their_own_rows(session):
    """A list builds its page statement per request: the union is built once per shape
    and run with each page's own values (literal ones, a LIMIT, an IN list)."""
    _fill(session)
    connection = session.connection()

    def page_of(owners, limit):
        return page_mod.Page(sa.select(ITEMS).where(ITEMS.c.owner.in_(owners)).order_by(ITEMS.c.id).limit(limit),
                             ITEMS.c.id)

    first = page_of(["a"], 2)
    first.fetch(connection, SIDES)
    built = len(page_mod._UNIONS)
    second = page_of(["b", "c"], 3)
    second.fetch(connection, SIDES)
    assert len(page_mod._UNIONS) == built  # the same shape: no new union
    assert second.rows(connection, SIDES[0]) == [("i5", "other")]
    assert second.rows(connection, SIDES[1]) == []
    # The first page's values did not leak into the second, nor the reverse.
    assert [tuple(r) for r in first.rows(connection, SIDES[0])] == [("i0", "z"), ("i1", "10.0.0.10"),
                                                                    ("i1", "10.0.0.9")]
    third = page_of(["a"], 4)
    third.fetch(connection, SIDES)
    alone = page_of(["a"], 4)
    assert [[tuple(r) for r in third.rows(connection, side)] for side in SIDES] == [
        [tuple(r) for r in alone.rows(connection, side)] for side in SIDES]
    assert [tuple(r) for r in third.rows(connection, SIDES[1])] == [("i2", False, -1), ("i3", False, 3),
                                                                    ("i2", True, 7)]


ONE = page_mod.Page(sa.select(ITEMS).where(ITEMS.c.id == page_mod.bound("item_id")), ITEMS.c.id, key_param="item_id")


def test_a_page_of_one_reads_its_sides_by_id_as_a_joined_page_does(session):
    """A show's template page reads its sides by the id parameter, not joined to its
    statement: the same rows, with no join for the database to plan."""
    _fill(session)
    connection = session.connection()
    joined_template = page_mod.Page(ONE.statement, ITEMS.c.id)
    for item_id in ("i0", "i1", "i2", "i3", "i5"):
        by_id = ONE.bind(item_id=item_id)
        by_id.fetch(connection, SIDES)
        joined = joined_template.bind(item_id=item_id)
        joined.fetch(connection, SIDES)
        assert [[tuple(r) for r in by_id.rows(connection, side)] for side in SIDES] == [
            [tuple(r) for r in joined.rows(connection, side)] for side in SIDES]
        alone = ONE.bind(item_id=item_id)
        assert [[tuple(r) for r in alone.rows(connection, side)] for side in SIDES] == [
            [tuple(r) for r in joined.rows(connection, side)] for side in SIDES]
    assert [tuple(r) for r in ONE.bind(item_id="i1").rows(connection, SIDES[0])] == [
        ("i1", "10.0.0.10"), ("i1", "10.0.0.9")]
    union, _params = ONE.bind(item_id="i1")._union(SIDES)
    compiled = str(union.statement.compile(connection))
    assert "JOIN" not in compiled and ITEMS.name not in compiled
    assert ITEMS.name not in str(ONE.joined(SIDES[0]).compile(connection))


def test_a_page_of_one_reads_its_row_and_sides_in_one_statement(session):
    _fill(session)
    connection = session.connection()
    statements = []
    sa.event.listen(session.get_bind(), "before_cursor_execute", lambda *args: statements.append(args[2]))
    page = ONE.bind(item_id="i1")
    keys, rows = page.read(connection, SIDES)
    assert keys == ("id", "owner") and [tuple(r) for r in rows] == [("i1", "a")]
    got = [[tuple(r) for r in page.rows(connection, side)] for side in SIDES]
    assert len(statements) == 1  # the row and every side
    joined = page_mod.Page(ONE.statement, ITEMS.c.id).bind(item_id="i1")
    assert got == [[tuple(r) for r in joined.rows(connection, side)] for side in SIDES]
    assert got[0] == [("i1", "10.0.0.10"), ("i1", "10.0.0.9")] and got[4] == [("i1", "zone", "b" * 200)]
    # No row (none by that id, or one the statement's other conditions leave out): no sides.
    hidden = page_mod.Page(ONE.statement.where(ITEMS.c.owner == page_mod.bound("owner")), ITEMS.c.id,
                           key_param="item_id")
    for empty in (ONE.bind(item_id="nope"), hidden.bind(item_id="i1", owner="b")):
        assert empty.read(connection, SIDES) == (("id", "owner"), [])
    keys, rows = hidden.bind(item_id="i2", owner="a").read(connection, SIDES)
    assert [tuple(r) for r in rows] == [("i2", "a")]


def test_a_side_with_a_condition_holds_only_its_rows_read_together_or_alone(session):
    _fill(session)
    enabled_only = page_mod.Side(FLAGS.c.item_id, FLAGS.c.weight, order_by=(FLAGS.c.weight,),
                                 where=FLAGS.c.enabled == sa.true())
    connection = session.connection()
    together = OWNED.bind(owner="a")
    together.fetch(connection, SIDES + (enabled_only,))
    assert [tuple(r) for r in together.rows(connection, enabled_only)] == [("i2", 7)]
    alone = OWNED.bind(owner="a")
    assert [tuple(r) for r in alone.rows(connection, enabled_only)] == [("i2", 7)]
    # The side without the condition still reads every row.
    assert [tuple(r) for r in together.rows(connection, SIDES[1])] == [("i2", False, -1), ("i3", False, 3),
                                                                       ("i2", True, 7)]
    # A page of one reads it by the id, with its row in the same statement.
    one = ONE.bind(item_id="i2")
    one.read(connection, SIDES + (enabled_only,))
    assert [tuple(r) for r in one.rows(connection, enabled_only)] == [("i2", 7)]
    assert [tuple(r) for r in ONE.bind(item_id="i2").rows(connection, enabled_only)] == [("i2", 7)]
