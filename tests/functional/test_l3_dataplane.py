"""The L3 agent's data plane with real packets between namespaces (Linux bridge plugging).

A lab "host" namespace holds two Linux bridges: the internal network's and the
external network's. The applier builds qrouter-<id> from a router description
and plugs qr-/qg- with the linuxbridge interface driver; the test joins the
host-side taps to the bridges, as the Linux bridge agent would. An "instance"
namespace sits on the internal bridge (10.0.0.0/24, router 10.0.0.1) and an
"internet" namespace on the external one (203.0.113.1, the external subnet's
gateway). UDP/TCP echo servers report the peer address they saw, so SNAT and
DNAT are checked without capturing packets. Nothing talks to a server.
"""
import contextlib
import json
import os
import re
import shutil
import socketserver
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from harness import dhcp as dh
from harness import l3, system
from harness.multihost import ping, run
from netweave.core import naming
from netweave.core.agent import interface
from netweave.core.agent.metadata import proxy as metadata_proxy
from netweave.service_plugins.router.agent import applier as applier_mod
from netweave.service_plugins.router.agent import interfaces, router_info
from netweave.service_plugins.router.agent.settings import DataplaneSettings

pytestmark = pytest.mark.system("ip", "iptables-save", "iptables-restore", "conntrack", "sysctl")

EXTERNAL_CIDR, GATEWAY_IP, OUTSIDE_IP = "203.0.113.0/24", "203.0.113.106", "203.0.113.1"
FLOATING_IP = "203.0.113.101"
INTERNAL_CIDR, ROUTER_IP = "10.0.0.0/24", "10.0.0.1"
INSTANCE1_IP, INSTANCE2_IP = "10.0.0.6", "10.0.0.10"

class Lab:
    """Bridges, an outside namespace and instance namespaces, a router applier; all removed at close."""

    def __init__(self, tmp_path, settings=None, metadata_proxy=None):
        self.tmp_path = tmp_path
        self.dh = dh.Lab("nwl3")
        self.host = self.dh.host()
        self.external_net, self.internal_net = str(uuid.uuid4()), str(uuid.uuid4())
        self.external_bridge = self.dh.bridge(self.external_net)
        self.internal_bridge = self.dh.bridge(self.internal_net)
        self.router_ids = []
        self.servers = []
        self.applier = applier_mod.RouterApplier(
            interfaces.RouterPlugging.of_class(interface.BridgeInterfaceDriver, host_namespace=self.host),
            settings or DataplaneSettings(), metadata_proxy=metadata_proxy)
        self.outside = self.dh.instance("fa:16:3e:aa:00:01", self.external_bridge, suffix="out")
        self._address(self.outside, OUTSIDE_IP + "/24")

    @staticmethod
    def _address(namespace, cidr, gateway=None):
        run("ip", "-n", namespace, "addr", "add", cidr, "dev", "eth0")
        if gateway:
            run("ip", "-n", namespace, "route", "add", "default", "via", gateway)

    def instance(self, ip, suffix):
        mac = "fa:16:3e:bb:00:%02x" % int(ip.rsplit(".", 1)[1])
        namespace = self.dh.instance(mac, self.internal_bridge, suffix=suffix)
        self._address(namespace, ip + "/24", ROUTER_IP)
        return namespace

    def echo_server(self, namespace, name):
        log = self.tmp_path / ("%s.log" % name)
        self.servers.append(l3.start_echo_server(namespace, name, log))
        return log

    # --- router descriptions ---------------------------------------------------------------

    def new_router_id(self):
        self.router_ids.append(str(uuid.uuid4()))
        return self.router_ids[-1]

    def gateway_port(self, ip=GATEWAY_IP):
        return l3.port(str(uuid.uuid4()), "fa:16:3e:cc:00:01", self.external_net, [("ext", ip)],
                       [l3.subnet("ext", EXTERNAL_CIDR, OUTSIDE_IP)], device_owner="network:router_gateway")

    def interface_port(self):
        return l3.port(str(uuid.uuid4()), "fa:16:3e:cc:00:02", self.internal_net, [("int", ROUTER_IP)],
                       [l3.subnet("int", INTERNAL_CIDR, ROUTER_IP)])

    def apply(self, description):
        """Apply like the agent does and join the router's taps to their bridges, as the L2 agent would."""
        report = self.applier.apply(router_info.parse_router(description))
        self.join_taps(description)
        return report

    def join_taps(self, description):
        ports = [(port, self.internal_bridge) for port in description["_interfaces"]]
        if description["gw_port"]:
            ports.append((description["gw_port"], self.external_bridge))
        for port, bridge in ports:
            tap = naming.tap_device(port["id"])
            info = interface.link_info(self.host, tap)
            if info is None or not _master_is(self.host, tap, bridge):
                self.dh.join(tap, bridge)

    def close(self):
        self.applier.wait_for_helpers(timeout=10)
        for router_id in self.router_ids:
            with contextlib.suppress(Exception):
                self.applier.remove(router_id)
            run("ip", "netns", "del", naming.router_namespace(router_id), check=False)
        for process in self.servers:
            process.kill()
            process.wait()
        self.dh.close()


