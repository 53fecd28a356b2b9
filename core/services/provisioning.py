"""Provisioning blocks: a port turns ACTIVE only once every party wiring it has confirmed.

When a port is bound to a host, each *entity* that has to do something for it
(the host's L2 agent, later a DHCP agent) leaves a block. An entity removes
its block when its work is done (the L2 agent's update_device_up); the port
becomes ACTIVE when the last block is gone. Entities are plain names: a new
party registers a ``BlockSource`` saying which ports it must confirm.
"""
import logging

import sqlalchemy as sa

from netweave.core.db.models import provisioning as models

LOG = logging.getLogger(__name__)

L2_AGENT_ENTITY = "L2"
DHCP_ENTITY = "DHCP"

Block = models.ProvisioningBlock


def l2_agent_source(session, port, binding):
    """The bound host's L2 agent confirms every port a driver bound without a final status."""
    return (L2_AGENT_ENTITY,)


class ProvisioningBlocks:
    """Blocks of ports, and which entities must confirm a newly bound port.

    ``sources`` are callables ``(session, port_row, binding_row) -> entities``,
    asked each time a port is bound; what they return is blocked.
    """

    def __init__(self, sources=(l2_agent_source,)):
        self.sources = list(sources)

    def add_source(self, source):
        self.sources.append(source)

    def entities_for_binding(self, session, port, binding):
        entities = []
        for source in self.sources:
            for entity in source(session, port, binding) or ():
                if entity not in entities:
                    entities.append(entity)
        return entities

    def add(self, session, port_id, entities):
        present = set(self.entities(session, port_id))
        for entity in entities:
            if entity not in present:
                session.add(Block(port_id=port_id, entity=entity))
        session.flush()

    def add_many(self, session, entities_by_port):
        """``add`` for many ports ({port id: entities}) in two statements at most."""
        if not entities_by_port:
            return
        present = set(session.execute(sa.select(Block.port_id, Block.entity)
                                      .where(Block.port_id.in_(list(entities_by_port)))).all())
        rows = [{"port_id": port_id, "entity": entity} for port_id, entities in entities_by_port.items()
                for entity in dict.fromkeys(entities) if (port_id, entity) not in present]
        if rows:
            session.execute(sa.insert(Block), rows)

    def clear_many(self, session, port_ids):
        """``clear`` for many ports in one statement."""
        port_ids = list(port_ids)
        if port_ids:
            session.execute(sa.delete(Block).where(Block.port_id.in_(port_ids)))

    def entities(self, session, port_id):
        return list(session.scalars(sa.select(Block.entity).where(Block.port_id == port_id)
                                    .order_by(Block.entity)))

    def clear(self, session, port_id):
        session.execute(sa.delete(Block).where(Block.port_id == port_id))

    def complete(self, session, port_id, entity):
        """Remove ``entity``'s block; True when no block of the port remains.

        Completing an entity that had no block is harmless: the port is then
        complete when no one else blocks it, as after an agent's resync.
        """
        removed = session.execute(sa.delete(Block).where(Block.port_id == port_id, Block.entity == entity))
        if removed.rowcount:
            LOG.debug("Provisioning of port %s completed by %s", port_id, entity)
        return not self.entities(session, port_id)

    def complete_many(self, session, port_ids, entity):
        """``complete`` for many ports in two statements; returns the ports left without blocks."""
        port_ids = list(port_ids)
        if not port_ids:
            return set()
        session.execute(sa.delete(Block).where(Block.port_id.in_(port_ids), Block.entity == entity))
        still = set(session.scalars(sa.select(Block.port_id).where(Block.port_id.in_(port_ids)).distinct()))
        return set(port_ids) - still
