"""A pool of segmentation ids kept in an allocation table, shared by many servers.

The table has one row per id of the configured ranges, ``allocated`` telling
whether a network holds it, plus allocated rows for provider ids outside the
ranges. Nothing is locked in the process: ids are claimed with a conditional
UPDATE (compare-and-swap) whose row count says who won, and ids outside the ranges
are claimed by INSERT, where the primary key lets only one server succeed. A
claim that keeps losing raises ``RetryRequest`` so the whole request runs again.
Where the database can skip rows other transactions locked (``FOR UPDATE SKIP
LOCKED``), any free id is read locked, so concurrent claims never race for one.

VLAN pools are split by physical network (the *partition*); tunnel pools are not.
All methods work in the caller's session and never commit.
"""
import itertools
import logging
import random

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from netweave.core.db import api as db_api
from netweave.type_drivers import ranges as id_ranges

LOG = logging.getLogger(__name__)

# Picking at random among a few free rows keeps concurrent servers from all going
# for the same (first) free id.
CANDIDATE_WINDOW = 10
# Re-reads of the free rows before giving the request back to retry_db_errors.
CLAIM_ROUNDS = 3
INSERT_CHUNK = 1000


class SegmentPool:
    def __init__(self, model, id_column, partition_column=None):
        self.table = model.__table__
        self._id = self.table.c[id_column]
        self._partition = None if partition_column is None else self.table.c[partition_column]
        self._allocated = self.table.c.allocated
        # The statements of a network create and delete, built once: building one per
        # call (its clauses and cache key) cost more than running it. ``partition`` is
        # a parameter of each, bound only where the pool is partitioned.
        key = self._key(sa.bindparam("segment_id"), sa.bindparam("partition"))
        free = sa.select(self._id).where(*self._scope(sa.bindparam("partition")), self._allocated == sa.false())
        self._free = free.limit(CANDIDATE_WINDOW)
        # One free row, locked: concurrent creates skip it rather than wait for it and
        # lose (with 8 at once, half the claims from a window of 10 lost).
        self._free_locked = free.limit(1).with_for_update(skip_locked=True)
        self._claim_free = self.table.update().where(*key, self._allocated == sa.false()).values(allocated=True)
        self._free_one = self.table.update().where(*key).values(allocated=False)
        self._drop_one = self.table.delete().where(*key)

    # --- start-up ----------------------------------------------------------

    def sync(self, session, ranges, partition=None):
        """Make the free rows of ``partition`` match ``ranges`` exactly.

        Missing ids of the ranges are added; free rows outside them are deleted;
        allocated rows stay wherever they are until their network goes away.
        """
        scope = self._scope(partition)
        merged = id_ranges.merge_ranges(ranges)
        inside = sa.or_(*(self._id.between(low, high) for low, high in merged)) if merged else sa.false()
        # "allocated = false" in the DELETE itself: a row claimed meanwhile by another
        # server no longer matches, so it survives.
        dropped = session.execute(self.table.delete().where(
            *scope, self._allocated == sa.false(), sa.not_(inside))).rowcount
        added = 0
        for low, high in merged:
            existing = set(session.scalars(sa.select(self._id).where(*scope, self._id.between(low, high))))
            missing = (value for value in range(low, high + 1) if value not in existing)
            for chunk in _chunks(missing, INSERT_CHUNK):
                session.execute(self.table.insert(), [self._row(value, partition, False) for value in chunk])
                added += len(chunk)
        if added or dropped:
            LOG.info("%s%s: %d ids added, %d free ids outside the ranges removed",
                     self.table.name, "" if partition is None else " (%s)" % partition, added, dropped)

    def forget_partitions_except(self, session, partitions):
        """Delete the free rows of partitions (physnets) no longer configured."""
        stmt = self.table.delete().where(self._allocated == sa.false())
        if partitions:
            stmt = stmt.where(self._partition.not_in(sorted(partitions)))
        session.execute(stmt)

    # --- allocation ----------------------------------------------------------

    def allocate_any(self, session, partition=None):
        """Claim a free id of ``partition`` and return it; None when none is free."""
        connection = session.connection()
        free = self._free_locked if db_api.skips_locked_rows(connection.dialect) else self._free
        for _ in range(CLAIM_ROUNDS):
            candidates = list(connection.execute(free, self._params(partition)).scalars())
            if not candidates:
                return None
            random.shuffle(candidates)
            for candidate in candidates:
                if self._claim(session, candidate, partition):
                    return candidate
        raise db_api.RetryRequest("%s: every free id was taken by others while claiming" % self.table.name)

    def allocate(self, session, segment_id, partition=None):
        """Claim ``segment_id``; False when a network already holds it.

        An id outside the ranges has no row yet: it gets one, inserted as allocated.
        """
        for _ in range(CLAIM_ROUNDS):
            if self._claim(session, segment_id, partition):
                return True
            allocated = session.scalar(sa.select(self._allocated).where(*self._key(segment_id, partition)))
            if allocated:
                return False
            if allocated is None and self._insert_allocated(session, segment_id, partition):
                return True
            # The row was freed, or inserted by another server, since the UPDATE: look again.
        raise db_api.RetryRequest("%s: id %s changed hands while claiming" % (self.table.name, segment_id))

    def release(self, session, segment_id, in_ranges, partition=None):
        """Give ``segment_id`` back; ids outside the ranges lose their row. True when a row changed."""
        stmt = self._free_one if in_ranges else self._drop_one
        return session.connection().execute(stmt, self._params(partition, segment_id)).rowcount > 0

    # --- helpers ---------------------------------------------------------------

    def _claim(self, session, segment_id, partition):
        return session.connection().execute(self._claim_free, self._params(partition, segment_id)).rowcount == 1

    def _insert_allocated(self, session, segment_id, partition):
        try:
            # A savepoint keeps the caller's transaction usable when the key is taken.
            with session.begin_nested():
                session.execute(self.table.insert().values(**self._row(segment_id, partition, True)))
        except sa_exc.IntegrityError as error:
            if not db_api.is_duplicate(error):
                raise
            return False
        return True

    def _params(self, partition, segment_id=None):
        params = {"segment_id": segment_id}
        if self._partition is not None:
            params["partition"] = partition
        return params

    def _scope(self, partition):
        return [] if self._partition is None else [self._partition == partition]

    def _key(self, segment_id, partition):
        return [self._id == segment_id, *self._scope(partition)]

    def _row(self, segment_id, partition, allocated):
        row = {self._id.name: segment_id, self._allocated.name: allocated}
        if self._partition is not None:
            row[self._partition.name] = partition
        return row


def _chunks(values, size):
    iterator = iter(values)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
