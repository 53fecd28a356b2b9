"""What the server answers the DHCP agents (Neutron's DhcpRpcCallback), on topic "q-plugin".

  get_active_networks_info(host)                -> [network info dict]
  get_network_info(network_id, host)            -> network info dict, or None when gone
  create_dhcp_port(port={"port": {...}}, host)  -> port dict (idempotent per network and device_id)
  update_dhcp_port(port_id, port, host)         -> port dict
  release_dhcp_port(network_id, device_id, host)
  dhcp_ready_on_ports(port_ids)                 -> None (the "DHCP" provisioning block is done)

A network info dict is {id, name, project_id, tenant_id, admin_state_up, mtu,
subnets, ports} (services/dhcp_network_info.py). Extra keyword arguments are
accepted and ignored, so newer agents can send more.
"""
import logging

import oslo_messaging
import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.services import dhcp_agents, dhcp_network_info, provisioning

LOG = logging.getLogger(__name__)

Port = port_models.Port


class DhcpRpcEndpoint:
    """History as Neutron's: 1.8 is the version whose calls these are."""

    target = oslo_messaging.Target(version="1.8")

    def __init__(self, scheduler, ports, devices, hooks):
        self.scheduler = scheduler
        self.ports = ports
        self.devices = devices
        self.hooks = hooks

    @staticmethod
    def _admin(context):
        # Agents are trusted through the broker's credentials; they act as admin.
        return context.elevated()

    # --- network info ------------------------------------------------------------

    def get_active_networks_info(self, context, host=None, **_kwargs):
        if self.hooks.conf.network_auto_schedule and host:
            self.scheduler.auto_schedule(host)
        with db_api.reader_scope() as session:
            network_ids = self.scheduler.active_network_ids_on_host(session, host)
            return dhcp_network_info.network_infos(session, network_ids, self.ports.extensions)

    def get_network_info(self, context, network_id=None, host=None, **_kwargs):
        with db_api.reader_scope() as session:
            infos = dhcp_network_info.network_infos(session, [network_id], self.ports.extensions)
        if not infos:
            LOG.debug("Network %s asked for by the DHCP agent on %s is gone", network_id, host)
            return None
        return infos[0]

    # --- the agent's own port ------------------------------------------------------

    def create_dhcp_port(self, context, port=None, host=None, **_kwargs):
        admin = self._admin(context)
        data = dict((port or {}).get("port") or {})
        network_id = data.get("network_id")
        with db_api.reader_scope() as session:
            owner = session.scalar(sa.select(net_models.Network.project_id)
                                   .where(net_models.Network.id == network_id))
            existing = None
            if data.get("device_id"):
                existing = session.scalar(sa.select(Port.id).where(
                    Port.network_id == network_id, Port.device_id == data["device_id"])
                    .order_by(Port.created_at).limit(1))
        if owner is None:
            LOG.debug("DHCP port wanted on network %s, which is gone", network_id)
            return None
        if existing is not None:
            return self.update_dhcp_port(context, port_id=existing, port={"port": data}, host=host)
        data.setdefault("device_owner", dhcp_agents.DHCP_DEVICE_OWNER)
        data.setdefault("name", "")
        data.setdefault("admin_state_up", True)
        data["project_id"] = owner
        data["binding:host_id"] = host or ""
        try:
            return self.ports.create(admin, data)
        except exc.NetworkNotFound:
            return None

    def update_dhcp_port(self, context, port_id=None, port=None, host=None, **_kwargs):
        data = dict((port or {}).get("port") or {})
        # What may not change through this call: the port's network and owner.
        for key in ("id", "network_id", "project_id", "tenant_id"):
            data.pop(key, None)
        data["binding:host_id"] = host or ""
        return self.ports.update(self._admin(context), port_id, data)

    def release_dhcp_port(self, context, network_id=None, device_id=None, host=None, **_kwargs):
        with db_api.reader_scope() as session:
            port_ids = list(session.scalars(sa.select(Port.id).where(Port.network_id == network_id,
                                                                    Port.device_id == device_id)))
        for port_id in port_ids:
            try:
                self.ports.delete(self._admin(context), port_id)
            except exc.PortNotFound:
                pass

    # --- provisioning --------------------------------------------------------------

    def dhcp_ready_on_ports(self, context, port_ids=None, **_kwargs):
        admin = self._admin(context)
        for port_id in port_ids or ():
            try:
                self.devices.provisioning_complete(admin, port_id, provisioning.DHCP_ENTITY)
            except Exception:  # noqa: BLE001 - one port's failure must not keep the others BUILD
                LOG.exception("Could not complete DHCP provisioning of port %s", port_id)


class DhcpReportFollowUp:
    """What the state-report endpoint stores reports with (its only call is report_state):
    stores the report in the AgentService, then lets the DHCP hooks act on it (failover,
    networks for the reporting agent)."""

    def __init__(self, agents, hooks):
        self.agents = agents
        self.hooks = hooks

    def report_state(self, context, agent_state, reported_time=None):
        status = self.agents.report_state(context, agent_state, reported_time)
        try:
            self.hooks.agent_reported(context, agent_state)
        except Exception:  # noqa: BLE001 - the heartbeat is stored; scheduling retries at the next one
            LOG.exception("DHCP scheduling after the report of %s failed", agent_state.get("host"))
        return status
