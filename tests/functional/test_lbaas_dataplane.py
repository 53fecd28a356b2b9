"""The haproxy agent's data plane with real haproxy and real HTTP between namespaces (no server):
round robin over three instance servers through the VIP, a stopped member marked DOWN by the
health monitor and read back from the stats socket as OFFLINE, SOURCE_IP and HTTP_COOKIE
persistence, reload without dropping an established connection, reloads under load without a
failed request, and undeploy."""
import collections
import json
import os
import subprocess
import sys
import time

import pytest

from harness import lbaas, loadgen
from harness.multihost import run
from netweave.service_plugins.lbaasv2.agent import driver as driver_mod
from netweave.service_plugins.lbaasv2.agent import stats as stats_mod

pytestmark = pytest.mark.system("ip", "haproxy", "curl")

WEBS = (("web1", "192.168.200.9"), ("web2", "192.168.200.7"), ("web3", "192.168.200.8"))
VIP_URL = "http://%s/" % lbaas.VIP


@pytest.fixture
def lab(tmp_path):
    lab = lbaas.Lab(tmp_path)
    try:
        for name, ip in WEBS:
            lab.web(name, ip)
        yield lab
    finally:
        lab.close()


def wait_for(predicate, what, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def members_of(description):
    return {m["id"]: m["name"] for m in description["pools"][0]["members"]}


def statuses(lab, description):
    text = lab.driver.read_stats(description["id"])
    assert text is not None
    by_id = stats_mod.member_statuses(stats_mod.parse(text))
    return {members_of(description)[member_id]: status for member_id, status in by_id.items()}


def settled_up(lab, description):
    """Every member UP with a passed check (not "UP 1/2", still going down after a failure)."""
    rows = [r for r in stats_mod.parse(lab.driver.read_stats(description["id"]) or "")
            if r["svname"] in members_of(description)]
    return len(rows) == len(members_of(description)) and all(
        r["status"] == "UP" and r["check_status"] == "L7OK" for r in rows)


def test_round_robin_failover_and_recovery(lab):
    members = [lbaas.member(ip, name) for name, ip in WEBS]
    description = lbaas.description(members, monitor=lbaas.http_monitor(delay=1, timeout=1, max_retries=2))
    assert lab.deploy(description)
    namespace = driver_mod.namespace_of(description["id"])
    assert "ns-" + description["vip_port"]["id"][:11] in run("ip", "-n", namespace, "-o", "link").stdout
    # The checks before the tap joined the bridge failed: wait until every member is back UP.
    wait_for(lambda: settled_up(lab, description), "all members UP")
    answers = [lab.curl(VIP_URL) for _ in range(6)]
    assert sorted(answers[:3]) == ["This is web1", "This is web2", "This is web3"]
    assert answers[3:] == answers[:3], answers  # strict rotation
    lab.stop_server("web2")
    # delay 1 s x fall 2: down within a few seconds, then read as OFFLINE.
    wait_for(lambda: statuses(lab, description)["web2"] == "OFFLINE", "web2 OFFLINE", timeout=10)
    answers = {lab.curl(VIP_URL) for _ in range(6)}
    assert answers == {"This is web1", "This is web3"}
    tree = stats_mod.tree_statuses(description, {m: s for m, s in stats_mod.member_statuses(
        stats_mod.parse(lab.driver.read_stats(description["id"]))).items()})
    assert tree["pool"][description["pools"][0]["id"]] == "DEGRADED"
    lab.start_server("web2")
    wait_for(lambda: settled_up(lab, description), "web2 back ONLINE", timeout=10)
    assert statuses(lab, description)["web2"] == "ONLINE"
    assert {lab.curl(VIP_URL) for _ in range(6)} == {"This is web1", "This is web2", "This is web3"}
    counters = stats_mod.loadbalancer_stats(stats_mod.parse(lab.driver.read_stats(description["id"])))
    assert counters["total_connections"] >= 18 and counters["bytes_out"] > 0


def test_source_ip_persistence_keeps_a_client_on_one_member(lab):
    members = [lbaas.member(ip, name) for name, ip in WEBS]
    description = lbaas.description(members, persistence={"type": "SOURCE_IP", "cookie_name": None})
    assert lab.deploy(description)
    wait_for(lambda: lab.curl(VIP_URL), "the VIP to answer")
    for client in (0, 1):
        assert len({lab.curl(VIP_URL, client=client) for _ in range(6)}) == 1


def test_http_cookie_persistence_sets_and_honours_srv(lab):
    members = [lbaas.member(ip, name) for name, ip in WEBS]
    description = lbaas.description(members, persistence={"type": "HTTP_COOKIE", "cookie_name": None})
    assert lab.deploy(description)
    wait_for(lambda: lab.curl(VIP_URL), "the VIP to answer")
    headers = lab.curl(VIP_URL, extra=("-D", "-", "-o", "/dev/null"))
    cookie = [line for line in headers.splitlines() if line.lower().startswith("set-cookie: srv=")]
    assert cookie, headers
    member_id = cookie[0].split("=", 1)[1].split(";")[0].strip()
    name = members_of(description)[member_id]
    answers = {lab.curl(VIP_URL, extra=("-b", "SRV=" + member_id)) for _ in range(6)}
    assert answers == {"This is " + name}


def test_reload_keeps_an_established_connection_and_applies_the_change(lab):
    members = [lbaas.member(ip, name) for name, ip in WEBS]
    description = lbaas.description(members)
    assert lab.deploy(description)
    wait_for(lambda: lab.curl(VIP_URL), "the VIP to answer")
    manager = lab.driver._manager(description["id"])
    old_pid = manager.pid
    # A request in flight through the old haproxy (the member answers after 3 s).
    slow = subprocess.Popen(["ip", "netns", "exec", lab.clients[0], "curl", "-s", "-m", "10", VIP_URL + "slow"],
                            stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        description["pools"][0]["members"] = members[:1]
        assert lab.deploy(description)
        assert manager.pid != old_pid
        assert {lab.curl(VIP_URL) for _ in range(4)} == {"This is web1"}
        output, _ = slow.communicate(timeout=15)
        assert output.startswith("This is"), "the request in flight was dropped"
    finally:
        slow.kill()
        slow.wait()
    # Deploying the same description again starts nothing new.
    pid = manager.pid
    assert lab.deploy(description) and manager.pid == pid


def test_no_listener_means_no_haproxy_and_undeploy_removes_everything(lab):
    members = [lbaas.member(ip, name) for name, ip in WEBS]
    description = lbaas.description(members)
    listeners = description.pop("listeners")
    description["listeners"] = []
    assert not lab.deploy(description)
    assert not lab.driver.is_running(description["id"])
    description["listeners"] = listeners
    assert lab.deploy(description)
    directory = lab.driver.directory(description["id"])
    assert os.path.exists(os.path.join(directory, "haproxy.conf"))
    lab.driver.undeploy(description["id"])
    assert not lab.driver.is_running(description["id"])
    assert driver_mod.namespace_of(description["id"]) not in run("ip", "netns", "list").stdout
    assert not os.path.exists(directory)


def test_reloads_under_load_reset_no_connection(lab):
    """60 reloads, one every 0.25 s, under 400 new connections/s: not one request fails. With -sf
    alone the old haproxy's closing listening sockets reset what is queued on them (bench/README)."""
    members = [lbaas.member(ip, name) for name, ip in WEBS]
    description = lbaas.description(members)
    assert lab.deploy(description)
    wait_for(lambda: lab.curl(VIP_URL), "the VIP to answer")
    manager = lab.driver._manager(description["id"])
    output = os.path.join(lab.lbaas_path, "load.json")
    load = subprocess.Popen(["ip", "netns", "exec", lab.clients[0], sys.executable, loadgen.__file__, VIP_URL,
                             "400", "17", output])
    pids = set()
    try:
        time.sleep(1)
        for round_ in range(60):
            members[round_ % 3]["weight"] = 2 + round_ % 5  # differs from its previous weight: a reload
            started = time.monotonic()
            old = manager.pid
            assert lab.deploy(description)
            wait_for(lambda old=old: manager.pid not in (None, old), "the new haproxy")
            pids.add(manager.pid)
            time.sleep(max(0.0, 0.25 - (time.monotonic() - started)))
        assert load.wait(timeout=60) == 0
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    with open(output) as handle:
        results = json.load(handle)
    assert len(pids) == 60
    failures = collections.Counter(r[3] for r in results if not r[2])
    assert len(results) == 400 * 17 and not failures, failures
    with open("/proc/%d/cmdline" % manager.pid, "rb") as handle:
        assert b"\0-x\0" in handle.read()
    assert {r[3] for r in results} == {"This is web1", "This is web2", "This is web3"}
