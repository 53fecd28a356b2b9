"""What the trunk plugin says about ports: a trunk's parent or subport is not deleted
through the port API (BEFORE_DELETE veto with Neutron's texts). Deletes a plugin makes
for itself pass, and the trunk rows go with the port (ON DELETE CASCADE)."""
from netweave.core import events
from netweave.core.db import api as db_api
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


def subscribe(registry):
    registry.subscribe(refuse_api_delete, events.PORT, events.Event.BEFORE_DELETE)
