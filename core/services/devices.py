"""What L2 agents ask about the devices on their host, and what they report back.

An agent names a device by its interface (``tap`` + the port id's first 11
characters) or by the full port id. Asking for a device's details marks the
port BUILD; ``device_up`` removes the L2 agent's provisioning block, and the
port turns ACTIVE once no block remains; ``device_down`` marks it DOWN. Ports
bound to another host, or not bound at all, are answered with the bare device.

The list calls (``get_devices_details_list*``, ``update_device_list``) handle
their devices together: one query finds the ports, one transaction changes
them all, and the mechanism drivers' postcommits then see a ``StatusBatch``
on each port context (attribute ``status_batch``) so they can send one message
per batch instead of one per port. Should a batch fail, its devices are
retried one by one, so one bad device fails alone and nothing is half written.
"""
import logging

import sqlalchemy as sa

from netweave.core import naming
from netweave.core.db import api as db_api
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.services import extra_dhcp_opts, provisioning
from netweave.core.services import ports as ports_mod

LOG = logging.getLogger(__name__)

Port = port_models.Port
_BINDINGS = port_models.PortBinding.__table__

# Interface names that carry a port id: instance taps, DHCP and router ports.
DEVICE_PREFIXES = (naming.TAP_PREFIX, naming.DHCP_DEVICE_PREFIX, naming.ROUTER_INTERFACE_PREFIX,
                   naming.ROUTER_GATEWAY_PREFIX, naming.HA_INTERFACE_PREFIX)
UUID_LEN = 36
_NOT_WIRED = (ports_mod.VIF_TYPE_UNBOUND, ports_mod.VIF_TYPE_BINDING_FAILED)
# Devices per transaction: one agent's resync of a few hundred ports is one or two.
BATCH_SIZE = 250


def port_id_prefix(device):
    """The port id, or the start of it, that a device name stands for."""
    for prefix in DEVICE_PREFIXES:
        if device.startswith(prefix):
            return device[len(prefix):]
    return device


def find_port(session, device):
    """The port a device name stands for, or None (unknown, or an ambiguous prefix)."""
    wanted = port_id_prefix(str(device or ""))
    if not wanted:
        return None
    if len(wanted) == UUID_LEN:
        return session.get(Port, wanted)
    rows = session.scalars(sa.select(Port).where(Port.id.startswith(wanted, autoescape=True)).limit(2)).all()
    if len(rows) > 1:
        LOG.error("Device %s matches more than one port", device)
        return None
    return rows[0] if rows else None


def find_ports(session, devices):
    """{device: port row} for the devices naming exactly one port, in one query per name length."""
    return _match_devices(devices, lambda column, prefixes: session.scalars(
        sa.select(Port).where(column.in_(prefixes))))


def _find_bindings(connection, devices):
    """{device: (port id, binding host, binding vif_type)} as find_ports matches them (host and
    vif_type None for a port without a binding): plain rows, for the reads before a batch."""
    def rows(column, prefixes):
        return connection.execute(sa.select(Port.id, _BINDINGS.c.host, _BINDINGS.c.vif_type)
                                  .outerjoin(_BINDINGS, _BINDINGS.c.port_id == Port.id)
                                  .where(column.in_(prefixes))).all()
    return _match_devices(devices, rows)


def _match_devices(devices, read):
    """{device: row} of the devices naming exactly one port; ``read(column, prefixes)`` returns
    the rows (with ``id``) whose ``column`` (the id, or its first characters) is one of ``prefixes``."""
    wanted = {}
    for device in devices:
        prefix = port_id_prefix(str(device or ""))
        if prefix:
            wanted.setdefault(prefix, []).append(device)
    by_length = {}
    for prefix in wanted:
        by_length.setdefault(min(len(prefix), UUID_LEN), []).append(prefix)
    matches = {}
    for length, prefixes in by_length.items():
        column = Port.id if length == UUID_LEN else sa.func.substr(Port.id, 1, length)
        for row in read(column, prefixes):
            matches.setdefault(row.id[:length], []).append(row)
    found = {}
    for prefix, names in wanted.items():
        rows = matches.get(prefix, [])
        if len(rows) > 1:
            LOG.error("Device %s matches more than one port", names[0])
            continue
        for device in names:
            if rows:
                found[device] = rows[0]
    return found


