"""Metering end to end: server (router,metering), RPC server, broker, Linux bridge agents, the L3
agent and netweave-metering-agent as processes (harness/l3.py RoutedCloud).

Labels and rules are made with the API; the metering agent lays out Neutron's neutron-meter-*
chains in the router's namespace; pings from an instance to the "internet" behind the router's
gateway are counted by the label chains, read with ``iptables -L <chain> -v -x -n`` in the
qrouter- namespace: egress (instance -> internet, on -o qg-) and ingress (the replies, on -i qg-),
an excluded address not counted, counters surviving a rule added to another label, chains gone
with their label.
"""
import os
import textwrap

import pytest

from harness import l3, multihost, processes, system
from netweave.core import naming
from netweave.service_plugins.metering.agent import iptables_plan as plan

pytestmark = [pytest.mark.system("ip", "bridge", "iptables"), pytest.mark.slow]

PING_BYTES = 84          # a default ping: 20 (IP) + 8 (ICMP) + 56 (payload)
SECOND_INTERNET_IP = "203.0.113.2"


@pytest.fixture(scope="module")
def cloud(rabbitmq_server, tmp_path_factory):
    system.require_root()
    system.require_executables("bridge", "iptables", "iptables-save", "iptables-restore")
    workdir = str(tmp_path_factory.mktemp("metering"))
    created = l3.RoutedCloud(workdir, rabbitmq_server.transport_url)
    created.service_plugins = "router,metering"
    created.metering_agent = None
    try:
        created.start()
        created.external, created.external_subnet = created.external_network()
        # A second address of the internet, for the excluded rule.
        multihost.run("ip", "-n", created.internet, "addr", "add", SECOND_INTERNET_IP + "/20", "dev", "eth0")
        ini = os.path.join(workdir, "metering_agent.ini")
        with open(ini, "w") as handle:
            handle.write(textwrap.dedent("""\
                [DEFAULT]
                host = {host}
                transport_url = {url}
                measure_interval = 2
                debug = true

                [agent]
                report_interval = 2
                """).format(host=multihost.AGENT_HOST[created.L3_HOST], url=created.transport_url))
        created.metering_agent = processes.start_process(
            [os.path.join(multihost.BIN, "netweave-metering-agent"), "--config-file", ini],
            os.path.join(workdir, "metering-agent.log"))
        yield created
    finally:
        if created.metering_agent is not None:
            created.metering_agent.stop()
        created.close()


def counters(namespace, label_id):
    listing = multihost.run("ip", "netns", "exec", namespace, "iptables", "-t", "filter", "-L",
                            plan.label_chain(label_id), "-v", "-x", "-n").stdout
    return plan.parse_counters(listing)


def filter_save(namespace):
    return multihost.run("ip", "netns", "exec", namespace, "iptables-save", "-t", "filter").stdout


