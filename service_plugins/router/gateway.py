"""A router's external gateway: its port on an external network, set, changed or cleared.

The gateway port is made and removed through the core's port service, as any
plugin's own port (no port API veto applies to it). The port is created
before the router row points at it and the old one deleted after, so a
failure in between leaves the router as it was; a router row changed by a
concurrent request meanwhile makes this one start again.
"""
import collections
import logging

import sqlalchemy as sa

from netweave.core.db import api as db_api
from netweave.core.services import common
from netweave.service_plugins.router import constants as const
from netweave.service_plugins.router import db_reads, models, rules
from netweave.service_plugins.router import exceptions as rexc

LOG = logging.getLogger(__name__)

# The gateway as stored: its port, the port's network and addresses.
Gateway = collections.namedtuple("Gateway", ["port_id", "network_id", "fixed_ips"])

ATTEMPTS = 5


class _GatewayChanged(Exception):
    """The router's gateway changed between reading and writing it."""


def current_gateways(session, routers):
    """{router_id: Gateway} of the routers (rows) that have one."""
    port_ids = {r.gw_port_id for r in routers if r.gw_port_id}
    if not port_ids:
        return {}
    networks, addresses = db_reads.networks_and_fixed_ips_of(session, port_ids)
    return {r.id: Gateway(r.gw_port_id, networks.get(r.gw_port_id), addresses.get(r.gw_port_id, []))
            for r in routers if r.gw_port_id}


def gateway_info(gateway, enable_snat):
    """external_gateway_info as the API shows it."""
    if gateway is None:
        return None
    return {"network_id": gateway.network_id, "enable_snat": enable_snat,
            "external_fixed_ips": [dict(ip) for ip in gateway.fixed_ips]}


def attach(session, router, gateway, enable_snat):
    """In the transaction writing a new router (row ``router``): its gateway port
    (GatewayService.make_port), stored as _store_once stores a changed one."""
    router.gw_port_id = gateway.port_id
    router.enable_snat = enable_snat
    session.add(models.RouterPort(router_id=router.id, port_id=gateway.port_id,
                                  port_type=const.DEVICE_OWNER_ROUTER_GW))


def _same_addresses(requested, fixed_ips):
    """Whether external_fixed_ips asks for what the port has (subnet ids alone match any address)."""
    if len(requested) != len(fixed_ips):
        return False
    for want, have in zip(requested, fixed_ips):
        if want.get("subnet_id") not in (None, have["subnet_id"]):
            return False
        if want.get("ip_address") not in (None, have["ip_address"]):
            return False
    return True


