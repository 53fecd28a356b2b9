"""Ports: MAC and fixed IPs from the IPAM, bindings through the mechanism drivers.

What reads of ports select and how a port becomes its API dict are in port_reads.py;
the network a port is created on is read by network_snapshot.py.
"""
import collections
import functools
import json
import logging
import types

import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core import events
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.ipam import ip_allocator, mac_generator
from netweave.core.rpc import outbox
from netweave.core.services import common, extra_dhcp_opts, network_snapshot, networks, query
from netweave.core.services import page as page_mod
from netweave.core.services import port_reads as reads
from netweave.core.services import tags as tagging

LOG = logging.getLogger(__name__)

Port = port_models.Port
Binding = port_models.PortBinding
_PORTS = Port.__table__
_BINDINGS = Binding.__table__

VIF_TYPE_UNBOUND = reads.VIF_TYPE_UNBOUND
VIF_TYPE_BINDING_FAILED = "binding_failed"

STATUS_ACTIVE = "ACTIVE"
STATUS_BUILD = "BUILD"
STATUS_DOWN = "DOWN"

# Changes an agent wiring the port has to hear about (Neutron notifies the same ones);
# the ML2 extension drivers add their own (ExtensionManager.wiring_attributes).
WIRING_ATTRIBUTES = frozenset((
    "admin_state_up", "fixed_ips", "mac_address", "device_owner", "binding:host_id", "binding:profile",
    "binding:vnic_type"))

TRUSTED = reads.TRUSTED

COLUMNS = {
    "id": Port.id, "name": Port.name, "tenant_id": Port.project_id, "project_id": Port.project_id,
    "description": Port.description, "network_id": Port.network_id, "mac_address": Port.mac_address,
    "admin_state_up": Port.admin_state_up, "status": Port.status, "device_id": Port.device_id,
    "device_owner": Port.device_owner, "created_at": Port.created_at, "updated_at": Port.updated_at,
    "revision_number": Port.revision_number,
    "binding:host_id": Binding.host, "binding:vnic_type": Binding.vnic_type, "binding:vif_type": Binding.vif_type,
}


# How port writes load the network: its subnets come with their allocation pools (the
# IPAM reads them) but without DNS servers, host routes and service types, which stay
# loadable on access; the mapper would otherwise fetch all of them eagerly.
_NETWORK_FOR_PORTS = [
    orm.selectinload(net_models.Network.subnets).options(
        orm.lazyload(subnet_models.Subnet.dns_nameservers),
        orm.lazyload(subnet_models.Subnet.routes),
        orm.lazyload(subnet_models.Subnet.service_types)),
    # One row each as a rule (the external flag; the segment, unless the network has
    # several): joined into the network's own query instead of a query apiece.
    orm.joinedload(net_models.Network.external),
    orm.joinedload(net_models.Network.segments),
]


def _profile_json(profile, data):
    """The binding profile to store: ``profile`` with the request's ``trusted`` (the
    port-trusted-vif attribute, kept in the profile as Neutron does; null removes it)."""
    profile = dict(profile or {})
    if TRUSTED in data:
        if data[TRUSTED] is None:
            profile.pop(TRUSTED, None)
        else:
            profile[TRUSTED] = data[TRUSTED]
    return json.dumps(profile)


# What _plan_port read and chose for a new port: its MAC and fixed IPs, the network's
# dict and segments for the driver contexts, the limit its quota check applied (None:
# unlimited).
_PortPlan = collections.namedtuple("_PortPlan", ["network_id", "mac", "fixed_ips", "quota_limit", "network",
                                                 "segments", "dhcp_enabled_subnet_ids"])


def _dhcp_enabled(subnets):
    """Ids of the subnets with DHCP on, handed to drivers with the network (the DHCP
    hooks then need not read the subnets again inside the write transaction)."""
    return frozenset(s.id for s in subnets if s.enable_dhcp)


class _BatchPlanning:
    """What the ports of one create request planned so far, for the next to respect:
    the networks read (by id), the MACs per network and addresses per subnet
    taken (ip_allocator.RequestPicks), and each project's quota limit, checked
    once for all the request's ports of that project."""

    def __init__(self, items):
        self.networks = {}
        self.macs = collections.defaultdict(set)
        # Generated MACs of the request's ports that asked for none, by position (bulk creates).
        self.generated_macs = {}
        self.addresses = ip_allocator.RequestPicks(len(items))
        self.ports_of = collections.Counter(data["project_id"] for data in items)
        self.quota_limits = {}


def _check_mac_free(session, network_id, mac, planned=()):
    """MacAddressInUse when a port on the network has ``mac``, or ``planned`` holds it."""
    if mac in planned or session.scalar(
            sa.select(Port.id).where(Port.network_id == network_id, Port.mac_address == mac)) is not None:
        raise exc.MacAddressInUse(net_id=network_id, mac=mac)


