"""add_router_interface / remove_router_interface: a router's ports on project subnets.

By subnet, the router gets a new port holding the subnet's gateway address; by
port, an existing free port is handed to the router. Either way the port is
made, changed and removed through the core's port service, and the row tying
it to the router (routerports, one router per port) is written with the
router's revision bumped, so concurrent attaches to one router are serialised
and the overlap check always sees the others.
"""
import logging

import netaddr
import sqlalchemy as sa

from netweave.core import events
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.services import common
from netweave.service_plugins.router import constants as const
from netweave.service_plugins.router import db_reads, models, rules
from netweave.service_plugins.router import exceptions as rexc

LOG = logging.getLogger(__name__)


def interface_info(router, port_id, network_id, subnet_ids):
    """The reply of both member actions, as Neutron shapes it."""
    return {"id": router["id"], "tenant_id": router["tenant_id"], "project_id": router["project_id"],
            "port_id": port_id, "network_id": network_id,
            "subnet_id": subnet_ids[0] if subnet_ids else None, "subnet_ids": list(subnet_ids)}


class InterfaceService:
    def __init__(self, routers, subnets, ports, events_registry):
        self.routers = routers    # RouterService
        self.subnets = subnets    # the core's SubnetService
        self.ports = ports        # the core's PortService
        self.events = events_registry

    # --- add -----------------------------------------------------------------

    def add(self, context, router_id, body):
        port_id, subnet_id = rules.check_interface_request(body, for_removal=False)
        # What the add needs of the router: its owner (for the reply) and the subnets it is on;
        # and of the subnet asked for, what its interface needs.
        with db_api.reader_scope() as session:
            project_id = self.routers.owner(session, context, router_id)
            connected = self._subnets_of(session, router_id)
            subnet = None if port_id else self._interface_subnet(session, context, subnet_id)
        router = {"id": router_id, "tenant_id": project_id, "project_id": project_id}
        if port_id:
            info = self._add_port(context, router, port_id, connected)
        else:
            info = self._add_subnet(context, router, subnet, connected)
        self.events.publish(const.ROUTER_INTERFACE, events.Event.AFTER_CREATE,
                            events.Payload(context, router_id, current=info, via_api=True))
        return info

    @staticmethod
    def _subnets_of(session, router_id):
        return [(a.subnet_id, a.cidr) for a in db_reads.router_addresses(session, [router_id]) if a.subnet_id]

    def _interface_subnet(self, session, context, subnet_id):
        subnet = db_reads.interface_subnet(session, subnet_id)
        if subnet is None:
            raise exc.SubnetNotFound(subnet_id=subnet_id)
        if not context.is_admin and subnet["project_id"] != context.project_id:
            # Another project's subnet: whether the caller sees it (else 404) is the subnet service's to say.
            self.subnets.get_row(session, context, subnet_id)
        return subnet

    def _add_subnet(self, context, router, subnet, connected):
        if not subnet["gateway_ip"]:
            raise rexc.bad_router_request("Subnet for router interface must have a gateway IP")
        if subnet["ip_version"] == 6 and subnet["ipv6_ra_mode"] is None and subnet["ipv6_address_mode"] is not None:
            raise rexc.bad_router_request("IPv6 subnet %s configured to receive RAs from an external router cannot "
                                          "be added to Neutron Router." % subnet["id"])
        wanted = [(subnet["id"], subnet["cidr"])]
        # Checked again when the interface is written (_attach): another may come meanwhile.
        rules.check_no_overlap(wanted, connected)
        admin = context.elevated()
        port = self.ports.create(admin, {
            # The subnet's project owns the port, as in Neutron.
            "project_id": subnet["tenant_id"], "tenant_id": subnet["tenant_id"], "name": "", "description": "",
            "network_id": subnet["network_id"], "admin_state_up": True, "mac_address": None,
            "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}],
            "device_id": router["id"], "device_owner": const.DEVICE_OWNER_ROUTER_INTF})
        try:
            self._attach(router["id"], port["id"], wanted, expect_free=False)
        except BaseException:
            self._delete_port(admin, port["id"])
            raise
        return interface_info(router, port["id"], subnet["network_id"], [subnet["id"]])

    def _add_port(self, context, router, port_id, connected):
        port = self.ports.get(context, port_id)
        rules.check_interface_port(port)
        with db_api.reader_scope() as session:
            by_id = db_reads.subnets_by_id(session, {ip["subnet_id"] for ip in port["fixed_ips"]})
        subnet_ids = list(dict.fromkeys(ip["subnet_id"] for ip in port["fixed_ips"]))
        subnets = [by_id[s] for s in subnet_ids]
        wanted = [(s["id"], s["cidr"]) for s in subnets]
        rules.check_no_overlap(wanted, connected)
        rules.check_single_ipv4_subnet(subnets)
        self._attach(router["id"], port["id"], wanted, expect_free=True)
        try:
            self.ports.update(context.elevated(), port_id, {"device_id": router["id"],
                                                            "device_owner": const.DEVICE_OWNER_ROUTER_INTF})
        except BaseException:
            self._detach(router["id"], port_id)
            raise
        return interface_info(router, port_id, port["network_id"], subnet_ids)

    @db_api.retry_db_errors
    def _attach(self, router_id, port_id, subnets, expect_free):
        try:
            with db_api.session_scope() as session:
                router = session.get(models.Router, router_id, options=db_reads.ROW_ONLY)
                if router is None:
                    raise rexc.RouterNotFound(router_id=router_id)
                if expect_free:
                    # A port handed over by the caller; a port made for this router (device_id set
                    # to it) no other attach can take, and the foreign key says if it went.
                    self._check_free(session, port_id)
                # Again inside the transaction: another interface may have come meanwhile.
                existing = [(a.subnet_id, a.cidr) for a in db_reads.router_addresses(session, [router_id])
                            if a.subnet_id and a.port_id != port_id]
                rules.check_no_overlap(subnets, existing)
                session.add(models.RouterPort(router_id=router_id, port_id=port_id,
                                              port_type=const.DEVICE_OWNER_ROUTER_INTF))
                common.bump_revision(router)
        except sa.exc.IntegrityError as error:
            if db_api.is_foreign_key_violation(error):
                # The router or the port went away since they were read: the retry says which.
                raise db_api.RetryRequest() from error
            raise

    @staticmethod
    def _check_free(session, port_id):
        port = session.get(db_reads.Port, port_id, options=db_reads.ROW_ONLY)
        if port is None:
            raise exc.PortNotFound(port_id=port_id)
        if port.device_id:
            raise rexc.PortInUse(port_id=port_id, net_id=port.network_id, device_id=port.device_id)
        taken = session.scalar(sa.select(models.RouterPort.router_id).where(models.RouterPort.port_id == port_id))
        if taken is not None:
            raise rexc.PortInUse(port_id=port_id, net_id=port.network_id, device_id=taken)

    @db_api.retry_db_errors
    def _detach(self, router_id, port_id):
        with db_api.session_scope() as session:
            session.execute(sa.delete(models.RouterPort).where(models.RouterPort.router_id == router_id,
                                                               models.RouterPort.port_id == port_id))
            router = session.get(models.Router, router_id, options=db_reads.ROW_ONLY)
            if router is not None:
                common.bump_revision(router)

    # --- remove --------------------------------------------------------------

    def remove(self, context, router_id, body):
        port_id, subnet_id = rules.check_interface_request(body, for_removal=True)
        router = self.routers.get(context, router_id)
        with db_api.reader_scope() as session:
            addresses = db_reads.router_addresses(session, [router_id], const.ROUTER_INTERFACE_OWNERS)
        if port_id:
            mine = [a for a in addresses if a.port_id == port_id]
            if not mine:
                raise rexc.RouterInterfaceNotFound(router_id=router_id, port_id=port_id)
            if subnet_id and subnet_id not in {a.subnet_id for a in mine}:
                raise rexc.SubnetMismatchForPort(port_id=port_id, subnet_id=subnet_id)
        else:
            on_subnet = [a for a in addresses if a.subnet_id == subnet_id]
            if not on_subnet:
                self.subnets.get(context, subnet_id)
                raise rexc.RouterInterfaceNotFoundForSubnet(router_id=router_id, subnet_id=subnet_id)
            port_id = on_subnet[0].port_id
            mine = [a for a in addresses if a.port_id == port_id]
        self._check_not_needed(router, mine)
        info = interface_info(router, port_id, mine[0].network_id, [a.subnet_id for a in mine if a.subnet_id])
        self.events.publish(const.ROUTER_INTERFACE, events.Event.BEFORE_DELETE,
                            events.Payload(context, router_id, original=info, via_api=True))
        # The routerports row goes with the port (ON DELETE CASCADE).
        self._delete_port(context.elevated(), port_id)
        self._touch(router_id)
        self.events.publish(const.ROUTER_INTERFACE, events.Event.AFTER_DELETE,
                            events.Payload(context, router_id, original=info, via_api=True))
        return info

    def _check_not_needed(self, router, addresses):
        """Floating IPs and extra routes through the interface's subnets keep it in place."""
        with db_api.reader_scope() as session:
            fixed = list(session.scalars(sa.select(models.FloatingIP.fixed_ip_address).where(
                models.FloatingIP.router_id == router["id"], models.FloatingIP.fixed_ip_address.is_not(None))))
        for address in addresses:
            if not address.cidr:
                continue
            net = netaddr.IPNetwork(address.cidr)
            if any(netaddr.IPAddress(ip) in net for ip in fixed):
                raise rexc.RouterInterfaceInUseByFloatingIP(router_id=router["id"], subnet_id=address.subnet_id)
            if rules.routes_through(router["routes"], address.cidr):
                raise rexc.RouterInterfaceInUseByRoute(router_id=router["id"], subnet_id=address.subnet_id)

    @db_api.retry_db_errors
    def _touch(self, router_id):
        with db_api.session_scope() as session:
            router = session.get(models.Router, router_id, options=db_reads.ROW_ONLY)
            if router is not None:
                common.bump_revision(router)

    def _delete_port(self, admin, port_id):
        try:
            self.ports.delete(admin, port_id)
        except exc.PortNotFound:
            LOG.debug("Router port %s was already gone", port_id)
