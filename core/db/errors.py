"""Database errors that are the client's doing, as the API errors they stand for.

Input is validated before any query; this is the one place that turns what a
database still refuses into a 4xx instead of a 500, whatever raised it:

* a value the column cannot hold (too long, out of range, not of its type):
  PostgreSQL's DataError -> 400;
* a NUL character in a string, which psycopg2 refuses with a plain ValueError
  before sending the query -> 400;
* a row referring to one that a concurrent request removed (foreign key
  violation), or a unique or other constraint a concurrent request took first
  -> 409 once the retries in ``retry_db_errors`` gave up;
* NOT NULL and CHECK constraint violations, which only a value the
  validation let through can cause -> 400.

Anything else is a server fault and stays a 500.
"""
from sqlalchemy import exc as sa_exc

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api

# psycopg2: "A string literal cannot contain NUL (0x00) characters."
_NUL_MARKER = "NUL (0x00)"


def as_client_error(error):
    """The NeutronException ``error`` stands for, or None when it is a server fault."""
    if isinstance(error, sa_exc.DataError):
        return exc.InvalidInput(error_message="a value does not fit its attribute (too long, out of "
                                              "range or of the wrong type)")
    if isinstance(error, ValueError) and _NUL_MARKER in str(error):
        return exc.InvalidInput(error_message="a string contains a NUL character")
    if isinstance(error, sa_exc.IntegrityError):
        if db_api.is_foreign_key_violation(error):
            return exc.ConcurrentlyRemoved()
        if db_api.is_duplicate(error):
            return exc.ConcurrentlyModified()
        return exc.InvalidInput(error_message="a value breaks a constraint of its resource")
    return None
