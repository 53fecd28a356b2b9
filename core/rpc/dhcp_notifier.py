"""Casts to the DHCP agents (Neutron's DhcpAgentNotifyAPI), sent after the change is committed.

Each goes to one agent: Target(topic="dhcp_agent", server=<agent host>), the
queue ``dhcp_agent.<host>``, with a single ``payload`` argument:

  network_create_end(payload={"network": {"id"}})
  network_update_end(payload={"network": network dict})
  network_delete_end(payload={"network_id"})
  subnet_create_end / subnet_update_end(payload={"subnet": subnet dict})
  subnet_delete_end(payload={"subnet_id", "network_id"})
  port_create_end / port_update_end(payload={"port": port dict})
  port_delete_end(payload={"port_id", "network_id"})

Best effort, like the L2 notifications: agents resynchronise on start and
after errors, which repairs a lost cast.
"""
from netweave.core.rpc import casts, topics

VERSION = casts.VERSION


class DhcpAgentNotifier:
    """Casts nothing until ``connect`` gives it a transport."""

    def __init__(self, transport=None):
        self._casts = casts.CastClient(topics.DHCP_AGENT, VERSION, transport)

    @property
    def connected(self):
        return self._casts.connected

    def connect(self, transport):
        self._casts.connect(transport)

    def cast(self, context, hosts, method, payload):
        """Send ``method(payload=payload)`` to the DHCP agent of each host."""
        for host in hosts:
            self._casts.cast(context, method, server=host, payload=payload)

    def network_create(self, context, hosts, network_id):
        self.cast(context, hosts, "network_create_end", {"network": {"id": network_id}})

    def network_update(self, context, hosts, network):
        self.cast(context, hosts, "network_update_end", {"network": network})

    def network_delete(self, context, hosts, network_id):
        self.cast(context, hosts, "network_delete_end", {"network_id": network_id})

    def subnet_event(self, context, hosts, event, subnet):
        self.cast(context, hosts, "subnet_%s_end" % event, {"subnet": subnet})

    def subnet_delete(self, context, hosts, subnet_id, network_id):
        self.cast(context, hosts, "subnet_delete_end", {"subnet_id": subnet_id, "network_id": network_id})

    def port_event(self, context, hosts, event, port):
        self.cast(context, hosts, "port_%s_end" % event, {"port": port})

    def port_delete(self, context, hosts, port_id, network_id):
        self.cast(context, hosts, "port_delete_end", {"port_id": port_id, "network_id": network_id})
