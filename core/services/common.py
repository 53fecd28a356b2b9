"""Pieces every resource service uses: standard attribute dicts, tags and quota checks."""
import collections

import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db import model_base
from netweave.core.db.models import tag as tag_model

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(value):
    if value is None:
        return None
    if value.tzinfo is None and value.year >= 1000:
        # What strftime(TIME_FORMAT) gives, several times faster (lists format thousands).
        return value.isoformat(timespec="seconds") + "Z"
    return value.strftime(TIME_FORMAT)


def standard_dict(row, tags=None):
    return {
        "id": row.id,
        "name": row.name,
        "tenant_id": row.project_id,
        "project_id": row.project_id,
        "description": row.description,
        "created_at": format_time(row.created_at),
        "updated_at": format_time(row.updated_at),
        "revision_number": row.revision_number,
        "tags": tags if tags is not None else [],
    }


def load_tags(session, ids):
    """Tags of many resources in one query: {resource_id: [tag, ...]}."""
    result = collections.defaultdict(list)
    ids = list(ids)
    if not ids:
        return result
    tags = tag_model.Tag
    # Chunked so a long list stays within every database's parameter limit.
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for resource_id, tag in session.execute(
                sa.select(tags.resource_id, tags.tag).where(tags.resource_id.in_(chunk))):
            result[resource_id].append(tag)
    for values in result.values():
        values.sort()
    return result


def delete_tags(session, resource_id):
    session.execute(sa.delete(tag_model.Tag).where(tag_model.Tag.resource_id == resource_id))


def bump_revision(row):
    """Mark a parent row changed so its revision moves and concurrent writers conflict."""
    row.updated_at = model_base.utcnow()
    # Timestamps have second precision: within the same second the value above does not
    # change, and an unchanged row is not written (so its revision would not move).
    orm.attributes.flag_modified(row, "updated_at")
