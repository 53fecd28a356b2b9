"""Floating IPs: an address on an external network, its hidden port, and the fixed
address (and so the router) it is associated with.

The address is the floating port's, allocated by the core's IPAM: two requests
for one address meet its constraint and one of them gets the 409. The
association is checked here and held by the table's unique constraint on
(external network, fixed port, fixed address).
"""
import logging

import netaddr
import sqlalchemy as sa

from netweave.core import events
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.services import common, query
from netweave.service_plugins.router import constants as const
from netweave.service_plugins.router import db_reads, models, rules
from netweave.service_plugins.router import exceptions as rexc

LOG = logging.getLogger(__name__)

FloatingIP = models.FloatingIP
_FIPS = FloatingIP.__table__
_DISASSOCIATE_PORT = sa.update(_FIPS).where(_FIPS.c.fixed_port_id == sa.bindparam("port_id")).values(
    fixed_port_id=None, fixed_ip_address=None, router_id=None, revision_number=_FIPS.c.revision_number + 1,
    updated_at=sa.bindparam("now"))
Port = db_reads.Port

COLUMNS = {
    "id": FloatingIP.id, "tenant_id": FloatingIP.project_id, "project_id": FloatingIP.project_id,
    "description": FloatingIP.description, "floating_ip_address": FloatingIP.floating_ip_address,
    "floating_network_id": FloatingIP.floating_network_id, "router_id": FloatingIP.router_id,
    "port_id": FloatingIP.fixed_port_id, "fixed_ip_address": FloatingIP.fixed_ip_address,
    "status": FloatingIP.status, "created_at": FloatingIP.created_at, "updated_at": FloatingIP.updated_at,
    "revision_number": FloatingIP.revision_number,
}

_SUBNETS_T = db_reads.Subnet.__table__
_PORTS_T = Port.__table__
_ROUTER_PORTS_T = models.RouterPort.__table__
_ALLOCATIONS_T = db_reads.IPAllocation.__table__
_ROUTERS_T = models.Router.__table__
_GATEWAY_PORTS_T = _PORTS_T.alias("gateway_ports")
# _router_for's statement, built once: the router interfaces holding an address on the
# subnet, of routers whose gateway is on the external network, with the subnet's gateway
# address. Indexed lookups only, from the subnet's side: starting from the external network
# would scan its every port, floating IPs' included.
_ROUTERS_FOR_SUBNET = (
    sa.select(_ROUTER_PORTS_T.c.router_id, _ALLOCATIONS_T.c.ip_address, _SUBNETS_T.c.gateway_ip)
    .select_from(_SUBNETS_T)
    .join(_PORTS_T, sa.and_(_PORTS_T.c.network_id == _SUBNETS_T.c.network_id,
                            _PORTS_T.c.device_owner.in_(const.ROUTER_INTERFACE_OWNERS)))
    .join(_ROUTER_PORTS_T, sa.and_(_ROUTER_PORTS_T.c.port_id == _PORTS_T.c.id,
                                   _ROUTER_PORTS_T.c.port_type.in_(const.ROUTER_INTERFACE_OWNERS)))
    .join(_ALLOCATIONS_T, sa.and_(_ALLOCATIONS_T.c.port_id == _PORTS_T.c.id,
                                  _ALLOCATIONS_T.c.subnet_id == _SUBNETS_T.c.id))
    .join(_ROUTERS_T, _ROUTERS_T.c.id == _ROUTER_PORTS_T.c.router_id)
    .join(_GATEWAY_PORTS_T, _GATEWAY_PORTS_T.c.id == _ROUTERS_T.c.gw_port_id)
    .where(_SUBNETS_T.c.id == sa.bindparam("subnet_id"),
           _GATEWAY_PORTS_T.c.network_id == sa.bindparam("network_id")))

