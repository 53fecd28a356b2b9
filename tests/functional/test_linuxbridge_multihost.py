"""Two hosts, a real server, RPC server, broker and Linux bridge agent processes.

The private RabbitMQ listens on 127.0.0.1 of the root namespace, which a
process inside another namespace cannot reach. So every agent process runs in
the root namespace (next to the broker) with ``--netns <host namespace>``:
its netlink socket, and so every device it reads or changes, belongs to that
host's namespace. Hosts h1 and h2 are namespaces joined by an underlay veth
(192.0.2.1 / 192.0.2.2, the VTEPs) and a provider veth pv0 (physnet1, flat).
Instances are namespaces whose eth0 is the peer of tap<port id[:11]> in the
host, as a hypervisor would plug them; their ports have device_owner "" so
the agent puts the taps into the bridges itself.

Everything is created under a per-module namespace prefix and removed at the
end, even on failure; traffic only flows between these namespaces.
"""
import json
import os
import signal
import subprocess
import time

import pytest

from harness import multihost, system
from harness.multihost import BIN, FLOOD, Cloud
from netweave.core import naming

pytestmark = [pytest.mark.system("ip", "bridge"), pytest.mark.slow]

@pytest.fixture(scope="module")
def cloud(rabbitmq_server, tmp_path_factory):
    system.require_root()
    system.require_executables("ip", "bridge")
    created = Cloud(str(tmp_path_factory.mktemp("multihost")), rabbitmq_server.transport_url)
    try:
        created.start()
        yield created
    finally:
        created.close()


def vxlan_device(net):
    return naming.vxlan_device(net["provider:segmentation_id"])


# --- tests ------------------------------------------------------------------------------------