class PortService:
    """Ports, publishing every write to ``registry`` (events.PORT; a bulk create once
    per port). The public writes take ``via_api``: true when the REST API asked for
    the change, false (the default) when a plugin changes a port for itself; a
    BEFORE_DELETE subscriber may refuse API deletes of the ports it owns."""

    def __init__(self, conf, network_service, mechanism_manager, extension_manager, quotas, registry,
                 agents=None, provisioning=None, notifier=None):
        self.conf = conf
        self.networks = network_service
        self.mechanisms = mechanism_manager
        self.extensions = extension_manager
        self.quotas = quotas
        self.events = registry
        # Optional collaborators: the agents drivers bind to (AgentService), the
        # provisioning blocks that hold a bound port DOWN until it is wired, and the
        # notifier telling agents about changes after commit.
        self.agents = agents
        self.provisioning = provisioning
        self.notifier = notifier

    # --- reads -----------------------------------------------------------

    def _visible(self, context, stmt):
        if context.is_admin:
            return stmt
        return stmt.where(reads.visible_to(context.project_id))

    def _dict(self, session, row, tags=None):
        result = reads.make_dict(row, tags)
        extra_dhcp_opts.extend(session, [result])
        self.extensions.extend_port_dict(session, row, result)
        return result

    def get_row(self, session, context, port_id):
        row = session.scalar(self._visible(context, sa.select(Port).where(Port.id == port_id)))
        if row is None:
            raise exc.PortNotFound(port_id=port_id)
        return row

    def _read(self, connection, page, by_network=None, network_owners=None):
        """The API dicts of the ports of ``page`` (a page_mod.Page of a reads.PORT_ROWS statement),
        read on ``connection`` (a Core Connection).

        One query reads the ports with their bindings (plain table rows: building
        Port objects and their collections was most of the cost of a read); one
        more reads their tags, addresses and extra DHCP options and the side
        tables the extension drivers declare (``port_page_sides``), all joined to
        the page rather than sent its ids back. With ``by_network`` (every port is
        on one of those networks) the addresses are read by network instead. A
        list and a single port take this same path. ``network_owners``, a dict, receives
        {network id: owner} from a page that selects ``network_owner`` (NULL: not given).
        """
        sides = [reads.PAGE_TAGS, extra_dhcp_opts.PAGE_OPTIONS] + ([] if by_network else [reads.PAGE_ADDRESSES])
        # The ports, then their sides (a single port's in the same statement).
        keys, found = page.read(connection, sides + list(self.extensions.port_page_sides))
        # Plain tuples with named fields: a Row's attribute lookup costs several times more.
        row_type = reads.named_row_type(keys)
        rows = [row_type._make(r) for r in found]
        if not rows:
            return []
        if network_owners is not None:
            network_owners.update((r.network_id, r.network_owner) for r in rows if r.network_owner is not None)
        tags = reads.tags_of_page(connection, page)
        allocations = reads.fixed_ips_of(connection, page, [r.id for r in rows], network_ids=by_network)
        items = []
        for r in rows:
            binding = None
            if r.binding_port_id is not None:
                binding = reads.BindingRow(r.binding_host, r.binding_vnic_type, r.binding_profile,
                                           r.binding_vif_type, r.binding_vif_details)
            items.append(reads.make_dict(r, tags.get(r.id), allocations.get(r.id, []), binding))
        extra_dhcp_opts.extend(connection, items, page=page)
        if self.extensions.drivers:
            # The whole page at once: drivers with a batch hook read it in a few queries.
            self.extensions.extend_port_dicts(connection, {item["id"]: item for item in items}, page=page)
        return items

    def read_one(self, connection, context, port_id):
        """The API dict of a port the caller may see (else PortNotFound), read on
        ``connection`` (a Core Connection)."""
        if context.is_admin:
            page = reads.ONE_PORT.bind(port_id=port_id)
        else:
            page = reads.ONE_VISIBLE_PORT.bind(port_id=port_id, project_id=context.project_id)
        found = self._read(connection, page)
        if not found:
            raise exc.PortNotFound(port_id=port_id)
        return found[0]

    def get(self, context, port_id, fields=None):
        with db_api.reader_connection() as connection:
            return query.select_fields(self.read_one(connection, context, port_id), fields)

    def get_with_network_owner(self, context, port_id, fields=None):
        """(get(), the owner of the port's network or None when the caller does not see
        that network), in the statements of get(): a show's policy target needs both."""
        if context.is_admin:
            page = reads.ONE_PORT_WITH_OWNER.bind(port_id=port_id)
        else:
            page = reads.ONE_VISIBLE_PORT_WITH_OWNER.bind(port_id=port_id, project_id=context.project_id)
        owners = {}
        with db_api.reader_connection() as connection:
            found = self._read(connection, page, network_owners=owners)
        if not found:
            raise exc.PortNotFound(port_id=port_id)
        port = found[0]
        return query.select_fields(port, fields), owners.get(port["network_id"])

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None, network_owners=None):
        """``network_owners``, a dict, receives {network id: owner} of the networks of the
        ports the caller sees, when the read had them at hand (a member's page)."""
        filters = dict(filters or {})
        with db_api.reader_connection() as connection:
            in_id_order = not page_reverse and all(name == "id" and asc for name, asc in (sorts or []))
            if limit and in_id_order and not context.is_admin:
                page, leftover = self._member_page(connection, context, filters, limit, marker, tag_filters)
                items = self._read(connection, page, network_owners=network_owners)
                return query.finish_page(items, leftover, page_reverse, fields)
            network_id = reads.one_network(filters) if in_id_order and not (limit or marker or tag_filters) else None
            if network_id is not None:
                # The common list, a whole network's ports: a template page, whose
                # statements (the page's and its side reads') are built once, as a show's.
                if context.is_admin:
                    page = reads.NETWORK_PORTS.bind(network_id=network_id)
                else:
                    page = reads.VISIBLE_NETWORK_PORTS.bind(network_id=network_id, project_id=context.project_id)
                return query.finish_page(self._read(connection, page, by_network=[network_id]), {}, False, fields)
            stmt = self._visible(context, reads.port_rows_past(marker) if marker and in_id_order else reads.PORT_ROWS)
            fixed_ips = filters.pop("fixed_ips", None)
            if fixed_ips:
                stmt = self._filter_fixed_ips(stmt, fixed_ips)
            stmt, leftover = query.page_statement(connection, stmt, Port, COLUMNS, filters, sorts, limit, marker,
                                                  page_reverse, tag_filters)
            # A whole network's ports (no page limit): its allocations by network id.
            items = self._read(connection, page_mod.Page(stmt, _PORTS.c.id),
                               by_network=filters.get("network_id") if not limit else None)
        return query.finish_page(items, leftover, page_reverse, fields)

    def _member_page(self, connection, context, filters, limit, marker, tag_filters):
        """A page in id order of the ports a project sees (its own, and those on the
        networks it owns), as a seek at any depth: the project's ports past the marker
        (index on project_id, id) and those of each of its networks (network_id, id), each
        limited to the page, merged. One statement reads the project's networks first.
        Returns (page, leftover filters)."""
        networks = connection.execute(reads.OWN_NETWORK_IDS, {"project_id": context.project_id}).scalars().all()
        fixed_ips = filters.pop("fixed_ips", None)
        if not (filters or fixed_ips or tag_filters) and len(networks) <= reads.SEEK_NETWORKS:
            # The common page: a template per number of networks, whose statements (the
            # page's and its side reads') are built once.
            params = {"network_%d" % index: network_id for index, network_id in enumerate(networks)}
            params.update(project_id=context.project_id, limit=limit)
            if marker:
                params["marker"] = marker
            return reads.member_page_template(len(networks), bool(marker)).bind(**params), {}
        if len(networks) > reads.SEEK_NETWORKS:
            owned = None
        else:
            owned = [_PORTS.c.network_id == network_id for network_id in networks]
        leftover = {}

        def refine(branch):
            nonlocal leftover
            if fixed_ips:
                branch = self._filter_fixed_ips(branch, fixed_ips)
            branch, leftover = query.apply_filters(branch, COLUMNS, filters)
            return query.apply_tag_filters(branch, Port.id, tag_filters)
        # A filter on a binding attribute needs the bindings in each branch.
        with_bindings = any(name.startswith("binding:") and name in COLUMNS for name in filters)
        stmt = reads.member_statement(context.project_id, owned, marker, limit, refine, with_bindings)
        return page_mod.Page(stmt, _PORTS.c.id), leftover

    @staticmethod
    def _filter_fixed_ips(stmt, values):
        """?fixed_ips=ip_address=10.0.0.5&fixed_ips=subnet_id=<id> (Neutron's query form)."""
        allocs = port_models.IPAllocation
        for raw in values:
            key, _, value = str(raw).partition("=")
            if key == "ip_address":
                cond = allocs.ip_address == value
            elif key == "subnet_id":
                cond = allocs.subnet_id == value
            elif key == "ip_address_substr":
                # "%" and "_" in the value are characters, not wildcards.
                cond = allocs.ip_address.contains(value, autoescape=True)
            else:
                continue
            stmt = stmt.where(Port.id.in_(sa.select(allocs.port_id).where(cond)))
        return stmt

    # --- create ------------------------------------------------------------

    def create(self, context, data, *, via_api=False, in_transaction=None):
        """The new port's dict. ``in_transaction(session, port)`` runs in the port's
        write transaction once the port and its drivers' rows are written: a service
        writes there a row of its own that points at the port (a floating IP at its
        floating port), both or neither committed. It may run more than once (a
        retried transaction), always in a transaction of its own."""
        also = None if in_transaction is None else (lambda session, ports: in_transaction(session, ports[0]))
        return self.create_bulk(context, [data], via_api=via_api, in_transaction=also)[0]

    def create_bulk(self, context, items, *, via_api=False, in_transaction=None):
        """The new ports' dicts; ``in_transaction(session, ports)`` as ``create`` says."""
        self._publish_before_create(context, items, via_api)
        created = self._create_committed(context, items, via_api, in_transaction)
        self._publish_after_create(context, items, created, via_api)
        return [self._bind_if_needed(context, port) for port in created]

    def _publish_before_create(self, context, items, via_api):
        if self.events.has_subscribers(events.PORT, events.Event.BEFORE_CREATE):
            for data in items:
                self.events.publish(events.PORT, events.Event.BEFORE_CREATE,
                                    events.Payload(context, current=data, request=data, via_api=via_api))

    def _publish_precommit_create(self, context, session, data, result, via_api):
        self.events.publish(events.PORT, events.Event.PRECOMMIT_CREATE, events.Payload(
            context, result["id"], current=result, request=data, session=session, via_api=via_api))

    def _publish_after_create(self, context, items, created, via_api):
        if self.events.has_subscribers(events.PORT, events.Event.AFTER_CREATE):
            for data, port in zip(items, created):
                self.events.publish(events.PORT, events.Event.AFTER_CREATE, events.Payload(
                    context, port["id"], current=port, request=data, via_api=via_api))

    @db_api.retry_db_errors
    def _create_committed(self, context, items, via_api, in_transaction=None):
        """Create the ports in one transaction: all of them, or none when one fails.

        Each port is planned (network, quota, MAC and fixed IPs read and checked,
        later ports avoiding what earlier ones took), then all are written as
        plain rows, their dicts built from the values written; extension and
        mechanism drivers add theirs in the same transaction.

        On SQLite the plans are read before the write transaction, so the write
        lock is held for the inserts only; whatever changed in between (an
        address or MAC taken, the network or a subnet gone) fails an insert and
        the request is retried, reading again. Elsewhere both run in one
        transaction.
        """
        if db_api.single_writer():
            with db_api.reader_scope() as session:
                plans = self._plan_ports(session, context, items)
            with db_api.session_scope() as session:
                created = self._write_ports(session, context, items, plans, True, via_api)
                if in_transaction is not None:
                    in_transaction(session, [c.current for c in created])
        else:
            with db_api.session_scope() as session:
                plans = self._plan_ports(session, context, items)
                created = self._write_ports(session, context, items, plans, False, via_api)
                if in_transaction is not None:
                    in_transaction(session, [c.current for c in created])
        for mech_context in created:
            self.mechanisms.create_port_postcommit(mech_context)
        return [c.current for c in created]

    def _plan_ports(self, session, context, items):
        batch = _BatchPlanning(items)
        if len(items) > 1:
            batch.generated_macs = self._fresh_macs(session, items)
        return [self._plan_port(session, context, data, batch, batch.generated_macs.get(index))
                for index, data in enumerate(items)]

    def _fresh_macs(self, session, items, attempts=5):
        """Random MACs for the ports of a bulk create that ask for none, checked against
        the ports of their networks in one query per network and attempt.

        A clash fails the whole request's insert and retries it, and the chance of one
        grows with the network: 500 random MACs (24 random bits) meet one of 50,000
        ports about 1.5 times on average. A clash left after ``attempts`` (or one with
        a concurrent request) is still caught by the unique key and retried.
        """
        wanted = {index: data["network_id"] for index, data in enumerate(items) if not data.get("mac_address")}
        macs = {index: mac_generator.generate_mac(self.conf.base_mac) for index in wanted}
        for _ in range(attempts):
            clashes = set()
            for network_id in set(wanted.values()):
                mine = [macs[index] for index, net in wanted.items() if net == network_id]
                for start in range(0, len(mine), 1000):
                    clashes.update((network_id, mac) for mac in session.scalars(
                        sa.select(Port.mac_address).where(Port.network_id == network_id,
                                                          Port.mac_address.in_(mine[start:start + 1000]))))
            seen = set()
            for index, network_id in wanted.items():
                if (network_id, macs[index]) in clashes or (network_id, macs[index]) in seen:
                    macs[index] = mac_generator.generate_mac(self.conf.base_mac)
                    clashes.add(None)
                seen.add((network_id, macs[index]))
            if not clashes:
                break
        return macs

    def _plan_port(self, session, context, data, batch, generated_mac=None):
        """The reads and checks of one port of a create; ``batch`` holds what the
        request's earlier ports took and updates it with this one's. ``generated_mac``:
        the MAC chosen for it beforehand, when it asks for none."""
        network = batch.networks.get(data["network_id"])
        if network is None:
            network = batch.networks[data["network_id"]] = network_snapshot.read(session, context, data["network_id"])
        project_id = data["project_id"]
        if project_id not in batch.quota_limits:
            # Every port of the request in this project at once: one count, not one per port.
            batch.quota_limits[project_id] = self.quotas.check(session, project_id, "port",
                                                               adding=batch.ports_of[project_id])
        quota_limit = batch.quota_limits[project_id]
        macs = batch.macs[network.id]
        mac = data.get("mac_address")
        if mac:
            _check_mac_free(session, network.id, mac, macs)
        else:
            # A clash with a concurrent port is caught by the unique key and retried.
            mac = generated_mac or mac_generator.generate_mac(self.conf.base_mac)
        macs.add(mac)
        fixed_ips = ip_allocator.plan_ips(session, network.id, list(network.subnets), data.get("fixed_ips"),
                                          device_owner=common.or_default(data.get("device_owner"), ""),
                                          mac_address=mac, picks=batch.addresses)
        return _PortPlan(network.id, mac, fixed_ips, quota_limit, self.networks.make_dict(context, network),
                         [networks.segment_dict(s) for s in network.segments], _dhcp_enabled(network.subnets))

    def _write_ports(self, session, context, items, plans, recount, via_api):
        """Insert the planned ports: their rows, bindings and addresses in one statement
        per table for the whole request, then each port's own writes and driver hooks.
        ``recount``: check the quotas again (the plans were read before this transaction).
        """
        if recount:
            # The counts read before the transaction may be stale: only these are exact.
            adding = collections.Counter(data["project_id"] for data in items)
            limits = {data["project_id"]: plan.quota_limit for data, plan in zip(items, plans)}
            for project_id, count in adding.items():
                if limits[project_id] is not None:
                    self.quotas.check_usage(session, project_id, "port", limits[project_id], adding=count)
        rows = [self._port_rows(data, plan) for data, plan in zip(items, plans)]
        try:
            session.execute(sa.insert(Port.__table__), [values for values, _binding in rows])
            session.execute(sa.insert(Binding.__table__), [
                dict(binding._asdict(), port_id=values["id"], segment_id=None, driver=None)
                for values, binding in rows])
            ip_allocator.insert_planned_ports(session, [(plan.network_id, values["id"], plan.fixed_ips)
                                                        for (values, _binding), plan in zip(rows, plans)])
        except sa.exc.IntegrityError as error:
            if db_api.is_foreign_key_violation(error):
                # The network or a subnet went away since it was read: the retry says so.
                raise db_api.RetryRequest() from error
            raise
        return [self._write_port_extras(session, context, data, plan, values, binding, via_api)
                for data, plan, (values, binding) in zip(items, plans, rows)]

    @staticmethod
    def _port_rows(data, plan):
        """The values of a planned port's row and its binding row."""
        # What the ORM would store: a None value gets the column's default.
        values = common.new_standard_values(data)
        values.update({
            "network_id": plan.network_id, "mac_address": plan.mac,
            "admin_state_up": common.or_default(data.get("admin_state_up"), True), "status": STATUS_DOWN,
            "device_id": common.or_default(data.get("device_id"), ""),
            "device_owner": common.or_default(data.get("device_owner"), ""),
        })
        binding = reads.BindingRow(data.get("binding:host_id") or "", data.get("binding:vnic_type") or "normal",
                                   _profile_json(data.get("binding:profile"), data), VIF_TYPE_UNBOUND, "{}")
        return values, binding

    def _write_port_extras(self, session, context, data, plan, values, binding, via_api):
        """A written port's tags and DHCP options, its extension and mechanism drivers'
        precommit work and its PRECOMMIT_CREATE event; returns its PortContext."""
        from netweave.core.plugins.ml2 import driver_context
        port_tags = tagging.write_on_create(session, "port", values["id"], data.get("tags"))
        result = reads.make_dict(types.SimpleNamespace(**values), port_tags, [dict(ip) for ip in plan.fixed_ips],
                                 binding)
        result["extra_dhcp_opts"] = extra_dhcp_opts.create(session, values["id"], data.get("extra_dhcp_opts"))
        self.extensions.process_create_port(context, session, data, result)
        net_ctx = driver_context.NetworkContext(context, session, plan.network, segments=plan.segments,
                                                dhcp_enabled_subnet_ids=plan.dhcp_enabled_subnet_ids)
        mech_context = driver_context.PortContext(context, session, result, net_ctx)
        self.mechanisms.create_port_precommit(mech_context)
        self._publish_precommit_create(context, session, data, result, via_api)
        return mech_context

    def _network_context(self, context, session, network):
        from netweave.core.plugins.ml2 import driver_context
        network_dict = self.networks.make_dict(context, network)
        return driver_context.NetworkContext(context, session, network_dict,
                                             segments=[networks.segment_dict(s) for s in network.segments],
                                             dhcp_enabled_subnet_ids=_dhcp_enabled(network.subnets))

    # --- binding -------------------------------------------------------------

    def _bind_if_needed(self, context, port):
        if not port.get("binding:host_id"):
            return port
        return self._bind(context, port["id"])

    @db_api.retry_db_errors
    def _bind(self, context, port_id):
        """Ask the mechanism drivers to bind the port on its host; store what they chose."""
        from netweave.core.plugins.ml2 import driver_context
        with db_api.session_scope() as session:
            row = session.get(Port, port_id)
            if row is None:
                raise exc.PortNotFound(port_id=port_id)
            network = session.get(net_models.Network, row.network_id)
            port = self._dict(session, row)
            net_ctx = self._network_context(context, session, network)
            bind_context = driver_context.PortContext(context, session, port, net_ctx,
                                                      agents_lookup=self._agents_lookup(session))
            driver = self.mechanisms.bind_port(bind_context)
            binding = row.binding
            if driver is None:
                LOG.warning("No mechanism driver could bind port %s on host %s", port_id, binding.host)
                binding.vif_type, binding.vif_details, binding.driver, binding.segment_id = (
                    VIF_TYPE_BINDING_FAILED, "{}", None, None)
            else:
                binding.vif_type = bind_context.vif_type
                binding.vif_details = json.dumps(bind_context.vif_details)
                binding.driver = driver
                binding.segment_id = (bind_context.bound_segment or {}).get("id")
                if bind_context.status:
                    row.status = bind_context.status
            self._block_until_wired(session, row, wait=driver is not None and not bind_context.status)
            common.bump_revision(row)
            session.flush()
            session.refresh(row)
            return self._dict(session, row, common.load_tags(session, [row.id])[row.id])

    def _agents_lookup(self, session):
        """PortContext.host_agents' source, reading in the binding's own transaction."""
        if self.agents is None:
            return None
        return functools.partial(self.agents.agents_on_host, session=session)

    def _block_until_wired(self, session, row, wait):
        """After a binding attempt: block the port until its wiring is confirmed.

        ``wait`` is false when no driver bound the port, or the driver gave the
        final status itself; then no one is waited for.
        """
        if self.provisioning is None:
            return
        if not wait:
            self.provisioning.clear(session, row.id)
            if row.binding.vif_type == VIF_TYPE_BINDING_FAILED:
                row.status = STATUS_DOWN
            return
        # A port already ACTIVE (bound again elsewhere, say) stays so until its agent
        # reports again, as in Neutron.
        if row.status != STATUS_ACTIVE:
            self.provisioning.add(session, row.id,
                                  self.provisioning.entities_for_binding(session, row, row.binding))

    def port_context(self, context, session, row, original=None):
        """A PortContext of ``row`` as ``session`` sees it now, for services beside this one."""
        from netweave.core.plugins.ml2 import driver_context
        network = session.get(net_models.Network, row.network_id, options=_NETWORK_FOR_PORTS)
        net_ctx = self._network_context(context, session, network)
        return driver_context.PortContext(context, session, self._dict(session, row), net_ctx,
                                          original=original)

    def bind(self, context, port_id):
        """Try binding the port on its host again (after it failed for want of an agent)."""
        return self._bind(context, port_id)

    def bind_to_host(self, context, port_ids, host):
        """Give the ports of ``port_ids`` the binding host ``host`` and bind each there, all
        in one write transaction: what ``update(context, port_id, {"binding:host_id": host})``
        does for each (the update's driver hooks and events, then the binding), without a
        transaction and a read-back per port (the routers' ports an L3 agent hosts).

        The drivers decide each port; one no driver binds is binding_failed, as alone.
        Ports gone meanwhile and ports already on ``host`` are left out. Returns the
        ports' dicts as bound. An error fails the whole batch: the caller may then
        bind the ports one by one.
        """
        data = {"binding:host_id": host}
        bound = self._bind_to_host_committed(context, list(dict.fromkeys(port_ids)), host)
        for original, mech_context in bound:
            self.mechanisms.update_port_postcommit(mech_context)
            self.events.publish(events.PORT, events.Event.AFTER_UPDATE, events.Payload(
                context, original["id"], original=original, current=mech_context.current, request=data))
        if self.notifier is not None and self.notifier.connected:
            for _original, mech_context in bound:
                self._notify_update(context, mech_context.current)
        return [mech_context.current for _original, mech_context in bound]

    @db_api.retry_db_errors
    def _bind_to_host_committed(self, context, port_ids, host):
        """[(original, PortContext of the bound port)] of bind_to_host's write transaction.

        The ports and their networks are read before it (outside the write lock on
        SQLite); the transaction writes each port only if still at the revision read,
        else the whole batch is read again (the retry).
        """
        from netweave.core.plugins.ml2 import driver_context
        if not port_ids:
            return []
        with db_api.reader_connection() as connection:
            read = {p["id"]: p for p in self._read(connection, _PORTS_BY_ID.bind(port_ids=port_ids))}
        originals = [read[port_id] for port_id in port_ids
                     if port_id in read and read[port_id]["binding:host_id"] != host]
        if not originals:
            return []
        data = {"binding:host_id": host}
        if self.events.has_subscribers(events.PORT, events.Event.BEFORE_UPDATE):
            for original in originals:
                self.events.publish(events.PORT, events.Event.BEFORE_UPDATE, events.Payload(
                    context, original["id"], original=original, request=data))
        with db_api.reader_scope() as reading:
            network_values = {network_id: self._network_values(reading, context, network_id)
                              for network_id in dict.fromkeys(p["network_id"] for p in originals)}
        bound = []
        port_writes, binding_writes = [], []
        waiting, settled = {}, []
        now = model_base.utcnow()
        with db_api.session_scope() as session:
            agents_lookup = self._batch_agents_lookup(session)
            for original in originals:
                network, segments, dhcp_enabled = network_values[original["network_id"]]
                net_ctx = driver_context.NetworkContext(context, session, network, segments=segments,
                                                        dhcp_enabled_subnet_ids=dhcp_enabled)
                result = dict(original)
                reads.set_binding(result, reads.BindingRow(host, original["binding:vnic_type"],
                                                           json.dumps(original["binding:profile"]), VIF_TYPE_UNBOUND,
                                                           "{}"))
                bind_context = driver_context.PortContext(context, session, dict(result), net_ctx,
                                                          agents_lookup=agents_lookup)
                driver = self.mechanisms.bind_port(bind_context)
                binding = dict(_UNBOUND, host=host, port_id=original["id"])
                status = original["status"]
                if driver is None:
                    LOG.warning("No mechanism driver could bind port %s on host %s", original["id"], host)
                    binding["vif_type"] = VIF_TYPE_BINDING_FAILED
                else:
                    binding.update(vif_type=bind_context.vif_type, vif_details=json.dumps(bind_context.vif_details),
                                   driver=driver, segment_id=(bind_context.bound_segment or {}).get("id"))
                    status = bind_context.status or status
                # As _block_until_wired: a port whose wiring is confirmed later is blocked until then.
                if self.provisioning is not None:
                    if driver is not None and not bind_context.status:
                        if status != STATUS_ACTIVE:
                            waiting[original["id"]] = result
                    else:
                        settled.append(original["id"])
                        if driver is None:
                            status = STATUS_DOWN
                result.update(status=status, updated_at=common.format_time(now),
                              revision_number=original["revision_number"] + 1)
                reads.set_binding(result, reads.BindingRow(host, original["binding:vnic_type"],
                                                           json.dumps(original["binding:profile"]),
                                                           binding["vif_type"], binding["vif_details"]))
                port_writes.append({"b_port_id": original["id"], "b_revision": original["revision_number"],
                                    "b_new_revision": original["revision_number"] + 1, "b_status": status,
                                    "b_now": now})
                binding_writes.append({"b_" + key: value for key, value in binding.items()})
                self.extensions.process_update_port(context, session, data, result)
                bound.append((original, driver_context.PortContext(context, session, result, net_ctx,
                                                                   original=original)))
            if session.get_bind().dialect.supports_sane_multi_rowcount:
                written = session.execute(_BIND_PORT_WRITE, port_writes).rowcount
            else:
                written = sum(session.execute(_BIND_PORT_WRITE, write).rowcount for write in port_writes)
            if written != len(port_writes):
                # A port changed or went away since it was read: the retry reads them again.
                raise db_api.RetryRequest()
            session.execute(_BIND_BINDING_WRITE, binding_writes)
            if self.provisioning is not None:
                self.provisioning.clear_many(session, settled)
                self.provisioning.add_many(session, {
                    port_id: self.provisioning.entities_for_binding(session, types.SimpleNamespace(**port),
                                                                    reads.binding_of(port))
                    for port_id, port in waiting.items()})
            for original, mech_context in bound:
                self.mechanisms.update_port_precommit(mech_context)
                self.events.publish(events.PORT, events.Event.PRECOMMIT_UPDATE, events.Payload(
                    context, original["id"], original=original, current=mech_context.current, request=data,
                    session=session))
        return bound

    def _network_values(self, reading, context, network_id):
        """(network dict, segments, DHCP-enabled subnet ids) of a port's network for the
        driver contexts, read on ``reading`` (a session)."""
        network = network_snapshot.read(reading, context, network_id, check_access=False)
        return (self.networks.make_dict(context, network), [networks.segment_dict(s) for s in network.segments],
                _dhcp_enabled(network.subnets))

    def _batch_agents_lookup(self, session):
        """_agents_lookup for many ports of one transaction: each (agent type, host) read once."""
        if self.agents is None:
            return None
        found = {}

        def lookup(agent_type, host):
            if (agent_type, host) not in found:
                found[agent_type, host] = self.agents.agents_on_host(agent_type, host, session=session)
            return found[agent_type, host]
        return lookup

    # --- agent notifications ---------------------------------------------------

    def _notify_update(self, context, port):
        # The bound segment is read by the outbox's thread, after the response.
        outbox.OUTBOX.submit(functools.partial(self._send_port_update, context, port), "port_update")

    def _send_port_update(self, context, port):
        segment = self._bound_segment(port["id"])
        if segment is None:
            # Agents wire bound ports only; Neutron does not tell them about the others.
            return
        self.notifier.port_update(context, port, segment.network_type, segment.segmentation_id,
                                  segment.physical_network)

    @staticmethod
    def _bound_segment(port_id):
        segments = net_models.NetworkSegment
        with db_api.reader_scope() as session:
            return session.execute(
                sa.select(segments.network_type, segments.segmentation_id, segments.physical_network)
                .join(Binding, Binding.segment_id == segments.id).where(Binding.port_id == port_id)).first()

    # --- update and delete --------------------------------------------------

    def update(self, context, port_id, data, *, via_api=False):
        result, rebind = self._update_committed(context, port_id, data, via_api)
        if rebind:
            result = self._bind(context, port_id)
        wiring = WIRING_ATTRIBUTES | self.extensions.wiring_attributes()
        if self.notifier is not None and self.notifier.connected and (rebind or wiring.intersection(data)):
            self._notify_update(context, result)
        return result

    def _read_for_change(self, context, port_id):
        """The port as the caller sees it, read before the write transaction, which then
        holds the port to this revision (one lean read, outside the write lock on SQLite)."""
        with db_api.reader_connection() as connection:
            return self.read_one(connection, context, port_id)

    def _deferred_network_context(self, context, session, network_id):
        """The port's network for the driver contexts, read only if a driver looks at it."""
        from netweave.core.plugins.ml2 import driver_context

        def load(reading):
            network = network_snapshot.read(reading, context, network_id, check_access=False)
            return (self.networks.make_dict(context, network), [networks.segment_dict(s) for s in network.segments],
                    _dhcp_enabled(network.subnets))
        return driver_context.DeferredNetworkContext(context, session, load)

    @db_api.retry_db_errors
    def _update_committed(self, context, port_id, data, via_api=False):
        """Read the port (one lean read, outside the write lock on SQLite), then write
        the change in a transaction that first checks the port is still at the
        revision read; the result is the original with the change applied."""
        try:
            return self._update_once(context, port_id, data, via_api)
        except sa.exc.IntegrityError as error:
            if db_api.is_foreign_key_violation(error):
                # The port (or a subnet) went away while its addresses were written:
                # the retry reads it again and says so (PortNotFound).
                raise db_api.RetryRequest() from error
            raise

    def _update_once(self, context, port_id, data, via_api):
        from netweave.core.plugins.ml2 import driver_context
        original = self._read_for_change(context, port_id)
        if self.events.has_subscribers(events.PORT, events.Event.BEFORE_UPDATE):
            self.events.publish(events.PORT, events.Event.BEFORE_UPDATE, events.Payload(
                context, port_id, original=original, request=data, via_api=via_api))
        values = {key: data[key] for key in _PORT_UPDATABLE if key in data}
        binding = reads.binding_of(original)
        binding_values = {}
        rebind = False
        if "binding:host_id" in data and (data["binding:host_id"] or "") != binding.host:
            binding_values = {"host": data["binding:host_id"] or "", **_UNBOUND}
            rebind = bool(binding_values["host"])
            if not rebind:
                # An unbound port is wired nowhere.
                values["status"] = STATUS_DOWN
        for key, column in (("binding:vnic_type", "vnic_type"), ("binding:profile", "profile")):
            if key in data or (column == "profile" and TRUSTED in data):
                if column == "profile":
                    value = _profile_json(data.get(key, reads.json_dict(binding.profile)), data)
                else:
                    value = data[key]
                if getattr(binding, column) != value:
                    binding_values[column] = value
                    rebind = bool(binding_values.get("host", binding.host))
        binding = binding._replace(**{k: v for k, v in binding_values.items() if k in reads.BindingRow._fields})
        with db_api.session_scope() as session:
            common.check_revision_precondition(session, port_id, original["revision_number"])
            if "mac_address" in data and data["mac_address"] != original["mac_address"]:
                self._check_mac_change(session, original, data["mac_address"])
            # The compare-and-swap: the port is written only if still at the revision read.
            now = model_base.utcnow()
            written = session.execute(_port_update(tuple(sorted(values))), dict(
                {"v_" + key: value for key, value in values.items()}, port_id=port_id,
                revision=original["revision_number"], new_revision=original["revision_number"] + 1, now=now))
            if written.rowcount != 1:
                # Changed or deleted since it was read: the retry reads it again.
                raise db_api.RetryRequest()
            fixed_ips = original["fixed_ips"]
            if data.get("fixed_ips") is not None:
                subnets = session.scalars(sa.select(subnet_models.Subnet).where(
                    subnet_models.Subnet.network_id == original["network_id"])).all()
                port = ip_allocator.PortAddresses(port_id, original["network_id"],
                                                  values.get("device_owner", original["device_owner"]), fixed_ips)
                fixed_ips = ip_allocator.update_port_ips(session, port, data["fixed_ips"], subnets).fixed_ips
            options = None
            if data.get("extra_dhcp_opts") is not None:
                options = extra_dhcp_opts.update(session, port_id, data["extra_dhcp_opts"])
            if binding_values:
                session.execute(sa.update(_BINDINGS).where(_BINDINGS.c.port_id == port_id).values(**binding_values))
            if values.get("status") == STATUS_DOWN and self.provisioning is not None:
                self.provisioning.clear(session, port_id)
            result = dict(original)
            result.update(values)
            reads.set_binding(result, binding)
            result.update(fixed_ips=[dict(ip) for ip in fixed_ips], updated_at=common.format_time(now),
                          revision_number=original["revision_number"] + 1)
            if options is not None:
                result["extra_dhcp_opts"] = options
            self.extensions.process_update_port(context, session, data, result)
            net_ctx = self._deferred_network_context(context, session, original["network_id"])
            mech_context = driver_context.PortContext(context, session, result, net_ctx, original=original)
            self.mechanisms.update_port_precommit(mech_context)
            self.events.publish(events.PORT, events.Event.PRECOMMIT_UPDATE, events.Payload(
                context, port_id, original=original, current=result, request=data, session=session,
                via_api=via_api))
        self.mechanisms.update_port_postcommit(mech_context)
        # As Neutron: after commit, before a new binding is tried.
        self.events.publish(events.PORT, events.Event.AFTER_UPDATE, events.Payload(
            context, port_id, original=original, current=result, request=data, via_api=via_api))
        return result, rebind

    @staticmethod
    def _check_mac_change(session, original, mac):
        vif_type = original["binding:vif_type"]
        if vif_type not in (VIF_TYPE_UNBOUND, VIF_TYPE_BINDING_FAILED):
            raise exc.PortBound(port_id=original["id"], vif_type=vif_type, old_mac=original["mac_address"],
                                new_mac=mac)
        _check_mac_free(session, original["network_id"], mac)

    def delete(self, context, port_id, *, via_api=False):
        metadata = {}  # from the PRECOMMIT_DELETE subscribers to the AFTER_DELETE ones
        mech_context = self._delete_committed(context, port_id, via_api, metadata)
        self.mechanisms.delete_port_postcommit(mech_context)
        if self.notifier is not None:
            self.notifier.port_delete(context, port_id)
        self.events.publish(events.PORT, events.Event.AFTER_DELETE, events.Payload(
            context, port_id, original=mech_context.current, via_api=via_api, metadata=metadata))

    @db_api.retry_db_errors
    def _delete_committed(self, context, port_id, via_api, metadata):
        """Read the port (one lean read, outside the write lock on SQLite), then delete it
        with one statement that matches only the revision read; the database
        removes its binding, addresses and side rows (ON DELETE CASCADE)."""
        from netweave.core.plugins.ml2 import driver_context
        original = self._read_for_change(context, port_id)
        if self.events.has_subscribers(events.PORT, events.Event.BEFORE_DELETE):
            # The port as the caller sees it: subscribers veto by its owner (a router's
            # interface is deleted through the router, not the port API).
            self.events.publish(events.PORT, events.Event.BEFORE_DELETE, events.Payload(
                context, port_id, original=original, via_api=via_api))
        with db_api.session_scope() as session:
            common.check_revision_precondition(session, port_id, original["revision_number"])
            net_ctx = self._deferred_network_context(context, session, original["network_id"])
            mech_context = driver_context.PortContext(context, session, original, net_ctx)
            self.mechanisms.delete_port_precommit(mech_context)
            self.events.publish(events.PORT, events.Event.PRECOMMIT_DELETE, events.Payload(
                context, port_id, original=original, session=session, via_api=via_api, metadata=metadata))
            if original["tags"]:
                # Tags name their resource without a foreign key: nothing cascades to them.
                common.delete_tags(session, port_id)
            deleted = session.execute(_DELETE_PORT, {"port_id": port_id, "revision": original["revision_number"]})
            if deleted.rowcount != 1:
                # Changed or deleted since it was read: the retry reads it again.
                raise db_api.RetryRequest()
        return mech_context


