"""What the trunk plugin says about ports.

- A trunk's parent or subport is not deleted through the port API (BEFORE_DELETE veto
  with Neutron's texts). Deletes a plugin makes for itself pass, and the trunk rows go
  with the port (ON DELETE CASCADE).
- A parent port that loses its host (the instance is gone) takes its trunk back to DOWN
  and unbinds the subports (AFTER_UPDATE), as upstream.
"""
from netweave.core import events
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.service_plugins.trunk import constants as const
from netweave.service_plugins.trunk import exceptions as texc
from netweave.service_plugins.trunk import trunks


def refuse_api_delete(resource, event, payload):
    if not payload.via_api:
        return
    port_id = payload.resource_id or (payload.latest or {}).get("id")
    with db_api.reader_scope() as session:
        parent_of = trunks.trunk_of_parent(session, port_id)
        subport_of = None if parent_of else trunks.trunk_of_subport(session, port_id)
    if parent_of:
        raise texc.PortInUseAsTrunkParent(port_id=port_id, trunk_id=parent_of)
    if subport_of:
        raise texc.PortInUseAsSubPort(port_id=port_id, trunk_id=subport_of)


class ParentUnbinding:
    def __init__(self, trunk_service, ports):
        self.trunks = trunk_service
        self.ports = ports

    def __call__(self, resource, event, payload):
        original, current = payload.original or {}, payload.current or {}
        if not original.get("binding:host_id") or current.get("binding:host_id"):
            return
        with db_api.reader_scope() as session:
            trunk_id = trunks.trunk_of_parent(session, payload.resource_id)
        if trunk_id is None:
            return
        context = payload.context.elevated()
        for sub in self.trunks.get(context, trunk_id)[const.SUB_PORTS]:
            try:
                self.ports.update(context, sub["port_id"], {"binding:host_id": ""})
            except exc.NotFound:
                pass  # deleted meanwhile
        self.trunks.set_status(context, trunk_id, const.STATUS_DOWN)


def subscribe(registry, trunk_service, ports):
    registry.subscribe(refuse_api_delete, events.PORT, events.Event.BEFORE_DELETE)
    registry.subscribe(ParentUnbinding(trunk_service, ports), events.PORT, events.Event.AFTER_UPDATE)
