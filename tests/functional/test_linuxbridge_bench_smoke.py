"""bench/l2_agent_bench.py still runs, and a resync of wired ports changes nothing in the kernel.

A small run (a dozen ports) of the real bench: its own RabbitMQ, server, RPC
server and two agent processes in namespaces it makes and removes. Timings
are only printed (the machine is shared); what is asserted is that every
phase ran and that the restarted agent's resync made no kernel change.
"""
import os
import re
import subprocess
import sys

import pytest

from harness import rabbitmq, system

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(REPO, "bench", "l2_agent_bench.py")

pytestmark = [pytest.mark.system("ip", "bridge"), pytest.mark.slow]


def test_small_bench_run_resyncs_without_kernel_changes():
    system.require_root()
    system.require_executables("ip", "bridge", "epmd")
    system.require(rabbitmq.find_rabbitmq_bindir() is not None, "rabbitmq-server not installed")
    result = subprocess.run([sys.executable, BENCH, "--ports", "12"], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=400, cwd=REPO)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"^binding: 12 taps created -> all ACTIVE through the API: [\d.]+s", result.stdout, re.M), output
    resync = re.search(r"^resync: agent restart with 12 wired ports -> all reported again and ACTIVE: ([\d.]+)s",
                       result.stdout, re.M)
    assert resync, output
    assert re.search(r"first full pass \(scan, details, plan, report\): [\d.]+s", result.stdout), output
    assert "kernel changes during the resync: 0 netlink events (ip monitor), 0 differing" in result.stdout, output