# What a port update writes of the port's own columns as the request gives them.
_PORT_UPDATABLE = ("name", "description", "admin_state_up", "device_id", "device_owner", "mac_address")


@functools.lru_cache(maxsize=64)
def _port_update(columns):
    """The compare-and-swap UPDATE of a port writing ``columns`` (bound as v_<column>), its
    revision and timestamp; built once per set of columns (building it per request cost
    more than running it)."""
    return sa.update(_PORTS).where(
        _PORTS.c.id == sa.bindparam("port_id"), _PORTS.c.revision_number == sa.bindparam("revision")).values(
        revision_number=sa.bindparam("new_revision"), updated_at=sa.bindparam("now"),
        **{column: sa.bindparam("v_" + column) for column in columns})


# A binding given a new host is unbound until the drivers bind it there.
_UNBOUND = {"vif_type": VIF_TYPE_UNBOUND, "vif_details": "{}", "driver": None, "segment_id": None}

_DELETE_PORT = sa.delete(_PORTS).where(_PORTS.c.id == sa.bindparam("port_id"),
                                       _PORTS.c.revision_number == sa.bindparam("revision"))


# The ports of a batch binding (bind_to_host), read as one page.
_PORTS_BY_ID = page_mod.Page(reads.PORT_ROWS.where(_PORTS.c.id.in_(sa.bindparam("port_ids", expanding=True))),
                             _PORTS.c.id)
# Its writes, one statement each for the whole batch (executemany): the port held to the
# revision read, with its status, and its binding.
_BIND_PORT_WRITE = sa.update(_PORTS).where(
    _PORTS.c.id == sa.bindparam("b_port_id"), _PORTS.c.revision_number == sa.bindparam("b_revision")).values(
    revision_number=sa.bindparam("b_new_revision"), updated_at=sa.bindparam("b_now"), status=sa.bindparam("b_status"))
_BIND_BINDING_WRITE = sa.update(_BINDINGS).where(_BINDINGS.c.port_id == sa.bindparam("b_port_id")).values(
    host=sa.bindparam("b_host"), vif_type=sa.bindparam("b_vif_type"), vif_details=sa.bindparam("b_vif_details"),
    driver=sa.bindparam("b_driver"), segment_id=sa.bindparam("b_segment_id"))

# How port writes load a port's network (above), for the device service's batches: their
# port contexts then find the networks in the session as loaded here.
NETWORK_FOR_PORTS = _NETWORK_FOR_PORTS
