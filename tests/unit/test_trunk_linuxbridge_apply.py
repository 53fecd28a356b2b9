"""The Linux bridge trunk applier: the requests of lb_plan's operations and how they are sent
(over an in-memory IPRoute), including a kernel without 8021q."""
import errno

import pytest

from netweave.mechanism_drivers.linuxbridge import capabilities
from netweave.service_plugins.trunk.agent import lb_apply, lb_plan

PARENT_TAP, CHILD_TAP, RED_BRIDGE = "tapa6546d52-bc", "tapcd6850a0-18", "brq3f05db4d-c4"


class FakeIPRoute:
    def __init__(self, devices, vlan_error=None):
        self.devices = dict(devices)   # name -> index
        self.calls = []
        self.vlan_error = vlan_error

    def link_lookup(self, ifname):
        return [self.devices[ifname]] if ifname in self.devices else []

    def link(self, command, **fields):
        self.calls.append((command, fields))
        if command == "add":
            if self.vlan_error is not None:
                raise self.vlan_error
            self.devices[fields["ifname"]] = max(self.devices.values()) + 1
        elif command == "del":
            self.devices = {n: i for n, i in self.devices.items() if i != fields["index"]}


def book_ops():
    wanted = {CHILD_TAP: lb_plan.VlanChild(CHILD_TAP, 42, RED_BRIDGE)}
    return lb_plan.plan(PARENT_TAP, wanted, {"tapstale0000-0": lb_plan.VlanChild("tapstale0000-0", 7)})


def test_requests_of_the_book_layout():
    assert lb_apply.requests(book_ops()) == [
        lb_apply.LinkRequest("del", "tapstale0000-0"),
        lb_apply.LinkRequest("add", CHILD_TAP, (("kind", "vlan"), ("vlan_id", 42)), (("link", PARENT_TAP),)),
        lb_apply.SysctlRequest("net.ipv6.conf.%s.disable_ipv6" % CHILD_TAP, "1"),
        lb_apply.LinkRequest("set", CHILD_TAP, (), (("master", RED_BRIDGE),)),
        lb_apply.LinkRequest("set", CHILD_TAP, (("state", "up"),)),
    ]
    with pytest.raises(TypeError):
        lb_apply.requests([object()])


def test_run_resolves_devices_when_each_request_is_sent():
    ipr = FakeIPRoute({PARENT_TAP: 32, RED_BRIDGE: 20, "tapstale0000-0": 40})
    written = []
    lb_apply.run(lb_apply.requests(book_ops()), ipr, lambda key, value: written.append((key, value)))
    assert ipr.calls == [
        ("del", {"index": 40}),
        ("add", {"ifname": CHILD_TAP, "kind": "vlan", "vlan_id": 42, "link": 32}),
        ("set", {"index": 33, "master": 20}),
        ("set", {"index": 33, "state": "up"}),
    ]
    assert written == [("net.ipv6.conf.%s.disable_ipv6" % CHILD_TAP, "1")]


def test_missing_devices_and_kernels_without_8021q():
    with pytest.raises(LookupError, match=PARENT_TAP):
        lb_apply.run(lb_apply.requests(book_ops()[1:]), FakeIPRoute({RED_BRIDGE: 20}), lambda *_: None)
    unsupported = OSError(errno.EOPNOTSUPP, "Operation not supported")
    with pytest.raises(capabilities.VlanUnsupported):
        lb_apply.run(lb_apply.requests(book_ops()[1:]), FakeIPRoute({PARENT_TAP: 32}, unsupported),
                     lambda *_: None)
