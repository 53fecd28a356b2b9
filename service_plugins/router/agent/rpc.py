"""The L3 agent's RPC: its calls to the server and the server's casts to it (Neutron's names).

Calls, on topic ``q-l3-plugin`` (``L3PluginApi``), the router service plugin
serves:

- ``sync_routers(context, host, router_ids=None)`` (1.0) -> [router description]
  (router_info.py's contract): the routers scheduled to ``host``, all of them
  or those of ``router_ids``; a router not scheduled there (or deleted) is
  left out, and the agent then removes it;
- ``get_router_ids(context, host)`` (1.9) -> [router id] scheduled to ``host``;
- ``update_floatingip_statuses(context, router_id, fip_statuses)`` (1.1):
  {floating ip id: "ACTIVE" | "DOWN" | "ERROR"}.

Casts the server sends (Neutron's L3AgentNotifyAPI) on topic ``l3_agent``
with server=<host>, served by ``L3Notifications``:

- ``routers_updated(context, routers)``: [router id] changed in any way;
- ``router_deleted(context, router_id)``;
- ``router_added_to_agent(context, payload)``: payload [router id];
- ``router_removed_from_agent(context, payload)``: payload {"router_id": id}.
"""
import oslo_messaging

from netweave.core.rpc import serializer

L3_PLUGIN_TOPIC = "q-l3-plugin"


class L3PluginApi:
    def __init__(self, transport, host, topic=L3_PLUGIN_TOPIC):
        self.host = host
        target = oslo_messaging.Target(topic=topic, version="1.0")
        self.client = oslo_messaging.get_rpc_client(transport, target, serializer=serializer.ContextSerializer())

    def sync_routers(self, context, router_ids=None):
        return self.client.call(context, "sync_routers", host=self.host,
                                router_ids=list(router_ids) if router_ids is not None else None)

    def get_router_ids(self, context):
        return self.client.prepare(version="1.9").call(context, "get_router_ids", host=self.host)

    def update_floatingip_statuses(self, context, router_id, fip_statuses):
        return self.client.prepare(version="1.1").call(context, "update_floatingip_statuses", router_id=router_id,
                                                       fip_statuses=dict(fip_statuses))


class L3Notifications:
    """The server's casts: queue work for the agent and return."""

    def __init__(self, agent):
        self.agent = agent

    def routers_updated(self, context, routers=None, **_kwargs):
        self.agent.routers_changed(routers or ())

    def router_deleted(self, context, router_id=None, **_kwargs):
        if router_id:
            self.agent.router_gone(router_id)

    def router_added_to_agent(self, context, payload=None, **_kwargs):
        self.agent.routers_changed(payload or ())

    def router_removed_from_agent(self, context, payload=None, **_kwargs):
        router_id = (payload or {}).get("router_id")
        if router_id:
            self.agent.router_gone(router_id)
