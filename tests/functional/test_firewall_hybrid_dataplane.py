"""The iptables_hybrid driver on real packets, with Open vSwitch's hybrid plugging.

Each instance is plugged as Nova does for iptables_hybrid: its tap<port[:11]>
in a bridge of its own, qbr<port[:11]>, whose other leg qvb<port[:11]> is a
veth to qvo<port[:11]>. The qvo ends meet in a plain Linux bridge standing in
for br-int (the OVS flows are not what is tested here). A packet between two
local instances crosses netfilter in both qbr bridges, each port with its own
conntrack zone. All of it lives in this module's namespaces.
"""
import uuid

import pytest

from harness import fwprobe, multihost, system
from netweave.core import naming
from netweave.service_plugins.port_security.firewall import iptables

pytestmark = [pytest.mark.system("ip", "iptables-restore", "ip6tables-restore", "ipset", "conntrack")]

run = multihost.run
NETWORK_ID = str(uuid.uuid4())
OPEN = "a0000000-0000-4000-8000-0000000000a1"
TARGET = "e0000000-0000-4000-8000-0000000000e1"
RULES = {
    OPEN: [{"direction": d, "ethertype": e} for d in ("ingress", "egress") for e in ("IPv4", "IPv6")],
    TARGET: [{"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 8080,
              "port_range_max": 8080},
             {"direction": "egress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 7070,
              "port_range_max": 7070}],
}


class HybridLab(multihost.Namespaces):
    def __init__(self):
        super().__init__(prefix="nwfh")
        self.servers = []
        self.host_ns = self.host("h")
        self.integration = "nwfhint"
        run("ip", "-n", self.host_ns, "link", "add", self.integration, "type", "bridge")
        run("ip", "-n", self.host_ns, "link", "set", self.integration, "up")
        self.guests = {name: self.guest(index) for index, name in enumerate(("a", "t"), 21)}
        self.driver = iptables.OVSHybridIptablesFirewallDriver(netns=self.host_ns)

    def guest(self, index):
        port_id = str(uuid.uuid4())
        mac, ip = "fa:16:3e:91:00:%02x" % index, "10.91.0.%d" % index
        tap, qbr = naming.tap_device(port_id), naming.hybrid_bridge(port_id)
        qvb, qvo = naming.hybrid_bridge_veth(port_id), naming.hybrid_ovs_veth(port_id)
        namespace = self.instance("h", tap, mac, ip)
        host = self.host_ns
        run("ip", "-n", host, "link", "add", qbr, "type", "bridge")
        run("ip", "-n", host, "link", "add", qvb, "type", "veth", "peer", "name", qvo)
        run("ip", "-n", host, "link", "set", tap, "master", qbr, "up")
        run("ip", "-n", host, "link", "set", qvb, "master", qbr, "up")
        run("ip", "-n", host, "link", "set", qvo, "master", self.integration, "up")
        run("ip", "-n", host, "link", "set", qbr, "up")
        self.servers.append(fwprobe.serve(namespace, (7070, 8080)))
        return multihost.Instance(namespace, tap, port_id, mac, ip)

    def port(self, name, groups):
        guest = self.guests[name]
        return {"id": guest.port_id, "device": guest.port_id, "network_id": NETWORK_ID, "mac_address": guest.mac,
                "fixed_ips": [guest.ip], "allowed_address_pairs": [], "port_security_enabled": True,
                "security_groups": groups, "device_owner": "compute:nova"}

    def close(self):
        for server in self.servers:
            server.kill()
            server.wait(timeout=10)
        super().close()


@pytest.fixture
def lab():
    system.require_root()
    system.require_executables("ip", "iptables-restore", "ip6tables-restore", "ipset", "conntrack")
    created = HybridLab()
    try:
        yield created
    finally:
        created.close()


def test_hybrid_plugging_filters_both_directions_with_a_zone_per_port(lab):
    ports = [lab.port("a", [OPEN]), lab.port("t", [TARGET])]
    lab.driver.replace_info({"devices": {p["id"]: p for p in ports}, "security_groups": RULES, "sg_member_ips": {}})
    report = lab.driver.apply()
    assert report.restored == ["IPv4", "IPv6"] and not report.ebtables
    a, t = lab.guests["a"], lab.guests["t"]
    run("ip", "-n", a.namespace, "addr", "add", "10.91.0.99/24", "dev", "eth0")
    assert fwprobe.reach_many([
        (a.namespace, "tcp", t.ip, 8080, a.ip), (a.namespace, "tcp", t.ip, 7070, a.ip),
        (t.namespace, "tcp", a.ip, 7070, None), (t.namespace, "tcp", a.ip, 8080, None),
        (a.namespace, "icmp", t.ip, None, a.ip)]) == [True, False, True, False, False]
    assert not fwprobe.reach(a.namespace, "tcp", t.ip, 8080, src="10.91.0.99")

    saved = run("ip", "netns", "exec", lab.host_ns, "iptables-save").stdout
    assert "-A neutron-openvswi-sg-chain -m physdev --physdev-out %s --physdev-is-bridged -j " \
           "neutron-openvswi-i%s" % (t.device, t.port_id[:10]) in saved
    zones = {line.rsplit(" ", 1)[-1] for line in saved.splitlines() if "CT --zone" in line}
    assert len(zones) == 2
    assert "-i %s " % naming.hybrid_bridge_veth(t.port_id) in saved
