"""The l2population casts, with Neutron's method names and payloads.

Fanout on ``q-agent-notifier-l2population-update`` reaches every agent that
enabled l2_population; with ``host`` the cast goes to
``q-agent-notifier-l2population-update.<host>`` only, for a message about
that host alone (its first port on a network: here is everyone else).

Payload of add_fdb_entries / remove_fdb_entries::

    {network_id: {"network_type": "vxlan", "segment_id": 1001,
                  "ports": {agent_ip: [["00:00:00:00:00:00", "0.0.0.0"], [mac, ip], ...]}}}

and of update_fdb_entries: ``{"chg_ip": {network_id: {agent_ip: {"before": [[mac, ip]],
"after": [[mac, ip]]}}}}``.
"""
import logging

from oslo_config import cfg

from netweave.core.rpc import agent_notifier, topics
from netweave.core.rpc import transport as rpc_transport

LOG = logging.getLogger(__name__)


class L2populationNotifier(agent_notifier.AgentNotifier):
    """Connects itself on first use to the process's transport (transport_url)."""

    def __init__(self, conf=None, transport=None):
        self._conf = conf or cfg.CONF
        super().__init__(transport)

    def _ensure_connected(self):
        if self.connected:
            return True
        try:
            if not rpc_transport.url_configured(self._conf):
                return False
            self.connect(rpc_transport.get_transport(self._conf))
        except Exception:  # noqa: BLE001 - no broker: agents resync later
            LOG.exception("Cannot reach the message broker for l2population casts")
            return False
        return True

    def _send(self, context, method, fdb_entries, host=None):
        if not fdb_entries or not self._ensure_connected():
            return
        LOG.debug("%s%s: %s", method, " to %s" % host if host else "", fdb_entries)
        self._cast(context, topics.L2POPULATION, topics.UPDATE, method, host=host, fdb_entries=fdb_entries)

    def add_fdb_entries(self, context, fdb_entries, host=None):
        self._send(context, "add_fdb_entries", fdb_entries, host)

    def remove_fdb_entries(self, context, fdb_entries, host=None):
        self._send(context, "remove_fdb_entries", fdb_entries, host)

    def update_fdb_entries(self, context, fdb_entries, host=None):
        self._send(context, "update_fdb_entries", fdb_entries, host)
