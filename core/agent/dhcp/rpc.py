"""What the DHCP agent asks the server (Neutron's DhcpPluginApi), on topic "q-plugin".

See core/rpc/dhcp_endpoints.py for the answers. Calls are made at version
1.0, which every 1.x server accepts.
"""
import uuid

import oslo_messaging

from netweave.core.rpc import serializer, topics

DHCP_DEVICE_OWNER = "network:dhcp"


def dhcp_device_id(host, network_id):
    """Neutron's get_dhcp_agent_device_id: the same on every restart of the agent on ``host``."""
    return "dhcp%s-%s" % (uuid.uuid5(uuid.NAMESPACE_DNS, str(host)), network_id)


class DhcpPluginApi:
    def __init__(self, transport, topic=topics.PLUGIN):
        target = oslo_messaging.Target(topic=topic, version="1.0")
        self.client = oslo_messaging.get_rpc_client(transport, target, serializer=serializer.ContextSerializer())

    def get_active_networks_info(self, context, host):
        return self.client.call(context, "get_active_networks_info", host=host)

    def get_network_info(self, context, network_id, host):
        return self.client.call(context, "get_network_info", network_id=network_id, host=host)

    def create_dhcp_port(self, context, port, host):
        return self.client.call(context, "create_dhcp_port", port=port, host=host)

    def update_dhcp_port(self, context, port_id, port, host):
        return self.client.call(context, "update_dhcp_port", port_id=port_id, port=port, host=host)

    def release_dhcp_port(self, context, network_id, device_id, host):
        return self.client.call(context, "release_dhcp_port", network_id=network_id, device_id=device_id,
                                host=host)

    def dhcp_ready_on_ports(self, context, port_ids):
        return self.client.call(context, "dhcp_ready_on_ports", port_ids=list(port_ids))