def _master_is(namespace, device, bridge):
    result = run("ip", "-n", namespace, "-o", "link", "show", "dev", device, check=False)
    return (" master %s " % bridge) in result.stdout


@pytest.fixture
def lab(tmp_path):
    system.require_root()
    lab = Lab(tmp_path)
    yield lab
    lab.close()


def in_router(router_id, *argv):
    return run("ip", "netns", "exec", naming.router_namespace(router_id), *argv).stdout


def nat_listing(router_id):
    return l3.nat_listing(naming.router_namespace(router_id))


def counted_rules(save_text):
    """[(rule, packets)] of ``iptables-save -c`` output."""
    found = []
    for line in save_text.splitlines():
        match = re.match(r"\[(\d+):\d+\] (-A .*)", line)
        if match:
            found.append((match.group(2), int(match.group(1))))
    return found


def wait_for(predicate, what, timeout=10.0):
    return dh.wait_for(predicate, what, timeout=timeout)


# --- the tests --------------------------------------------------------------------------------------


def test_instance_reaches_the_outside_as_the_routers_gateway_address(lab):
    """T4 + T5: the namespace's shape, the book's nat listing, and PAT to the gateway IP."""
    router_id = lab.new_router_id()
    gateway, internal = lab.gateway_port(), lab.interface_port()
    description = l3.router(router_id, gateway=gateway, interfaces=[internal],
                            routes=[{"destination": "198.51.100.0/24", "nexthop": OUTSIDE_IP}])
    report = lab.apply(description)
    assert report.ok, report.errors
    assert report.namespace_created and sorted(report.plugged) == sorted(
        [naming.router_gateway_device(gateway["id"]), naming.router_interface_device(internal["id"])])
    assert sorted(report.restored_tables) == ["filter", "mangle", "nat"]

    qg, qr = naming.router_gateway_device(gateway["id"]), naming.router_interface_device(internal["id"])
    assert interface.device_addresses(naming.router_namespace(router_id), qg) == [GATEWAY_IP + "/24"]
    assert interface.device_addresses(naming.router_namespace(router_id), qr) == [ROUTER_IP + "/24"]
    assert interface.link_info(naming.router_namespace(router_id), qg)["address"] == gateway["mac_address"]
    routes = in_router(router_id, "ip", "route")
    assert "default via %s dev %s proto static" % (OUTSIDE_IP, qg) in routes
    assert "198.51.100.0/24 via %s dev %s proto static" % (OUTSIDE_IP, qg) in routes
    assert in_router(router_id, "sysctl", "-n", "net.ipv4.ip_forward").strip() == "1"
    assert nat_listing(router_id) == l3.book_nat_listing(GATEWAY_IP)

    instance = lab.instance(INSTANCE1_IP, "vm1")
    lab.echo_server(lab.outside, "internet")
    assert ping(instance, OUTSIDE_IP, count=3) >= 2
    assert l3.udp_ask(instance, OUTSIDE_IP) == "internet %s" % GATEWAY_IP