_FLOATINGIPS_T = FloatingIP.__table__
# The floating IP already associated with a fixed address, built once.
_ASSOCIATED_WITH = sa.select(_FLOATINGIPS_T.c.id, _FLOATINGIPS_T.c.floating_ip_address).where(
    _FLOATINGIPS_T.c.floating_network_id == sa.bindparam("network_id"),
    _FLOATINGIPS_T.c.fixed_port_id == sa.bindparam("port_id"),
    _FLOATINGIPS_T.c.fixed_ip_address == sa.bindparam("address"))

PORT_DETAILS = ("name", "network_id", "mac_address", "admin_state_up", "status", "device_id", "device_owner")


def make_dict(row, tags, port_row=None):
    """The API dict; ``port_row`` is the associated port (for port_details), if any."""
    result = common.standard_dict(row, tags)
    del result["name"]
    result.update({
        "floating_ip_address": row.floating_ip_address,
        "floating_network_id": row.floating_network_id,
        "router_id": row.router_id,
        "port_id": row.fixed_port_id,
        "fixed_ip_address": row.fixed_ip_address,
        "status": row.status,
        "port_details": {key: getattr(port_row, key) for key in PORT_DETAILS} if port_row is not None else None,
    })
    return result


def _shown(row, tags, port_details):
    """make_dict from a row just written and the port_details dict (or None) known for it."""
    result = make_dict(row, tags)
    result["port_details"] = dict(port_details) if port_details is not None else None
    return result


class Association:
    """What a floating IP points at: a fixed port and address, through a router (all None: nothing).
    ``port_details``: the fixed port's port_details as read for the check (None without a port)."""

    def __init__(self, port_id=None, fixed_ip_address=None, router_id=None, port_details=None):
        self.port_id = port_id
        self.fixed_ip_address = fixed_ip_address
        self.router_id = router_id
        self.port_details = port_details


NONE = Association()

# Writes retried when the router or port of an association went away meanwhile.
WRITE_ATTEMPTS = 3


class _AssociationGone(Exception):
    """The router or fixed port an association names was deleted before it was written."""


class _AssociationTaken(Exception):
    """Another floating IP took the fixed address after the check (the cause: the
    database's refusal)."""