def _keep_networks(session, rows):
    """Load the networks of ``rows`` once: the caller holds the list so the session's
    (weak) identity map keeps them, and each port's context reuses them."""
    network_ids = sorted({row.network_id for row in rows})
    if not network_ids:
        return []
    # Loaded as the port service loads a port's network (its subnets' DNS servers, routes
    # and service types left unread): the port contexts find them in the identity map.
    return session.scalars(sa.select(net_models.Network).where(net_models.Network.id.in_(network_ids))
                           .options(*ports_mod.NETWORK_FOR_PORTS)).unique().all()


def _chunked(items, size=BATCH_SIZE):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


class StatusBatch:
    """Ports whose status changed in one transaction, for the drivers' postcommits.

    ``port_ids``: the ports whose status the batch changed.
    A driver keeps its own notes in ``notes[<its name>]`` and registers work
    for the end of the batch with ``at_end``; ``finish`` runs it once every
    port's postcommit has run.
    """

    def __init__(self, port_ids):
        self.port_ids = frozenset(port_ids)
        self.notes = {}
        self._at_end = []

    def at_end(self, callback):
        self._at_end.append(callback)

    def finish(self):
        callbacks, self._at_end = self._at_end, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - the status is committed; one driver's failure is its own
                LOG.exception("Postcommit work at the end of a status batch failed")


