"""Trunk agents over RPC, server side (topic "trunk"), as upstream's trunk skeleton.

Asked:
  get_trunk_by_port(port_id) -> the trunk whose parent is port_id (its API dict) or None:
      how an agent that wires a port learns that the port is a trunk's parent.
  update_subport_bindings(subports=[{"port_id", ...}, ...]) -> {trunk_id: [subport, ...]}:
      binds each subport to its parent's host (binding:host_id), so the subport's network
      is wired there, and sets the trunks BUILD while the agent works. Each subport of
      the answer carries its port's "mac_address" (as upstream's), which the Open
      vSwitch agent writes on the subport's switch port, and "network_id", the bridge
      a Linux bridge agent puts the subport's VLAN device in.
  update_trunk_status(trunk_id, status) -> None: BUILD, ACTIVE, DEGRADED, ERROR or DOWN as
      the agent found them; an unknown trunk or status is ignored with a log line.
"""
import logging

import oslo_messaging
import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import port as port_models
from netweave.service_plugins.trunk import constants as const
from netweave.service_plugins.trunk import models

LOG = logging.getLogger(__name__)
TRUNK_TOPIC = "trunk"


class TrunkRpcEndpoint:
    target = oslo_messaging.Target(version="1.0")

    def __init__(self, trunks, ports):
        self.trunks = trunks
        self.ports = ports

    def get_trunk_by_port(self, context, port_id=None, **_kwargs):
        with db_api.reader_scope() as session:
            trunk_id = session.scalar(sa.select(models.Trunk.id).where(models.Trunk.port_id == port_id))
        return None if trunk_id is None else self.trunks.get(context.elevated(), trunk_id)

    def update_subport_bindings(self, context, subports=None, **_kwargs):
        port_ids = [s["port_id"] for s in subports or []]
        with db_api.reader_scope() as session:
            rows = session.execute(
                sa.select(models.SubPort.port_id, models.SubPort.trunk_id, port_models.PortBinding.host)
                .join(models.Trunk, models.Trunk.id == models.SubPort.trunk_id)
                .outerjoin(port_models.PortBinding, port_models.PortBinding.port_id == models.Trunk.port_id)
                .where(models.SubPort.port_id.in_(port_ids))).all()
        result = {}
        for port_id, trunk_id, host in rows:
            try:
                self.ports.update(context.elevated(), port_id, {"binding:host_id": host or ""})
            except exc.NotFound:
                continue  # deleted meanwhile
            result.setdefault(trunk_id, [])
        for trunk_id in result:
            self.trunks.set_status(context, trunk_id, const.STATUS_BUILD)
            subports = self.trunks.get(context.elevated(), trunk_id)[const.SUB_PORTS]
            ports = self._ports([s["port_id"] for s in subports])
            result[trunk_id] = [dict(s, **ports.get(s["port_id"], {})) for s in subports]
        return result

    @staticmethod
    def _ports(port_ids):
        """{port id: {"mac_address", "network_id"}}."""
        with db_api.reader_scope() as session:
            rows = session.execute(sa.select(port_models.Port.id, port_models.Port.mac_address,
                                             port_models.Port.network_id)
                                   .where(port_models.Port.id.in_(port_ids))).all()
        return {port_id: {"mac_address": mac, "network_id": network_id} for port_id, mac, network_id in rows}

    def update_trunk_status(self, context, trunk_id=None, status=None, **_kwargs):
        try:
            self.trunks.set_status(context, trunk_id, status)
        except (exc.NotFound, exc.BadRequest) as error:
            LOG.warning("Ignored status %s of trunk %s: %s", status, trunk_id, error)
