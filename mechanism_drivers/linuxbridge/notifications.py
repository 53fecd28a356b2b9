"""The server's casts to a Linux bridge agent, as RPC endpoint methods.

They run in the RPC servers' threads, so they only record what the server
said (in the agent or the loop) and wake the loop; the loop's next pass does
the work. Topics: q-agent-notifier-{port,network}-{update,delete} and, with
l2_population, q-agent-notifier-l2population-update, whose casts are named
add_fdb_entries, remove_fdb_entries and update_fdb_entries as in Neutron.
"""
import logging

from netweave.core import naming
from netweave.core.rpc import topics

LOG = logging.getLogger(__name__)

L2POPULATION_SUBSCRIPTION = (topics.L2POPULATION, topics.UPDATE)


class LinuxbridgeNotifications:
    def __init__(self, agent, loop):
        self.agent = agent
        self.loop = loop

    def _port_device(self, port_id):
        if not port_id:
            return None
        return self.loop.device_of_port(port_id) or naming.tap_device(port_id)

    def port_update(self, context, port=None, **_kwargs):
        self.loop.mark_dirty(self._port_device((port or {}).get("id")))

    def port_delete(self, context, port_id=None, **_kwargs):
        self.loop.mark_dirty(self._port_device(port_id))

    def network_update(self, context, network=None, **_kwargs):
        self.loop.mark_dirty(*self.loop.devices_on_network((network or {}).get("id")))

    def network_delete(self, context, network_id=None, **_kwargs):
        if not network_id:
            return
        self.agent.network_delete(network_id)
        self.loop.mark_dirty(*self.loop.devices_on_network(network_id))

    def add_fdb_entries(self, context, fdb_entries=None, host=None, **_kwargs):
        if host and host != self.loop.host:
            return
        self.agent.fdb_add(fdb_entries or {})
        self.loop.mark_dirty()

    def remove_fdb_entries(self, context, fdb_entries=None, host=None, **_kwargs):
        if host and host != self.loop.host:
            return
        self.agent.fdb_remove(fdb_entries or {})
        self.loop.mark_dirty()

    def update_fdb_entries(self, context, fdb_entries=None, host=None, **_kwargs):
        if host and host != self.loop.host:
            return
        self.agent.fdb_update(fdb_entries or {})
        self.loop.mark_dirty()
