"""The DHCP agents' view of DNS integration, on a real database: the ports of
get_network_info carry their dns_assignment (and nothing else of the driver), and
a renamed port is notified to the agents hosting its network."""
import pytest
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core.db import api as db_api
from netweave.core.rpc import dhcp_endpoints, outbox

CTX = context_mod.get_admin_context()


class RecordingNotifier:
    connected = True

    def __init__(self):
        self.port_events = []

    def port_event(self, context, hosts, event, port):
        self.port_events.append((event, port))

    def __getattr__(self, name):
        # Network and subnet notifications are not this test's business.
        return lambda *args, **kwargs: None


@pytest.fixture(params=ml2_plugin.BACKENDS)
def plugin(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    cfg.CONF.set_override("extension_drivers", ["dns_domain_ports"], "ml2")
    cfg.CONF.set_override("dns_domain", "example.org.")
    try:
        with ml2_plugin.plugin_overrides():
            plugin = ml2_plugin.in_process_plugin(url)
            try:
                yield plugin
            finally:
                db_api.DATABASE.engine.dispose()
    finally:
        cfg.CONF.clear_override("extension_drivers", "ml2")
        cfg.CONF.clear_override("dns_domain")


def test_network_info_ports_carry_their_dns_assignment(plugin):
    network = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "n", "dns_domain": "n.org."}})
    plugin.create_subnet(CTX, {"subnet": {"network_id": network["id"], "project_id": "p1", "ip_version": 4,
                                          "cidr": "10.74.0.0/24"}})
    named = plugin.create_port(CTX, {"port": {"network_id": network["id"], "project_id": "p1", "dns_name": "web-1",
                                              "dns_domain": "apps.org."}})
    plain = plugin.create_port(CTX, {"port": {"network_id": network["id"], "project_id": "p1"}})
    endpoint = dhcp_endpoints.DhcpRpcEndpoint(plugin.dhcp_scheduler, plugin.ports, plugin.devices, plugin.dhcp_hooks)
    info = endpoint.get_network_info(CTX, network_id=network["id"], host="h1")
    ports = {p["id"]: p for p in info["ports"]}
    named_ip = named["fixed_ips"][0]["ip_address"]
    plain_ip = plain["fixed_ips"][0]["ip_address"]
    assert ports[named["id"]]["dns_assignment"] == [
        {"hostname": "web-1", "ip_address": named_ip, "fqdn": "web-1.example.org."}]
    generated = "host-" + plain_ip.replace(".", "-")
    assert ports[plain["id"]]["dns_assignment"] == [
        {"hostname": generated, "ip_address": plain_ip, "fqdn": generated + ".example.org."}]
    # Only what the agents serve: not the driver's other attributes.
    assert not {"dns_name", "dns_domain"} & set(ports[named["id"]])
    assert endpoint.get_active_networks_info(CTX, host="nobody") == []


def test_a_rename_is_notified_to_the_dhcp_agents(plugin):
    notifier = RecordingNotifier()
    plugin.dhcp_hooks.notifier = notifier
    cfg.CONF.set_override("dhcp_agent_notification", True)
    try:
        network = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "n"}})
        plugin.create_subnet(CTX, {"subnet": {"network_id": network["id"], "project_id": "p1", "ip_version": 4,
                                              "cidr": "10.75.0.0/24"}})
        port = plugin.create_port(CTX, {"port": {"network_id": network["id"], "project_id": "p1",
                                                 "dns_name": "web-1"}})
        # Sent by the outbox's thread after the change committed.
        assert outbox.OUTBOX.flush(10)
        assert notifier.port_events[-1][0] == "create"
        assert notifier.port_events[-1][1]["dns_assignment"][0]["hostname"] == "web-1"
        plugin.update_port(CTX, port["id"], {"port": {"dns_name": "web-2"}})
        assert outbox.OUTBOX.flush(10)
        event, sent = notifier.port_events[-1]
        assert event == "update" and sent["dns_assignment"][0]["fqdn"] == "web-2.example.org."
        assert "dns_name" not in sent
        # A change the agents do not serve is not sent.
        count = len(notifier.port_events)
        plugin.update_port(CTX, port["id"], {"port": {"dns_domain": "x.org."}})
        assert outbox.OUTBOX.flush(10)
        assert len(notifier.port_events) == count
    finally:
        cfg.CONF.clear_override("dhcp_agent_notification")
