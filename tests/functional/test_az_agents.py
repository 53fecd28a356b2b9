"""Availability zones end to end: real server, RPC server, RabbitMQ, three DHCP agents and three L3
agents as processes, in two zones.

Every agent is a process of its own host (a namespace standing for it, ``--netns``), its zone from
its ini file: AZ1 has two DHCP and two L3 agents, AZ2 one of each. Networks (one DHCP agent each)
and routers (an interface each) hinted at one zone land there; hinted at both, they spread over the
two; when a host dies (its agent killed, its namespaces and dnsmasq gone), failover moves what it
hosted to the other agent of its zone. An agent has what the server gave it when its own state
report counts it (``networks`` / ``routers``).
"""
import os
import shutil
import signal
import textwrap

import pytest

from harness import dhcp as dh
from harness import multihost, processes, system
from netweave.core import naming

pytestmark = [pytest.mark.system("ip", "dnsmasq"), pytest.mark.slow]

DOWN_TIME = 10
# host name -> (kind, zone, ini section naming the zone: the book writes [agent], upstream [AGENT])
AGENTS = {
    "dhcp-1a": ("dhcp", "AZ1", "agent"), "dhcp-1b": ("dhcp", "AZ1", "AGENT"), "dhcp-2a": ("dhcp", "AZ2", "agent"),
    "l3-1a": ("l3", "AZ1", "agent"), "l3-1b": ("l3", "AZ1", "AGENT"), "l3-2a": ("l3", "AZ2", "agent"),
}
AGENT_TYPE = {"dhcp": "DHCP agent", "l3": "L3 agent"}


class ZonedCloud(multihost.Cloud):
    """The control plane (router and az plugins) and the six agents; no L2 agents are needed to place."""

    def __init__(self, workdir, transport_url):
        super().__init__(workdir, transport_url, hosts=())
        self.server_defaults = textwrap.dedent("""\
            service_plugins = router,az
            agent_down_time = {down}
            dhcp_agents_per_network = 1
            allow_automatic_dhcp_failover = true
            allow_automatic_l3agent_failover = true
            """).format(down=DOWN_TIME)
        self.zoned = {}
        self.state_paths = {}
        self.router_ids = []

    def start_zoned_agent(self, host):
        kind, zone, section = AGENTS[host]
        namespace = self.lab.host(host)
        state_path = dh.world_readable_dir("nwaz-%s-" % host)
        self.state_paths[host] = state_path
        ini = os.path.join(self.workdir, "%s.ini" % host)
        with open(ini, "w") as handle:
            handle.write(textwrap.dedent("""\
                [DEFAULT]
                host = {host}
                transport_url = {url}
                state_path = {state}
                interface_driver = linuxbridge
                enable_metadata_proxy = false
                debug = true

                [{section}]
                report_interval = 2
                availability_zone = {zone}
                """).format(host=host, url=self.transport_url, state=state_path, section=section, zone=zone))
        binary = "netweave-dhcp-agent" if kind == "dhcp" else "netweave-l3-agent"
        self.zoned[host] = processes.start_process(
            [os.path.join(multihost.BIN, binary), "--config-file", ini, "--netns", namespace],
            os.path.join(self.workdir, "%s.log" % host))

    def agents_by_host(self):
        return {a["host"]: a for a in self.api("GET", "/agents")["agents"]}

    def host_dies(self, host):
        """The agent is killed and what it ran on its host goes with it."""
        self.zoned.pop(host).stop(sig=signal.SIGKILL, grace=5)
        dh.stop_served_networks(self.state_paths[host])
        for router_id in self.router_ids:
            multihost.run("ip", "netns", "del", naming.router_namespace(router_id), check=False)

    def close(self):
        self.stop_processes(*self.zoned.values())
        for state_path in self.state_paths.values():
            dh.stop_served_networks(state_path)
        for router_id in self.router_ids:
            multihost.run("ip", "netns", "del", naming.router_namespace(router_id), check=False)
        super().close()
        for state_path in self.state_paths.values():
            shutil.rmtree(state_path, ignore_errors=True)


