"""Trunks with real netweave-linuxbridge-agent processes (``[agent] extensions = trunk``), a real
server with the trunk plugin, RPC server and broker (harness.multihost.Cloud, two hosts).

Which path runs depends on the kernel, found by the agent at start and by the test alike
(linuxbridge.capabilities): where VLAN devices can be made, a trunk parent binds and the book's
example (B.7/B.8) carries packets: the guest's VLAN 42 sub-interface reaches RED_NET through
tap<subport>, a VLAN child of the parent's tap in RED_NET's bridge, and removing the subport
cuts VLAN 42 only. Without 8021q the agent reports ``trunk_vlan_devices: false``, the server
refuses to bind a trunk parent there (binding_failed, with a log line) and the data-plane test
is skipped saying so: a kernel's missing feature is the path the test took, not a machine
missing a package, so it stays a skip under NETWEAVE_REQUIRE_SYSTEM=1.
"""
import pytest

from harness import multihost, rabbitmq, system
from harness.multihost import Cloud
from netweave.mechanism_drivers.linuxbridge import capabilities

pytestmark = [pytest.mark.system("ip", "ping", "bridge"), pytest.mark.slow]

HOST = "h1"


class TrunkCloud(Cloud):
    def __init__(self, workdir, transport_url):
        super().__init__(workdir, transport_url)
        self.server_defaults = "service_plugins = trunk\n"

    def start_control_plane(self, ml2, defaults=""):
        super().start_control_plane(dict(ml2, extension_drivers="trunk"), defaults)

    def agent_ini(self, host):
        path = super().agent_ini(host)
        with open(path) as handle:
            text = handle.read()
        with open(path, "w") as handle:
            handle.write(text.replace("[agent]\n", "[agent]\nextensions = trunk\n", 1))
        return path


@pytest.fixture(scope="module")
def kernel_vlan():
    return capabilities.detect().vlan


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    system.require_root()
    broker = system.start_or_require(rabbitmq.start_private_rabbitmq, rabbitmq.RabbitMQUnavailable)
    created = None
    try:
        created = TrunkCloud(str(tmp_path_factory.mktemp("trunk-lb-agent")), broker.transport_url)
        created.start()
        yield created
    finally:
        if created is not None:
            created.close()
        broker.stop()


def make_trunk(cloud, parent_net, child_net, parent_ip, child_ip):
    def port(net, ip):
        return cloud.api("POST", "/ports", {"port": {"network_id": net["id"],
                                                     "fixed_ips": [{"ip_address": ip}]}})["port"]
    parent, child = port(parent_net, parent_ip), port(child_net, child_ip)
    trunk = cloud.api("POST", "/trunks", {"trunk": {"port_id": parent["id"], "sub_ports": [
        {"port_id": child["id"], "segmentation_type": "vlan", "segmentation_id": 42}]}})["trunk"]
    return parent, child, trunk


def bind(cloud, port):
    return cloud.api("PUT", "/ports/" + port["id"], {"port": {
        "binding:host_id": multihost.AGENT_HOST[HOST], "device_owner": "compute:nova",
        "device_id": "09c21c1f"}})["port"]


def test_agent_reports_vlan_devices_and_the_server_binds_trunk_parents_accordingly(cloud, kernel_vlan):
    [row] = [a for a in cloud.agent_rows() if a["host"] == multihost.AGENT_HOST[HOST]]
    assert row["configurations"]["trunk_vlan_devices"] is kernel_vlan
    green, red = cloud.network("tlb-green", "172.24.100.0/24"), cloud.network("tlb-red", "172.16.0.0/24")
    parent, _child, trunk = make_trunk(cloud, green, red, "172.24.100.7", "172.16.0.11")
    bound = bind(cloud, parent)
    plain = bind(cloud, cloud.api("POST", "/ports", {"port": {"network_id": green["id"]}})["port"])
    assert plain["binding:vif_type"] == "bridge"
    if kernel_vlan:
        assert bound["binding:vif_type"] == "bridge", bound
    else:
        assert bound["binding:vif_type"] == "binding_failed", bound
        log = open(cloud.server.process.log_path).read()
        assert "parent of trunk %s" % trunk["id"] in log and "8021q" in log
        assert cloud.api("GET", "/trunks/" + trunk["id"])["trunk"]["status"] == "DOWN"


def test_book_example_data_plane(cloud, kernel_vlan):
    if not kernel_vlan:
        pytest.skip("this kernel cannot make VLAN devices (no 8021q): the trunk data plane cannot run here; "
                    "test_agent_reports_vlan_devices... took the refusal path instead")
    green, red = cloud.network("tlb-green2", "172.25.100.0/24"), cloud.network("tlb-red2", "172.17.0.0/24")
    hosts = {}
    for net, ip in ((green, "172.25.100.2"), (red, "172.17.0.2")):
        p = cloud.api("POST", "/ports", {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": ip}],
                                                  "binding:host_id": multihost.AGENT_HOST[HOST],
                                                  "device_owner": "compute:nova"}})["port"]
        hosts[net["name"]] = (p, cloud.plug(HOST, net, p))
    parent, child, trunk = make_trunk(cloud, green, red, "172.25.100.7", "172.17.0.11")
    assert bind(cloud, parent)["binding:vif_type"] == "bridge"
    guest = cloud.plug(HOST, green, parent)
    # The guest's sub-interface, as the book's ens3.42 with the subport's MAC.
    multihost.run("ip", "-n", guest.namespace, "link", "add", "link", "eth0", "name", "eth0.42", "type", "vlan",
                  "id", "42")
    multihost.run("ip", "-n", guest.namespace, "link", "set", "eth0.42", "address", child["mac_address"], "up")
    multihost.run("ip", "-n", guest.namespace, "addr", "add", "172.17.0.11/24", "dev", "eth0.42")
    cloud.wait_active(parent, child, *(p for p, _i in hosts.values()), timeout=60)
    cloud.wait(lambda: cloud.api("GET", "/trunks/" + trunk["id"])["trunk"]["status"] == "ACTIVE",
               "the trunk is ACTIVE", timeout=60)
    assert multihost.ping_until(guest.namespace, "172.25.100.2"), "parent: untagged"
    assert multihost.ping_until(guest.namespace, "172.17.0.2"), "subport: the guest's VLAN 42"
    links = multihost.links(cloud.lab.hosts[HOST])
    child_tap = "tap" + child["id"][:11]
    assert child_tap in links, links
    cloud.api("PUT", "/trunks/%s/remove_subports" % trunk["id"], {"sub_ports": [{"port_id": child["id"]}]})
    cloud.wait(lambda: child_tap not in multihost.links(cloud.lab.hosts[HOST]), "the subport's VLAN child goes",
               timeout=30)
    assert not multihost.ping(guest.namespace, "172.17.0.2", count=2)
    assert multihost.ping(guest.namespace, "172.25.100.2")
