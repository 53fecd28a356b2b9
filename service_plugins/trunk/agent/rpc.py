"""What a trunk agent asks the server over RPC (topic "trunk"; trunk_rpc.py answers)."""
import oslo_messaging

from netweave.core.rpc import serializer
from netweave.service_plugins.trunk import trunk_rpc


class TrunkApi:
    def __init__(self, transport):
        target = oslo_messaging.Target(topic=trunk_rpc.TRUNK_TOPIC, version="1.0")
        self.client = oslo_messaging.get_rpc_client(transport, target, serializer=serializer.ContextSerializer())

    def get_trunk_by_port(self, context, port_id):
        """The trunk (API dict) whose parent is ``port_id``, or None."""
        return self.client.prepare().call(context, "get_trunk_by_port", port_id=port_id)

    def update_subport_bindings(self, context, subports):
        """Bind the subports to their parent's host: {trunk id: [subport with mac_address]}."""
        return self.client.prepare().call(context, "update_subport_bindings", subports=subports)

    def update_trunk_status(self, context, trunk_id, status):
        return self.client.prepare().call(context, "update_trunk_status", trunk_id=trunk_id, status=status)
