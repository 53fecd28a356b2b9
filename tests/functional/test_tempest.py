"""tempest's network API suite (tempest.api.network, the pinned release) against netweave.

The cloud (harness.tempest): a real Keystone with netweave in its catalog, a
netweave-all-in-one validating its tokens on a RabbitMQ whose in-process agents
wire a namespace of their own, a DHCP agent for the same host, and an external
network for routers and floating IPs. tempest runs
with dynamic credentials and ``[enforce_scope] neutron = true`` as devstack sets it
up; tests that need a compute service skip themselves.

tempest_expected_failures.txt names each test expected to fail today and the
feature it waits for. A failure outside that list fails here, and so does a listed
test that passes, so the list only shrinks. To run only this suite:

    tools/run-tests.sh tests/functional/test_tempest.py
"""
import pathlib

import pytest

from harness import system
from harness import tempest as tempest_harness

pytestmark = [pytest.mark.slow, pytest.mark.system("ip", "dnsmasq"), pytest.mark.timeout(1800)]

EXPECTED_FAILURES = pathlib.Path(__file__).with_name("tempest_expected_failures.txt")
SUITE = r"^tempest\.api\.network\."
# tempest 47.0.0 runs 255 tests of the suite here; far fewer means tests went missing.
AT_LEAST_RUN = 240


def expected_failures():
    listed = {}
    for line in EXPECTED_FAILURES.read_text().splitlines():
        test_id, _, reason = line.partition("#")
        if test_id.strip():
            listed[test_id.strip()] = reason.strip()
    return listed


@pytest.fixture(scope="module")
def suite(rabbitmq_server, tmp_path_factory):
    system.require_root()
    venv = tempest_harness.tempest_venv()
    workdir = tmp_path_factory.mktemp("tempest")
    cloud = tempest_harness.TempestCloud(workdir / "cloud", rabbitmq_server.transport_url)
    try:
        cloud.start()
        workspace = tempest_harness.TempestWorkspace(venv, workdir / "workspace")
        workspace.init(cloud)
        results, output = workspace.run_suite(SUITE, concurrency=2, timeout=1500)
    finally:
        cloud.stop()
    counts = {status: sum(1 for s in results.values() if s == status) for status in set(results.values())}
    print("tempest %s: %s" % (SUITE, ", ".join("%s %d" % item for item in sorted(counts.items()))))
    for test_id in sorted(test_id for test_id, status in results.items() if status == "fail"):
        print("failed:", test_id)
    return results, output


def test_the_suite_ran(suite):
    results, output = suite
    ran = [test_id for test_id, status in results.items() if status in ("success", "fail")]
    assert len(ran) >= AT_LEAST_RUN, output[-3000:]


def test_no_failure_outside_the_list(suite):
    results, output = suite
    listed = expected_failures()
    unexpected = sorted(test_id for test_id, status in results.items()
                        if status == "fail" and test_id not in listed)
    assert not unexpected, "\n".join(unexpected) + "\n\n" + output[-20000:]


def test_every_listed_test_still_fails(suite):
    results, _output = suite
    passing = sorted(test_id for test_id in expected_failures() if results.get(test_id) == "success")
    assert not passing, "these pass now; take them off %s:\n%s" % (EXPECTED_FAILURES.name, "\n".join(passing))
