"""The memory of netweave's long-running processes (API workers, the RPC server, the
agents), set once they have started.

Besides the garbage collector (garbage_collection.py): glibc's malloc gives each
thread that allocates an arena of its own, up to eight per core, and an arena keeps
the memory it once held. An API worker's threads take turns serving requests, so
every thread that once served a 1,000-port list kept that list's peak: after
``bench/api_bench.py`` the worker that served the lists held 105-108 MB, against
92-93 MB with one arena. Python runs one thread at a time (the GIL), so threads do
not wait for one arena either: the bench's rates did not move (bench/README.md).
"""
import ctypes
import logging
import os

from netweave.core import garbage_collection

LOG = logging.getLogger(__name__)

# Arenas of glibc's malloc per process.
MALLOC_ARENAS = 1
# mallopt's parameter for the arena limit (M_ARENA_MAX in glibc's malloc.h).
_M_ARENA_MAX = -8


def glibc_version():
    """glibc's version string ("glibc 2.36"), or None on another C library."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION")  # None, or ValueError, elsewhere
    except (ValueError, OSError):
        return None


def arena_limit_set_by_environment():
    """Whether the operator chose glibc's arena limit (MALLOC_ARENA_MAX or a tunable)."""
    return "MALLOC_ARENA_MAX" in os.environ or "glibc.malloc.arena_max" in os.environ.get("GLIBC_TUNABLES", "")


def limit_malloc_arenas(count=MALLOC_ARENAS):
    """Make glibc's malloc use at most ``count`` arenas from now on; whether it was set
    (not on another C library, nor when the environment chose a limit already)."""
    if arena_limit_set_by_environment() or glibc_version() is None:
        return False
    libc = ctypes.CDLL(None)  # this process's own symbols: glibc's mallopt among them
    return bool(libc.mallopt(_M_ARENA_MAX, count))


def prepare_for_serving():
    """Call once the process has built what it serves with (garbage_collection's
    freeze); a thread that allocates for the first time after it shares the arenas."""
    garbage_collection.prepare_for_serving()
    if not limit_malloc_arenas():
        LOG.debug("glibc's malloc arenas left as they are")
