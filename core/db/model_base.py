"""Declarative base and the column sets every standard resource shares."""
import datetime
import uuid

import sqlalchemy as sa
from sqlalchemy import orm

UUID_LEN = 36
PROJECT_ID_LEN = 255
NAME_LEN = 255
DESCRIPTION_LEN = 255


def new_uuid():
    return str(uuid.uuid4())


def utcnow():
    # Neutron shows second precision; keeping it here makes stored and shown values equal.
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)


class Base(orm.DeclarativeBase):
    """Root of every netweave table."""


class StandardAttributes:
    """Columns of Neutron's "standard attributes": id, project, name, description,
    timestamps and a revision number that doubles as the optimistic-lock version.

    ``revision_number`` is SQLAlchemy's version column: every UPDATE carries
    ``WHERE revision_number = <read value>``, so two writers of one row can never
    both win; the loser gets StaleDataError and the request is retried.
    """

    id: orm.Mapped[str] = orm.mapped_column(sa.String(UUID_LEN), primary_key=True, default=new_uuid)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(PROJECT_ID_LEN), index=True, default="")
    name: orm.Mapped[str] = orm.mapped_column(sa.String(NAME_LEN), default="")
    description: orm.Mapped[str] = orm.mapped_column(sa.String(DESCRIPTION_LEN), default="")
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime, default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)
    revision_number: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, nullable=False, default=0)

    @orm.declared_attr.directive
    def __mapper_args__(cls):
        return {
            "version_id_col": cls.__table__.c.revision_number,
            "version_id_generator": lambda version: 0 if version is None else version + 1,
        }