def test_floating_ip_inbound_outbound_move_and_disassociation(lab):
    """T7 + T8: DNAT in, SNAT out as the floating IP, gratuitous ARP, and a move cuts old flows."""
    router_id = lab.new_router_id()
    gateway, internal = lab.gateway_port(), lab.interface_port()
    vm1, vm2 = lab.instance(INSTANCE1_IP, "vm1"), lab.instance(INSTANCE2_IP, "vm2")
    lab.echo_server(lab.outside, "internet")
    lab.echo_server(vm1, "vm1")
    lab.echo_server(vm2, "vm2")
    assert lab.apply(l3.router(router_id, gateway=gateway, interfaces=[internal])).ok
    # The outside remembers another MAC for the floating IP; the router's gratuitous ARP corrects it.
    run("ip", "-n", lab.outside, "neigh", "replace", FLOATING_IP, "lladdr", "02:00:00:00:00:99", "dev", "eth0",
        "nud", "stale")

    def with_fip(fixed_ip, port_id):
        fips = [l3.floating_ip(FLOATING_IP, fixed_ip, port_id, router_id=router_id)] if fixed_ip else []
        return l3.router(router_id, gateway=gateway, interfaces=[internal], floating_ips=fips)

    report = lab.apply(with_fip(INSTANCE1_IP, "p1"))
    assert report.ok, report.errors
    qg = naming.router_gateway_device(gateway["id"])
    assert report.announced == [(qg, FLOATING_IP)] and report.floating_ip_statuses == {l3.FIP_ID: "ACTIVE"}
    assert "%s/32" % FLOATING_IP in interface.device_addresses(naming.router_namespace(router_id), qg)
    assert nat_listing(router_id) == l3.book_nat_listing(GATEWAY_IP, FLOATING_IP, INSTANCE1_IP)
    wait_for(lambda: gateway["mac_address"] in run("ip", "-n", lab.outside, "neigh", "show", FLOATING_IP).stdout,
             "the outside learns the floating IP's MAC from the gratuitous ARP")

    # In: reaches vm1, which sees the real client address (no SNAT inbound). Out: vm1 leaves as
    # its floating IP, vm2 (none) as the gateway address.
    assert l3.udp_ask(lab.outside, FLOATING_IP) == "vm1 %s" % OUTSIDE_IP
    assert l3.udp_ask(vm1, OUTSIDE_IP) == "internet %s" % FLOATING_IP
    assert l3.udp_ask(vm2, OUTSIDE_IP) == "internet %s" % GATEWAY_IP

    session = l3.start_tcp_session(lab.outside, FLOATING_IP)
    try:
        assert l3.session_say(session) == "vm1 %s" % OUTSIDE_IP
        flows = in_router(router_id, "conntrack", "-L", "-d", FLOATING_IP)
        assert "dst=%s" % FLOATING_IP in flows and "src=%s" % INSTANCE1_IP in flows

        moved = lab.apply(with_fip(INSTANCE2_IP, "p2"))
        # The old connection no longer reaches vm1: its next segment is translated afresh, to vm2,
        # which knows no such connection.
        assert not l3.session_say(session, "again").startswith("vm1")
        assert "src=%s" % INSTANCE1_IP not in run("ip", "netns", "exec", naming.router_namespace(router_id),
                                                  "conntrack", "-L", check=False).stdout
    finally:
        session.kill()
        session.wait()
    assert moved.ok and moved.conntrack_cut == [FLOATING_IP] and moved.announced == []
    assert moved.restored_tables == ["nat"]
    assert nat_listing(router_id) == l3.book_nat_listing(GATEWAY_IP, FLOATING_IP, INSTANCE2_IP)
    assert l3.udp_ask(lab.outside, FLOATING_IP) == "vm2 %s" % OUTSIDE_IP
    assert l3.udp_ask(vm1, OUTSIDE_IP) == "internet %s" % GATEWAY_IP

    gone = lab.apply(with_fip(None, None))
    assert gone.ok and gone.conntrack_cut == [FLOATING_IP]
    assert "%s/32" % FLOATING_IP not in interface.device_addresses(naming.router_namespace(router_id), qg)
    assert nat_listing(router_id) == l3.book_nat_listing(GATEWAY_IP)
    assert l3.udp_ask(lab.outside, FLOATING_IP, wait=0.5) == ""


