"""Routers: rows, their gateway (gateway.py) and extra routes; reads shaped as Neutron shows them."""
import sqlalchemy as sa

from netweave.core import events, policy
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.services import common, query, resource_extenders
from netweave.service_plugins.router import constants as const
from netweave.service_plugins.router import db_reads, gateway, models, rules
from netweave.service_plugins.router import exceptions as rexc

Router = models.Router

COLUMNS = {
    "id": Router.id, "name": Router.name, "tenant_id": Router.project_id, "project_id": Router.project_id,
    "description": Router.description, "admin_state_up": Router.admin_state_up, "status": Router.status,
    "created_at": Router.created_at, "updated_at": Router.updated_at,
    "revision_number": Router.revision_number,
}

_ROUTERS_T = Router.__table__
# A router's owner, built once (a caller that needs nothing else of the router).
_OWNER = sa.select(_ROUTERS_T.c.project_id).where(_ROUTERS_T.c.id == sa.bindparam("router_id"))

GATEWAY = "external_gateway_info"
# What an update changes on the router's own row (the gateway has its own write, gateway.py).
ROW_ATTRIBUTES = frozenset(("name", "description", "admin_state_up", "routes"))


def make_dict(row, gateway_row, tags):
    result = common.standard_dict(row, tags)
    result.update({
        "admin_state_up": row.admin_state_up,
        "status": row.status,
        GATEWAY: gateway.gateway_info(gateway_row, row.enable_snat),
        "routes": [{"destination": r.destination, "nexthop": r.nexthop} for r in row.routes],
        # Legacy routers only, for now: neither distributed nor HA.
        "distributed": False,
        "ha": False,
    })
    return result


