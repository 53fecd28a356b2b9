"""Tags on standard resources: /v2.0/{collection}/{id}/tags[/{tag}]."""
import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import tag as tag_model

MAX_TAGS = 50
MAX_TAG_LEN = 255


def check_tag(tag):
    """Raise InvalidInput unless ``tag`` is a tag Neutron takes (a string of at most
    MAX_TAG_LEN characters) that also fits a URL segment and a log line: no "/",
    no control character (CR, LF, NUL ...), not only whitespace. Returns the tag."""
    reason = None
    if not isinstance(tag, str):
        reason = "'%s' is not a valid string" % (tag,)
    elif not tag.strip():
        reason = "a tag must not be empty or only whitespace"
    elif len(tag) > MAX_TAG_LEN:
        reason = "'%s' exceeds maximum length of %s" % (tag, MAX_TAG_LEN)
    elif "/" in tag:
        reason = "a tag must not contain '/'"
    elif any(ord(char) < 0x20 or ord(char) == 0x7f for char in tag):
        reason = "a tag must not contain control characters"
    if reason is not None:
        shown = tag.encode("unicode_escape").decode("ascii") if isinstance(tag, str) else tag
        raise exc.InvalidInput(error_message="'%s' is not a valid tag: %s" % (shown, reason))
    return tag


def checked_tags(tags):
    """A tags list from a request, checked: its distinct tags, sorted (InvalidInput,
    TagLimitExceeded otherwise)."""
    if not isinstance(tags, list):
        raise exc.InvalidInput(error_message="Invalid tags body")
    for tag in tags:
        check_tag(tag)
    wanted = sorted(set(tags))
    if len(wanted) > MAX_TAGS:
        raise exc.TagLimitExceeded(limit=MAX_TAGS)
    return wanted


def write_on_create(session, resource_type, resource_id, tags):
    """Store the ``tags`` of a create body (tag-creation) in the create's transaction;
    returns them as the resource's dict shows them."""
    wanted = checked_tags(tags or [])
    if wanted:
        session.execute(sa.insert(tag_model.Tag.__table__), [
            {"resource_id": resource_id, "tag": tag, "resource_type": resource_type} for tag in wanted])
    return wanted


class TagService:
    Tag = tag_model.Tag

    def _current(self, session, resource_id):
        return sorted(session.scalars(sa.select(self.Tag.tag).where(self.Tag.resource_id == resource_id)))

    def get_all(self, resource_id):
        with db_api.reader_scope() as session:
            return self._current(session, resource_id)

    def has(self, resource_id, tag):
        if "\x00" in tag:
            return False  # no tag holds one, and no database would compare it
        with db_api.reader_scope() as session:
            return session.get(self.Tag, (resource_id, tag)) is not None

    @db_api.retry_db_errors
    def replace_all(self, resource_type, resource_id, tags, touch=None):
        wanted = checked_tags(tags)
        with db_api.session_scope() as session:
            session.execute(sa.delete(self.Tag).where(self.Tag.resource_id == resource_id))
            for tag in wanted:
                session.add(self.Tag(resource_id=resource_id, tag=tag, resource_type=resource_type))
            if touch is not None:
                touch(session)
        return wanted

    @db_api.retry_db_errors
    def add(self, resource_type, resource_id, tag, touch=None):
        check_tag(tag)
        with db_api.session_scope() as session:
            if session.get(self.Tag, (resource_id, tag)) is not None:
                return
            count = len(self._current(session, resource_id))
            if count >= MAX_TAGS:
                raise exc.TagLimitExceeded(limit=MAX_TAGS)
            session.add(self.Tag(resource_id=resource_id, tag=tag, resource_type=resource_type))
            if touch is not None:
                touch(session)

    @db_api.retry_db_errors
    def remove(self, resource_id, tag, touch=None):
        if "\x00" in tag:
            raise exc.TagNotFound(tag=tag.replace("\x00", "\\x00"))
        with db_api.session_scope() as session:
            deleted = session.execute(sa.delete(self.Tag).where(
                self.Tag.resource_id == resource_id, self.Tag.tag == tag)).rowcount
            if not deleted:
                raise exc.TagNotFound(tag=tag)
            if touch is not None:
                touch(session)

    @db_api.retry_db_errors
    def remove_all(self, resource_id, touch=None):
        with db_api.session_scope() as session:
            session.execute(sa.delete(self.Tag).where(self.Tag.resource_id == resource_id))
            if touch is not None:
                touch(session)
