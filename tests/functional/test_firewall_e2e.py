"""Security groups end to end: rules created through the API are enforced on packets.

A real netweave-server and netweave-rpc-server (SQLite, ML2 linuxbridge with
the port_security extension driver and service plugin) on the private
RabbitMQ, and one netweave-linuxbridge-agent process per host namespace with
``[securitygroup] firewall_driver = iptables``. Two instances on host h1 talk
over the network's bridge; the agent programs the firewall in h1 from
security_group_info_for_devices and follows the server's security group casts.
Everything lives in this module's namespaces and processes.
"""

import pytest

from harness import fwprobe, multihost, system
from harness.multihost import Cloud

pytestmark = [pytest.mark.system("ip", "bridge", "iptables-restore", "ipset", "ebtables-restore", "conntrack"),
              pytest.mark.slow]

SERVICE = 8080


class SecuredCloud(Cloud):
    """Cloud with the port_security plugin on the server and the iptables driver on the agents."""

    def start(self):
        for host in self.hosts:
            self.lab.host(host)
        self.lab.connect_hosts(*self.hosts)
        self.start_control_plane({"mechanism_drivers": "linuxbridge,l2population", "tenant_network_types": "vxlan",
                                  "extension_drivers": "port_security"},
                                 defaults="service_plugins = port_security\n")
        for host in self.hosts:
            self.start_agent(host)
        self.wait(lambda: len(self.agent_rows()) == len(self.hosts) and all(a["alive"] for a in self.agent_rows()),
                  "both agents report", timeout=60)

    def agent_ini(self, host):
        path = super().agent_ini(host)
        with open(path) as handle:
            text = handle.read()
        text = text.replace("enable_security_group = false", "enable_security_group = true")
        text = text.replace("firewall_driver = noop", "firewall_driver = iptables\nenable_ipset = true")
        with open(path, "w") as handle:
            handle.write(text)
        return path


@pytest.fixture(scope="module")
def cloud(rabbitmq_server, tmp_path_factory):
    system.require_root()
    system.require_executables("ip", "bridge", "iptables-restore", "ipset", "ebtables-restore", "conntrack")
    created = SecuredCloud(str(tmp_path_factory.mktemp("fwe2e")), rabbitmq_server.transport_url)
    servers = []
    created.servers = servers
    try:
        created.start()
        yield created
    finally:
        for server in servers:
            server.kill()
            server.wait(timeout=10)
        created.close()


def test_rules_from_the_api_are_enforced_on_packets(cloud):
    net = cloud.network("fw-e2e", "10.77.0.0/24")
    web = cloud.api("POST", "/security-groups", {"security_group": {"name": "WEB_SERVERS"}})["security_group"]
    client_port = cloud.api("POST", "/ports", {"port": {"network_id": net["id"], "device_owner": "",
                                                        "binding:host_id": "host1"}})["port"]
    server_port = cloud.api("POST", "/ports", {"port": {"network_id": net["id"], "device_owner": "",
                                                        "binding:host_id": "host1",
                                                        "security_groups": [web["id"]]}})["port"]
    assert len(client_port["security_groups"]) == 1          # the project's default group
    client, server = cloud.plug("h1", net, client_port), cloud.plug("h1", net, server_port)
    cloud.servers.append(fwprobe.serve(server.namespace, [SERVICE]))
    cloud.servers.append(fwprobe.serve(client.namespace, [SERVICE]))
    cloud.wait_active(client_port, server_port, timeout=60)

    host = cloud.lab.hosts["h1"]
    saved = lambda: multihost.run("ip", "netns", "exec", host, "iptables-save").stdout  # noqa: E731
    fwprobe.eventually(lambda: "neutron-linuxbri-i" + server_port["id"][:10] in saved(), True,
                       "the server port's chains")

    # WEB_SERVERS has only its egress rules: nothing gets in
    tcp = lambda: fwprobe.reach(client.namespace, "tcp", server.ip, SERVICE)  # noqa: E731
    assert not tcp()
    rule = cloud.api("POST", "/security-group-rules", {"security_group_rule": {
        "security_group_id": web["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": SERVICE, "port_range_max": SERVICE, "remote_ip_prefix": "0.0.0.0/0"}})[
        "security_group_rule"]
    fwprobe.eventually(tcp, True, "tcp %d is allowed by the new rule" % SERVICE)
    assert "-p tcp -m tcp --dport %d -j RETURN" % SERVICE in saved()

    # an open session is cut when its rule goes
    session = fwprobe.Session(client.namespace, server.ip, SERVICE)
    try:
        assert session.exchange("before")
        cloud.api("DELETE", "/security-group-rules/" + rule["id"])
        fwprobe.eventually(lambda: "--dport %d" % SERVICE in saved(), False, "the rule left the chains")
        # the agent deletes the session's conntrack entry right after the restore
        fwprobe.eventually(lambda: "dport=%d" % SERVICE in flows(host), False, "the session's flow is deleted")
        assert not session.exchange("after")
    finally:
        session.close()
    assert not tcp()

    # the default group admits its members only: the server's port is not one yet
    ping_client = lambda: fwprobe.reach(server.namespace, "icmp", client.ip)  # noqa: E731
    assert not ping_client()
    cloud.api("PUT", "/ports/" + server_port["id"], {"port": {
        "security_groups": [web["id"]] + client_port["security_groups"]}})
    fwprobe.eventually(ping_client, True, "the server port joined the default group")
    # and as a member it now accepts what the default group allows: anything from members
    assert tcp()


def flows(host):
    return multihost.run("ip", "netns", "exec", host, "conntrack", "-L", check=False).stdout
