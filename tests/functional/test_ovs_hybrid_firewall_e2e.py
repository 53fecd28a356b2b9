"""iptables_hybrid end to end: security groups from the API enforced on ports of a real Open vSwitch agent.

A real netweave-server and netweave-rpc-server (ML2 openvswitch with the
port_security extension driver and service plugin) on the private RabbitMQ,
and a netweave-openvswitch-agent on the userspace datapath with
``[securitygroup] firewall_driver = iptables_hybrid`` and ``--netns``: the
host's namespace holds the qbr bridges and the firewall's iptables, ipsets and
conntrack zones, while the switch's bridges are ovs-vswitchd's. Instances are
plugged as os-vif plugs them for this driver (OvsCloud.plug_hybrid): tap and
qvb in qbr<id>, qvo<id> on the integration bridge. Packets between the two
instances cross netfilter in both qbr bridges and the OVS flows between the
qvo ports.
"""

import pytest

from harness import fwprobe, multihost, system
from harness import ovs as ovs_harness
from harness.multihost import OvsCloud
from harness.ovs import ovs_switch  # noqa: F401 - pytest fixture
from netweave.core import naming

pytestmark = [pytest.mark.system("ip", "ovs-vsctl", "iptables-restore", "ipset", "conntrack"), pytest.mark.slow]

SERVICE = 8080


class HybridCloud(OvsCloud):
    """OvsCloud with port_security on the server and iptables_hybrid on the agent."""

    def start_control_plane(self, ml2, defaults=""):
        super().start_control_plane(dict(ml2, extension_drivers="port_security"),
                                    defaults + "service_plugins = port_security\n")


@pytest.fixture(scope="module")
def cloud(ovs_switch, rabbitmq_server, tmp_path_factory):  # noqa: F811
    system.require_root()
    system.require_executables("ip", "ovs-vsctl", "iptables-restore", "ipset", "conntrack")
    created = HybridCloud(str(tmp_path_factory.mktemp("ovs-hybrid")), rabbitmq_server.transport_url,
                          hosts=("h1",), firewall_driver="iptables_hybrid")
    created.servers = []
    try:
        created.start()
        yield created
    finally:
        for server in created.servers:
            server.kill()
            server.wait(timeout=10)
        created.close()


def test_security_groups_filter_hybrid_plugged_ports(cloud):
    net = cloud.network("hybrid", "10.78.0.0/24")
    web = cloud.api("POST", "/security-groups", {"security_group": {"name": "WEB_SERVERS"}})["security_group"]
    body = {"network_id": net["id"], "device_owner": "compute:nova", "binding:host_id": "host1"}
    client_port = cloud.api("POST", "/ports", {"port": dict(body)})["port"]
    server_port = cloud.api("POST", "/ports", {"port": dict(body, security_groups=[web["id"]])})["port"]
    default_group = client_port["security_groups"][0]
    client, server = cloud.plug_hybrid("h1", net, client_port), cloud.plug_hybrid("h1", net, server_port)
    cloud.servers.append(fwprobe.serve(server.namespace, [SERVICE]))
    cloud.servers.append(fwprobe.serve(client.namespace, [SERVICE]))
    cloud.wait_active(client_port, server_port, timeout=90)

    # The agent bound both ports: their vif type is Open vSwitch's, and their qvo ports
    # carry the network's local VLAN on the integration bridge.
    shown = cloud.api("GET", "/ports/" + server_port["id"])["port"]
    assert (shown["binding:vif_type"], shown["binding:host_id"]) == ("ovs", "host1")
    tags = {ovs_harness.vsctl("get", "port", naming.hybrid_ovs_veth(p["id"]), "tag").strip()
            for p in (client_port, server_port)}
    assert len(tags) == 1 and tags != {"[]"}

    host = cloud.lab.hosts["h1"]
    saved = lambda: multihost.run("ip", "netns", "exec", host, "iptables-save").stdout  # noqa: E731
    fwprobe.eventually(lambda: "neutron-openvswi-i" + server_port["id"][:10] in saved(), True,
                       "the server port's chains")
    rules = saved()
    assert "-m physdev --physdev-out %s --physdev-is-bridged -j neutron-openvswi-i%s" % (
        server.device, server_port["id"][:10]) in rules
    # One conntrack zone per port, chosen on the port's qvb and tap.
    zones = {line.rsplit(" ", 1)[-1] for line in rules.splitlines() if "CT --zone" in line}
    assert len(zones) == 2
    assert "-i %s " % naming.hybrid_bridge_veth(server_port["id"]) in rules

    # WEB_SERVERS has only its egress rules: nothing gets in until a rule lets it.
    tcp = lambda src=None: fwprobe.reach(client.namespace, "tcp", server.ip, SERVICE, src=src)  # noqa: E731
    assert not tcp()
    cloud.api("POST", "/security-group-rules", {"security_group_rule": {
        "security_group_id": web["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": SERVICE, "port_range_max": SERVICE, "remote_ip_prefix": "0.0.0.0/0"}})
    fwprobe.eventually(tcp, True, "tcp %d is allowed by the new rule" % SERVICE)

    # A spoofed source address does not leave the client's qbr.
    multihost.run("ip", "-n", client.namespace, "addr", "add", "10.78.0.99/24", "dev", "eth0")
    assert not tcp(src="10.78.0.99")

    # The default group admits its members only: the server's port joins it, and its ping gets through.
    ping_client = lambda: fwprobe.reach(server.namespace, "icmp", client.ip)  # noqa: E731
    assert not ping_client()
    cloud.api("PUT", "/ports/" + server_port["id"],
              {"port": {"security_groups": [web["id"], default_group]}})
    fwprobe.eventually(ping_client, True, "the new member of the default group reaches the client")

    for port in (client_port, server_port):
        ovs_harness.vsctl("--if-exists", "del-port", naming.hybrid_ovs_veth(port["id"]))
    for port in (client_port, server_port):
        cloud.api("DELETE", "/ports/" + port["id"])
    fwprobe.eventually(lambda: "neutron-openvswi-i" + server_port["id"][:10] in saved(), False,
               "the deleted port's chains are gone")