def test_enable_snat_false_lets_fixed_addresses_out_unchanged(lab):
    """T6: without SNAT the outside sees the instance's own address (and routes back to it)."""
    router_id = lab.new_router_id()
    gateway, internal = lab.gateway_port(), lab.interface_port()
    instance = lab.instance(INSTANCE1_IP, "vm1")
    log = lab.echo_server(lab.outside, "internet")
    assert lab.apply(l3.router(router_id, gateway=gateway, interfaces=[internal])).ok
    assert l3.udp_ask(instance, OUTSIDE_IP) == "internet %s" % GATEWAY_IP

    report = lab.apply(l3.router(router_id, gateway=gateway, interfaces=[internal], enable_snat=False))
    assert report.ok and report.restored_tables == ["nat"] and report.netlink_writes == 0
    listing = nat_listing(router_id)
    assert "SNAT all -- anywhere anywhere to:%s" % GATEWAY_IP not in listing
    assert "SNAT all -- anywhere anywhere mark match ! 0x2/0xffff ctstate DNAT to:%s" % GATEWAY_IP in listing
    # The first flow's conntrack entry still carries the old translation: start a new one.
    run("ip", "netns", "exec", naming.router_namespace(router_id), "conntrack", "-F", check=False)
    assert l3.udp_ask(instance, OUTSIDE_IP, wait=0.5) == ""          # the outside has no way back
    assert INSTANCE1_IP in log.read_text().split()                # but saw the fixed address
    run("ip", "-n", lab.outside, "route", "add", INTERNAL_CIDR, "via", GATEWAY_IP)
    assert l3.udp_ask(instance, OUTSIDE_IP) == "internet %s" % INSTANCE1_IP
    assert ping(naming.router_namespace(router_id), OUTSIDE_IP, count=2) >= 1


