"""The haproxy agent's RPC: its calls to the server (lbaas_rpc.py serves them) and the casts it hears.

Casts on topic ``lbaasv2_agent`` with server=<host>:
  loadbalancer_changed(loadbalancer_id): deploy the load balancer's current description.
"""
import oslo_messaging

from netweave.core.rpc import serializer

PLUGIN_TOPIC = "n-lbaasv2-plugin"
AGENT_TOPIC = "lbaasv2_agent"


class LbaasPluginApi:
    def __init__(self, transport, host, topic=PLUGIN_TOPIC):
        self.host = host
        target = oslo_messaging.Target(topic=topic, version="2.0")
        self.client = oslo_messaging.get_rpc_client(transport, target, serializer=serializer.ContextSerializer())

    def get_ready_devices(self, context):
        return self.client.call(context, "get_ready_devices", host=self.host)

    def get_loadbalancer(self, context, lb_id):
        return self.client.call(context, "get_loadbalancer", loadbalancer_id=lb_id)

    def plug_vip_port(self, context, port_id):
        return self.client.call(context, "plug_vip_port", port_id=port_id, host=self.host)

    def loadbalancer_deployed(self, context, lb_id, success):
        return self.client.call(context, "loadbalancer_deployed", loadbalancer_id=lb_id, success=success)

    def update_status(self, context, lb_id, statuses, stats, listener_stats):
        return self.client.call(context, "update_status", loadbalancer_id=lb_id, statuses=statuses, stats=stats,
                                listener_stats=listener_stats)


class LbaasNotifications:
    """The server's casts: queue work for the agent and return."""

    def __init__(self, agent):
        self.agent = agent

    def loadbalancer_changed(self, context, loadbalancer_id=None, **_kwargs):
        if loadbalancer_id:
            self.agent.changed(loadbalancer_id)
