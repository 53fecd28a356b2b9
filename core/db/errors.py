"""Database errors that are the client's doing, as the API errors they stand for.

Input is validated before any query; this is the one place that turns what a
database still refuses into a 4xx instead of a 500, whatever raised it:

* a value the column cannot hold (too long, out of range, not of its type):
  PostgreSQL's DataError, MySQL/MariaDB's errors 1264, 1265, 1292, 1366, 1367,
  1406 and 1690 (some raised as OperationalError) -> 400;
* a NUL character in a string, which the PostgreSQL drivers refuse before
  sending the query (psycopg with a DataError, psycopg2 with a plain
  ValueError) -> 400;
* a row referring to one that a concurrent request removed (foreign key
  violation), or a unique or other constraint a concurrent request took first
  -> 409 once the retries in ``retry_db_errors`` gave up;
* NOT NULL and CHECK constraint violations, which only a value the
  validation let through can cause (MySQL's 1364, a missing value, is an
  OperationalError) -> 400.

MySQL/MariaDB's deadlocks (1213) and lock wait timeouts (1205) never get here
while retries are left: ``retry_db_errors`` runs the unit of work again, as for
PostgreSQL's serialization failures.

Anything else is a server fault and stays a 500.
"""
from sqlalchemy import exc as sa_exc

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import mysql

# psycopg: "PostgreSQL text fields cannot contain NUL (0x00) bytes";
# psycopg2: "A string literal cannot contain NUL (0x00) characters."
_NUL_MARKER = "NUL (0x00)"


def _does_not_fit():
    return exc.InvalidInput(error_message="a value does not fit its attribute (too long, out of "
                                          "range or of the wrong type)")


def _breaks_a_constraint():
    return exc.InvalidInput(error_message="a value breaks a constraint of its resource")


def as_client_error(error):
    """The NeutronException ``error`` stands for, or None when it is a server fault."""
    # MySQL/MariaDB raise some of these as OperationalError: their error number decides.
    code = mysql.error_code(error)
    if code in mysql.BAD_VALUE:
        return _does_not_fit()
    if code in mysql.CONSTRAINT_VIOLATION:
        return _breaks_a_constraint()
    if isinstance(error, (ValueError, sa_exc.DataError)) and _NUL_MARKER in str(error):
        return exc.InvalidInput(error_message="a string contains a NUL character")
    if isinstance(error, sa_exc.DataError):
        return _does_not_fit()
    if isinstance(error, sa_exc.IntegrityError):
        if db_api.is_foreign_key_violation(error):
            return exc.ConcurrentlyRemoved()
        if db_api.is_duplicate(error):
            return exc.ConcurrentlyModified()
        return _breaks_a_constraint()
    return None
