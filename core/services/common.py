"""Pieces every resource service uses: standard attribute dicts, tags, revisions."""
import collections
import contextlib
import contextvars

import sqlalchemy as sa
from sqlalchemy import event, orm

from netweave.core import exceptions as exc
from netweave.core.db import model_base
from netweave.core.db.models import tag as tag_model

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(value):
    if value is None:
        return None
    if value.tzinfo is None and value.year >= 1000:
        # What strftime(TIME_FORMAT) gives, several times faster (lists format thousands);
        # isoformat's timespec argument alone cost half of it.
        text = value.isoformat()
        return (text[:19] if value.microsecond else text) + "Z"
    return value.strftime(TIME_FORMAT)


def standard_dict(row, tags=None):
    created_at = format_time(row.created_at)
    return {
        "id": row.id,
        "name": row.name,
        "tenant_id": row.project_id,
        "project_id": row.project_id,
        "description": row.description,
        "created_at": created_at,
        # A row never updated shows its creation time twice: lists format thousands.
        "updated_at": created_at if row.updated_at == row.created_at else format_time(row.updated_at),
        "revision_number": row.revision_number,
        "tags": tags if tags is not None else [],
    }


def new_standard_values(data):
    """A new row's standard attributes from a create's ``data``, as the ORM would store
    them (a None value gets the column's default), for an insert without the ORM."""
    now = model_base.utcnow()
    return {"id": model_base.new_uuid(), "project_id": or_default(data["project_id"], ""),
            "name": or_default(data.get("name"), ""), "description": or_default(data.get("description"), ""),
            "created_at": now, "updated_at": now, "revision_number": 0}


def or_default(value, default):
    """``value``, or ``default`` when it is None (a column's default for a None value)."""
    return default if value is None else value


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


# --- If-Match: a revision precondition checked inside the writing transaction -----------

class _RevisionPrecondition:
    """The revision a request expects one resource at (``If-Match: revision_number=N``)."""

    def __init__(self, resource_id, revision):
        self.resource_id = resource_id
        self.revision = revision
        # Set once a transaction that checked it has committed: the request's later
        # transactions (a port's binding after its update, say) move the revision on
        # themselves and are not held to it.
        self.settled = False


_PRECONDITION = contextvars.ContextVar("netweave_revision_precondition", default=None)
# session.info key: the precondition a session's transaction has checked.
_CHECKED = "netweave_revision_checked"


@contextlib.contextmanager
def revision_precondition(resource_id, revision):
    """Hold the writes made within the block to ``resource_id`` being at ``revision``.

    The first transaction that updates or deletes that resource's row (any
    StandardAttributes row with that id) must have read it at ``revision``,
    else RevisionNumberConstraintFailed (412). The check runs at the flush that
    writes the row, and that UPDATE or DELETE carries ``WHERE revision_number =
    <the value read>`` (the version column): a compare-and-swap. When another
    request commits a new revision in between, the statement matches no row,
    StaleDataError has the request retried, and the retry reads the new revision
    and fails the check. ``revision`` None holds nothing.

    Yields the precondition (None for no revision): its ``settled`` tells
    afterwards whether a committed transaction really checked it.
    """
    if revision is None:
        yield None
        return
    precondition = _RevisionPrecondition(resource_id, revision)
    token = _PRECONDITION.set(precondition)
    try:
        yield precondition
    finally:
        _PRECONDITION.reset(token)


def check_revision_precondition(session, resource_id, revision):
    """For a write made without the ORM (a DELETE statement): hold it to the request's
    precondition on ``resource_id``, as the flush check below does for ORM writes.
    ``revision`` is the one read; the statement itself must match only that
    revision (the compare-and-swap), so a mismatch found here fails with 412."""
    precondition = _PRECONDITION.get()
    if precondition is None or precondition.settled or precondition.resource_id != resource_id:
        return
    if revision != precondition.revision:
        raise exc.RevisionNumberConstraintFailed(expected=precondition.revision, current=revision)
    session.info[_CHECKED] = precondition


@event.listens_for(orm.Session, "before_flush")
def _check_revision_precondition(session, _flush_context, _instances):
    precondition = _PRECONDITION.get()
    if precondition is None or precondition.settled or session.info.get(_CHECKED) is precondition:
        return
    for row in (*session.dirty, *session.deleted):
        if isinstance(row, model_base.StandardAttributes) and row.id == precondition.resource_id:
            # Before this flush the version column still holds the value read.
            if row.revision_number != precondition.revision:
                raise exc.RevisionNumberConstraintFailed(expected=precondition.revision,
                                                         current=row.revision_number)
            session.info[_CHECKED] = precondition
            return


@event.listens_for(orm.Session, "after_commit")
def _settle_revision_precondition(session):
    precondition = session.info.pop(_CHECKED, None)
    if precondition is not None:
        precondition.settled = True


@event.listens_for(orm.Session, "after_rollback")
def _forget_revision_check(session):
    # A retry runs in a new transaction, which checks again.
    session.info.pop(_CHECKED, None)
