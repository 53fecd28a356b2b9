"""The metadata agent's question to the server: get_ports (Neutron's MetadataPluginAPI)."""
import oslo_messaging

from netweave.core.rpc import serializer, topics


class MetadataPluginApi:
    """``get_ports(context, filters)`` on topic PLUGIN, version 1.0; see core/rpc/metadata_endpoint.py."""

    def __init__(self, transport, topic=topics.PLUGIN):
        target = oslo_messaging.Target(topic=topic, version="1.0")
        self.client = oslo_messaging.get_rpc_client(transport, target,
                                                    serializer=serializer.ContextSerializer())

    def get_ports(self, context, filters):
        return self.client.call(context, "get_ports", filters=filters)