def openstack(cloud, *args):
    """The unmodified CLI against the cloud's server (noauth), parsed from its JSON output."""
    env = dict(os.environ, OS_AUTH_TYPE="none", OS_ENDPOINT=cloud.server.url)
    for key in list(env):
        if key.startswith("OS_") and key not in ("OS_AUTH_TYPE", "OS_ENDPOINT"):
            env.pop(key)
    result = subprocess.run([os.path.join(BIN, "openstack"), *args, "-f", "json"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_openstack_cli_lists_both_agents_alive(cloud):
    rows = [row for row in openstack(cloud, "network", "agent", "list") if row["Agent Type"] == "Linux bridge agent"]
    assert sorted(row["Host"] for row in rows) == ["host1", "host2"]
    assert all(row["Alive"] in (True, ":-)") for row in rows), rows
    assert all(row["State"] in (True, "UP") and row["Binary"] == "netweave-linuxbridge-agent" for row in rows), rows


def test_openstack_cli_port_show_of_a_wired_port(cloud):
    net = cloud.network("mh-cli", "10.50.0.0/24")
    port = cloud.port(net, "h1")
    shown = openstack(cloud, "port", "show", port["id"])
    assert shown["status"] == "DOWN" and shown["binding_host_id"] == "host1"
    cloud.plug("h1", net, port)
    cloud.wait_active(port)
    shown = openstack(cloud, "port", "show", port["id"])
    assert shown["status"] == "ACTIVE"
    assert shown["binding_host_id"] == "host1"
    assert shown["binding_vif_type"] == "bridge"
    assert shown["binding_vnic_type"] == "normal"
    assert shown["network_id"] == net["id"]


def test_vxlan_across_hosts_with_l2population(cloud):
    net = cloud.network("mh-vxlan", "10.10.0.0/24")
    assert net["provider:network_type"] == "vxlan"
    device = vxlan_device(net)
    p1, p2, p3 = cloud.port(net, "h1"), cloud.port(net, "h2"), cloud.port(net, "h1")
    # Bound, but no tap yet: the agent has nothing to wire, so the port is not ACTIVE.
    time.sleep(3)
    assert cloud.status(p1) != "ACTIVE"
    a, b, c = cloud.plug("h1", net, p1), cloud.plug("h2", net, p2), cloud.plug("h1", net, p3)
    cloud.wait_active(p1, p2, p3)
    h1 = cloud.lab.hosts["h1"]
    # l2population programmed host1's vxlan device with host2's VTEP and port.
    cloud.wait(lambda: {(FLOOD, "192.0.2.2"), (b.mac, "192.0.2.2")} <= set(multihost.fdb_entries(h1, device)),
               "host1 has host2's FDB entries")
    assert (a.mac, "192.0.2.1") not in multihost.fdb_entries(h1, device)
    assert multihost.ping_until(a.namespace, b.ip), "no echo across hosts over vxlan"
    assert multihost.ping(a.namespace, b.ip, count=3) == 3
    # Local: two instances of the network on host1.
    assert multihost.ping(a.namespace, c.ip, count=3) == 3
    # Removing host2's only port withdraws its entries from host1.
    cloud.api("DELETE", "/ports/" + p2["id"])
    cloud.wait(lambda: not {(FLOOD, "192.0.2.2"), (b.mac, "192.0.2.2")} & set(multihost.fdb_entries(h1, device)),
               "host2's entries left host1")
    assert multihost.ping(a.namespace, b.ip, count=2, timeout=0.5) == 0


def test_flat_across_hosts(cloud):
    net = cloud.network("mh-flat", "10.20.0.0/24", **{"provider:network_type": "flat",
                                                      "provider:physical_network": "physnet1"})
    p1, p2 = cloud.port(net, "h1"), cloud.port(net, "h2")
    a, b = cloud.plug("h1", net, p1), cloud.plug("h2", net, p2)
    cloud.wait_active(p1, p2)
    assert multihost.ping_until(a.namespace, b.ip), "no echo across hosts over the flat network"
    assert multihost.ping(a.namespace, b.ip, count=3) == 3


def test_agent_killed_and_restarted_under_traffic(cloud):
    net = cloud.network("mh-restart", "10.30.0.0/24")
    p1, p2 = cloud.port(net, "h1"), cloud.port(net, "h2")
    a, b = cloud.plug("h1", net, p1), cloud.plug("h2", net, p2)
    cloud.wait_active(p1, p2)
    assert multihost.ping_until(a.namespace, b.ip)
    h1 = cloud.lab.hosts["h1"]
    links_before = multihost.links(h1)
    pinger = multihost.start_ping(a.namespace, b.ip, count=100, interval=0.1)
    try:
        time.sleep(1.0)
        old = cloud.agents["h1"]
        os.kill(old.pid, signal.SIGKILL)
        old.popen.wait(timeout=10)
        cloud.start_agent("h1")
        # The restarted agent resyncs: the port goes through BUILD and is ACTIVE again.
        cloud.wait(lambda: "Linux bridge agent" in open(cloud.agents["h1"].log_path).read(), "agent starts",
                   timeout=30)
        out, err = pinger.communicate(timeout=60)
    finally:
        if pinger.poll() is None:
            pinger.kill()
            pinger.wait()
    answered = int(out.strip() or 0)
    assert answered >= 99, "lost %d of 100 pings during the restart (%s)" % (100 - answered, err)
    cloud.wait_active(p1)
    cloud.wait(lambda: all(a["alive"] for a in cloud.agent_rows()), "both agents alive again", timeout=30)
    assert multihost.links(h1) == links_before
    assert multihost.ping(a.namespace, b.ip, count=3) == 3


def test_restarted_agent_gets_its_forwarding_entries_back(cloud):
    """kill -9, the host's FDB and ARP entries flushed as a reboot would, restart: l2population
    sends the restarted agent every entry again, and the other host's entries do not change."""
    net = cloud.network("mh-fdb", "10.40.0.0/24")
    device = vxlan_device(net)
    p1, p2 = cloud.port(net, "h1"), cloud.port(net, "h2")
    a, b = cloud.plug("h1", net, p1), cloud.plug("h2", net, p2)
    cloud.wait_active(p1, p2)
    h1, h2 = cloud.lab.hosts["h1"], cloud.lab.hosts["h2"]
    wanted = {(FLOOD, "192.0.2.2"), (b.mac, "192.0.2.2")}
    cloud.wait(lambda: wanted <= set(multihost.fdb_entries(h1, device)), "host1 has host2's FDB entries")
    cloud.wait(lambda: b.ip in permanent_neighbours(h1, device), "host1 answers ARP for host2's port")
    remote_on_h2 = lambda: {e for e in multihost.fdb_entries(h2, device) if e[1]}  # noqa: E731
    cloud.wait(lambda: {(FLOOD, "192.0.2.1"), (a.mac, "192.0.2.1")} <= remote_on_h2(), "host2 has host1's entries")
    h2_before = remote_on_h2()
    assert multihost.ping_until(a.namespace, b.ip)

    old = cloud.agents["h1"]
    os.kill(old.pid, signal.SIGKILL)
    old.popen.wait(timeout=10)
    for mac, dst in multihost.fdb_entries(h1, device):
        if dst:
            multihost.run("ip", "netns", "exec", h1, "bridge", "fdb", "del", mac, "dev", device, "dst", dst)
    multihost.run("ip", "-n", h1, "neigh", "flush", "dev", device, "nud", "permanent")
    assert not wanted & set(multihost.fdb_entries(h1, device))
    assert b.ip not in permanent_neighbours(h1, device)
    assert multihost.ping(a.namespace, b.ip, count=1, timeout=0.5) == 0

    cloud.start_agent("h1")
    cloud.wait(lambda: wanted <= set(multihost.fdb_entries(h1, device)), "host1's FDB entries are back",
               timeout=60)
    cloud.wait(lambda: b.ip in permanent_neighbours(h1, device), "host1's ARP entries are back", timeout=30)
    assert multihost.ping_until(a.namespace, b.ip), "no echo across hosts after the restart"
    cloud.wait_active(p1)
    assert remote_on_h2() == h2_before


def permanent_neighbours(namespace, device):
    result = multihost.run("ip", "-j", "-n", namespace, "neigh", "show", "dev", device, "nud", "permanent",
                           check=False)
    return {entry.get("dst") for entry in json.loads(result.stdout or "[]")} if result.returncode == 0 else set()
