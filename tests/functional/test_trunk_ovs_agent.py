"""Trunks wired by a real netweave-openvswitch-agent process with the ``trunk`` extension:
the book's worked example (chapter 14, B.7) on the userspace datapath.

A netweave-server with the trunk plugin, a netweave-rpc-server and one agent host
(harness.multihost.OvsCloud) on a private broker. Three networks: GREEN (the parent's),
RED (subport, VLAN 42 in the guest) and BLUE (subport, VLAN 41, added while the instance
runs); a host namespace on each, plugged into br-int as usual. The instance is what Nova
does for a trunk parent bound with vif_details bridge_name = tbr-<trunk>: its vNIC in
that trunk bridge with the parent's iface-id. The guest tags its own traffic: this
kernel has no 8021q, so the guest is a small bridge of its own holding ``ens3`` (an
untagged internal port, the parent MAC) and ``ens3.42`` / ``ens3.41`` (internal ports
tagged with the segmentation ids, the subports' MACs), patched to the vNIC. Everything
else (subport bindings, tpi-/spi- patch ports, local VLANs, trunk status) is the agent's.
"""
import pytest

from harness import multihost, rabbitmq, system
from harness import ovs as ovsfx
from harness.multihost import OvsCloud
from harness.ovs import ovs_switch  # noqa: F401 - pytest fixture
from netweave.core import naming

