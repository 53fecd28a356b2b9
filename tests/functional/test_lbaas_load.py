"""LBaaS under load while its pool changes: a client namespace sends 200 requests/s through the
VIP (open-loop, a new connection each) for 24 s while members are added and removed through the
API; every change is a haproxy reload by the real netweave-lbaas-agent.

The three members stay up while they are in and out of the pool, so the requests still in flight
to a member when it is removed finish through the draining old haproxy: the expected number of
failed requests is exactly zero, and a removed member answers nothing sent after the removal was
ACTIVE (the agent reports ACTIVE once the new haproxy serves). Loopback and namespace traffic only.
"""
import collections
import json
import os
import subprocess
import sys
import time

import pytest

from harness import lbaas_server, loadgen, system
from harness.lbaas import HOST, LbaasCloud, curl, eventually
from harness.multihost import run

pytestmark = [pytest.mark.system("ip", "bridge", "haproxy", "curl"), pytest.mark.slow]

RATE, SECONDS = 200, 24


@pytest.fixture(scope="module")
def cloud(rabbitmq_server, tmp_path_factory):
    system.require_root()
    created = LbaasCloud(str(tmp_path_factory.mktemp("lbload")), rabbitmq_server.transport_url)
    try:
        created.start()
        yield created
    finally:
        created.close()




def haproxy_pids(lb_id):
    return set(run("ip", "netns", "pids", "qlbaas-" + lb_id, check=False).stdout.split())


def test_200_requests_per_second_see_no_failure_while_members_come_and_go(cloud, tmp_path):
    net = cloud.network("LOAD_NET", "192.168.210.0/24")
    subnet_id = cloud.api("GET", "/subnets?network_id=" + net["id"])["subnets"][0]["id"]
    webs = {name: cloud.web(name, net) for name in ("web1", "web2", "web3")}
    client_port = cloud.port(net, HOST)
    client = cloud.plug(HOST, net, client_port)
    cloud.wait_active(client_port, *[port for port, _instance in webs.values()], timeout=60)
    lb_api = lbaas_server.connect(cloud.server.url, prefix="/v2").load_balancer

    lb = lb_api.create_load_balancer(name="LB_LOAD", vip_subnet_id=subnet_id)

    def settle():
        eventually(lambda: lb_api.get_load_balancer(lb.id).provisioning_status == "ACTIVE", "the change applied")
        return time.time()

    settle()
    pool = lb_api.create_pool(lb_algorithm="ROUND_ROBIN", protocol="HTTP", loadbalancer_id=lb.id, name="POOL_LOAD")
    settle()
    lb_api.create_listener(name="LISTENER_LOAD", loadbalancer_id=lb.id, protocol="HTTP", protocol_port=80,
                           default_pool_id=pool.id)
    settle()
    members = {}

    def add(name):
        requested = time.time()
        members[name] = lb_api.create_member(pool, name=name, subnet_id=subnet_id, address=webs[name][1].ip,
                                             protocol_port=80)
        return requested, settle()

    def remove(name):
        requested = time.time()
        lb_api.delete_member(members.pop(name), pool)
        return requested, settle()

    add("web1")
    add("web2")
    url = "http://%s/" % lb.vip_address
    eventually(lambda: {curl(client.namespace, url) for _ in range(4)} == {"This is web1", "This is web2"},
               "web1 and web2 answer through the VIP")

    output = str(tmp_path / "load.json")
    load = subprocess.Popen(["ip", "netns", "exec", client.namespace, sys.executable, loadgen.__file__, url,
                             str(RATE), str(SECONDS), output])
    # (what, member, time.time() when asked, when ACTIVE); pids of every haproxy seen.
    changes = []
    seen_pids = set(haproxy_pids(lb.id))
    try:
        time.sleep(3)
        for action, name in (("add", "web3"), ("remove", "web1"), ("add", "web1"), ("remove", "web2"),
                             ("remove", "web3"), ("add", "web2")):
            requested, applied = (add if action == "add" else remove)(name)
            changes.append((action, name, requested, applied))
            seen_pids |= haproxy_pids(lb.id)
            time.sleep(2.5)
        assert load.wait(timeout=SECONDS + 30) == 0
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    with open(output) as handle:
        results = json.load(handle)

    assert len(results) == RATE * SECONDS and None not in results
    failures = [r for r in results if not r[2]]
    errors = collections.Counter(r[3] for r in failures)
    print("%d requests, %d failed %s; %d haproxy processes seen" % (len(results), len(failures), dict(errors),
                                                                   len(seen_pids)))
    # Every change reloaded haproxy (a new process each time), and none cost a request.
    assert len(seen_pids) >= 1 + len(changes), seen_pids
    assert failures == [], errors

    # Who answered what: nothing sent between a member's removal being ACTIVE and its being added
    # again reaches it; the requests in flight to it over its removal's reload were served.
    in_flight = collections.Counter()
    for index, (action, name, requested, applied) in enumerate(changes):
        if action != "remove":
            continue
        back = [r for act, n, r, _a in changes[index + 1:] if act == "add" and n == name]
        until = back[0] if back else float("inf")
        answer = "This is " + name
        late = [r for r in results if r[3] == answer and applied < r[0] < until]
        assert late == [], (name, applied, late[:3])
        in_flight[name] += sum(1 for sent, done, _ok, text in results
                               if text == answer and sent < applied and done > requested)
    print("requests to a member in flight over its removal (all served): %s" % dict(in_flight))
    answered = collections.Counter(r[3] for r in results)
    assert set(answered) == {"This is web1", "This is web2", "This is web3"}, answered
    lb_api.delete_load_balancer(lb.id, cascade=True)
    eventually(lambda: not os.path.isdir(os.path.join(cloud.lbaas_path, "v2", lb.id)), "the LB is undeployed")
