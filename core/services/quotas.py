"""Quota limits per project: configured defaults, stored overrides, usage and enforcement."""
import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import mysql
from netweave.core.db.models import quota as quota_model


class QuotaService:
    """Knows the countable resources (name -> model) and the limits that apply to them."""

    def __init__(self, conf):
        self.conf = conf
        self.countable = {}  # resource name -> ORM model with project_id
        # resource name -> one statement reading the project's stored limit and usage
        self._limit_and_usage = {}
        # resource name -> (the stored limit and a count capped at a number, the count alone):
        # MySQL's LIMIT takes a number, not the expression the statement above computes
        self._limit_then_usage = {}

    def register(self, name, model):
        self.countable[name] = model
        self._limit_and_usage[name] = _limit_and_usage_statement(name, model)
        usage = _capped_usage_statement(model)
        self._limit_then_usage[name] = (_stored_limit_and_capped_usage_statement(name, usage), usage)

    def default_limit(self, name):
        return getattr(self.conf.quotas, "quota_%s" % name, self.conf.quotas.default_quota)

    def limits(self, session, project_id):
        limits = {name: self.default_limit(name) for name in self.countable}
        rows = session.execute(sa.select(quota_model.Quota.resource, quota_model.Quota.limit)
                               .where(quota_model.Quota.project_id == project_id))
        for resource, limit in rows:
            if resource in limits:
                limits[resource] = limit
        return limits

    def usage(self, session, project_id, name):
        model = self.countable[name]
        return session.scalar(sa.select(sa.func.count()).select_from(model)
                              .where(model.project_id == project_id))

    def check(self, session, project_id, name, adding=1):
        """Raise OverQuota when ``adding`` more resources would pass the project's limit.

        Runs inside the creating transaction, so on SQLite (one writer at a time) the
        count is exact; on other databases two racing creates may overshoot by one.
        Returns the limit that was enforced, or None when none applies.
        """
        if name not in self.countable or not project_id:
            return None
        # The stored limit and the count in one round trip; a count is cheap next
        # to a second statement, even when the limit turns out to be unlimited.
        stored, used = self._read(session, project_id, name)
        limit = self.default_limit(name) if stored is None else stored
        if limit < 0:
            return None
        if used + adding > limit:
            raise exc.OverQuota(overs=name)
        return limit

    def check_usage(self, session, project_id, name, limit, adding=1):
        """``check`` against a limit read before: counts the resources again only."""
        used = self._read(session, project_id, name, limit)[1]
        if used + adding > limit:
            raise exc.OverQuota(overs=name)

    def _read(self, session, project_id, name, limit=None):
        """(stored limit or None, resources counted up to one past ``limit``, or past the
        limit in force when None) of the project."""
        # A plain table statement does not autoflush: rows added in this session count too.
        session.flush()
        default = self.default_limit(name)
        if not mysql.is_mysql(session.get_bind().dialect):
            return tuple(session.execute(self._limit_and_usage[name],
                                         {"project_id": project_id, "known_limit": limit,
                                          "default_limit": default}).one())
        # MySQL and MariaDB take a number in LIMIT, no expression: the count is capped for
        # the limit known before reading (the caller's, else the default), in the same
        # statement as the stored limit. Only a stored limit above that cap (a project
        # whose quota was raised) needs a second count.
        both_statement, usage_statement = self._limit_then_usage[name]
        guess = default if limit is None else limit
        stored, used = session.execute(both_statement, {"project_id": project_id, "cap": _cap(guess)}).one()
        in_force = next(value for value in (limit, stored, default) if value is not None)
        if _cap(in_force) > _cap(guess):
            used = session.scalar(usage_statement, {"project_id": project_id, "cap": _cap(in_force)})
        return stored, used

    def first_below_usage(self, session, project_id, values):
        """(name, limit, used) of the first new limit below the project's usage, else None.

        The quota-check-limit rule: a limit may not drop below what is already used
        (unlimited, -1, never does); the caller skips this check when forced.
        """
        for name in sorted(values):
            limit = values[name]
            if limit < 0:
                continue
            used = self.usage(session, project_id, name)
            if used > limit:
                return name, limit, used
        return None

    def update(self, session, project_id, values):
        for name, limit in values.items():
            row = session.scalar(sa.select(quota_model.Quota).where(
                quota_model.Quota.project_id == project_id, quota_model.Quota.resource == name))
            if row is None:
                session.add(quota_model.Quota(project_id=project_id, resource=name, limit=limit))
            else:
                row.limit = limit

    def delete(self, session, project_id, names=None):
        """Drop the project's own limits (of ``names`` only, when given): the defaults apply again."""
        stmt = sa.delete(quota_model.Quota).where(quota_model.Quota.project_id == project_id)
        if names is not None:
            stmt = stmt.where(quota_model.Quota.resource.in_(list(names)))
        return session.execute(stmt).rowcount

    def projects_with_overrides(self, session):
        return sorted(set(session.scalars(sa.select(quota_model.Quota.project_id))))


def _cap(limit):
    """How far to count for ``limit``: one past it, nothing at all when unlimited."""
    return 0 if limit < 0 else limit + 1


def _stored_limit_statement(name):
    quotas = quota_model.Quota.__table__
    return sa.select(quotas.c.limit).where(quotas.c.project_id == sa.bindparam("project_id"),
                                           quotas.c.resource == name)


def _stored_limit_and_capped_usage_statement(name, usage):
    """SELECT (the project's stored limit of ``name`` or NULL), (``usage``: its count up to ``cap``)."""
    return sa.select(_stored_limit_statement(name).scalar_subquery().label("stored_limit"),
                     usage.scalar_subquery().label("used"))


def _capped_usage_statement(model):
    """The project's count of ``model`` rows, up to ``cap``."""
    table = model.__table__
    rows = (sa.select(sa.literal(1).label("one")).select_from(table)
            .where(table.c.project_id == sa.bindparam("project_id"))
            .limit(sa.bindparam("cap", type_=sa.Integer, literal_execute=True)))
    return sa.select(sa.func.count()).select_from(rows.subquery())


def _limit_and_usage_statement(name, model):
    """SELECT (the project's stored limit of ``name`` or NULL), (its count of ``model``
    rows, counted up to one past the limit in force), built once: the statement's
    compiled form is then reused for every create.

    A count past limit + 1 decides nothing more (``used + adding > limit`` holds
    already), so a create costs the same whatever the project holds; an unlimited
    (negative) limit counts nothing at all.
    """
    quotas = quota_model.Quota.__table__
    table = model.__table__
    project = sa.bindparam("project_id")
    stored = (sa.select(quotas.c.limit).where(quotas.c.project_id == project, quotas.c.resource == name)
              .scalar_subquery())
    in_force = sa.func.coalesce(sa.bindparam("known_limit", type_=sa.Integer), stored,
                                sa.bindparam("default_limit", type_=sa.Integer))
    cap = sa.case((in_force < 0, 0), else_=in_force + 1)
    rows = sa.select(sa.literal(1).label("one")).select_from(table).where(table.c.project_id == project).limit(cap)
    used = sa.select(sa.func.count()).select_from(rows.subquery()).scalar_subquery()
    return sa.select(stored.label("stored_limit"), used.label("used"))