class RouterService:
    def __init__(self, conf, quotas, gateways, events_registry, extenders=None):
        self.conf = conf
        self.quotas = quotas
        self.gateways = gateways
        self.events = events_registry
        # Attributes other plugins add to routers read back (e.g. availability zones).
        self.extenders = extenders if extenders is not None else resource_extenders.ResourceExtenders()

    # --- reads -----------------------------------------------------------

    @staticmethod
    def _visible(context, stmt):
        if context.is_admin:
            return stmt
        # Routers are never shared (get_router is admin_or_owner).
        return stmt.where(Router.project_id == context.project_id)

    def get_row(self, session, context, router_id):
        row = session.scalar(self._visible(context, sa.select(Router).where(Router.id == router_id)))
        if row is None:
            raise rexc.RouterNotFound(router_id=router_id)
        return row

    def owner(self, session, context, router_id):
        """The project of a router the caller may see (RouterNotFound otherwise), in one statement."""
        project_id = session.execute(_OWNER, {"router_id": router_id}).scalar()
        if project_id is None or not (context.is_admin or project_id == context.project_id):
            raise rexc.RouterNotFound(router_id=router_id)
        return project_id

    def _dicts(self, session, rows):
        gateways = gateway.current_gateways(session, rows)
        tags = common.load_tags(session, [r.id for r in rows])
        return self.extenders.extend(const.ROUTER, session,
                                     [make_dict(r, gateways.get(r.id), tags[r.id]) for r in rows])

    def get(self, context, router_id, fields=None):
        with db_api.reader_scope() as session:
            row = self.get_row(session, context, router_id)
            return query.select_fields(self._dicts(session, [row])[0], fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None):
        with db_api.reader_scope() as session:
            stmt = self._visible(context, sa.select(Router))
            rows, leftover = query.fetch_page(session, stmt, Router, COLUMNS, dict(filters or {}), sorts, limit,
                                              marker, page_reverse, tag_filters)
            items = self._dicts(session, rows)
        return query.finish_page(items, leftover, page_reverse, fields)

    # --- writes ----------------------------------------------------------

    @staticmethod
    def _check_kind(data, distributed_default=False, ha_default=False):
        """Only legacy routers exist so far: distributed and HA ones are refused. A create
        takes the configured kind when none is asked for; an update only what it asks."""
        if data.get("distributed", distributed_default):
            raise rexc.bad_router_request("Distributed routers are not supported by this server")
        if data.get("ha", ha_default):
            raise rexc.bad_router_request("HA routers are not supported by this server")

    @staticmethod
    def _check_gateway_policy(context, action, target):
        # The controller checks "<action>:external_gateway_info"; the keys inside have rules of
        # their own (enable_snat and external_fixed_ips are admin-only).
        if target.get(GATEWAY):
            policy.enforce_attributes(context, action, target, [GATEWAY])

    def create(self, context, data):
        self._check_kind(data, self.conf.router_distributed, self.conf.l3_ha)
        self._check_gateway_policy(context, "create_router", dict(data))
        self.events.publish(const.ROUTER, events.Event.BEFORE_CREATE,
                            events.Payload(context, current=data, request=data, via_api=True))
        router_id = model_base.new_uuid()
        info = data.get(GATEWAY)
        new_gateway = None
        if info:
            # The gateway port first, so the router row is written once, with it, and the
            # answer built from what was written: nothing is read back.
            with db_api.reader_scope() as session:
                # Before the port is made: an over-quota request leaves nothing to undo.
                self.quotas.check(session, data["project_id"], const.ROUTER)
                subnets = db_reads.external_network_subnets(session, info["network_id"])
            new_gateway = self.gateways.make_port(context, router_id, info, subnets)
        try:
            result = self._insert(context, router_id, data, new_gateway)
        except BaseException:
            # No gateway port is left behind without its router.
            if new_gateway is not None:
                self.gateways.delete_port_of(context, new_gateway[0])
            raise
        self.events.publish(const.ROUTER, events.Event.AFTER_CREATE,
                            events.Payload(context, router_id, current=result, request=data, via_api=True))
        return result

    @db_api.retry_db_errors
    def _insert(self, context, router_id, data, new_gateway=None):
        """Write the router (with ``new_gateway``: (Gateway, enable_snat) of its port made by
        GatewayService.make_port) and return it as shown."""
        with db_api.session_scope() as session:
            self.quotas.check(session, data["project_id"], const.ROUTER)
            # routes=[]: a new router has none, and the answer must not load them.
            row = Router(id=router_id, project_id=data["project_id"], name=data.get("name") or "",
                         description=data.get("description") or "",
                         admin_state_up=data.get("admin_state_up", True), status=const.ROUTER_STATUS_ACTIVE,
                         enable_snat=self.conf.enable_snat_by_default, routes=[])
            if new_gateway is not None:
                gateway.attach(session, row, *new_gateway)
            session.add(row)
            session.flush()
            self.events.publish(const.ROUTER, events.Event.PRECOMMIT_CREATE,
                                events.Payload(context, row.id, current=data, request=data, session=session,
                                               via_api=True))
            # As written: no tags yet; the gateway as its port was made.
            shown = make_dict(row, new_gateway[0] if new_gateway is not None else None, [])
            return self.extenders.extend(const.ROUTER, session, [shown])[0]

    def update(self, context, router_id, data):
        self._check_kind(data)
        original = self.get(context, router_id)
        if GATEWAY in data:
            # Only what the request sends is checked: a member renaming a router whose
            # gateway has enable_snat set needs no admin.
            self._check_gateway_policy(context, "update_router", dict(original, **data))
        self.events.publish(const.ROUTER, events.Event.BEFORE_UPDATE,
                            events.Payload(context, router_id, original=original, request=data, via_api=True))
        if GATEWAY in data:
            self.gateways.apply(context, router_id, data[GATEWAY] or {})
        if ROW_ATTRIBUTES.intersection(data):
            self._update_row(context, router_id, data, original)
        result = self.get(context, router_id)
        self.events.publish(const.ROUTER, events.Event.AFTER_UPDATE,
                            events.Payload(context, router_id, original=original, current=result, request=data,
                                           via_api=True))
        return result

    @db_api.retry_db_errors
    def _update_row(self, context, router_id, data, original):
        with db_api.session_scope() as session:
            row = self.get_row(session, context, router_id)
            for key in ("name", "description", "admin_state_up"):
                if key in data:
                    setattr(row, key, data[key])
            if "routes" in data:
                self._replace_routes(session, row, data["routes"])
            common.bump_revision(row)
            session.flush()
            self.events.publish(const.ROUTER, events.Event.PRECOMMIT_UPDATE,
                                events.Payload(context, router_id, original=original, request=data,
                                               session=session, via_api=True))

    def _replace_routes(self, session, row, routes):
        connected = [(a.cidr, a.ip_address) for a in db_reads.router_addresses(session, [row.id]) if a.cidr]
        rules.check_routes(row.id, routes, connected, self.conf.max_routes)
        wanted = {(r["destination"], r["nexthop"]) for r in routes}
        for route in list(row.routes):
            if (route.destination, route.nexthop) not in wanted:
                row.routes.remove(route)
        have = {(r.destination, r.nexthop) for r in row.routes}
        for destination, nexthop in sorted(wanted - have):
            row.routes.append(models.RouterRoute(destination=destination, nexthop=nexthop))

    def change_routes(self, context, router_id, body, combine):
        """extraroute-atomic: the router's routes become combine(current, body routes)."""
        from netweave.service_plugins.router import api_definitions
        if not isinstance(body, dict) or not isinstance(body.get("router"), dict) \
                or "routes" not in body["router"]:
            raise rexc.bad_router_request("Unable to find 'routes' in the router of the request body")
        try:
            requested = api_definitions.routes(body["router"]["routes"])
        except ValueError as error:
            from netweave.core import exceptions as exc
            raise exc.InvalidInput(error_message="Invalid input for routes. Reason: %s" % error)
        return self._change_routes(context, router_id, requested, combine)

    @db_api.retry_db_errors
    def _change_routes(self, context, router_id, requested, combine):
        with db_api.session_scope() as session:
            row = self.get_row(session, context, router_id)
            current = [{"destination": r.destination, "nexthop": r.nexthop} for r in row.routes]
            self._replace_routes(session, row, combine(current, requested))
            common.bump_revision(row)
            session.flush()
            return self._dicts(session, [row])[0]

    def delete(self, context, router_id):
        original = self.get(context, router_id)
        self.events.publish(const.ROUTER, events.Event.BEFORE_DELETE,
                            events.Payload(context, router_id, original=original, via_api=True))
        gateway_row = self._delete_row(context, router_id, check_in_use=True)
        self.gateways.delete_port_of(context, gateway_row)
        self.events.publish(const.ROUTER, events.Event.AFTER_DELETE,
                            events.Payload(context, router_id, original=original, via_api=True))

    @db_api.retry_db_errors
    def _delete_row(self, context, router_id, check_in_use=False):
        """Delete the router's rows (its routes and router ports go with them); returns its Gateway."""
        with db_api.session_scope() as session:
            row = self.get_row(session, context.elevated(), router_id)
            if check_in_use:
                interfaces = session.scalar(sa.select(sa.func.count()).select_from(models.RouterPort).where(
                    models.RouterPort.router_id == router_id,
                    models.RouterPort.port_type.in_(const.ROUTER_INTERFACE_OWNERS)))
                if interfaces:
                    raise rexc.RouterInUse(router_id=router_id)
            current = gateway.current_gateways(session, [row]).get(router_id)
            fip_count = session.scalar(sa.select(sa.func.count()).select_from(models.FloatingIP)
                                       .where(models.FloatingIP.router_id == router_id))
            if fip_count and current is not None:
                raise rexc.RouterExternalGatewayInUseByFloatingIp(router_id=router_id, net_id=current.network_id)
            if fip_count:
                raise rexc.RouterInUse(router_id=router_id, reason="still has floating IPs")
            self.events.publish(const.ROUTER, events.Event.PRECOMMIT_DELETE,
                                events.Payload(context, router_id, session=session, via_api=True))
            common.delete_tags(session, router_id)
            session.delete(row)
            return current
