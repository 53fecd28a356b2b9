"""The metering agent's RPC: its call to the server and the server's casts to it (Neutron's names).

Called on topic ``q-metering-plugin``: ``get_sync_data_metering(context, host)`` -> the routers
of the host's L3 agent with their labels (metering_rpc.py says the shape).
Cast by the server (fanout, topic ``metering_agent``): ``add_metering_label``,
``remove_metering_label``, ``add_metering_label_rule``, ``remove_metering_label_rule``,
``update_metering_label_rules``, ``routers_updated``, ``router_deleted``: each asks for a pass.
"""
import oslo_messaging

from netweave.core.rpc import serializer
from netweave.service_plugins.metering import constants as const


class MeteringPluginApi:
    def __init__(self, transport, host, topic=const.METERING_PLUGIN_TOPIC):
        self.host = host
        target = oslo_messaging.Target(topic=topic, version="1.0")
        self.client = oslo_messaging.get_rpc_client(transport, target, serializer=serializer.ContextSerializer())

    def get_sync_data_metering(self, context):
        return self.client.call(context, "get_sync_data_metering", host=self.host)


class MeteringNotifications:
    """The server's casts: each one wakes the agent for a full pass."""

    def __init__(self, agent):
        self.agent = agent

    def _changed(self, context, **_kwargs):
        self.agent.request_sync("notified by the server")

    add_metering_label = remove_metering_label = _changed
    add_metering_label_rule = remove_metering_label_rule = update_metering_label_rules = _changed
    routers_updated = router_deleted = _changed
