"""What network, subnet, port and agent changes mean for DHCP.

``DhcpHooks.subscribe`` hooks it to the resource events of the core plugin:
PRECOMMIT where it writes inside the change's transaction, AFTER to tell the
agents once the change is committed. It also declares DHCP ports as ports
that go with their network.

- a port getting an address on a DHCP-enabled subnet of a network some alive
  DHCP agent hosts is blocked until that agent reports it served ("DHCP"
  provisioning block, added in the port's own transaction so the agent can
  never confirm it before the block exists);
- a DHCP-enabled subnet schedules its network to DHCP agents;
- the agents hosting a network are told about its changes (dhcp_notifier); who
  hosts it is read by the outbox's thread (core/rpc/outbox.py), off the request;
- a DHCP agent's state report lets it take networks lacking agents and moves
  networks off dead agents.
"""
import logging

import sqlalchemy as sa

from netweave.core import context as context_mod
from netweave.core import events
from netweave.core.db import api as db_api
from netweave.core.db.models import port as port_models
from netweave.core.rpc import outbox, topics
from netweave.core.services import dhcp_agents, dhcp_network_info, provisioning

LOG = logging.getLogger(__name__)

# What a DHCP agent serves of a port; other changes (status, name) are not its business.
SERVED_ATTRIBUTES = ("mac_address", "fixed_ips", "admin_state_up", "device_owner", "device_id",
                     "extra_dhcp_opts", "binding:host_id")
SERVED_SUBNET_ATTRIBUTES = dhcp_network_info.SUBNET_KEYS


# Built once: it runs inside the write transaction of every port create on a served network.
_INSERT_BLOCK = sa.insert(provisioning.Block.__table__)


