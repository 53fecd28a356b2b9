"""bench/api_bench.py still runs: a --quick run on SQLite prints every phase."""
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(REPO, "bench", "api_bench.py")

PHASES = ["port create (serial)", "port create (parallel)", "port list", "port show", "port update (name)",
          "port delete", "network create", "network list", "router network+subnet", "router create",
          "router interface add", "router gateway set", "port create (instances)", "fip create (with port)",
          "fip create (no port)", "fip associate"]


@pytest.mark.slow
def test_quick_bench_prints_every_phase():
    result = subprocess.run([sys.executable, BENCH, "--start", "sqlite", "--quick", "--workers", "2"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=240, cwd=REPO)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output

    for label in ("URL", "database", "server workers", "client threads", "machine", "load average"):
        assert re.search(r"^\s+%s\s" % re.escape(label), result.stdout, re.M), output
    for phase in PHASES:
        # phase, ops, errors, seconds, ops/s, p50, p99
        line = re.search(r"^%s\s+(\d+)\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+" % re.escape(phase),
                         result.stdout, re.M)
        assert line, "phase %r missing:\n%s" % (phase, output)
        ops, errors = int(line.group(1)), int(line.group(2))
        assert ops > 0 and errors == 0, line.group(0)
    # The bench started the server, so it reports its workers' memory.
    workers = re.findall(r"^\d+\s+worker\s+([\d.]+)\s+([\d.]+)", result.stdout, re.M)
    assert len(workers) == 2, output
    assert all(float(rss) > 0 for rss, _peak in workers)
