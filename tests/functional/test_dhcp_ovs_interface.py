"""The openvswitch interface driver: the DHCP port on an OVS bridge, dnsmasq answering through it.

The bridge (netdev datapath, NORMAL switching) stands for br-int with the
OVS agent's work done; the instance is an internal port moved into a
namespace, as a hypervisor plugs it. Both the internal-port and the
``ovs_use_veth`` layouts are served to a real udhcpc.
"""
import shutil
import uuid

import pytest

from harness import dhcp as dh
from harness import ovs
from harness.ovs import ovs_sandbox, ovs_switch  # noqa: F401 - fixtures
from netweave.core import naming
from netweave.core.agent import interface
from netweave.core.agent.dhcp import config as dhcp_config
from netweave.core.agent.dhcp import driver as dhcp_driver

pytestmark = pytest.mark.system("ip", "dnsmasq", "udhcpc", "ovs-vsctl")


@pytest.mark.parametrize("use_veth", [False, True], ids=["internal", "veth"])
def test_ovs_plugged_dhcp_port_serves_a_lease(ovs_sandbox, tmp_path, use_veth):  # noqa: F811
    bridge = ovs_sandbox.add_bridge(ovs_sandbox.name("nwdi"))
    state_path = dh.world_readable_dir("nwdhcpovs-")
    settings = dhcp_config.DhcpSettings(state_path=state_path)
    driver = dhcp_driver.DnsmasqDriver(settings, interface.OVSInterfaceDriver(integration_bridge=bridge,
                                                                              use_veth=use_veth))
    sub = dh.subnet("10.68.0.0/24", gateway_ip="10.68.0.1")
    dhcp_port = dh.port("fa:16:3e:20:00:02", [(sub["id"], "10.68.0.2")], device_owner="network:dhcp")
    vm = dh.port("fa:16:3e:20:00:0a", [(sub["id"], "10.68.0.33")])
    network = dh.network_info(subnets=[sub], ports=[dhcp_port, vm], mtu=1450)
    namespace = naming.dhcp_namespace(network["id"])
    try:
        result = driver.serve(network, dhcp_port)
        expected_device = naming.dhcp_device(dhcp_port["id"]) if use_veth else naming.tap_device(dhcp_port["id"])
        assert result.device == expected_device
        on_bridge = naming.tap_device(dhcp_port["id"])
        assert on_bridge in ovs.vsctl("list-ports", bridge).split()
        assert ovs.vsctl("get", "Interface", on_bridge, "external_ids:iface-id").strip().strip('"') == \
            dhcp_port["id"]
        assert ovs.vsctl("get", "Interface", on_bridge, "external_ids:attached-mac").strip().strip('"') == \
            dhcp_port["mac_address"]
        assert "10.68.0.2/24" in interface.device_addresses(namespace, expected_device)
        if use_veth:
            dh.disable_tx_checksum(namespace, expected_device)
        # Plugging again changes nothing.
        assert driver.serve(network, dhcp_port, check_devices=True).action == dhcp_driver.UNCHANGED

        instance_ns, device = ovs_sandbox.plug_instance(bridge, str(uuid.uuid4()), vm["mac_address"],
                                                        "192.0.2.250/32")
        client = dh.DhcpClient(instance_ns, str(tmp_path), interface=device)
        try:
            client.start()
            lease = client.bound(timeout=40)
            assert lease["ip"] == "10.68.0.33"
            assert lease["mtu"] == "1450"
        finally:
            client.stop()

        driver.teardown(network["id"])
        assert on_bridge not in ovs.vsctl("list-ports", bridge).split()
        assert not interface.namespace_exists(namespace)
    finally:
        dh.stop_served_networks(state_path)
        dh.run("ip", "netns", "del", namespace, check=False)
        shutil.rmtree(state_path, ignore_errors=True)
