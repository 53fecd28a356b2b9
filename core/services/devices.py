"""What L2 agents ask about the devices on their host, and what they report back.

An agent names a device by its interface (``tap`` + the port id's first 11
characters) or by the full port id. Asking for a device's details marks the
port BUILD; ``device_up`` removes the L2 agent's provisioning block, and the
port turns ACTIVE once no block remains; ``device_down`` marks it DOWN. Ports
bound to another host, or not bound at all, are answered with the bare device.
"""
import logging

import sqlalchemy as sa

from netweave.core import naming
from netweave.core.db import api as db_api
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.services import ports as ports_mod
from netweave.core.services import provisioning

LOG = logging.getLogger(__name__)

Port = port_models.Port

# Interface names that carry a port id: instance taps, DHCP and router ports.
DEVICE_PREFIXES = (naming.TAP_PREFIX, naming.DHCP_DEVICE_PREFIX, naming.ROUTER_INTERFACE_PREFIX,
                   naming.ROUTER_GATEWAY_PREFIX, naming.HA_INTERFACE_PREFIX)
UUID_LEN = 36
_NOT_WIRED = (ports_mod.VIF_TYPE_UNBOUND, ports_mod.VIF_TYPE_BINDING_FAILED)


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
        return [self.get_device_details(context, device, agent_id, host) for device in devices]

    def get_devices_details_list_and_failed_devices(self, context, devices, agent_id, host):
        result = {"devices": [], "failed_devices": []}
        for device in devices:
            try:
                result["devices"].append(self.get_device_details(context, device, agent_id, host))
            except Exception:  # noqa: BLE001 - the agent retries the failed ones
                LOG.exception("Failed to get details of device %s", device)
                result["failed_devices"].append(device)
        return result

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
            if segment is None:
                LOG.warning("Device %s requested by agent %s is not bound (vif_type %s)", device, agent_id,
                            binding.vif_type if binding is not None else None)
                return {"device": device}, None
            # The agent is about to wire it: BUILD until it reports the device up.
            wanted = ports_mod.STATUS_BUILD if row.admin_state_up else ports_mod.STATUS_DOWN
            pending = self.status.change(context, session, row, wanted)
            port_context = pending or self.ports.port_context(context, session, row)
            port = port_context.current
            return {
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
                "allowed_address_pairs": port.get("allowed_address_pairs", []),
                "port_security_enabled": port.get("port_security_enabled", True),
                "qos_policy_id": port.get("qos_policy_id"),
                "network_qos_policy_id": None,
                "profile": port.get("binding:profile", {}),
            }, pending

    # --- reports -----------------------------------------------------------------

    def update_device_up(self, context, device, agent_id, host):
        pending = self._device_up_committed(context, device, agent_id, host)
        self.status.after_commit(pending)

    @db_api.retry_db_errors
    def _device_up_committed(self, context, device, agent_id, host):
        with db_api.session_scope() as session:
            row = find_port(session, device)
            binding = row.binding if row is not None else None
            if binding is None or not binding.host or binding.vif_type in _NOT_WIRED:
                LOG.debug("Device %s up at agent %s: no bound port", device, agent_id)
                return None
            if host and binding.host != host:
                LOG.debug("Device %s up at agent %s: bound to %s, not %s", device, agent_id, binding.host, host)
                return None
            return self._complete(context, session, row, provisioning.L2_AGENT_ENTITY)

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

    def update_device_list(self, context, devices_up, devices_down, agent_id, host):
        result = {"devices_up": [], "failed_devices_up": [], "devices_down": [], "failed_devices_down": []}
        for device in devices_up or ():
            try:
                self.update_device_up(context, device, agent_id, host)
                result["devices_up"].append(device)
            except Exception:  # noqa: BLE001 - reported back; the agent retries
                LOG.exception("Failed to mark device %s up", device)
                result["failed_devices_up"].append(device)
        for device in devices_down or ():
            try:
                result["devices_down"].append(self.update_device_down(context, device, agent_id, host))
            except Exception:  # noqa: BLE001 - reported back; the agent retries
                LOG.exception("Failed to mark device %s down", device)
                result["failed_devices_down"].append(device)
        return result
