"""The L3 agent's data plane plugged with the Open vSwitch interface driver.

One netdev bridge (NORMAL switching) stands for br-int with the OVS agent's
work done: the test gives every port the local VLAN of its network, as the
agent would (internal network 1, external network 2). qr-/qg- are internal
ports of the bridge moved into qrouter-<id>; instances and the "internet"
are internal ports moved into namespaces of their own.
"""
import uuid

import pytest

from harness import l3, ovs
from harness.ovs import ovs_sandbox, ovs_switch  # noqa: F401 - fixtures
from netweave.core import naming
from netweave.core.agent import interface
from netweave.service_plugins.router.agent import applier as applier_mod
from netweave.service_plugins.router.agent import interfaces, router_info
from netweave.service_plugins.router.agent.settings import DataplaneSettings

pytestmark = pytest.mark.system("ip", "ovs-vsctl", "iptables-save", "iptables-restore", "conntrack")

INTERNAL_TAG, EXTERNAL_TAG = 1, 2


def test_router_on_open_vswitch_snat_floating_ip_and_removal(ovs_sandbox, tmp_path):  # noqa: F811
    bridge = ovs_sandbox.add_bridge(ovs_sandbox.name("nwl3i"))
    ovs.ofctl("add-flow", bridge, "priority=0,actions=NORMAL")
    router_id = str(uuid.uuid4())
    namespace = naming.router_namespace(router_id)
    applier = applier_mod.RouterApplier(
        interfaces.RouterPlugging.of_class(interface.OVSInterfaceDriver, integration_bridge=bridge),
        DataplaneSettings())
    servers = []
    external_net, internal_net = str(uuid.uuid4()), str(uuid.uuid4())
    gateway = l3.port(str(uuid.uuid4()), "fa:16:3e:dd:00:01", external_net, [("ext", "203.0.113.106")],
                      [l3.subnet("ext", "203.0.113.0/24", "203.0.113.1")], device_owner="network:router_gateway")
    internal = l3.port(str(uuid.uuid4()), "fa:16:3e:dd:00:02", internal_net, [("int", "10.0.0.1")],
                       [l3.subnet("int", "10.0.0.0/24", "10.0.0.1")])
    try:
        outside, outside_dev = ovs_sandbox.plug_instance(bridge, str(uuid.uuid4()), "fa:16:3e:dd:00:03",
                                                         "203.0.113.1/24")
        vm, vm_dev = ovs_sandbox.plug_instance(bridge, str(uuid.uuid4()), "fa:16:3e:dd:00:04", "10.0.0.6/24")
        ovs.in_netns(vm, "ip", "route", "add", "default", "via", "10.0.0.1")
        ovs.vsctl("set", "Port", outside_dev, "tag=%d" % EXTERNAL_TAG)
        ovs.vsctl("set", "Port", vm_dev, "tag=%d" % INTERNAL_TAG)
        servers.append(l3.start_echo_server(outside, "internet", tmp_path / "internet.log"))
        servers.append(l3.start_echo_server(vm, "vm", tmp_path / "vm.log"))

        fip = l3.floating_ip("203.0.113.101", "10.0.0.6", "p1", router_id=router_id)
        description = l3.router(router_id, gateway=gateway, interfaces=[internal], floating_ips=[fip])
        report = applier.apply(router_info.parse_router(description))
        assert report.ok, report.errors
        qg, qr = naming.router_gateway_device(gateway["id"]), naming.router_interface_device(internal["id"])
        # The driver's internal ports carry the router's device names and the port's external_ids.
        assert {qg, qr} <= set(ovs.vsctl("list-ports", bridge).split())
        assert ovs.vsctl("get", "Interface", qg, "external_ids:iface-id").strip().strip('"') == gateway["id"]
        assert interface.link_info(namespace, qg)["address"] == gateway["mac_address"]
        ovs.vsctl("set", "Port", qg, "tag=%d" % EXTERNAL_TAG)
        ovs.vsctl("set", "Port", qr, "tag=%d" % INTERNAL_TAG)

        assert ovs.wait_ping(vm, "203.0.113.1")
        assert l3.udp_ask(vm, "203.0.113.1") == "internet 203.0.113.101"       # sourced as its floating IP
        assert l3.udp_ask(outside, "203.0.113.101") == "vm 203.0.113.1"        # reached by it
        assert l3.nat_listing(namespace) == l3.book_nat_listing("203.0.113.106", "203.0.113.101", "10.0.0.6")

        description["_floatingips"] = []
        assert applier.apply(router_info.parse_router(description)).conntrack_cut == ["203.0.113.101"]
        assert l3.udp_ask(vm, "203.0.113.1") == "internet 203.0.113.106"
        assert not applier.apply(router_info.parse_router(description)).changed

        removed = applier.sync([])[router_id]
        assert removed.namespace_removed and sorted(removed.unplugged) == sorted([qg, qr])
        assert not ({qg, qr} & set(ovs.vsctl("list-ports", bridge).split()))
        assert not applier_mod.namespace_exists(namespace)
    finally:
        for server in servers:
            server.kill()
            server.wait()
        applier.wait_for_helpers(timeout=10)
        for port_name in (naming.router_gateway_device(gateway["id"]), naming.router_interface_device(internal["id"])):
            ovs.vsctl("--if-exists", "del-port", bridge, port_name)
        ovs.ip("netns", "del", namespace, check=False)
