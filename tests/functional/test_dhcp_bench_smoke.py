"""bench/dhcp_agent_bench.py still runs: a --quick run prints every figure and meets its checks."""
import os
import re
import subprocess
import sys

import pytest

from harness import dhcp as dh

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(REPO, "bench", "dhcp_agent_bench.py")


@pytest.mark.slow
def test_quick_dhcp_bench():
    dh.require_dhcp_tools()
    result = subprocess.run([sys.executable, BENCH, "--quick"], stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=300, cwd=REPO)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"^cold start\s+5 networks served in [\d.]+ s \(5 dnsmasq running, 25 ports reported ready\); "
                     r"a lease on the last network obtained", result.stdout, re.M), output
    assert re.search(r"^teardown\s+5 networks removed in [\d.]+ s \(5 namespaces gone\)", result.stdout, re.M), output
    assert re.search(r"^port change\s+100 ports: pass [\d.]+ ms, dnsmasq reread [\d.]+ ms, new MAC bound [\d.]+ ms, "
                     r"dnsmasq kept \(same pid\)", result.stdout, re.M), output
