"""bench/firewall_bench.py runs end to end on a small host (the figures are not checked here)."""
import os
import subprocess
import sys

import pytest

from harness import system

BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "firewall_bench.py")


@pytest.mark.system("ip", "iptables-restore", "ip6tables-restore", "ipset", "ebtables-restore", "conntrack")
def test_firewall_bench_runs_on_a_small_host():
    system.require_root()
    result = subprocess.run([sys.executable, BENCH, "--ports", "20", "--rules", "6", "--members", "20",
                             "--repeat", "2"], capture_output=True, text=True, timeout=300)
    assert "full resync" in result.stdout and "changes made: none" in result.stdout, result.stdout + result.stderr
    assert "membership change" in result.stdout
    assert not [line for line in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
                .splitlines() if line.startswith("nwfwbench-") and line.split()[0] in result.stdout]