class DeviceService:
    def __init__(self, port_service, blocks, status_changer):
        self.ports = port_service
        self.blocks = blocks
        self.status = status_changer

    # --- details ---------------------------------------------------------------

    def get_device_details(self, context, device, agent_id, host):
        port_id, needs_binding = self._port_on_host(device, host)
        if port_id is None:
            LOG.debug("Device %s requested by agent %s on host %s: no port bound there", device, agent_id, host)
            return {"device": device}
        if needs_binding:
            # Bound before a driver could wire it there (its agent was not reporting
            # yet, say): now that the host's agent asks, try again.
            self.ports.bind(context, port_id)
        details, pending = self._details_committed(context, device, agent_id, port_id)
        self.status.after_commit(pending)
        return details

    def get_devices_details_list(self, context, devices, agent_id, host):
        details = []
        for chunk in _chunked(devices):
            details.extend(self._details_batch(context, chunk, agent_id, host))
        return details

    def get_devices_details_list_and_failed_devices(self, context, devices, agent_id, host):
        result = {"devices": [], "failed_devices": []}
        for chunk in _chunked(devices):
            try:
                result["devices"].extend(self._details_batch(context, chunk, agent_id, host))
                continue
            except Exception:  # noqa: BLE001 - find the culprit one device at a time
                LOG.exception("Failed to get details of %d devices together; asking one by one", len(chunk))
            for device in chunk:
                try:
                    result["devices"].append(self.get_device_details(context, device, agent_id, host))
                except Exception:  # noqa: BLE001 - the agent retries the failed ones
                    LOG.exception("Failed to get details of device %s", device)
                    result["failed_devices"].append(device)
        return result

    def _details_batch(self, context, devices, agent_id, host):
        on_host = self._ports_on_host(devices, host)
        for port_id, needs_binding in on_host.values():
            if needs_binding:
                self.ports.bind(context, port_id)
        details, pending = self._details_batch_committed(context, devices, on_host, agent_id)
        self._after_commit(pending)
        return details

    @db_api.retry_db_errors
    def _ports_on_host(self, devices, host):
        """{device: (port id, whether it still needs binding)} of the devices whose port is bound to ``host``."""
        with db_api.reader_connection() as connection:
            result = {}
            for device, (port_id, bound_host, vif_type) in _find_bindings(connection, devices).items():
                if not bound_host or (host and bound_host != host):
                    continue
                result[device] = (port_id, vif_type in _NOT_WIRED)
            return result

    @db_api.retry_db_errors
    def _details_batch_committed(self, context, devices, on_host, agent_id):
        with db_api.session_scope() as session:
            port_ids = sorted({port_id for port_id, _ in on_host.values()})
            rows = {row.id: row for row in session.scalars(sa.select(Port).where(Port.id.in_(port_ids)))} \
                if port_ids else {}
            networks = _keep_networks(session, rows.values())  # noqa: F841 - held for the identity map
            extra_dhcp_opts.preload(session, rows)  # each port's two contexts read them from memory
            segment_ids = {row.binding.segment_id for row in rows.values()
                           if row.binding is not None and row.binding.segment_id}
            segments = {segment.id: segment for segment in session.scalars(
                sa.select(net_models.NetworkSegment).where(net_models.NetworkSegment.id.in_(segment_ids)))} \
                if segment_ids else {}
            details, pending = [], []
            for device in devices:
                row = rows.get(on_host.get(device, (None, False))[0])
                if row is None:
                    LOG.debug("Device %s requested by agent %s: no port bound to its host", device, agent_id)
                    details.append({"device": device})
                    continue
                binding = row.binding
                segment = segments.get(binding.segment_id) if binding is not None else None
                one, changed = self._details_of(context, session, device, agent_id, row, segment)
                details.append(one)
                pending.append(changed)
            return details, pending

    def _after_commit(self, pending):
        """The postcommits of a batch's status changes, with the batch on each port context."""
        pending = [p for p in pending if p is not None]
        if not pending:
            return
        batch = StatusBatch(p.current["id"] for p in pending)
        for port_context in pending:
            port_context.status_batch = batch
            self.status.after_commit(port_context)
        batch.finish()

    @db_api.retry_db_errors
    def _port_on_host(self, device, host):
        """(port id, whether it still needs binding) of the device's port bound to ``host``."""
        with db_api.reader_scope() as session:
            row = find_port(session, device)
            binding = row.binding if row is not None else None
            if binding is None or not binding.host or (host and binding.host != host):
                return None, False
            return row.id, binding.vif_type in _NOT_WIRED

    @db_api.retry_db_errors
    def _details_committed(self, context, device, agent_id, port_id):
        with db_api.session_scope() as session:
            row = session.get(Port, port_id)
            binding = row.binding if row is not None else None
            segment = (session.get(net_models.NetworkSegment, binding.segment_id)
                       if binding is not None and binding.segment_id else None)
            return self._details_of(context, session, device, agent_id, row, segment)

    def _details_of(self, context, session, device, agent_id, row, segment):
        """(details, pending status change) of a port the agent is about to wire."""
        if row is None or segment is None:
            binding = row.binding if row is not None else None
            LOG.warning("Device %s requested by agent %s is not bound (vif_type %s)", device, agent_id,
                        binding.vif_type if binding is not None else None)
            return {"device": device}, None
        # The agent is about to wire it: BUILD until it reports the device up.
        wanted = ports_mod.STATUS_BUILD if row.admin_state_up else ports_mod.STATUS_DOWN
        pending = self.status.change(context, session, row, wanted)
        port_context = pending or self.ports.port_context(context, session, row)
        port = port_context.current
        details = {
            "device": device,
            "port_id": port["id"],
            "network_id": port["network_id"],
            "network_type": segment.network_type,
            "physical_network": segment.physical_network,
            "segmentation_id": segment.segmentation_id,
            "mtu": port_context.network.current.get("mtu"),
            "mac_address": port["mac_address"],
            "admin_state_up": port["admin_state_up"],
            "fixed_ips": port["fixed_ips"],
            "device_owner": port["device_owner"],
            "qos_policy_id": port.get("qos_policy_id"),
            "network_qos_policy_id": None,
            "profile": port.get("binding:profile", {}),
        }
        self.ports.extensions.extend_device_details(port, details)
        return details, pending

    # --- reports -----------------------------------------------------------------

    def update_device_up(self, context, device, agent_id, host):
        pending = self._device_up_committed(context, device, agent_id, host)
        self.status.after_commit(pending)

    @db_api.retry_db_errors
    def _device_up_committed(self, context, device, agent_id, host):
        with db_api.session_scope() as session:
            row = find_port(session, device)
            if not self._up_allowed(device, row, agent_id, host):
                return None
            return self._complete(context, session, row, provisioning.L2_AGENT_ENTITY)

    @staticmethod
    def _up_allowed(device, row, agent_id, host):
        binding = row.binding if row is not None else None
        if binding is None or not binding.host or binding.vif_type in _NOT_WIRED:
            LOG.debug("Device %s up at agent %s: no bound port", device, agent_id)
            return False
        if host and binding.host != host:
            LOG.debug("Device %s up at agent %s: bound to %s, not %s", device, agent_id, binding.host, host)
            return False
        return True

    @db_api.retry_db_errors
    def _devices_up_committed(self, context, devices, agent_id, host):
        with db_api.session_scope() as session:
            found = find_ports(session, devices)
            rows = {}
            for device in devices:
                row = found.get(device)
                if self._up_allowed(device, row, agent_id, host):
                    rows[row.id] = row
            networks = _keep_networks(session, rows.values())  # noqa: F841 - held for the identity map
            unblocked = self.blocks.complete_many(session, sorted(rows), provisioning.L2_AGENT_ENTITY)
            extra_dhcp_opts.preload(session, unblocked)
            return [self.status.change(context, session, rows[port_id], ports_mod.STATUS_ACTIVE)
                    for port_id in sorted(unblocked)]

    def _complete(self, context, session, row, entity):
        if not self.blocks.complete(session, row.id, entity):
            return None  # another party still has to confirm it
        binding = row.binding
        if binding is None or not binding.host or binding.vif_type in _NOT_WIRED:
            return None  # unbound meanwhile: stays DOWN
        return self.status.change(context, session, row, ports_mod.STATUS_ACTIVE)

    def provisioning_complete(self, context, port_id, entity):
        """``entity`` (DHCP, ...) has done its part for the port: it turns ACTIVE if it was the last."""
        pending = self._provisioning_complete_committed(context, port_id, entity)
        self.status.after_commit(pending)

    @db_api.retry_db_errors
    def _provisioning_complete_committed(self, context, port_id, entity):
        with db_api.session_scope() as session:
            row = session.get(Port, port_id)
            return None if row is None else self._complete(context, session, row, entity)

    def update_device_down(self, context, device, agent_id, host):
        result, pending = self._device_down_committed(context, device, agent_id, host)
        self.status.after_commit(pending)
        return result

    @db_api.retry_db_errors
    def _device_down_committed(self, context, device, agent_id, host):
        with db_api.session_scope() as session:
            row = find_port(session, device)
            if row is None:
                return {"device": device, "exists": False}, None
            binding = row.binding
            if host and (binding is None or binding.host != host):
                LOG.debug("Device %s down at agent %s: not bound to %s", device, agent_id, host)
                return {"device": device, "exists": True}, None
            return {"device": device, "exists": True}, self.status.change(context, session, row,
                                                                          ports_mod.STATUS_DOWN)

    @db_api.retry_db_errors
    def _devices_down_committed(self, context, devices, agent_id, host):
        with db_api.session_scope() as session:
            found = find_ports(session, devices)
            networks = _keep_networks(session, found.values())  # noqa: F841 - held for the identity map
            extra_dhcp_opts.preload(session, {row.id for row in found.values()})
            results, pending, changed = [], [], set()
            for device in devices:
                row = found.get(device)
                results.append({"device": device, "exists": row is not None})
                if row is None or row.id in changed:
                    continue
                binding = row.binding
                if host and (binding is None or binding.host != host):
                    LOG.debug("Device %s down at agent %s: not bound to %s", device, agent_id, host)
                    continue
                changed.add(row.id)
                pending.append(self.status.change(context, session, row, ports_mod.STATUS_DOWN))
            return results, pending

    def update_device_list(self, context, devices_up, devices_down, agent_id, host):
        result = {"devices_up": [], "failed_devices_up": [], "devices_down": [], "failed_devices_down": []}
        for chunk in _chunked(devices_up or ()):
            try:
                pending = self._devices_up_committed(context, chunk, agent_id, host)
            except Exception:  # noqa: BLE001 - find the culprit one device at a time
                LOG.exception("Failed to mark %d devices up together; trying one by one", len(chunk))
                self._one_by_one_up(context, chunk, agent_id, host, result)
                continue
            self._after_commit(pending)
            result["devices_up"].extend(chunk)
        for chunk in _chunked(devices_down or ()):
            try:
                results, pending = self._devices_down_committed(context, chunk, agent_id, host)
            except Exception:  # noqa: BLE001
                LOG.exception("Failed to mark %d devices down together; trying one by one", len(chunk))
                self._one_by_one_down(context, chunk, agent_id, host, result)
                continue
            self._after_commit(pending)
            result["devices_down"].extend(results)
        return result

    def _one_by_one_up(self, context, devices, agent_id, host, result):
        for device in devices:
            try:
                self.update_device_up(context, device, agent_id, host)
                result["devices_up"].append(device)
            except Exception:  # noqa: BLE001 - reported back; the agent retries
                LOG.exception("Failed to mark device %s up", device)
                result["failed_devices_up"].append(device)

    def _one_by_one_down(self, context, devices, agent_id, host, result):
        for device in devices:
            try:
                result["devices_down"].append(self.update_device_down(context, device, agent_id, host))
            except Exception:  # noqa: BLE001 - reported back; the agent retries
                LOG.exception("Failed to mark device %s down", device)
                result["failed_devices_down"].append(device)
