"""The l2population mechanism driver (server side).

It binds nothing; it watches ports of tunnel networks (vxlan, gre, geneve)
and, after each change is committed, casts to the L2 agents:

* a port turns ACTIVE on host H (its agent reported it up):
  - fanout ``add_fdb_entries`` {H's tunnel IP: [(mac, ip), ...]}, with the
    flooding entry first when it is H's first ACTIVE port on the network;
  - in that case also ``add_fdb_entries`` to H alone with every other host
    holding ACTIVE ports of the network: flooding entry plus their ports;
* a port leaves ACTIVE (or BUILD) for DOWN, is deleted, or is bound to another host
  while ACTIVE: fanout ``remove_fdb_entries`` of what the port had added, and
  of H's flooding entry when no other port of the network remains on H;
* the fixed IPs of an ACTIVE port change: ``update_fdb_entries`` "chg_ip".

An agent that (re)started less than ``[l2pop] agent_boot_time`` seconds ago
(its first report carried ``start_flag``, so the server reset its
``started_at``) has lost whatever it had learnt, its FDB too after a reboot:
when its ports turn ACTIVE it is sent the full list of every such network,
as for a first port, while the other agents only hear of its ports again,
which they already have.

Ports turning ACTIVE together (one agent's update_device_list, see
core/services/devices.StatusBatch) are announced once per network and host
at the end of the batch: one fanout cast with all their entries, and at most
one full list to the host.

Only hosts whose agent reports ``l2_population`` and a ``tunneling_ip`` in
its configurations take part. Fanout casts reach H's agent too; agents skip
the entries of their own tunnel IP, and the list sent to H alone never holds
H's own entries.
"""
import datetime
import logging

from oslo_config import cfg

from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.plugins.ml2 import driver_api as api
from netweave.mechanism_drivers.l2population import db, rpc

LOG = logging.getLogger(__name__)

FLOODING_ENTRY = ["00:00:00:00:00:00", "0.0.0.0"]
TUNNEL_NETWORK_TYPES = ("vxlan", "gre", "geneve")
STATUS_ACTIVE = db.STATUS_ACTIVE
STATUS_DOWN = "DOWN"
# Ports that still hold their host's flooding entry (BUILD: the agent is resyncing).
_HOLDING = (db.STATUS_ACTIVE, db.STATUS_BUILD)
_SEGMENT_KEY = "_l2population_segment"
_BATCH_NOTES = "l2population"

l2pop_opts = [
    cfg.IntOpt("agent_boot_time", default=180, min=0,
               help="Seconds after an agent's (re)start during which it is sent the full forwarding "
                    "list of every network its ports turn ACTIVE on."),
]


def register_opts(conf=cfg.CONF):
    conf.register_opts(l2pop_opts, "l2pop")


def list_opts():
    return [("l2pop", l2pop_opts)]


def port_entries(mac, ips):
    """[[mac, ip], ...] of one port; a port without IPs still gets its MAC."""
    return [[mac, ip] for ip in ips] or [[mac, None]]


def _ips(port):
    return [item["ip_address"] for item in (port or {}).get("fixed_ips") or () if item.get("ip_address")]


def _payload(network_id, segment, ports_by_ip):
    return {network_id: {"network_type": segment["network_type"], "segment_id": segment["segmentation_id"],
                         "ports": ports_by_ip}}