class GatewayService:
    def __init__(self, conf, networks, ports):
        self.conf = conf
        self.networks = networks  # the core's NetworkService
        self.ports = ports        # the core's PortService

    def make_port(self, context, router_id, info, subnets):
        """The gateway port of a router being made, before its row is written: the router has
        no gateway, interface or floating IP to read yet. ``subnets``: those of the external
        network asked for, as the caller read them (db_reads.external_network_subnets).
        Returns (Gateway, enable_snat) for ``attach``; the caller removes the port
        (delete_port_of) if the router cannot be written."""
        network_id = info["network_id"]
        if subnets is None:
            raise rexc.bad_router_request("Network %s is not an external network" % network_id)
        requested = info.get("external_fixed_ips")
        rules.check_external_fixed_ips(requested, {s["id"]: s for s in subnets})
        port = self._create_port(context.elevated(), router_id, network_id, requested)
        fixed_ips = [{"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]} for ip in port["fixed_ips"]]
        return Gateway(port["id"], network_id, fixed_ips), info.get("enable_snat", self.conf.enable_snat_by_default)

    def apply(self, context, router_id, info):
        """Make the router's gateway what ``info`` asks: {} clears it, else a network
        (with enable_snat and external_fixed_ips when given)."""
        for attempt in range(ATTEMPTS):
            try:
                return self._apply_once(context, router_id, info)
            except _GatewayChanged:
                if attempt == ATTEMPTS - 1:
                    raise db_api.RetryRequest()
        return None

    @staticmethod
    def _current(session, router_id):
        """(Gateway or None, enable_snat, floating IPs, [(subnet_id, cidr)] of interfaces) of a router."""
        router = session.get(models.Router, router_id, options=db_reads.ROW_ONLY)
        if router is None:
            raise rexc.RouterNotFound(router_id=router_id)
        current = current_gateways(session, [router]).get(router_id)
        fip_count = session.scalar(sa.select(sa.func.count()).select_from(models.FloatingIP)
                                   .where(models.FloatingIP.router_id == router_id))
        interfaces = [(a.subnet_id, a.cidr) for a in db_reads.router_addresses(
            session, [router_id], const.ROUTER_INTERFACE_OWNERS) if a.subnet_id]
        return current, router.enable_snat, fip_count, interfaces

    def _apply_once(self, context, router_id, info):
        admin = context.elevated()
        # One read: the router's gateway, interfaces and floating IPs, and the subnets of the
        # external network asked for.
        with db_api.reader_scope() as session:
            current, enable_snat_now, fip_count, interfaces = self._current(session, router_id)
            subnets = db_reads.external_network_subnets(session, info["network_id"]) if info else None
        expected = current.port_id if current else None
        if not info:
            if current is None:
                return
            if fip_count:
                raise rexc.RouterExternalGatewayInUseByFloatingIp(router_id=router_id, net_id=current.network_id)
            self._store(router_id, expected, None, enable_snat_now)
            self._delete_port(admin, current.port_id)
            return
        network_id = info["network_id"]
        if subnets is None:
            raise rexc.bad_router_request("Network %s is not an external network" % network_id)
        enable_snat = info.get("enable_snat", self.conf.enable_snat_by_default)
        requested = info.get("external_fixed_ips")
        rules.check_external_fixed_ips(requested, {s["id"]: s for s in subnets})
        if current is not None and current.network_id == network_id:
            if requested is not None and not _same_addresses(requested, current.fixed_ips):
                self.ports.update(admin, current.port_id, {"fixed_ips": requested})
            self._store(router_id, expected, expected, enable_snat)
            return
        if current is not None and fip_count:
            raise rexc.RouterExternalGatewayInUseByFloatingIp(router_id=router_id, net_id=current.network_id)
        rules.check_no_overlap([(s["id"], s["cidr"]) for s in subnets], interfaces)
        port = self._create_port(admin, router_id, network_id, requested)
        try:
            self._store(router_id, expected, port["id"], enable_snat)
        except BaseException:
            self._delete_port(admin, port["id"])
            raise
        if current is not None:
            self._delete_port(admin, current.port_id)

    def _create_port(self, admin, router_id, network_id, requested):
        return self.ports.create(admin, {
            "project_id": "", "tenant_id": "", "name": "", "description": "", "network_id": network_id,
            "admin_state_up": True, "mac_address": None, "fixed_ips": requested, "device_id": router_id,
            "device_owner": const.DEVICE_OWNER_ROUTER_GW})

    @db_api.retry_db_errors
    def _store(self, router_id, expected_port_id, port_id, enable_snat):
        try:
            self._store_once(router_id, expected_port_id, port_id, enable_snat)
        except sa.exc.IntegrityError as error:
            if db_api.is_foreign_key_violation(error):
                # The router (or the new port) went away since it was read: the retry says which.
                raise db_api.RetryRequest() from error
            raise

    @staticmethod
    def _store_once(router_id, expected_port_id, port_id, enable_snat):
        with db_api.session_scope() as session:
            router = session.get(models.Router, router_id, options=db_reads.ROW_ONLY)
            if router is None:
                raise rexc.RouterNotFound(router_id=router_id)
            if router.gw_port_id != expected_port_id:
                raise _GatewayChanged()
            if expected_port_id != port_id:
                if expected_port_id is not None:
                    session.execute(sa.delete(models.RouterPort).where(
                        models.RouterPort.router_id == router_id, models.RouterPort.port_id == expected_port_id))
                if port_id is not None:
                    session.add(models.RouterPort(router_id=router_id, port_id=port_id,
                                                  port_type=const.DEVICE_OWNER_ROUTER_GW))
                router.gw_port_id = port_id
            router.enable_snat = enable_snat
            common.bump_revision(router)

    def delete_port_of(self, context, gateway):
        """Remove a deleted router's gateway port."""
        if gateway is not None:
            self._delete_port(context.elevated(), gateway.port_id)

    def _delete_port(self, admin, port_id):
        from netweave.core import exceptions as exc
        try:
            self.ports.delete(admin, port_id)
        except exc.PortNotFound:
            LOG.debug("Gateway port %s was already gone", port_id)