def test_applying_the_same_description_twice_changes_nothing(lab):
    """No plug, no netlink request (ip monitor stays silent), no iptables-restore (counters kept)."""
    router_id = lab.new_router_id()
    gateway, internal = lab.gateway_port(), lab.interface_port()
    description = l3.router(router_id, gateway=gateway, interfaces=[internal],
                            floating_ips=[l3.floating_ip(FLOATING_IP, INSTANCE1_IP, "p1", router_id=router_id)],
                            routes=[{"destination": "198.51.100.0/24", "nexthop": OUTSIDE_IP}])
    assert lab.apply(description).ok
    instance = lab.instance(INSTANCE2_IP, "vm2")
    lab.echo_server(lab.outside, "internet")
    assert l3.udp_ask(instance, OUTSIDE_IP) == "internet %s" % GATEWAY_IP     # counts on the SNAT rule
    namespace = naming.router_namespace(router_id)
    counters_before = in_router(router_id, "iptables-save", "-c", "-t", "nat")
    assert re.search(r"\[[1-9]\d*:\d+\] -A neutron-l3-agent-snat -o ", counters_before)
    restores_before = lab.applier.commands.count("iptables-restore", namespace)

    # The kernel's own changes (IPv6 duplicate address detection ending) must not be taken for ours.
    wait_for(lambda: not run("ip", "-n", namespace, "-6", "addr", "show", "tentative").stdout.strip(),
             "duplicate address detection to end")
    monitor = subprocess.Popen(["ip", "-n", namespace, "monitor", "link", "address", "route"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(0.3)
        again = lab.applier.apply(router_info.parse_router(description))
        time.sleep(0.5)
    finally:
        monitor.terminate()
        events = monitor.communicate(timeout=10)[0]
    assert again.ok and not again.changed, again
    assert (again.plugged, again.netlink_writes, again.sysctl_writes, again.restored_tables) == ([], 0, 0, [])
    assert events.strip() == ""
    assert lab.applier.commands.count("iptables-restore", namespace) == restores_before
    # A rewritten chain starts counting from zero; these only went on counting.
    before, after = counted_rules(counters_before), counted_rules(in_router(router_id, "iptables-save", "-c", "-t",
                                                                            "nat"))
    assert [rule for rule, _count in after] == [rule for rule, _count in before]
    assert all(count_after >= count_before for (_rule, count_after), (_same, count_before) in zip(after, before))


def test_a_router_no_longer_described_loses_its_namespace(lab):
    router_id, other_id = lab.new_router_id(), lab.new_router_id()
    gateway, internal = lab.gateway_port(), lab.interface_port()
    first = l3.router(router_id, gateway=gateway, interfaces=[internal])
    second = l3.router(other_id, interfaces=[l3.port(str(uuid.uuid4()), "fa:16:3e:cc:00:09", lab.internal_net,
                                                      [("int", "10.0.0.254")],
                                                      [l3.subnet("int", INTERNAL_CIDR, ROUTER_IP)])])
    reports = lab.applier.sync([first, second])
    assert reports[router_id].ok and reports[other_id].ok
    assert applier_mod.namespace_exists(naming.router_namespace(router_id))
    taps = [naming.tap_device(gateway["id"]), naming.tap_device(internal["id"])]
    assert all(interface.link_info(lab.host, tap) for tap in taps)

    reports = lab.applier.sync([second])
    assert set(reports) == {router_id, other_id} and reports[router_id].namespace_removed
    assert not applier_mod.namespace_exists(naming.router_namespace(router_id))
    assert not [tap for tap in taps if interface.link_info(lab.host, tap)]

    down = dict(second, admin_state_up=False)
    assert lab.applier.sync([down])[other_id].namespace_removed
    assert not applier_mod.namespace_exists(naming.router_namespace(other_id))

    # An invalid description is reported and does not take a namespace away.
    assert lab.applier.sync([first])[router_id].ok
    broken = dict(first, gw_port=None)
    assert "gw_port" in lab.applier.sync([broken])[router_id].errors[0]
    assert applier_mod.namespace_exists(naming.router_namespace(router_id))


def test_gateway_removed_and_interface_replaced(lab):
    """Clearing the gateway unplugs qg- and drops SNAT; a new interface port replaces the old one."""
    router_id = lab.new_router_id()
    gateway, internal = lab.gateway_port(), lab.interface_port()
    assert lab.apply(l3.router(router_id, gateway=gateway, interfaces=[internal])).ok
    replacement = lab.interface_port()
    report = lab.apply(l3.router(router_id, interfaces=[replacement]))
    assert report.ok, report.errors
    assert sorted(report.unplugged) == sorted([naming.router_gateway_device(gateway["id"]),
                                               naming.router_interface_device(internal["id"])])
    assert report.plugged == [naming.router_interface_device(replacement["id"])]
    assert "default" not in in_router(router_id, "ip", "route")
    save = in_router(router_id, "iptables-save", "-t", "nat")
    assert "SNAT" not in save and "neutron-l3-agent-float-snat" in save
    instance = lab.instance(INSTANCE1_IP, "vm1")
    assert ping(instance, ROUTER_IP, count=3) >= 2

    # Drift on both ends of the veth is repaired through the interface driver.
    qr, tap = naming.router_interface_device(replacement["id"]), naming.tap_device(replacement["id"])
    namespace = naming.router_namespace(router_id)
    run("ip", "-n", namespace, "link", "set", qr, "mtu", "1400", "down")
    run("ip", "-n", lab.host, "link", "set", tap, "mtu", "1400")
    repaired = lab.apply(l3.router(router_id, interfaces=[replacement]))
    assert repaired.ok and repaired.repaired == [qr] and not repaired.plugged
    assert interface.link_info(namespace, qr)["mtu"] == 1500 and interface.link_info(namespace, qr)["up"]
    assert interface.link_info(lab.host, tap)["mtu"] == 1500
    assert ping(instance, ROUTER_IP, count=3) >= 2


class HeaderEcho(socketserver.StreamRequestHandler):
    """Stands for the metadata agent behind the proxy's unix socket: answers with the headers it got."""

    def handle(self):
        headers = {}
        self.rfile.readline()
        while True:
            line = self.rfile.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = json.dumps(headers).encode()
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)


@pytest.mark.system("haproxy", "curl")
def test_metadata_requests_are_redirected_to_the_routers_proxy(tmp_path):
    """T10: 169.254.169.254:80 from an instance reaches the router's haproxy on 9697, which names
    the router; 9697 itself is closed to instances; the proxy goes with the router."""
    system.require_root()
    state_path = tempfile.mkdtemp(prefix="nwl3md-")
    socket_path = os.path.join(state_path, "metadata_proxy")
    echo = socketserver.ThreadingUnixStreamServer(socket_path, HeaderEcho)
    os.chmod(socket_path, 0o666)
    threading.Thread(target=echo.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    proxy = metadata_proxy.NamespaceProxy(state_path, socket_path)
    lab = Lab(tmp_path, metadata_proxy=proxy)
    try:
        router_id = lab.new_router_id()
        description = l3.router(router_id, gateway=lab.gateway_port(), interfaces=[lab.interface_port()])
        assert lab.apply(description).ok
        assert proxy.active(router_id)
        pid = proxy.pid(router_id)
        assert not lab.applier.apply(router_info.parse_router(description)).changed
        assert proxy.pid(router_id) == pid                       # left running, not restarted
        instance = lab.instance(INSTANCE1_IP, "vm1")

        def curl(url):
            return run("ip", "netns", "exec", instance, "curl", "-s", "--max-time", "3", url, check=False)

        answer = dh.wait_for(lambda: curl("http://169.254.169.254/latest/meta-data/").stdout,
                             "the metadata proxy answers", timeout=15)
        headers = json.loads(answer)
        assert headers["x-neutron-router-id"] == router_id
        assert headers["x-forwarded-for"] == INSTANCE1_IP
        assert curl("http://%s:9697/" % ROUTER_IP).returncode != 0    # only redirected requests get in

        assert lab.applier.remove(router_id).namespace_removed
        assert not proxy.active(router_id) and not os.path.exists(proxy.config_path(router_id))

        # enable_metadata_proxy = False: neither the rules nor the proxy.
        lab.applier = applier_mod.RouterApplier(lab.applier.plugging, DataplaneSettings(enable_metadata_proxy=False),
                                                metadata_proxy=proxy)
        other_id = lab.new_router_id()
        assert lab.apply(l3.router(other_id, gateway=lab.gateway_port(), interfaces=[lab.interface_port()])).ok
        assert not proxy.active(other_id)
        assert not [line for line in nat_listing(other_id) if "169.254.169.254" in line]
        assert "9697" not in in_router(other_id, "iptables-save")
    finally:
        lab.close()
        with contextlib.suppress(Exception):
            for router_id in lab.router_ids:
                proxy.stop(router_id)
        echo.shutdown()
        echo.server_close()
        shutil.rmtree(state_path, ignore_errors=True)


def test_ipv6_interfaces_and_default_route_forward_without_nat(lab):
    """IPv6: addresses on qr-/qg-, the default route via the external subnet's gateway (accept_ra
    then off on qg-), forwarding on; the outside reaches the instance's prefix through the router."""
    router_id = lab.new_router_id()
    gateway = l3.port(str(uuid.uuid4()), "fa:16:3e:cc:10:01", lab.external_net,
                      [("ext", GATEWAY_IP), ("ext6", "2001:db8:30::6")],
                      [l3.subnet("ext", EXTERNAL_CIDR, OUTSIDE_IP), l3.subnet("ext6", "2001:db8:30::/64",
                                                                               "2001:db8:30::1", 6)],
                      device_owner="network:router_gateway")
    internal = l3.port(str(uuid.uuid4()), "fa:16:3e:cc:10:02", lab.internal_net, [("int6", "2001:db8:10::1")],
                       [l3.subnet("int6", "2001:db8:10::/64", "2001:db8:10::1", 6)])
    report = lab.apply(l3.router(router_id, gateway=gateway, interfaces=[internal]))
    assert report.ok, report.errors
    namespace = naming.router_namespace(router_id)
    qg, qr = naming.router_gateway_device(gateway["id"]), naming.router_interface_device(internal["id"])
    assert sorted(interface.device_addresses(namespace, qg)) == sorted([GATEWAY_IP + "/24", "2001:db8:30::6/64"])
    assert interface.device_addresses(namespace, qr) == ["2001:db8:10::1/64"]
    assert "default via 2001:db8:30::1 dev %s proto static" % qg in in_router(router_id, "ip", "-6", "route")
    assert in_router(router_id, "sysctl", "-n", "net.ipv6.conf.all.forwarding").strip() == "1"
    assert in_router(router_id, "sysctl", "-n", "net.ipv6.conf.%s.accept_ra" % qg).strip() == "0"
    assert in_router(router_id, "sysctl", "-n", "net.ipv4.neigh.%s.retrans_time_ms" % qr).strip() == "100"
    assert not lab.applier.apply(router_info.parse_router(l3.router(router_id, gateway=gateway,
                                                                    interfaces=[internal]))).changed

    instance = lab.dh.instance("fa:16:3e:bb:10:06", lab.internal_bridge, suffix="v6")
    run("ip", "-n", instance, "addr", "add", "2001:db8:10::6/64", "dev", "eth0", "nodad")
    run("ip", "-n", instance, "route", "add", "default", "via", "2001:db8:10::1")
    run("ip", "-n", lab.outside, "addr", "add", "2001:db8:30::1/64", "dev", "eth0", "nodad")
    run("ip", "-n", lab.outside, "route", "add", "2001:db8:10::/64", "via", "2001:db8:30::6")
    wait_for(lambda: not run("ip", "-n", namespace, "-6", "addr", "show", "tentative").stdout.strip(),
             "the router's IPv6 addresses to leave duplicate address detection")

    def reaches():
        return run("ip", "netns", "exec", instance, "ping", "-6", "-c", "1", "-W", "1", "2001:db8:30::1",
                   check=False).returncode == 0
    assert wait_for(reaches, "the instance pings the outside over IPv6")
