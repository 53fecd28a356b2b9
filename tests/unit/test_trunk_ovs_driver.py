"""The Open vSwitch agent's trunk pass (ovs_driver.OvsTrunkDriver) over an in-memory switch
and server: bindings, patch ports, statuses, removals and failed lookups."""
import copy

from netweave.core import naming
from netweave.service_plugins.trunk.agent import ovs_driver, ovs_plan

PARENT, RED, BLUE = "a6546d52-bc8b-4ca0-bd3a-bda1afcde6bb", "cd6850a0-186d-47ac-8981-6fa52088088e", \
    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
TRUNK_ID = "82597947-6e0a-40f3-b4ff-ccedd8c74ff8"
TBR = naming.trunk_bridge(TRUNK_ID)
MACS = {RED: "fa:16:3e:a9:48:cc", BLUE: "fa:16:3e:00:00:41"}


class Switch:
    """ovs_apply-shaped: trunk bridges with a vNIC, and patch ports."""

    def __init__(self):
        self.bridges = {TBR: ovs_plan.Vnic("tapa6546d52-bc", PARENT, "fa:16:3e:1c:3d:d3")}
        self.ports = {}
        self.fail = False
        self.transactions = []

    def read_trunk_bridges(self, db=None):
        return dict(self.bridges)

    def read(self, bridges, db=None):
        return {k: p for k, p in self.ports.items() if k[0] in bridges}

    def apply(self, ops, delete_bridges=(), db=None):
        if self.fail:
            raise RuntimeError("ovs-vsctl: transaction error")
        self.transactions.append((list(ops), list(delete_bridges)))
        for op in ops:
            if isinstance(op, ovs_plan.DelPort):
                self.ports.pop((op.bridge, op.name), None)
            else:
                self.ports[(op.port.bridge, op.port.name)] = op.port
        for bridge in delete_bridges:
            self.bridges.pop(bridge, None)
            self.ports = {k: p for k, p in self.ports.items() if k[0] != bridge}


class Server:
    def __init__(self):
        self.trunk = {"id": TRUNK_ID, "port_id": PARENT, "status": "DOWN",
                      "sub_ports": [{"port_id": RED, "segmentation_type": "vlan", "segmentation_id": 42}]}
        self.bound, self.statuses = [], []
        self.fail_lookup = False

    def get_trunk_by_port(self, context, port_id):
        if self.fail_lookup:
            raise TimeoutError("no answer")
        return copy.deepcopy(self.trunk) if port_id == PARENT else None

    def update_subport_bindings(self, context, subports):
        ids = [s["port_id"] for s in subports]
        self.bound.append(ids)
        self.trunk["status"] = "BUILD"
        return {TRUNK_ID: [dict(s, mac_address=MACS[s["port_id"]]) for s in self.trunk["sub_ports"]]}

    def update_trunk_status(self, context, trunk_id, status):
        self.statuses.append(status)
        self.trunk["status"] = status


def names(switch, bridge):
    return sorted(name for b, name in switch.ports if b == bridge)


def make():
    switch, server = Switch(), Server()
    return switch, server, ovs_driver.OvsTrunkDriver(server, "br-int", "unix:/x.sock", switch=switch)


def test_first_pass_binds_wires_and_reports_active_then_nothing():
    switch, server, driver = make()
    driver.sync(None)
    assert server.bound == [[RED]]
    assert names(switch, "br-int") == [naming.subport_int_port(RED), naming.trunk_parent_int_port(PARENT)]
    assert server.statuses == ["ACTIVE"]
    driver.sync(None)
    assert server.bound == [[RED]] and server.statuses == ["ACTIVE"] and len(switch.transactions) == 1


def test_subports_added_and_removed_while_running():
    switch, server, driver = make()
    driver.sync(None)
    server.trunk["sub_ports"].append({"port_id": BLUE, "segmentation_type": "vlan", "segmentation_id": 41})
    driver.sync(None)
    assert server.bound == [[RED], [BLUE]] and server.statuses == ["ACTIVE", "ACTIVE"]
    assert switch.ports[(TBR, naming.subport_trunk_port(BLUE))].tag == 41
    server.trunk["sub_ports"] = server.trunk["sub_ports"][1:]
    driver.sync(None)
    assert naming.subport_int_port(RED) not in names(switch, "br-int")
    assert naming.subport_trunk_port(RED) not in names(switch, TBR)
    assert naming.subport_int_port(BLUE) in names(switch, "br-int")
    # Added again later: bound again (the server unbound it at removal).
    server.trunk["sub_ports"].append({"port_id": RED, "segmentation_type": "vlan", "segmentation_id": 42})
    driver.sync(None)
    assert server.bound[-1] == [RED]


def test_switch_failure_is_error_and_a_later_pass_recovers():
    switch, server, driver = make()
    switch.fail = True
    driver.sync(None)
    assert server.statuses == ["ERROR"] and not switch.ports
    switch.fail = False
    driver.sync(None)
    assert server.statuses == ["ERROR", "ACTIVE"] and switch.ports


def test_failed_lookup_removes_nothing_and_instance_gone_is_down():
    switch, server, driver = make()
    driver.sync(None)
    wired = dict(switch.ports)
    server.fail_lookup = True
    driver.sync(None)
    assert switch.ports == wired and server.statuses == ["ACTIVE"]
    server.fail_lookup = False
    switch.bridges[TBR] = None            # Nova removed the vNIC
    driver.sync(None)
    assert TBR not in switch.bridges and not switch.ports
    assert server.statuses == ["ACTIVE", "DOWN"]


def test_a_port_that_is_no_trunk_parent_gets_no_patch_ports():
    switch, server, driver = make()
    switch.bridges[TBR] = ovs_plan.Vnic("tapother", "someone-else", "fa:16:3e:00:00:09")
    driver.sync(None)
    assert not switch.ports and not server.bound and not server.statuses


def test_a_new_empty_trunk_bridge_waits_a_pass_for_its_vnic():
    switch, server, driver = make()
    switch.bridges[TBR] = None            # os-vif made the bridge; the vNIC comes next
    driver.sync(None)
    assert TBR in switch.bridges and not server.statuses
    switch.bridges[TBR] = ovs_plan.Vnic("tapa6546d52-bc", PARENT, "fa:16:3e:1c:3d:d3")
    driver.sync(None)
    assert server.statuses == ["ACTIVE"] and names(switch, TBR)


def test_a_bridge_left_empty_goes_after_one_pass():
    switch, server, driver = make()
    switch.bridges[TBR] = None            # left over from an instance gone while the agent was down
    driver.sync(None)
    assert TBR in switch.bridges
    driver.sync(None)
    assert TBR not in switch.bridges and not server.statuses
