"""One-query list reads: filters, tags, sorting and marker pagination over a model.

A ``ColumnMap`` says which SQL expression stands for each API attribute; only
mapped attributes can be filtered or sorted on in SQL, the rest (rare) are
filtered in Python on the built dicts.
"""
import sqlalchemy as sa

from netweave.core.db.models import tag as tag_model


def _as_column_value(column, value):
    if value is None:
        return None
    return value


def apply_filters(stmt, column_map, filters):
    """Add WHERE clauses for filters whose attribute maps to a column; return the rest."""
    leftover = {}
    for name, values in (filters or {}).items():
        column = column_map.get(name)
        if column is None:
            leftover[name] = values
            continue
        values = [_as_column_value(column, v) for v in values]
        non_null = [v for v in values if v is not None]
        clauses = []
        if non_null:
            clauses.append(column.in_(non_null) if len(non_null) > 1 else column == non_null[0])
        if len(non_null) != len(values):
            clauses.append(column.is_(None))
        stmt = stmt.where(sa.or_(*clauses))
    return stmt, leftover


def apply_tag_filters(stmt, id_column, tag_filters):
    if not tag_filters:
        return stmt
    tags = tag_model.Tag
    for key, values in tag_filters.items():
        if key in ("tags", "not-tags"):
            # Has every tag: the number of matching tag rows equals the number asked for.
            sub = (sa.select(tags.resource_id).where(tags.tag.in_(values))
                   .group_by(tags.resource_id).having(sa.func.count() == len(set(values))))
        else:
            sub = sa.select(tags.resource_id).where(tags.tag.in_(values))
        clause = id_column.in_(sub)
        stmt = stmt.where(sa.not_(clause) if key.startswith("not-") else clause)
    return stmt


def apply_sorting(session, stmt, model, column_map, sorts, limit, marker, page_reverse):
    """Order by the requested keys (plus id for a total order) and seek past the marker."""
    keys = [(column_map[name], asc) for name, asc in (sorts or []) if name in column_map]
    if not any(col is model.id for col, _ in keys):
        keys.append((model.id, True))
    if page_reverse:
        keys = [(col, not asc) for col, asc in keys]
    if marker:
        marker_row = session.execute(sa.select(*[c for c, _ in keys]).where(model.id == marker)).first()
        if marker_row is not None:
            stmt = stmt.where(_after_marker(keys, list(marker_row)))
    stmt = stmt.order_by(*[(c.asc() if asc else c.desc()) for c, asc in keys])
    if limit:
        stmt = stmt.limit(limit)
    return stmt


def _after_marker(keys, values):
    """Rows strictly after the marker in the (multi-column) sort order."""
    ors = []
    for i, (col, asc) in enumerate(keys):
        ands = [keys[j][0] == values[j] for j in range(i)]
        ands.append(col > values[i] if asc else col < values[i])
        ors.append(sa.and_(*ands))
    return sa.or_(*ors)


def filter_dicts(items, leftover):
    """Filters that have no column: compare against the built dicts."""
    if not leftover:
        return items
    result = []
    for item in items:
        ok = True
        for name, values in leftover.items():
            value = item.get(name)
            if isinstance(value, list):
                if not any(v in value for v in values):
                    ok = False
            elif value not in values:
                ok = False
        if ok:
            result.append(item)
    return result


def select_fields(item, fields):
    if not fields:
        return item
    return {k: v for k, v in item.items() if k in fields}


def page_statement(session, stmt, model, column_map, filters=None, sorts=None, limit=None, marker=None,
                   page_reverse=False, tag_filters=None):
    """``stmt`` with everything a list call may ask added; returns (statement, leftover filters).
    ``session``: a Session or a Core Connection (the marker's row is read with a Core statement)."""
    stmt, leftover = apply_filters(stmt, column_map, filters)
    stmt = apply_tag_filters(stmt, model.id, tag_filters)
    stmt = apply_sorting(session, stmt, model, column_map, sorts, limit, marker, page_reverse)
    return stmt, leftover


def fetch_page(session, stmt, model, column_map, filters=None, sorts=None, limit=None, marker=None,
               page_reverse=False, tag_filters=None):
    """Run a list query with everything a list call may ask; returns (rows, leftover filters)."""
    stmt, leftover = page_statement(session, stmt, model, column_map, filters, sorts, limit, marker,
                                    page_reverse, tag_filters)
    return session.scalars(stmt).all(), leftover


def finish_page(items, leftover, page_reverse, fields):
    """Apply the Python-side filters, undo reverse paging and select the fields."""
    items = filter_dicts(items, leftover)
    if page_reverse:
        items.reverse()
    return [select_fields(i, fields) for i in items]