class DhcpHooks:
    def __init__(self, conf, scheduler, notifier, blocks, port_service=None, extension_keys=frozenset()):
        self.conf = conf
        # Port attributes of ML2 extension drivers the agents serve too (dns_assignment, say).
        self.extension_keys = frozenset(extension_keys)
        self.served_attributes = SERVED_ATTRIBUTES + tuple(sorted(self.extension_keys))
        self.scheduler = scheduler
        self.notifier = notifier
        self.blocks = blocks
        # Deletes DHCP ports of agents that no longer host a network (set by the plugin).
        self.ports = port_service
        # {network_id: hosts to tell}, read inside a network delete's transaction
        # (the bindings go with the network) and taken once it committed.
        self._deleted_network_hosts = {}

    def subscribe(self, registry, network_service):
        """Hook into the core's resource events; DHCP ports go with their network."""
        network_service.declare_auto_delete_port_owner(dhcp_agents.DHCP_DEVICE_OWNER)
        Event = events.Event
        for callback, resource, event in (
                (self.port_created_in_transaction, events.PORT, Event.PRECOMMIT_CREATE),
                (self.port_updated_in_transaction, events.PORT, Event.PRECOMMIT_UPDATE),
                (self.port_created, events.PORT, Event.AFTER_CREATE),
                (self.port_updated, events.PORT, Event.AFTER_UPDATE),
                (self.port_deleted, events.PORT, Event.AFTER_DELETE),
                (self.subnet_created, events.SUBNET, Event.AFTER_CREATE),
                (self.subnet_updated, events.SUBNET, Event.AFTER_UPDATE),
                (self.subnet_deleted, events.SUBNET, Event.AFTER_DELETE),
                (self.network_updated, events.NETWORK, Event.AFTER_UPDATE),
                (self.network_deleting_in_transaction, events.NETWORK, Event.PRECOMMIT_DELETE),
                (self.network_deleted, events.NETWORK, Event.AFTER_DELETE)):
            registry.subscribe(callback, resource, event)

    # --- helpers -----------------------------------------------------------

    def _notifying(self):
        return self.notifier.connected and self.conf.dhcp_agent_notification

    def _hosts(self, network_id):
        with db_api.reader_connection() as connection:
            return self.scheduler.hosting_hosts(connection, network_id)

    def _tell_hosting_agents(self, network_id, send, what):
        """``send(hosts)`` with the hosts of the network's agents, both read and sent by the
        outbox's thread after the change committed, in order with the other notifications."""
        outbox.OUTBOX.submit(lambda: send(self._hosts(network_id)), what)

    def _schedule_and_notify(self, context, network_id):
        """Schedule the network if it lacks agents; the new agents hear network_create_end.

        Returns the hosts that already hosted it (the ones to tell about the change itself).
        """
        new_agents = self.scheduler.schedule_network(network_id)
        if not self._notifying():
            return []
        new_hosts = {a.host for a in new_agents}
        if new_hosts:
            self.notifier.network_create(context, sorted(new_hosts), network_id)
        return [h for h in self._hosts(network_id) if h not in new_hosts]

    # --- ports ------------------------------------------------------------------

    def _needs_dhcp_block(self, session, port):
        if port.get("device_owner") == dhcp_agents.DHCP_DEVICE_OWNER:
            return False
        subnet_ids = {ip["subnet_id"] for ip in port.get("fixed_ips") or ()}
        # One query at most, none for a port without addresses.
        return self.scheduler.serves_dhcp_for(session, port["network_id"], subnet_ids)

    def port_created_in_transaction(self, resource, event, payload):
        port = payload.current
        # Once per transaction and network: the ports of a bulk create share the answer.
        known = payload.session.info.setdefault("dhcp_hooks.needs_block", {})
        key = (port["network_id"], port.get("device_owner"),
               frozenset(ip["subnet_id"] for ip in port.get("fixed_ips") or ()))
        if key not in known:
            known[key] = self._needs_dhcp_block(payload.session, port)
        if known[key]:
            # A port being created has no block yet: one insert, no read of its blocks first.
            payload.session.execute(_INSERT_BLOCK, {"port_id": payload.resource_id,
                                                    "entity": provisioning.DHCP_ENTITY})

    def port_updated_in_transaction(self, resource, event, payload):
        if payload.original.get("fixed_ips") == payload.current.get("fixed_ips"):
            return
        if self._needs_dhcp_block(payload.session, payload.current):
            self.blocks.add(payload.session, payload.resource_id, [provisioning.DHCP_ENTITY])

    def port_created(self, resource, event, payload):
        if self._notifying():
            port = payload.current
            agent_port = dhcp_network_info.agent_port(port, self.extension_keys)
            self._tell_hosting_agents(port["network_id"], lambda hosts: self.notifier.port_event(
                payload.context, hosts, "create", agent_port), "port_create_end")

    def port_updated(self, resource, event, payload):
        original, port = payload.original, payload.current
        if not self._notifying() or all(original.get(k) == port.get(k) for k in self.served_attributes):
            return
        agent_port = dhcp_network_info.agent_port(port, self.extension_keys)
        self._tell_hosting_agents(port["network_id"], lambda hosts: self.notifier.port_event(
            payload.context, hosts, "update", agent_port), "port_update_end")

    def port_deleted(self, resource, event, payload):
        if self._notifying():
            port_id, network_id = payload.original["id"], payload.original["network_id"]
            self._tell_hosting_agents(network_id, lambda hosts: self.notifier.port_delete(
                payload.context, hosts, port_id, network_id), "port_delete_end")

    # --- subnets -------------------------------------------------------------------

    def subnet_created(self, resource, event, payload):
        self._subnet_changed(payload.context, payload.current, "create")

    def subnet_updated(self, resource, event, payload):
        if all(payload.original.get(k) == payload.current.get(k) for k in SERVED_SUBNET_ATTRIBUTES):
            return
        self._subnet_changed(payload.context, payload.current, "update")

    def _subnet_changed(self, context, subnet, event):
        hosts = self._schedule_and_notify(context, subnet["network_id"])
        if hosts:
            self.notifier.subnet_event(context, hosts, event, dhcp_network_info.agent_subnet(subnet))

    def subnet_deleted(self, resource, event, payload):
        if self._notifying():
            subnet_id, network_id = payload.original["id"], payload.original["network_id"]
            self._tell_hosting_agents(network_id, lambda hosts: self.notifier.subnet_delete(
                payload.context, hosts, subnet_id, network_id), "subnet_delete_end")

    # --- networks ---------------------------------------------------------------------

    def network_updated(self, resource, event, payload):
        if self._notifying():
            network = payload.current
            agent_network = {"id": network["id"], "admin_state_up": network["admin_state_up"],
                             "name": network.get("name"), "mtu": network.get("mtu")}
            self._tell_hosting_agents(network["id"], lambda hosts: self.notifier.network_update(
                payload.context, hosts, agent_network), "network_update_end")

    def network_deleting_in_transaction(self, resource, event, payload):
        # The bindings go with the network: read whom to tell while they still exist.
        # A delete that then rolls back leaves its entry, replaced by the next try.
        if self._notifying():
            self._deleted_network_hosts[payload.resource_id] = self.scheduler.hosting_hosts(
                payload.session, payload.resource_id)

    def network_deleted(self, resource, event, payload):
        hosts = self._deleted_network_hosts.pop(payload.resource_id, None)
        if hosts:
            self.notifier.network_delete(payload.context, hosts, payload.resource_id)

    # --- agents -------------------------------------------------------------------------

    def agent_reported(self, context, agent_state):
        """After a state report: failover, then let a DHCP agent take networks lacking agents."""
        if agent_state.get("agent_type") != topics.AGENT_TYPE_DHCP:
            return
        for network_id, dead_host, new_agents in self.scheduler.reschedule_from_dead_agents():
            self.release_agent_port(context, network_id, dead_host)
            if self._notifying():
                self.notifier.network_delete(context, [dead_host], network_id)
                self.notifier.network_create(context, sorted({a.host for a in new_agents}), network_id)
        if not self.conf.network_auto_schedule:
            return
        host = agent_state.get("host")
        taken = self.scheduler.auto_schedule(host)
        if taken and self._notifying():
            for network_id in taken:
                self.notifier.network_create(context, [host], network_id)

    def network_added(self, context, host, network_id):
        if self._notifying():
            self.notifier.network_create(context, [host], network_id)

    def network_removed(self, context, host, network_id):
        self.release_agent_port(context, network_id, host)
        if self._notifying():
            self.notifier.network_delete(context, [host], network_id)

    def release_agent_port(self, context, network_id, host):
        """Delete the DHCP port the agent on ``host`` had on the network (it serves there no more)."""
        if self.ports is None:
            return
        device_id = dhcp_agents.dhcp_device_id(host, network_id)
        Port = port_models.Port
        with db_api.reader_scope() as session:
            port_ids = list(session.scalars(sa.select(Port.id).where(Port.network_id == network_id,
                                                                    Port.device_id == device_id)))
        admin = context_mod.get_admin_context()
        for port_id in port_ids:
            try:
                self.ports.delete(admin, port_id)
            except Exception:  # noqa: BLE001 - gone already, or the network with it
                LOG.debug("DHCP port %s of host %s was already gone", port_id, host)