class FloatingIPService:
    def __init__(self, conf, quotas, networks, ports, events_registry):
        self.conf = conf
        self.quotas = quotas
        self.networks = networks  # the core's NetworkService
        self.ports = ports        # the core's PortService
        self.events = events_registry

    # --- reads -----------------------------------------------------------

    @staticmethod
    def _visible(context, stmt):
        if context.is_admin:
            return stmt
        return stmt.where(FloatingIP.project_id == context.project_id)

    def get_row(self, session, context, fip_id):
        row = session.scalar(self._visible(context, sa.select(FloatingIP).where(FloatingIP.id == fip_id)))
        if row is None:
            raise rexc.FloatingIPNotFound(floatingip_id=fip_id)
        return row

    def _dicts(self, session, rows):
        tags = common.load_tags(session, [r.id for r in rows])
        port_ids = [r.fixed_port_id for r in rows if r.fixed_port_id]
        ports = {}
        if port_ids:
            ports = {p.id: p for p in session.execute(sa.select(Port.id, *[getattr(Port, k) for k in PORT_DETAILS])
                                                      .where(Port.id.in_(port_ids)))}
        return [make_dict(r, tags[r.id], ports.get(r.fixed_port_id)) for r in rows]

    def get(self, context, fip_id, fields=None):
        with db_api.reader_scope() as session:
            return query.select_fields(self._dicts(session, [self.get_row(session, context, fip_id)])[0], fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None):
        with db_api.reader_scope() as session:
            stmt = self._visible(context, sa.select(FloatingIP))
            rows, leftover = query.fetch_page(session, stmt, FloatingIP, COLUMNS, dict(filters or {}), sorts, limit,
                                              marker, page_reverse, tag_filters)
            items = self._dicts(session, rows)
        return query.finish_page(items, leftover, page_reverse, fields)

    # --- association -------------------------------------------------------

    def _associate(self, context, project_id, network_id, port_id, fixed_ip_address, fip_id=None):
        """The Association for port_id / fixed_ip_address, or the Neutron error why there is none."""
        with db_api.reader_scope() as session:
            fixed = self._fixed_port(session, context, project_id, port_id, fixed_ip_address)
            return self._association(session, network_id, fixed, fip_id)

    def _fixed_port(self, session, context, project_id, port_id, fixed_ip_address):
        """(port, subnet id, address) a floating IP would point at; None without a port_id."""
        if not port_id:
            if fixed_ip_address:
                raise rexc.bad_floatingip_request("fixed_ip_address cannot be specified without a port_id")
            return None
        port = db_reads.fixed_port(session, port_id)
        if port is None:
            raise exc.PortNotFound(port_id=port_id)
        if not context.is_admin and port["project_id"] != context.project_id:
            # Another project's port: whether the caller sees it (else 404) is the port service's to say.
            self.ports.read_one(session, context, port_id)
        if port["tenant_id"] != project_id and not context.is_admin:
            raise rexc.bad_floatingip_request(
                "Cannot process floating IP association with Port %s, since that port is owned by a "
                "different tenant" % port_id)
        subnet_id, address = rules.choose_fixed_ip(port, fixed_ip_address)
        return port, subnet_id, address

    def _association(self, session, network_id, fixed, fip_id=None):
        """The Association of a _fixed_port result (or NONE for None), read in ``session``."""
        if fixed is None:
            return NONE
        port, subnet_id, address = fixed
        router_id = self._checked_router(session, network_id, port["id"], subnet_id, address, fip_id)
        return Association(port["id"], address, router_id, {key: port[key] for key in PORT_DETAILS})

    def _checked_router(self, session, network_id, port_id, subnet_id, address, fip_id):
        router_id = self._router_for(session, network_id, subnet_id)
        if router_id is None:
            raise rexc.ExternalGatewayForFloatingIPNotFound(external_network_id=network_id,
                                                            subnet_id=subnet_id, port_id=port_id)
        self._check_free(session, network_id, port_id, address, fip_id)
        return router_id

    @staticmethod
    def _router_for(session, network_id, subnet_id):
        """The router joining the subnet to the external network (Neutron's choice among several)."""
        rows = session.execute(_ROUTERS_FOR_SUBNET, {"subnet_id": subnet_id, "network_id": network_id}).all()
        if not rows:
            return None
        return rules.choose_router([(r.router_id, r.ip_address) for r in rows], rows[0].gateway_ip)

    @staticmethod
    def _check_free(session, network_id, port_id, address, fip_id):
        other = session.execute(_ASSOCIATED_WITH, {"network_id": network_id, "port_id": port_id,
                                                   "address": address}).first()
        if other is not None and other.id != fip_id:
            raise rexc.FloatingIPPortAlreadyAssociated(
                floating_ip_address=other.floating_ip_address, fip_id=other.id, port_id=port_id,
                fixed_ip=address, net_id=network_id)

    def _duplicate_association(self, fip_id, network_id, association):
        """The error for an association that lost to a floating IP written after the check."""
        with db_api.reader_scope() as session:
            self._check_free(session, network_id, association.port_id, association.fixed_ip_address, fip_id)
        # The winner is gone again already.
        return rexc.FloatingIPAssociationChanged(fip_id=fip_id)

    # --- writes ------------------------------------------------------------

    def create(self, context, data):
        network_id = data["floating_network_id"]
        if data.get("fixed_ip_address") and not data.get("port_id"):
            raise rexc.bad_floatingip_request("fixed_ip_address cannot be specified without a port_id")
        admin = context.elevated()
        if not context.is_admin:
            # As the caller sees it: a network made external to other projects only is not found.
            self.networks.get(context, network_id)
        # One read for the checks: the network, the fixed port, the association, the quota.
        with db_api.reader_scope() as session:
            fixed = self._fixed_port(session, context, data["project_id"], data.get("port_id"),
                                     data.get("fixed_ip_address"))
            subnets = db_reads.external_network_subnets(session, network_id)
            if subnets is None:
                raise rexc.bad_floatingip_request("Network %s is not a valid external network" % network_id)
            if not any(s["ip_version"] == 4 for s in subnets):
                raise rexc.bad_floatingip_request("Network %s does not contain any IPv4 subnet" % network_id)
            association = self._association(session, network_id, fixed)
            # Before the port is made: an over-quota request leaves nothing to undo.
            self.quotas.check(session, data["project_id"], const.FLOATINGIP)
        self.events.publish(const.FLOATINGIP, events.Event.BEFORE_CREATE,
                            events.Payload(context, current=data, request=data, via_api=True))
        fip_id = model_base.new_uuid()
        port_data = {
            "project_id": "", "tenant_id": "", "name": "", "description": "", "network_id": network_id,
            "admin_state_up": True, "mac_address": None, "fixed_ips": self._address_request(data),
            "device_id": fip_id, "device_owner": const.DEVICE_OWNER_FLOATINGIP}
        for attempt in range(WRITE_ATTEMPTS):
            try:
                result = self._create_with_port(admin, context, fip_id, data, port_data, association)
                break
            except _AssociationTaken as taken:
                raise self._duplicate_association(fip_id, network_id, association) from taken.__cause__
            except _AssociationGone:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise rexc.FloatingIPAssociationChanged(fip_id=fip_id)
                # Asked again: the 404 of the vanished port or router, or the new answer.
                association = self._associate(context, data["project_id"], network_id, data.get("port_id"),
                                              data.get("fixed_ip_address"))
        self.events.publish(const.FLOATINGIP, events.Event.AFTER_CREATE,
                            events.Payload(context, fip_id, current=result, request=data, via_api=True))
        return result

    @staticmethod
    def _address_request(data):
        """fixed_ips of the floating port: the address and/or subnet asked for, else any IPv4 one."""
        fixed = {}
        if data.get("subnet_id"):
            fixed["subnet_id"] = data["subnet_id"]
        if data.get("floating_ip_address"):
            fixed["ip_address"] = data["floating_ip_address"]
        return [fixed] if fixed else None

    def _create_with_port(self, admin, context, fip_id, data, port_data, association):
        """Create the floating port and, in its transaction, the floating IP (both or
        neither); the floating IP's dict."""
        written = []
        self.ports.create(admin, port_data, in_transaction=lambda session, port: written.append(
            self._insert(session, context, fip_id, data, port, association)))
        return written[-1]

    def _insert(self, session, context, fip_id, data, port, association):
        """Write the floating IP of the floating port ``port``, in the port's transaction;
        its dict as written."""
        address = next((ip["ip_address"] for ip in port["fixed_ips"]
                        if netaddr.IPAddress(ip["ip_address"]).version == 4), None)
        if address is None:
            raise exc.IpAddressGenerationFailure(net_id=data["floating_network_id"])
        self.quotas.check(session, data["project_id"], const.FLOATINGIP)
        row = FloatingIP(id=fip_id, project_id=data["project_id"], description=data.get("description") or "",
                         floating_ip_address=address, floating_network_id=data["floating_network_id"],
                         floating_port_id=port["id"], fixed_port_id=association.port_id,
                         fixed_ip_address=association.fixed_ip_address, router_id=association.router_id,
                         status=const.FLOATINGIP_STATUS_DOWN)
        session.add(row)
        try:
            session.flush()
        except sa.exc.IntegrityError as error:
            # Raised as themselves, the port's create would take these for lost races of
            # its own and try again; the association is the caller's to settle.
            if db_api.is_duplicate(error) and association.port_id:
                raise _AssociationTaken() from error
            if db_api.is_foreign_key_violation(error) and association.port_id:
                raise _AssociationGone() from error
            raise
        self.events.publish(const.FLOATINGIP, events.Event.PRECOMMIT_CREATE,
                            events.Payload(context, fip_id, current=data, request=data, session=session,
                                           via_api=True))
        # As written: a new floating IP has no tags yet, its fixed port was just read.
        return _shown(row, [], association.port_details)

    def update(self, context, fip_id, data):
        original = self.get(context, fip_id)
        if "port_id" in data:
            association = self._associate(context, original["tenant_id"], original["floating_network_id"],
                                          data["port_id"], data.get("fixed_ip_address"), fip_id)
        elif data.get("fixed_ip_address"):
            raise rexc.bad_floatingip_request("fixed_ip_address cannot be specified without a port_id")
        else:
            association = None
        self.events.publish(const.FLOATINGIP, events.Event.BEFORE_UPDATE,
                            events.Payload(context, fip_id, original=original, request=data, via_api=True))
        for attempt in range(WRITE_ATTEMPTS):
            try:
                result = self._update_row(context, fip_id, data, association, original)
                break
            except _AssociationGone:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise rexc.FloatingIPAssociationChanged(fip_id=fip_id)
                association = self._associate(context, original["tenant_id"], original["floating_network_id"],
                                              data["port_id"], data.get("fixed_ip_address"), fip_id)
        self.events.publish(const.FLOATINGIP, events.Event.AFTER_UPDATE,
                            events.Payload(context, fip_id, original=original, current=result, request=data,
                                           via_api=True))
        return result

    @db_api.retry_db_errors
    def _update_row(self, context, fip_id, data, association, original):
        try:
            with db_api.session_scope() as session:
                row = self.get_row(session, context, fip_id)
                if "description" in data:
                    row.description = data["description"]
                if association is not None:
                    row.fixed_port_id = association.port_id
                    row.fixed_ip_address = association.fixed_ip_address
                    row.router_id = association.router_id
                    if association.router_id is None:
                        # No router serves it any more: nothing forwards it.
                        row.status = const.FLOATINGIP_STATUS_DOWN
                common.bump_revision(row)
                session.flush()
                self.events.publish(const.FLOATINGIP, events.Event.PRECOMMIT_UPDATE,
                                    events.Payload(context, fip_id, original=original, request=data, session=session,
                                                   via_api=True))
                # As written, without reading it again: the tags are the original's (an update
                # does not change them), the port details the association's or the original's.
                details = association.port_details if association is not None else original["port_details"]
                if row.fixed_port_id is None:
                    details = None
                return _shown(row, original["tags"], details)
        except sa.exc.IntegrityError as error:
            if db_api.is_duplicate(error) and association is not None and association.port_id:
                raise self._duplicate_association(fip_id, original["floating_network_id"], association) from error
            if db_api.is_foreign_key_violation(error) and association is not None and association.port_id:
                raise _AssociationGone() from error
            raise

    def delete(self, context, fip_id):
        original = self.get(context, fip_id)
        self.events.publish(const.FLOATINGIP, events.Event.BEFORE_DELETE,
                            events.Payload(context, fip_id, original=original, via_api=True))
        with db_api.reader_scope() as session:
            port_id = self.get_row(session, context, fip_id).floating_port_id
        self._drop_tags(fip_id)
        # The floating IP row goes with its port (ON DELETE CASCADE), in the port's transaction.
        self._delete_port(context.elevated(), port_id)
        self.events.publish(const.FLOATINGIP, events.Event.AFTER_DELETE,
                            events.Payload(context, fip_id, original=original, via_api=True))

    @db_api.retry_db_errors
    def _drop_tags(self, fip_id):
        with db_api.session_scope() as session:
            common.delete_tags(session, fip_id)

    def _delete_port(self, admin, port_id):
        try:
            self.ports.delete(admin, port_id)
        except exc.PortNotFound:
            LOG.debug("Floating IP port %s was already gone", port_id)

    # --- followers of port changes ------------------------------------------------

    @staticmethod
    def disassociate_port(session, port_id):
        """Inside a port's delete: its floating IPs point at nothing any more. One UPDATE
        moving their revisions, nothing read (every port delete runs it); returns how
        many floating IPs it changed."""
        return session.execute(_DISASSOCIATE_PORT, {"port_id": port_id, "now": model_base.utcnow()}).rowcount
