"""The message broker restarts under a running cloud, and everything converges.

A private RabbitMQ of this module's own (the session's broker is shared with
other tests, so it is not the one restarted), the server, the RPC server and
two Linux bridge agent processes (tests/harness/multihost.Cloud). With ports
wired, the broker is stopped long enough for heartbeats to fail, then started
again on the same port with the same node name. oslo.messaging reconnects
every process; the agents notice their state reports failed or stalled for a
while and resync fully (fanout messages sent meanwhile are lost). After that, new ports
are still wired and turn ACTIVE, traffic flows, and heartbeats resume.
"""
import datetime
import time

import pytest

from harness import multihost, rabbitmq, system
from harness.multihost import Cloud
from harness.processes import start_process

pytestmark = [pytest.mark.system("ip", "bridge"), pytest.mark.slow]


def restart_broker(broker, down_seconds, timeout=90):
    """Stop the broker, wait ``down_seconds``, start it again on the same ports and node name."""
    broker.process.stop(grace=30)
    time.sleep(down_seconds)
    broker.process = start_process([broker.bindir + "/rabbitmq-server"], broker.log_path,
                                   env=broker._environment(), cwd=broker.base_dir)
    broker.process.wait_until(lambda: rabbitmq.amqp_login(broker.port), timeout, "it accepted a guest login")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    system.require_root()
    system.require_executables("ip", "bridge")
    broker = system.start_or_require(rabbitmq.start_private_rabbitmq, rabbitmq.RabbitMQUnavailable)
    created = None
    try:
        created = Cloud(str(tmp_path_factory.mktemp("broker-restart")), broker.transport_url)
        created.broker = broker
        created.start()
        yield created
    finally:
        if created is not None:
            created.close()
        broker.stop()


def heartbeats_after(cloud, moment):
    rows = cloud.agent_rows()
    return len(rows) == 2 and all(
        row["alive"] and datetime.datetime.strptime(row["heartbeat_timestamp"], "%Y-%m-%d %H:%M:%S") > moment
        for row in rows)


def resynced_after_stalled_reports(log_path):
    """Whether the agent's state reporter asked for a full resync and a full pass completed after that."""
    with open(log_path) as log:
        text = log.read()
    asked = text.find("Full resync needed: state reports")
    return asked >= 0 and "Full resync done (" in text[asked:]


@pytest.mark.timeout(600)
def test_broker_restart_converges(cloud):
    net = cloud.network("br-vxlan", "10.60.0.0/24")
    p1, p2 = cloud.port(net, "h1"), cloud.port(net, "h2")
    a, b = cloud.plug("h1", net, p1), cloud.plug("h2", net, p2)
    cloud.wait_active(p1, p2)
    assert multihost.ping_until(a.namespace, b.ip)

    # Down for a few report intervals (2 s), so the agents' reports fail meanwhile.
    restart_broker(cloud.broker, down_seconds=5)
    back = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    cloud.wait(lambda: heartbeats_after(cloud, back), "both agents report again after the restart", timeout=120,
               interval=1.0)
    for host in ("h1", "h2"):
        # An RPC call made while the broker came back may be lost: that pass fails when the
        # call times out (60 s) and the next one, full again, completes the resync.
        cloud.wait(lambda host=host: resynced_after_stalled_reports(cloud.agents[host].log_path),
                   "the agent on %s resyncs after the outage" % host, timeout=150)

    # Wiring still works end to end: details, up reports, l2population casts.
    p3, p4 = cloud.port(net, "h1"), cloud.port(net, "h2")
    c, d = cloud.plug("h1", net, p3), cloud.plug("h2", net, p4)
    cloud.wait_active(p3, p4, timeout=120)
    assert multihost.ping_until(c.namespace, d.ip, deadline_seconds=60), "no echo between ports made after"
    assert multihost.ping(a.namespace, b.ip, count=3) == 3
    assert multihost.ping(c.namespace, b.ip, count=3) == 3
    # A port deleted now is withdrawn from the other host's FDB: fanout casts flow again.
    device = multihost.naming.vxlan_device(net["provider:segmentation_id"])
    cloud.api("DELETE", "/ports/" + p4["id"])
    cloud.wait(lambda: (d.mac, "192.0.2.2") not in multihost.fdb_entries(cloud.lab.hosts["h1"], device),
               "host1 forgets the deleted port", timeout=60)