class L2populationMechanismDriver(api.MechanismDriver):

    def __init__(self, notifier=None, conf=None, clock=model_base.utcnow):
        self.notifier = notifier
        self.conf = conf or cfg.CONF
        self.clock = clock
        register_opts(self.conf)

    def initialize(self):
        if self.notifier is None:
            self.notifier = rpc.L2populationNotifier()
        LOG.info("l2population mechanism driver ready")

    def bind_port(self, context):
        return None

    # --- segment of a port ------------------------------------------------------------

    @staticmethod
    def _segment(context, session):
        """The tunnel segment the port is bound to, or None (not bound, or not a tunnel network)."""
        segment = context.driver_notes.get(_SEGMENT_KEY)
        segments = context.network.network_segments if context.network is not None else []
        if segment is None and len(segments) == 1:
            # A network of one segment: a bound port is bound to that one; no query needed.
            segment = {"network_type": segments[0].get(api.NETWORK_TYPE),
                       "segmentation_id": segments[0].get(api.SEGMENTATION_ID)}
        if segment is None:
            segment = db.bound_segment(session, context.current["id"])
        if segment is None or segment["network_type"] not in TUNNEL_NETWORK_TYPES:
            return None
        return segment

    # --- ML2 hooks ------------------------------------------------------------------------

    def update_port_postcommit(self, context):
        port, original = context.current, context.original or {}
        host, original_host = port.get("binding:host_id") or "", original.get("binding:host_id") or ""
        status, original_status = port.get("status"), original.get("status")
        was_active = original_status == STATUS_ACTIVE
        moved = was_active and original_host and original_host != host
        came_up = status == STATUS_ACTIVE and not was_active and host
        # From BUILD too: a resync turns ACTIVE ports BUILD first, and they may go down before up.
        went_down = original_status in _HOLDING and status == STATUS_DOWN and host
        new_ips = (was_active and status == STATUS_ACTIVE and host
                   and sorted(_ips(port)) != sorted(_ips(original)))
        if not (moved or came_up or went_down or new_ips):
            return  # most changes (ACTIVE -> BUILD on a resync, say) concern no one: no query
        with db_api.reader_scope() as session:
            segment = self._segment(context, session)
            if segment is None:
                return
            if moved:
                # Moved while ACTIVE: withdraw it from its former host.
                self._port_gone(context, session, original, original_host, segment)
                if status == STATUS_ACTIVE and host:
                    self._port_up(context, session, port, host, segment)
            elif came_up:
                self._port_up(context, session, port, host, segment)
            elif went_down:
                self._port_gone(context, session, port, host, segment)
            else:
                self._ips_changed(context, session, original, port, host)

    def delete_port_precommit(self, context):
        # The binding goes with the port: keep its segment for the postcommit.
        context.driver_notes[_SEGMENT_KEY] = db.bound_segment(context.session, context.current["id"])

    def delete_port_postcommit(self, context):
        port = context.current
        host = port.get("binding:host_id") or ""
        if not host or port.get("status") not in _HOLDING:
            return
        with db_api.reader_scope() as session:
            segment = self._segment(context, session)
            if segment is not None:
                self._port_gone(context, session, port, host, segment)

    # --- what to send -----------------------------------------------------------------------

    def _port_up(self, context, session, port, host, segment):
        entries = port_entries(port["mac_address"], _ips(port))
        batch = context.status_batch
        if batch is None:
            self._announce(context.plugin_context, session, port["network_id"], host, segment, entries,
                           exclude=port["id"])
            return
        self._note(batch, "up", context, port["network_id"], host, segment, entries)

    def _note(self, batch, change, context, network_id, host, segment, entries):
        """Keep a batch's entries per (change, network, host) until the batch ends."""
        notes = batch.notes.setdefault(_BATCH_NOTES, {})
        if not notes:
            batch.at_end(lambda: self._send_batch(notes, batch.port_ids))
        key = (change, network_id, host)
        if key not in notes:
            notes[key] = {"context": context.plugin_context, "segment": segment, "entries": []}
        notes[key]["entries"].extend(entries)

    def _send_batch(self, notes, port_ids):
        with db_api.reader_scope() as session:
            # Withdrawals first: a port moving within the batch is gone from one host, then up on another.
            for (change, network_id, host), note in sorted(notes.items(), key=lambda item: item[0]):
                send = self._announce if change == "up" else self._withdraw
                send(note["context"], session, network_id, host, note["segment"], note["entries"],
                     exclude=port_ids)

    def _restarted(self, session, host):
        started_at = db.agent_started_at(session, host)
        if started_at is None:
            return False
        boot_time = datetime.timedelta(seconds=self.conf.l2pop.agent_boot_time)
        return self.clock() - started_at < boot_time

    def _announce(self, plugin_context, session, network_id, host, segment, entries, exclude):
        """Ports of ``host`` (``entries``) turned ACTIVE; ``exclude``: they, by port id."""
        agent_ip = db.tunnel_ips(session, [host]).get(host)
        if agent_ip is None:
            LOG.debug("Host %s of network %s has no l2population agent", host, network_id)
            return
        first = db.count_ports_on_host(session, network_id, host, (STATUS_ACTIVE,), exclude=exclude) == 0
        if first or self._restarted(session, host):
            full = self._others(session, network_id, host, agent_ip)
            if full:
                self.notifier.add_fdb_entries(plugin_context, _payload(network_id, segment, full), host=host)
        if first:
            entries = [list(FLOODING_ENTRY)] + list(entries)
        self.notifier.add_fdb_entries(plugin_context, _payload(network_id, segment, {agent_ip: entries}))

    @staticmethod
    def _others(session, network_id, host, agent_ip):
        """{tunnel IP: [flooding entry, port entries...]} of the network's other hosts."""
        others = db.active_ports_by_host(session, network_id, exclude_host=host)
        ips = db.tunnel_ips(session, others)
        full = {}
        for other_host, ports in sorted(others.items()):
            other_ip = ips.get(other_host)
            if other_ip is None or other_ip == agent_ip:
                continue
            listed = full.setdefault(other_ip, [list(FLOODING_ENTRY)])
            for mac, addresses in ports:
                listed.extend(port_entries(mac, addresses))
        return full

    def _port_gone(self, context, session, port, host, segment):
        entries = port_entries(port["mac_address"], _ips(port))
        batch = context.status_batch
        if batch is None:
            self._withdraw(context.plugin_context, session, port["network_id"], host, segment, entries,
                           exclude=port["id"])
            return
        self._note(batch, "gone", context, port["network_id"], host, segment, entries)

    def _withdraw(self, plugin_context, session, network_id, host, segment, entries, exclude):
        """Ports of ``host`` (``entries``) are gone; with the host's last port, its flooding entry too."""
        agent_ip = db.tunnel_ips(session, [host]).get(host)
        if agent_ip is None:
            return
        remaining = db.count_ports_on_host(session, network_id, host, _HOLDING, exclude=exclude)
        if not remaining:
            entries = [list(FLOODING_ENTRY)] + list(entries)
        self.notifier.remove_fdb_entries(plugin_context, _payload(network_id, segment, {agent_ip: entries}))

    def _ips_changed(self, context, session, original, port, host):
        agent_ip = db.tunnel_ips(session, [host]).get(host)
        if agent_ip is None:
            return
        before = set(_ips(original)) - set(_ips(port))
        after = set(_ips(port)) - set(_ips(original))
        change = {"before": [[original["mac_address"], ip] for ip in sorted(before)],
                  "after": [[port["mac_address"], ip] for ip in sorted(after)]}
        self.notifier.update_fdb_entries(context.plugin_context,
                                         {"chg_ip": {port["network_id"]: {agent_ip: change}}})
