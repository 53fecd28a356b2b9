"""core/memory.py: glibc's malloc arenas limited in a prepared process, unless the
environment chose a limit. Each case runs in a fresh interpreter, whose threads make
their first allocations after the choice; the arenas are counted from malloc_info."""
import os
import subprocess
import sys
import textwrap

import pytest

from netweave.core import memory

pytestmark = pytest.mark.skipif(memory.glibc_version() is None, reason="glibc's malloc is what this limits")

_PROGRAM = textwrap.dedent("""
    import ctypes, os, re, sys, tempfile, threading
    from netweave.core import memory
    applied = memory.limit_malloc_arenas() if sys.argv[1] == "limit" else None
    barrier = threading.Barrier(8)
    kept = []

    def allocate():
        barrier.wait()  # all eight at once, each making its first allocations
        kept.append([bytearray(2000) for _ in range(200)])  # above pymalloc's 512 bytes: malloc's

    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    with tempfile.NamedTemporaryFile(suffix=".xml") as report:
        stream = libc.fopen(report.name.encode(), b"w")
        libc.malloc_info(0, stream)
        libc.fclose(stream)
        heaps = len(re.findall(r"<heap nr=", open(report.name).read()))
    print(applied, heaps)
""")


def _arenas(mode, **environment):
    env = {name: value for name, value in os.environ.items()
           if name != "MALLOC_ARENA_MAX" and name != "GLIBC_TUNABLES"}
    env.update(environment)
    done = subprocess.run([sys.executable, "-c", _PROGRAM, mode], env=env, capture_output=True, text=True,
                          check=True, timeout=60)
    applied, heaps = done.stdout.split()
    return applied, int(heaps)


def test_threads_share_one_arena_once_limited():
    assert _arenas("limit") == ("True", memory.MALLOC_ARENAS)


def test_without_the_limit_each_thread_takes_an_arena():
    # What the limit changes: eight threads allocating at once get arenas of their own.
    _applied, heaps = _arenas("leave")
    assert heaps > memory.MALLOC_ARENAS + 4


@pytest.mark.parametrize("environment", [{"MALLOC_ARENA_MAX": "3"},
                                         {"GLIBC_TUNABLES": "glibc.malloc.arena_max=3"}],
                         ids=["MALLOC_ARENA_MAX", "GLIBC_TUNABLES"])
def test_a_limit_the_environment_chose_is_left_alone(environment):
    applied, heaps = _arenas("limit", **environment)
    assert applied == "False"
    assert 1 < heaps <= 3
