"""IPv6 router advertisements of the L3 agent: one radvd per router in its qrouter- namespace.

A lab "host" namespace holds the internal network's Linux bridge. The applier
builds qrouter-<id> and plugs qr- with the linuxbridge interface driver; the
test joins the tap to the bridge, as the Linux bridge agent would. An
"instance" namespace on the same bridge accepts router advertisements and
must configure itself from them alone: the EUI-64 address of its MAC in each
SLAAC prefix, and its default route via the router's link-local address.
radvd advertises every 3 to 4 seconds here (Neutron's default is 30 to 100).
"""
import contextlib
import ipaddress
import os
import signal
import uuid

import pytest

from harness import dhcp as dh
from harness import l3, system
from harness.multihost import run
from netweave.core import naming
from netweave.core.agent import external_process, interface
from netweave.service_plugins.router.agent import applier as applier_mod
from netweave.service_plugins.router.agent import interfaces, radvd, radvd_process, router_info
from netweave.service_plugins.router.agent.settings import DataplaneSettings

pytestmark = pytest.mark.system("ip", "iptables-save", "iptables-restore", "sysctl", "radvd")

SETTINGS = DataplaneSettings(enable_metadata_proxy=False, min_rtr_adv_interval=3, max_rtr_adv_interval=4)
ROUTER_MAC, INSTANCE_MAC = "fa:16:3e:cc:20:02", "fa:16:3e:bb:20:06"
PREFIX, SECOND_PREFIX = "2001:db8:20::/64", "2001:db8:21::/64"
RA_WAIT = 40.0      # a few advertisements, on a machine others share


def eui64(prefix, mac):
    """The address SLAAC builds in ``prefix`` from ``mac`` (RFC 4291 appendix A)."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    interface_id = bytes(octets[:3] + [0xff, 0xfe] + octets[3:])
    return str(ipaddress.ip_network(prefix)[int.from_bytes(interface_id, "big")])


def slaac_subnet(subnet_id, cidr, **extra):
    gateway = str(ipaddress.ip_network(cidr)[1])
    return l3.subnet(subnet_id, cidr, gateway, 6, ipv6_ra_mode="slaac", ipv6_address_mode="slaac", **extra)


def process_gone(pid):
    """Ended: no such process, or a zombie its reaper has yet to collect."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True