def test_labels_count_the_routers_traffic(cloud):
    cloud.wait(lambda: any(a["alive"] for a in cloud.api("GET", "/agents")["agents"]
                           if a["agent_type"] == "Metering agent"), "the metering agent reports", timeout=60)
    agents = [a for a in cloud.api("GET", "/agents")["agents"] if a["agent_type"] == "Metering agent"]
    assert [(a["host"], a["binary"]) for a in agents] == [("host2", "netweave-metering-agent")]

    net, subnet = cloud.project_network("meter", "10.60.0.0/24")
    router = cloud.router("meter", cloud.external, [subnet])
    port, vm = cloud.instance("h1", net, subnet)
    cloud.wait_active(port, timeout=60)
    cloud.wait_router_active(router["id"])
    namespace = naming.router_namespace(router["id"])
    assert multihost.ping_until(vm.namespace, l3.INTERNET_IP)

    out_label = cloud.api("POST", "/metering/metering-labels", {"metering_label": {"name": "out"}})["metering_label"]
    in_label = cloud.api("POST", "/metering/metering-labels", {"metering_label": {"name": "in"}})["metering_label"]
    for label_id, body in (
            (out_label["id"], {"direction": "egress", "remote_ip_prefix": l3.INTERNET_CIDR}),
            (out_label["id"], {"direction": "egress", "excluded": True, "remote_ip_prefix": SECOND_INTERNET_IP}),
            (in_label["id"], {"direction": "ingress", "source_ip_prefix": l3.INTERNET_CIDR})):
        cloud.api("POST", "/metering/metering-label-rules",
                  {"metering_label_rule": dict(body, metering_label_id=label_id)})
    (gateway,) = [p for p in cloud.router_ports(router["id"]) if p["device_owner"] == "network:router_gateway"]
    qg = naming.router_gateway_device(gateway["id"])
    out_rules, in_rules = plan.rules_chain(out_label["id"]), plan.rules_chain(in_label["id"])
    expected = [
        "-A FORWARD -j neutron-meter-FORWARD",
        "-A neutron-meter-FORWARD -j %s" % in_rules,
        "-A neutron-meter-FORWARD -j %s" % out_rules,
        "-A %s -d %s/32 -o %s -j RETURN" % (out_rules, SECOND_INTERNET_IP, qg),
        "-A %s -d %s -o %s -j %s" % (out_rules, l3.INTERNET_CIDR, qg, plan.label_chain(out_label["id"])),
        "-A %s -s %s -i %s -j %s" % (in_rules, l3.INTERNET_CIDR, qg, plan.label_chain(in_label["id"])),
        "-A %s" % plan.label_chain(out_label["id"]),
    ]
    cloud.wait(lambda: all(line in filter_save(namespace).splitlines() for line in expected),
               "the metering chains are in place", timeout=30)
    # The metering chain comes first in FORWARD, ahead of the L3 agent's.
    forward = [line for line in filter_save(namespace).splitlines() if line.startswith("-A FORWARD ")]
    assert forward[0] == "-A FORWARD -j neutron-meter-FORWARD"

    def measure(dst, count, labels=(out_label, in_label)):
        """Ping ``dst`` ``count`` times (after one answered ping, so no neighbour resolution is
        in the way); returns the (packets, bytes) each label counted meanwhile."""
        assert multihost.ping_until(vm.namespace, dst)
        before = [counters(namespace, label["id"]) for label in labels]
        assert multihost.ping(vm.namespace, dst, count=count) == count
        after = [counters(namespace, label["id"]) for label in labels]
        return [(a[0] - b[0], a[1] - b[1]) for a, b in zip(after, before)]

    # Egress to the internet counted out (-o qg-), the replies counted in (-i qg-).
    assert measure(l3.INTERNET_IP, 5) == [(5, 5 * PING_BYTES), (5, 5 * PING_BYTES)]
    # The excluded address is not counted out; its replies are counted in.
    assert measure(SECOND_INTERNET_IP, 3) == [(0, 0), (3, 3 * PING_BYTES)]

    # Another rule on the ingress label: only its rules chain is rewritten; counting goes on.
    totals = [counters(namespace, label["id"]) for label in (out_label, in_label)]
    cloud.api("POST", "/metering/metering-label-rules", {"metering_label_rule": {
        "metering_label_id": in_label["id"], "direction": "ingress", "excluded": True,
        "source_ip_prefix": SECOND_INTERNET_IP}})
    cloud.wait(lambda: "-A %s -s %s/32 -i %s -j RETURN" % (in_rules, SECOND_INTERNET_IP, qg)
               in filter_save(namespace), "the excluded ingress rule is in place", timeout=30)
    assert [counters(namespace, label["id"]) for label in (out_label, in_label)] == totals
    assert measure(SECOND_INTERNET_IP, 2) == [(0, 0), (0, 0)]

    # A label deleted: its chains leave the namespace; the other keeps counting.
    cloud.api("DELETE", "/metering/metering-labels/" + out_label["id"])
    cloud.wait(lambda: plan.label_chain(out_label["id"]) not in filter_save(namespace),
               "the deleted label's chains are removed", timeout=30)
    assert measure(l3.INTERNET_IP, 2, labels=(in_label,)) == [(2, 2 * PING_BYTES)]
    cloud.api("DELETE", "/metering/metering-labels/" + in_label["id"])
    cloud.wait(lambda: plan.RULES_PREFIX not in filter_save(namespace), "every label's chains are removed",
               timeout=30)
