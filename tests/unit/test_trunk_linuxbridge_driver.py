"""The Linux bridge agent's trunk driver over an in-memory server and kernel: the parent's
VLAN children follow the trunk, statuses, and a kernel without VLAN devices."""
import copy

from netweave.service_plugins.trunk.agent import lb_driver, lb_plan

PARENT, RED, BLUE = "a6546d52-bc8b-4ca0-bd3a-bda1afcde6bb", "cd6850a0-186d-47ac-8981-6fa52088088e", \
    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
RED_NET, BLUE_NET = "3f05db4d-c4ee-4cee-a616-2cfffbcd296e", "d8428f56-ba13-4aa7-97bb-76a6feb308bf"
NETS = {RED: RED_NET, BLUE: BLUE_NET}
TRUNK_ID = "82597947-6e0a-40f3-b4ff-ccedd8c74ff8"
TAP, RED_TAP, BLUE_TAP = "tapa6546d52-bc", "tapcd6850a0-18", "tap0f1e2d3c-4b"
DETAILS = {"device": TAP, "port_id": PARENT, "device_owner": "compute:nova"}


class Server:
    def __init__(self):
        self.trunk = {"id": TRUNK_ID, "port_id": PARENT, "status": "DOWN",
                      "sub_ports": [{"port_id": RED, "segmentation_type": "vlan", "segmentation_id": 42}]}
        self.bound, self.statuses, self.asked = [], [], 0

    def get_trunk_by_port(self, context, port_id):
        self.asked += 1
        return copy.deepcopy(self.trunk) if port_id == PARENT else None

    def update_subport_bindings(self, context, subports):
        self.bound.append([s["port_id"] for s in subports])
        self.trunk["status"] = "BUILD"
        return {TRUNK_ID: [dict(s, network_id=NETS[s["port_id"]]) for s in self.trunk["sub_ports"]]}

    def update_trunk_status(self, context, trunk_id, status):
        self.statuses.append(status)
        self.trunk["status"] = status


class Kernel:
    """An IPRoute and the VLAN children it holds."""

    def __init__(self):
        self.devices = {TAP: 32, "brq3f05db4d-c4": 20}
        self.children = {}
        self.sysctls = []

    def link_lookup(self, ifname):
        return [self.devices[ifname]] if ifname in self.devices else []

    def link(self, command, **fields):
        by_index = {i: n for n, i in self.devices.items()}
        if command == "add":
            self.devices[fields["ifname"]] = max(self.devices.values()) + 1
            self.children[fields["ifname"]] = lb_plan.VlanChild(fields["ifname"], fields["vlan_id"])
        elif command == "del":
            name = by_index[fields["index"]]
            del self.devices[name]
            self.children.pop(name, None)
        elif "master" in fields:
            name = by_index[fields["index"]]
            self.children[name] = lb_plan.VlanChild(name, self.children[name].vlan_id, by_index[fields["master"]])

    def close(self):
        pass


def make(vlan_devices=True):
    server, kernel = Server(), Kernel()
    driver = lb_driver.LinuxbridgeTrunkDriver(server, "host-ns", vlan_devices, open_iproute=lambda _ns: kernel,
                                              read_children=lambda _tap: dict(kernel.children),
                                              sysctl=lambda key, value: kernel.sysctls.append(key))
    return server, kernel, driver


def test_parent_gets_a_vlan_child_per_subport_and_the_trunk_turns_active():
    server, kernel, driver = make()
    driver.handle_port(None, DETAILS)
    assert server.bound == [[RED]] and server.statuses == ["ACTIVE"]
    assert kernel.children == {RED_TAP: lb_plan.VlanChild(RED_TAP, 42, "brq3f05db4d-c4")}
    assert kernel.sysctls == ["net.ipv6.conf.%s.disable_ipv6" % RED_TAP]
    driver.before_pass(None)
    assert server.bound == [[RED]] and server.statuses == ["ACTIVE"]


def test_subports_follow_the_trunk_and_a_missing_bridge_is_left_to_the_agent():
    server, kernel, driver = make()
    driver.handle_port(None, DETAILS)
    server.trunk["sub_ports"] = [{"port_id": BLUE, "segmentation_type": "vlan", "segmentation_id": 41}]
    driver.before_pass(None)
    # BLUE_NET's bridge does not exist yet: the child is made, the agent enslaves it when it wires it.
    assert kernel.children == {BLUE_TAP: lb_plan.VlanChild(BLUE_TAP, 41, None)}
    assert server.bound == [[RED], [BLUE]] and server.statuses[-1] == "ACTIVE"


def test_other_ports_are_not_asked_about_and_a_gone_parent_is_down():
    server, kernel, driver = make()
    driver.handle_port(None, {"device": RED_TAP, "port_id": RED, "device_owner": "trunk:subport"})
    driver.handle_port(None, {"device": "tapdhcp", "port_id": "x", "device_owner": "network:dhcp"})
    assert server.asked == 0
    driver.handle_port(None, DETAILS)
    driver.delete_port(None, DETAILS)
    assert server.statuses == ["ACTIVE", "DOWN"]
    driver.before_pass(None)
    assert server.asked == 1


def test_without_vlan_devices_the_trunk_is_error_and_nothing_is_made():
    server, kernel, driver = make(vlan_devices=False)
    driver.handle_port(None, DETAILS)
    assert server.statuses == ["ERROR"] and not server.bound and not kernel.children


def test_a_failed_wiring_is_degraded_and_retried():
    server, kernel, driver = make()
    kernel.devices.pop(TAP)          # the tap vanished under the driver
    driver.handle_port(None, DETAILS)
    assert server.statuses == ["DEGRADED"]
    kernel.devices[TAP] = 32
    driver.before_pass(None)
    assert server.statuses == ["DEGRADED", "ACTIVE"] and RED_TAP in kernel.children