class Lab:
    """A host namespace with the internal bridge, an applier running radvd, instances; all removed at close."""

    def __init__(self, state_path):
        self.dh = dh.Lab("nwra")
        self.host = self.dh.host()
        self.network_id = str(uuid.uuid4())
        self.bridge = self.dh.bridge(self.network_id)
        self.monitor = external_process.ProcessMonitor()     # never started: the test runs its rounds
        self.radvd = radvd_process.RadvdProcesses(str(state_path), monitor=self.monitor)
        self.applier = applier_mod.RouterApplier(
            interfaces.RouterPlugging.of_class(interface.BridgeInterfaceDriver, host_namespace=self.host),
            SETTINGS, radvd_processes=self.radvd)
        self.router_ids = []
        self.pids = set()           # every radvd seen, so none outlives the test

    def new_router_id(self):
        self.router_ids.append(str(uuid.uuid4()))
        return self.router_ids[-1]

    def apply(self, description):
        report = self.applier.apply(router_info.parse_router(description))
        for port in description["_interfaces"]:
            tap = naming.tap_device(port["id"])
            if " master %s " % self.bridge not in run("ip", "-n", self.host, "-o", "link", "show", "dev", tap,
                                                      check=False).stdout:
                self.dh.join(tap, self.bridge)
        self.track(description["id"])
        return report

    def track(self, router_id):
        pid = self.radvd.pid(router_id)
        if pid:
            self.pids.add(pid)
        return pid

    def instance(self):
        """An instance namespace on the bridge that takes router advertisements (as a host, not a router)."""
        namespace = self.dh.instance(INSTANCE_MAC, self.bridge, suffix="ra")
        run("ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=0",
            "net.ipv6.conf.eth0.forwarding=0", "net.ipv6.conf.eth0.accept_ra=1")
        # Up again: a router solicitation now, with the sysctls in force.
        run("ip", "-n", namespace, "link", "set", "eth0", "down")
        run("ip", "-n", namespace, "link", "set", "eth0", "up")
        return namespace

    def close(self):
        for router_id in self.router_ids:
            with contextlib.suppress(Exception):
                self.track(router_id)
                self.radvd.stop(router_id)
            with contextlib.suppress(Exception):
                self.applier.remove(router_id)
            run("ip", "netns", "del", naming.router_namespace(router_id), check=False)
        for pid in self.pids:
            if not process_gone(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.dh.close()


@pytest.fixture
def lab(tmp_path):
    system.require_root()
    lab = Lab(tmp_path / "state")
    try:
        yield lab
    finally:
        lab.close()


def wait_for(predicate, what, timeout=RA_WAIT):
    return dh.wait_for(predicate, what, timeout=timeout, interval=0.2)


def instance_addresses(namespace):
    return run("ip", "-n", namespace, "-6", "addr", "show", "dev", "eth0", "scope", "global").stdout


def instance_default_route(namespace):
    return run("ip", "-n", namespace, "-6", "route", "show", "default").stdout


def test_instance_configures_itself_from_the_routers_advertisements(lab):
    """SLAAC address and default route from the RA; equal inputs leave radvd alone, a second
    prefix reloads it (same process), a dead radvd is respawned, and it goes with the last
    IPv6 interface (process ended, configuration removed)."""
    router_id = lab.new_router_id()
    port_id = str(uuid.uuid4())
    v4 = l3.subnet("v4", "10.0.20.0/24", "10.0.20.1")
    first = slaac_subnet("v6a", PREFIX, dns_nameservers=["2001:db8::53"])
    second = slaac_subnet("v6b", SECOND_PREFIX)

    def description(*subnets):
        fixed = [(subnet["id"], subnet["gateway_ip"]) for subnet in subnets]
        return l3.router(router_id, interfaces=[l3.port(port_id, ROUTER_MAC, lab.network_id, fixed, list(subnets))])

    one_prefix = description(v4, first)
    report = lab.apply(one_prefix)
    assert report.ok, report.errors
    assert report.radvd == radvd.START
    pid = lab.track(router_id)
    assert pid, "radvd runs"
    with open("/proc/%d/cmdline" % pid, "rb") as handle:
        assert lab.radvd.config_path(router_id).encode() in handle.read()
    # In the router's namespace: the same network namespace as a process there.
    namespace = naming.router_namespace(router_id)
    assert os.readlink("/proc/%d/ns/net" % pid) == run(
        "ip", "netns", "exec", namespace, "readlink", "/proc/self/ns/net").stdout.strip()
    with open(lab.radvd.config_path(router_id)) as handle:
        config = handle.read()
    assert config == radvd.render(router_info.parse_router(one_prefix), SETTINGS)
    assert "prefix %s" % PREFIX in config and "RDNSS 2001:db8::53 {};" in config
    assert not os.stat(lab.radvd.config_path(router_id)).st_mode & 0o022

    instance = lab.instance()
    address = eui64(PREFIX, INSTANCE_MAC)
    wait_for(lambda: address + "/64" in instance_addresses(instance),
             "the instance configures %s from the advertised prefix" % address)
    router_link_local = eui64("fe80::/64", ROUTER_MAC)
    wait_for(lambda: "default via %s dev eth0 proto ra" % router_link_local in instance_default_route(instance),
             "the instance's default route via the router's link-local address %s" % router_link_local)
    assert router_link_local in run("ip", "-n", namespace, "-6", "addr", "show", "dev",
                                    naming.router_interface_device(port_id), "scope", "link").stdout

    # Equal inputs change nothing.
    again = lab.apply(one_prefix)
    assert again.ok and again.radvd == radvd.NONE and not again.changed, again
    assert lab.track(router_id) == pid

    # A second IPv6 subnet: the same radvd reads its file again and advertises both prefixes.
    two_prefixes = description(v4, first, second)
    reloaded = lab.apply(two_prefixes)
    assert reloaded.ok and reloaded.radvd == radvd.RELOAD, reloaded
    assert lab.track(router_id) == pid
    with open(lab.radvd.config_path(router_id)) as handle:
        assert "prefix %s" % SECOND_PREFIX in handle.read()
    second_address = eui64(SECOND_PREFIX, INSTANCE_MAC)
    wait_for(lambda: second_address + "/64" in instance_addresses(instance),
             "the instance configures %s after the reload" % second_address)
    assert lab.track(router_id) == pid and not process_gone(pid)

    # A radvd that died is respawned: by the process monitor between passes, by the next pass too.
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: lab.radvd.pid(router_id) is None, "radvd counts as dead", timeout=10)
    assert lab.monitor.check_once() == [(radvd_process.SERVICE, router_id)]
    respawned = lab.track(router_id)
    assert respawned and respawned != pid
    os.kill(respawned, signal.SIGKILL)
    wait_for(lambda: lab.radvd.pid(router_id) is None, "radvd counts as dead", timeout=10)
    restarted = lab.apply(two_prefixes)
    assert restarted.ok and restarted.radvd == radvd.START
    last = lab.track(router_id)
    assert last and last not in (pid, respawned)

    # The router keeps only its IPv4 subnet: radvd goes, and its files.
    stopped = lab.apply(description(v4))
    assert stopped.ok and stopped.radvd == radvd.STOP, stopped
    wait_for(lambda: process_gone(last), "radvd ends", timeout=10)
    assert lab.radvd.pid(router_id) is None
    assert not os.path.exists(lab.radvd.config_path(router_id))
    assert lab.monitor.check_once() == []                    # not respawned either
    assert lab.apply(description(v4)).radvd == radvd.NONE


def test_radvd_goes_with_the_router_and_an_interface_without_ra_mode_still_advertises(lab):
    """An IPv6 subnet without RA mode: the router is advertised (default route) but no prefix, so
    the instance gets no address from it. Removing the router from the host ends its radvd."""
    router_id = lab.new_router_id()
    subnet = l3.subnet("v6", PREFIX, str(ipaddress.ip_network(PREFIX)[1]), 6)
    port = l3.port(str(uuid.uuid4()), ROUTER_MAC, lab.network_id, [("v6", subnet["gateway_ip"])], [subnet])
    report = lab.apply(l3.router(router_id, interfaces=[port]))
    assert report.ok and report.radvd == radvd.START, report
    pid = lab.track(router_id)
    with open(lab.radvd.config_path(router_id)) as handle:
        assert "prefix" not in handle.read()

    instance = lab.instance()
    router_link_local = eui64("fe80::/64", ROUTER_MAC)
    wait_for(lambda: "default via %s dev eth0 proto ra" % router_link_local in instance_default_route(instance),
             "the instance's default route via the router's link-local address")
    assert eui64(PREFIX, INSTANCE_MAC) not in instance_addresses(instance)

    removed = lab.applier.remove(router_id)
    assert removed.ok and removed.namespace_removed, removed
    wait_for(lambda: process_gone(pid), "radvd ends with its router", timeout=10)
    assert not os.path.exists(lab.radvd.config_path(router_id))
    assert lab.monitor.check_once() == []