@pytest.fixture(scope="module")
def cloud(rabbitmq_server, tmp_path_factory):
    system.require_root()
    created = ZonedCloud(str(tmp_path_factory.mktemp("azagents")), rabbitmq_server.transport_url)
    try:
        created.start()
        for host in AGENTS:
            created.start_zoned_agent(host)
        created.wait(lambda: all(created.agents_by_host().get(h, {}).get("alive") for h in AGENTS),
                     "the six agents report", timeout=90)
        yield created
    finally:
        created.close()


def network(cloud, name, cidr, hints):
    net = cloud.api("POST", "/networks", {"network": {"name": name, "availability_zone_hints": hints}})["network"]
    cloud.api("POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": cidr}})
    return net


def router(cloud, name, cidr, hints):
    net = cloud.api("POST", "/networks", {"network": {"name": name + "-net"}})["network"]
    subnet = cloud.api("POST", "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                                       "enable_dhcp": False}})["subnet"]
    created = cloud.api("POST", "/routers", {"router": {"name": name, "availability_zone_hints": hints}})["router"]
    cloud.router_ids.append(created["id"])
    cloud.api("PUT", "/routers/%s/add_router_interface" % created["id"], {"subnet_id": subnet["id"]})
    return created


def dhcp_hosts(cloud, net):
    return [a["host"] for a in cloud.api("GET", "/networks/%s/dhcp-agents" % net["id"])["agents"]]


def l3_hosts(cloud, router_):
    return [a["host"] for a in cloud.api("GET", "/routers/%s/l3-agents" % router_["id"])["agents"]]


def zones_of(cloud, kind, item):
    return cloud.api("GET", "/%ss/%s" % (kind, item["id"]))[kind]["availability_zones"]


def wait_agents_hold(cloud, expected):
    """Each agent's own report counts what the server placed on it: {host: count}."""
    def held():
        agents = cloud.agents_by_host()
        return {host: agents[host]["configurations"].get("networks" if AGENTS[host][0] == "dhcp" else "routers")
                for host in expected} == expected
    cloud.wait(held, "the agents report holding %s" % expected, timeout=90)


def test_agents_report_their_zones(cloud):
    agents = cloud.agents_by_host()
    assert {host: (agents[host]["agent_type"], agents[host]["availability_zone"]) for host in AGENTS} == {
        host: (AGENT_TYPE[kind], zone) for host, (kind, zone, _section) in AGENTS.items()}
    zones = cloud.api("GET", "/availability_zones")["availability_zones"]
    assert sorted((z["name"], z["resource"], z["state"]) for z in zones) == [
        ("AZ1", "network", "available"), ("AZ1", "router", "available"),
        ("AZ2", "network", "available"), ("AZ2", "router", "available")]


def test_placement_in_hinted_zones_spread_and_failover_inside_the_zone(cloud):
    # Hinted at both zones, two networks and two routers take one zone each.
    both1 = network(cloud, "az-both-1", "10.81.1.0/24", ["AZ1", "AZ2"])
    both2 = network(cloud, "az-both-2", "10.81.2.0/24", ["AZ1", "AZ2"])
    first, second = dhcp_hosts(cloud, both1), dhcp_hosts(cloud, both2)
    assert sorted(AGENTS[h][1] for h in first + second) == ["AZ1", "AZ2"]
    r_both1 = router(cloud, "az-r-both-1", "10.82.1.0/24", ["AZ1", "AZ2"])
    r_both2 = router(cloud, "az-r-both-2", "10.82.2.0/24", ["AZ1", "AZ2"])
    r_first, r_second = l3_hosts(cloud, r_both1), l3_hosts(cloud, r_both2)
    assert sorted(AGENTS[h][1] for h in r_first + r_second) == ["AZ1", "AZ2"]
    # Hinted at one zone, only that zone's agents get them.
    only_az2 = network(cloud, "az-only-2", "10.81.3.0/24", ["AZ2"])
    assert dhcp_hosts(cloud, only_az2) == ["dhcp-2a"]
    r_only_az2 = router(cloud, "az-r-only-2", "10.82.3.0/24", ["AZ2"])
    assert l3_hosts(cloud, r_only_az2) == ["l3-2a"]
    only_az1 = [network(cloud, "az-only-1-%d" % i, "10.81.%d.0/24" % (10 + i), ["AZ1"]) for i in range(2)]
    assert {h for net in only_az1 for h in dhcp_hosts(cloud, net)} == {"dhcp-1a", "dhcp-1b"}
    r_only_az1 = [router(cloud, "az-r-only-1-%d" % i, "10.82.%d.0/24" % (10 + i), ["AZ1"]) for i in range(2)]
    assert {h for r in r_only_az1 for h in l3_hosts(cloud, r)} == {"l3-1a", "l3-1b"}
    assert zones_of(cloud, "network", only_az2) == ["AZ2"] and zones_of(cloud, "router", r_only_az2) == ["AZ2"]

    # The agents really hold what was placed on them.
    placed_networks = [both1, both2, only_az2] + only_az1
    placed_routers = [r_both1, r_both2, r_only_az2] + r_only_az1

    def counts(hosts_of, items, kind):
        found = {h: 0 for h, (k, _z, _s) in AGENTS.items() if k == kind}
        for item in items:
            for host in hosts_of(cloud, item):
                found[host] += 1
        return found
    wait_agents_hold(cloud, dict(counts(dhcp_hosts, placed_networks, "dhcp"),
                                 **counts(l3_hosts, placed_routers, "l3")))
    for net in placed_networks:
        (host,) = dhcp_hosts(cloud, net)
        ports = cloud.api("GET", "/ports?network_id=%s&device_owner=network:dhcp" % net["id"])["ports"]
        assert [p["binding:host_id"] for p in ports] == [host]

    # The AZ1 hosts of the network and the router hinted at both zones die: what they hosted
    # moves to the other AZ1 agent.
    (dead_dhcp,) = [h for h in first + second if AGENTS[h][1] == "AZ1"]
    (dead_l3,) = [h for h in r_first + r_second if AGENTS[h][1] == "AZ1"]
    moved_networks = [n for n in placed_networks if dhcp_hosts(cloud, n) == [dead_dhcp]]
    moved_routers = [r for r in placed_routers if l3_hosts(cloud, r) == [dead_l3]]
    assert moved_networks and moved_routers
    cloud.host_dies(dead_dhcp)
    cloud.host_dies(dead_l3)
    other_dhcp = ({"dhcp-1a", "dhcp-1b"} - {dead_dhcp}).pop()
    other_l3 = ({"l3-1a", "l3-1b"} - {dead_l3}).pop()
    cloud.wait(lambda: all(dhcp_hosts(cloud, n) == [other_dhcp] for n in moved_networks)
               and all(l3_hosts(cloud, r) == [other_l3] for r in moved_routers),
               "the dead AZ1 agents' networks and routers move to the other AZ1 agents", timeout=120)
    assert dhcp_hosts(cloud, only_az2) == ["dhcp-2a"] and l3_hosts(cloud, r_only_az2) == ["l3-2a"]
    for item in moved_networks:
        assert zones_of(cloud, "network", item) == ["AZ1"]
    zones = {(z["name"], z["resource"]): z["state"]
             for z in cloud.api("GET", "/availability_zones")["availability_zones"]}
    assert zones[("AZ1", "network")] == zones[("AZ1", "router")] == "available"
    after = dict(counts(dhcp_hosts, placed_networks, "dhcp"), **counts(l3_hosts, placed_routers, "l3"))
    wait_agents_hold(cloud, {h: c for h, c in after.items() if h not in (dead_dhcp, dead_l3)})