pytestmark = [pytest.mark.system("ip", "ping", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"), pytest.mark.slow]

HOST = "h1"


class TrunkCloud(OvsCloud):
    """OvsCloud with the trunk service plugin, its ML2 extension driver and the agent extension."""

    def __init__(self, workdir, transport_url):
        super().__init__(workdir, transport_url, hosts=(HOST,), l2_population=False)
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
def cloud(ovs_switch, tmp_path_factory):  # noqa: F811
    system.require_root()
    broker = system.start_or_require(rabbitmq.start_private_rabbitmq, rabbitmq.RabbitMQUnavailable)
    created = None
    try:
        created = TrunkCloud(str(tmp_path_factory.mktemp("trunk-ovs-agent")), broker.transport_url)
        created.start()
        yield created
    finally:
        if created is not None:
            created.close()
        broker.stop()


def fdb(bridge):
    """{(vlan, mac)} of a bridge's MAC learning table."""
    lines = ovsfx.appctl("fdb/show", bridge).splitlines()[1:]
    return {(int(f[1]), f[2]) for f in (line.split() for line in lines)}


def trunk_status(cloud, trunk):
    return cloud.api("GET", "/trunks/" + trunk["id"])["trunk"]["status"]


def wait_trunk(cloud, trunk, status, timeout=60):
    cloud.wait(lambda: trunk_status(cloud, trunk) == status, "trunk %s is %s" % (trunk["id"], status), timeout)


def ports_on(bridge):
    return set(multihost.ovs_ports(bridge))


class Guest:
    """The instance: a namespace behind a bridge of its own, patched to the vNIC in tbr-."""

    def __init__(self, sandbox, tbr, parent):
        self.sandbox = sandbox
        self.bridge = sandbox.add_bridge(sandbox.name("tgb"))
        self.vnic = naming.tap_device(parent["id"])
        # Nova's part: the vNIC in the trunk bridge, with the parent's external_ids.
        sandbox.patch(self.bridge, sandbox.name("tgu"), tbr, self.vnic)
        ovsfx.vsctl("set", "interface", self.vnic, "external_ids:iface-id=%s" % parent["id"],
                    "external_ids:attached-mac=%s" % parent["mac_address"], "external_ids:iface-status=active")
        self.namespace = sandbox.add_namespace(sandbox.name("tgn"))
        self.add_nic("0", parent, trunks="0")

    def add_nic(self, suffix, port, **port_columns):
        name = self.sandbox.name("tge", suffix)
        extra = []
        for column, value in port_columns.items():
            extra += ["--", "set", "port", name, "%s=%s" % (column, value)]
        ovsfx.vsctl("add-port", self.bridge, name, "--", "set", "interface", name, "type=internal", *extra)
        ovsfx.ip("link", "set", name, "netns", self.namespace)
        ovsfx.in_netns(self.namespace, "ip", "link", "set", name, "address", port["mac_address"])
        ovsfx.in_netns(self.namespace, "ip", "addr", "add", port["fixed_ips"][0]["ip_address"] + "/24", "dev", name)
        ovsfx.in_netns(self.namespace, "ip", "link", "set", name, "up")


def test_book_trunk_example_with_a_real_agent(cloud):
    sb = cloud.sandbox
    host = cloud.ovs_hosts[HOST]
    agent_host = multihost.AGENT_HOST[HOST]
    green = cloud.network("GREEN_NET", "172.24.100.0/24")
    red = cloud.network("RED_NET", "172.16.0.0/24")
    blue = cloud.network("BLUE_NET", "192.168.150.0/24")

    def port(net, ip, **extra):
        body = dict({"network_id": net["id"], "fixed_ips": [{"ip_address": ip}]}, **extra)
        return cloud.api("POST", "/ports", {"port": body})["port"]

    # A host on each network, plugged into br-int like any instance.
    hosts = {}
    for net, ip in ((green, "172.24.100.2"), (red, "172.16.0.2"), (blue, "192.168.150.2")):
        p = port(net, ip, device_owner="compute:nova", **{"binding:host_id": agent_host})
        hosts[net["name"]] = (p, cloud.plug(HOST, net, p))
    parent = port(green, "172.24.100.7")
    red_child, blue_child = port(red, "172.16.0.11"), port(blue, "192.168.150.11")
    trunk = cloud.api("POST", "/trunks", {"trunk": {"name": "trunk0", "port_id": parent["id"], "sub_ports": [
        {"port_id": red_child["id"], "segmentation_type": "vlan", "segmentation_id": 42}]}})["trunk"]
    assert trunk["status"] == "DOWN"
    tbr = naming.trunk_bridge(trunk["id"])
    sb.track_bridge(tbr)

    # Nova binds the parent to the host: the binding names the trunk bridge.
    bound = cloud.api("PUT", "/ports/" + parent["id"], {"port": {
        "binding:host_id": agent_host, "device_owner": "compute:nova", "device_id": "09c21c1f"}})["port"]
    assert bound["binding:vif_type"] == "ovs", bound
    assert bound["binding:vif_details"]["bridge_name"] == tbr
    assert bound["trunk_details"]["trunk_id"] == trunk["id"]
    sb.add_bridge(tbr)
    guest = Guest(sb, tbr, parent)
    guest.add_nic("42", red_child, tag="42")

    wait_trunk(cloud, trunk, "ACTIVE")
    cloud.wait_active(parent, red_child, timeout=60)
    assert cloud.api("GET", "/ports/" + red_child["id"])["port"]["binding:host_id"] == agent_host
    integration = host.integration_bridge
    tpi, spi_red = naming.trunk_parent_int_port(parent["id"]), naming.subport_int_port(red_child["id"])
    assert {tpi, spi_red} <= ports_on(integration)
    assert {naming.trunk_parent_trunk_port(parent["id"]), naming.subport_trunk_port(red_child["id"]),
            guest.vnic} == ports_on(tbr)
    assert ovsfx.vsctl("get", "port", naming.subport_trunk_port(red_child["id"]), "tag") == "42"
    assert ovsfx.wait_ping(guest.namespace, "172.24.100.2", timeout=20), "parent: untagged traffic"
    assert ovsfx.wait_ping(guest.namespace, "172.16.0.2", timeout=20), "subport: the guest's VLAN 42"
    # Tagged 42 on the instance side, on the subport network's local VLAN beyond.
    red_vlan = int(ovsfx.vsctl("get", "port", spi_red, "tag"))
    green_vlan = int(ovsfx.vsctl("get", "port", tpi, "tag"))
    assert red_vlan != green_vlan
    assert (42, red_child["mac_address"]) in fdb(tbr) and (0, parent["mac_address"]) in fdb(tbr)
    assert (red_vlan, red_child["mac_address"]) in fdb(integration)
    assert (42, red_child["mac_address"]) not in fdb(integration)
    assert not ovsfx.ping(guest.namespace, "192.168.150.2", count=2)

    # A subport added while the instance runs: bound to the host and wired.
    cloud.api("PUT", "/trunks/%s/add_subports" % trunk["id"], {"sub_ports": [
        {"port_id": blue_child["id"], "segmentation_type": "vlan", "segmentation_id": 41}]})
    guest.add_nic("41", blue_child, tag="41")
    cloud.wait_active(blue_child, timeout=60)
    assert ovsfx.wait_ping(guest.namespace, "192.168.150.2", timeout=20), "subport added while running"
    wait_trunk(cloud, trunk, "ACTIVE")

    # An agent restart keeps the ports (the same rows) and the traffic.
    before = ovsfx.vsctl("--columns=_uuid,name", "list", "interface")
    log_path = cloud.agents[HOST].log_path
    cloud.kill_agent(HOST)
    passes_before = open(log_path).read().count("Full resync done")   # the new agent appends to the log
    assert ovsfx.ping(guest.namespace, "172.16.0.2"), "traffic stops with the agent gone"
    cloud.start_agent(HOST)
    cloud.wait(lambda: open(log_path).read().count("Full resync done") > passes_before,
               "the restarted agent's first pass", timeout=60)
    for address in ("172.24.100.2", "172.16.0.2", "192.168.150.2"):
        assert ovsfx.ping(guest.namespace, address), address
    assert ovsfx.vsctl("--columns=_uuid,name", "list", "interface") == before
    assert trunk_status(cloud, trunk) == "ACTIVE"

    # Removing a subport cuts its VLAN only.
    cloud.api("PUT", "/trunks/%s/remove_subports" % trunk["id"], {"sub_ports": [{"port_id": red_child["id"]}]})
    cloud.wait(lambda: spi_red not in ports_on(integration), "the removed subport's ports go", timeout=30)
    assert naming.subport_trunk_port(red_child["id"]) not in ports_on(tbr)
    assert not ovsfx.ping(guest.namespace, "172.16.0.2", count=2)
    assert ovsfx.ping(guest.namespace, "172.24.100.2") and ovsfx.ping(guest.namespace, "192.168.150.2")

    # The instance goes (Nova unplugs the vNIC): the trunk bridge and br-int ends go, the trunk is DOWN.
    ovsfx.vsctl("del-port", tbr, guest.vnic)
    cloud.wait(lambda: tbr not in ovsfx.vsctl("list-br").split(), "the trunk bridge is removed", timeout=30)
    cloud.wait(lambda: not any(p.startswith(("tpi-", "spi-")) and p[4:] in (parent["id"][:11], blue_child["id"][:11])
                               for p in ports_on(integration)), "the br-int ends are removed", timeout=30)
    wait_trunk(cloud, trunk, "DOWN")
