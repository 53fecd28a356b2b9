"""core.agent.netns: a thread of the agent working inside a named namespace, and back."""
import os
import subprocess
import threading
import uuid

import pytest

from netweave.core.agent import commands, netns

pytestmark = pytest.mark.system("ip", "iptables-save")


def own_namespace():
    return os.stat("/proc/thread-self/ns/net").st_ino


@pytest.fixture
def namespace():
    name = "nwns-%s" % uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "add", "nwveth0", "type", "veth", "peer", "name", "nwveth1"],
                       check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_a_block_runs_inside_and_the_thread_comes_back(namespace):
    before = own_namespace()
    with netns.entered(namespace):
        inside = own_namespace()
        assert os.path.exists("/proc/sys/net/ipv4/conf/nwveth0")
    assert inside == os.stat(netns.path_of(namespace)).st_ino
    assert own_namespace() == before
    with pytest.raises(RuntimeError), netns.entered(namespace):
        raise RuntimeError("failed inside")
    assert own_namespace() == before


def test_other_threads_stay_where_they_are(namespace):
    seen, inside, leave = [], threading.Event(), threading.Event()

    def worker():
        with netns.entered(namespace):
            inside.set()
            leave.wait(10)
    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert inside.wait(10)
        seen.append(own_namespace())
    finally:
        leave.set()
        thread.join(10)
    assert seen == [os.stat("/proc/self/ns/net").st_ino]


def test_a_missing_namespace_is_refused():
    with pytest.raises(FileNotFoundError), netns.entered("nwns-missing-%s" % uuid.uuid4().hex[:8]):
        pass
    with pytest.raises(commands.CommandError):
        netns.run("nwns-missing-%s" % uuid.uuid4().hex[:8], ["true"])


def test_sysctls_are_read_and_written_in_the_namespace(namespace):
    key = "net.ipv4.conf.nwveth0.arp_ignore"
    host_forward = open("/proc/sys/net/ipv4/ip_forward").read().strip()
    values = netns.read_sysctls(namespace, [key, "net.ipv4.ip_forward", "net.ipv4.conf.nwabsent0.arp_ignore"])
    assert values == {key: "0", "net.ipv4.ip_forward": "0"}          # a missing key is left out
    assert netns.write_sysctls(namespace, {key: "1", "net.ipv4.conf.nwabsent0.arp_ignore": "1"}) == [
        ("net.ipv4.conf.nwabsent0.arp_ignore", "No such file or directory")]
    assert subprocess.run(["ip", "netns", "exec", namespace, "sysctl", "-n", key], capture_output=True,
                          text=True, check=True).stdout.strip() == "1"
    assert open("/proc/sys/net/ipv4/ip_forward").read().strip() == host_forward


def test_a_process_runs_in_the_namespace(namespace):
    result = netns.run(namespace, ["ip", "-o", "link", "show"])
    names = sorted(line.split(":")[1].strip().split("@")[0] for line in result.stdout.splitlines())
    assert names == ["lo", "nwveth0", "nwveth1"]
    echoed = netns.run(namespace, ["cat"], stdin="through stdin\n")
    assert echoed.ok and echoed.stdout == "through stdin\n"
    with pytest.raises(commands.CommandError) as failed:
        netns.run(namespace, ["ip", "link", "show", "nwabsent0"])
    assert failed.value.returncode != 0 and "nwabsent0" in failed.value.stderr
    assert not netns.run(namespace, ["false"], check=False).ok


def test_a_netlink_socket_opened_inside_stays_there(namespace):
    from pyroute2 import IPRoute
    with netns.entered(namespace):
        ipr = IPRoute()
    try:
        assert sorted(link.get_attr("IFLA_IFNAME") for link in ipr.get_links()) == ["lo", "nwveth0", "nwveth1"]
    finally:
        ipr.close()


def test_a_raw_rtnetlink_reader_opened_inside_sees_what_pyroute2_sees(namespace):
    import socket

    from pyroute2 import IPRoute

    from netweave.core.agent import rtnetlink
    subprocess.run(["ip", "-n", namespace, "addr", "add", "10.9.0.1/24", "dev", "nwveth0"], check=True)
    subprocess.run(["ip", "-n", namespace, "link", "set", "nwveth0", "up"], check=True)
    subprocess.run(["ip", "-n", namespace, "route", "add", "10.8.0.0/16", "via", "10.9.0.254", "proto", "static"],
                   check=True)
    with netns.entered(namespace):
        reader, ipr = rtnetlink.Reader(), IPRoute()
    try:
        def links(messages):
            return sorted((m["index"], m.get_attr("IFLA_IFNAME"), m.get_attr("IFLA_ADDRESS"), m.get_attr("IFLA_MTU"),
                           m["flags"]) for m in messages)

        def addresses(messages):
            return sorted((m["index"], m["prefixlen"], m.get_attr("IFA_LOCAL")) for m in messages)

        def routes(messages):
            return sorted((m["table"], m["proto"], m["dst_len"], m.get_attr("RTA_DST"), m.get_attr("RTA_GATEWAY"),
                           m.get_attr("RTA_OIF")) for m in messages)
        assert links(reader.links()) == links(ipr.get_links())
        assert len(links(reader.links())) == 3
        assert addresses(reader.addresses()) == addresses(ipr.get_addr())
        found = [route for route in routes(reader.routes(socket.AF_INET)) if route[0] == 254]
        assert found == routes(ipr.get_routes(family=socket.AF_INET, table=254))
        assert (254, 4, 16, "10.8.0.0", "10.9.0.254", found[0][5]) in found
    finally:
        reader.close()
        ipr.close()


def test_one_link_is_read_by_name_and_an_absent_one_is_none(namespace):
    from netweave.core.agent import interface, rtnetlink
    subprocess.run(["ip", "-n", namespace, "link", "set", "nwveth0", "address", "fa:16:3e:0a:0b:0c", "mtu", "1400",
                    "up"], check=True)
    with netns.entered(namespace):
        reader = rtnetlink.Reader()
    try:
        link = reader.link("nwveth0")
        assert (link.get_attr("IFLA_IFNAME"), link.get_attr("IFLA_ADDRESS"), link.get_attr("IFLA_MTU")) == (
            "nwveth0", "fa:16:3e:0a:0b:0c", 1400)
        assert reader.link("nwveth9") is None
        assert reader.link("nwveth1").get_attr("IFLA_IFNAME") == "nwveth1"      # the socket still answers
    finally:
        reader.close()
    assert interface.link_info(namespace, "nwveth0") == {"address": "fa:16:3e:0a:0b:0c", "mtu": 1400, "up": True}
    assert interface.link_info(namespace, "nwveth1")["up"] is False
    assert interface.link_info(namespace, "nwveth9") is None
    assert interface.link_info("nwns-absent-namespace", "nwveth0") is None
    assert interface.namespace_exists(namespace) and not interface.namespace_exists("nwns-absent-namespace")
