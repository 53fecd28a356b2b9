"""Subnets: validated by the IPAM rules, optionally carved from a subnet pool."""
import sqlalchemy as sa

from netweave.core import events
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.ipam import addresses, prefix_allocator, subnet_request
from netweave.core.services import common, networks, query, visibility
from netweave.core.services import tags as tagging

Subnet = subnet_models.Subnet

COLUMNS = {
    "id": Subnet.id, "name": Subnet.name, "tenant_id": Subnet.project_id, "project_id": Subnet.project_id,
    "description": Subnet.description, "network_id": Subnet.network_id, "ip_version": Subnet.ip_version,
    "cidr": Subnet.cidr, "gateway_ip": Subnet.gateway_ip, "enable_dhcp": Subnet.enable_dhcp,
    "ipv6_ra_mode": Subnet.ipv6_ra_mode, "ipv6_address_mode": Subnet.ipv6_address_mode,
    "subnetpool_id": Subnet.subnetpool_id, "segment_id": Subnet.segment_id,
    "created_at": Subnet.created_at, "updated_at": Subnet.updated_at,
    "revision_number": Subnet.revision_number,
}


def make_dict(row, tags=None):
    result = common.standard_dict(row, tags)
    result.update({
        "network_id": row.network_id,
        "ip_version": row.ip_version,
        "cidr": row.cidr,
        "gateway_ip": row.gateway_ip,
        "allocation_pools": [{"start": p.first_ip, "end": p.last_ip} for p in row.allocation_pools],
        "dns_nameservers": [d.address for d in row.dns_nameservers],
        "host_routes": [{"destination": r.destination, "nexthop": r.nexthop} for r in row.routes],
        "enable_dhcp": row.enable_dhcp,
        "ipv6_ra_mode": row.ipv6_ra_mode,
        "ipv6_address_mode": row.ipv6_address_mode,
        "subnetpool_id": row.subnetpool_id,
        "segment_id": row.segment_id,
        "service_types": sorted(s.service_type for s in row.service_types),
    })
    return result


def _subnet_state(row):
    return {"cidr": row.cidr, "ip_version": row.ip_version, "gateway_ip": row.gateway_ip,
            "allocation_pools": [{"start": p.first_ip, "end": p.last_ip} for p in row.allocation_pools],
            "enable_dhcp": row.enable_dhcp, "ipv6_ra_mode": row.ipv6_ra_mode,
            "ipv6_address_mode": row.ipv6_address_mode}


class SubnetService:
    """Subnets, publishing every write to ``registry`` (events.SUBNET); ``via_api`` as
    for networks. Ports of the network service's auto-delete owners do not keep a
    subnet in use: their addresses on it are released with it."""

    def __init__(self, conf, network_service, subnetpools, mechanism_manager, extension_manager, quotas,
                 registry):
        self.conf = conf
        self.networks = network_service
        self.subnetpools = subnetpools
        self.mechanisms = mechanism_manager
        self.extensions = extension_manager
        self.quotas = quotas
        self.events = registry

    def _visible(self, context, stmt):
        if context.is_admin:
            return stmt
        return stmt.where(sa.or_(Subnet.project_id == context.project_id,
                                 Subnet.network_id.in_(visibility.networks_shared_with(context)),
                                 Subnet.network_id.in_(visibility.owned_network_ids(context))))

    def _dict(self, session, row, tags=None, shared_networks=None):
        result = make_dict(row, tags)
        if shared_networks is not None:
            result["shared"] = row.network_id in shared_networks
        self.extensions.extend_subnet_dict(session, row, result)
        return result

    @staticmethod
    def _networks_shared_with(session, context, network_ids):
        """Ids among ``network_ids`` shared with the caller (what get_subnet's policy needs)."""
        if not network_ids:
            return set()
        shared = visibility.networks_shared_with(context)
        return set(session.scalars(shared.where(visibility.net_models.NetworkRBAC.object_id.in_(list(network_ids)))))

    def get_row(self, session, context, subnet_id):
        row = session.scalar(self._visible(context, sa.select(Subnet).where(Subnet.id == subnet_id)))
        if row is None:
            raise exc.SubnetNotFound(subnet_id=subnet_id)
        return row

    def get(self, context, subnet_id, fields=None):
        with db_api.reader_scope() as session:
            row = self.get_row(session, context, subnet_id)
            shared = self._networks_shared_with(session, context, {row.network_id})
            return query.select_fields(
                self._dict(session, row, common.load_tags(session, [row.id])[row.id], shared), fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None):
        filters = dict(filters or {})
        with db_api.reader_scope() as session:
            stmt = self._visible(context, sa.select(Subnet))
            if "shared" in filters:
                wanted = filters.pop("shared")
                shared = Subnet.network_id.in_(
                    sa.select(visibility.net_models.NetworkRBAC.object_id).where(
                        visibility.net_models.NetworkRBAC.action == visibility.SHARED,
                        visibility.net_models.NetworkRBAC.target_tenant == "*"))
                stmt = stmt.where(shared if True in wanted else sa.not_(shared))
            rows, leftover = query.fetch_page(session, stmt, Subnet, COLUMNS, filters, sorts, limit, marker,
                                              page_reverse, tag_filters)
            tags = common.load_tags(session, [r.id for r in rows])
            shared = self._networks_shared_with(session, context, {r.network_id for r in rows})
            items = [self._dict(session, r, tags[r.id], shared) for r in rows]
        return query.finish_page(items, leftover, page_reverse, fields)

    # --- writes ----------------------------------------------------------

    def create(self, context, data, *, via_api=False):
        self.events.publish(events.SUBNET, events.Event.BEFORE_CREATE,
                            events.Payload(context, current=data, request=data, via_api=via_api))
        result, mech_context = self._create_committed(context, data, via_api)
        self.mechanisms.create_subnet_postcommit(mech_context)
        self.events.publish(events.SUBNET, events.Event.AFTER_CREATE,
                            events.Payload(context, result["id"], current=result, request=data, via_api=via_api))
        return result

    @db_api.retry_db_errors
    def _create_committed(self, context, data, via_api):
        from netweave.core.plugins.ml2 import driver_context
        with db_api.session_scope() as session:
            network = self.networks.get_row(session, context, data["network_id"])
            source = subnet_request.resolve_subnet_source(data)
            cidr = source.cidr
            pool_id = source.subnetpool_id
            if source.subnetpool_id or source.use_default_subnetpool:
                pool = self.subnetpools.pool_for_subnet(session, context, source)
                subnet_request.check_pool_ip_version(source.ip_version, pool.ip_version)
                cidr = prefix_allocator.allocate_from_pool(session, pool, prefixlen=source.prefixlen,
                                                           cidr=source.cidr)
                pool_id = pool.id
            values = subnet_request.prepare_subnet_create(data, cidr)
            networks.check_mtu_carries(network.mtu, [values["ip_version"]])
            existing = session.execute(sa.select(Subnet.cidr, Subnet.ip_version, Subnet.subnetpool_id)
                                       .where(Subnet.network_id == network.id)).all()
            others = [c for c, _v, _p in existing]
            if not self.conf.allow_overlapping_ips:
                others = list(session.scalars(sa.select(Subnet.cidr)))
            subnet_request.check_overlap(values["cidr"], others, network.id)
            subnet_request.check_network_subnetpool_affinity(
                [(v, p) for _c, v, p in existing], pool_id, values["ip_version"])
            self.quotas.check(session, data["project_id"], "subnet")
            row = Subnet(project_id=data["project_id"], name=data.get("name", ""),
                         description=data.get("description", ""), network_id=network.id,
                         ip_version=values["ip_version"], cidr=values["cidr"], gateway_ip=values["gateway_ip"],
                         enable_dhcp=values["enable_dhcp"], ipv6_ra_mode=values["ipv6_ra_mode"],
                         ipv6_address_mode=values["ipv6_address_mode"], subnetpool_id=pool_id)
            self._set_children(row, values, data)
            session.add(row)
            common.bump_revision(network)
            session.flush()
            result = self._dict(session, row, tagging.write_on_create(session, "subnet", row.id, data.get("tags")))
            self.extensions.process_create_subnet(context, session, data, result)
            network_dict = self.networks.make_dict(context, network)
            net_ctx = driver_context.NetworkContext(
                context, session, network_dict, segments=[networks.segment_dict(s) for s in network.segments])
            mech_context = driver_context.SubnetContext(context, session, result, net_ctx)
            self.mechanisms.create_subnet_precommit(mech_context)
            self.events.publish(events.SUBNET, events.Event.PRECOMMIT_CREATE, events.Payload(
                context, row.id, current=result, request=data, session=session, via_api=via_api))
        return result, mech_context

    @staticmethod
    def _set_children(row, values, data):
        if "allocation_pools" in values:
            row.allocation_pools = [subnet_models.IPAllocationPool(first_ip=p["start"], last_ip=p["end"],
                                                                   position=i)
                                    for i, p in enumerate(values["allocation_pools"])]
        if "dns_nameservers" in values:
            row.dns_nameservers = [subnet_models.DNSNameServer(address=a, order=i)
                                   for i, a in enumerate(values["dns_nameservers"])]
        if "host_routes" in values:
            row.routes = [subnet_models.SubnetRoute(destination=r["destination"], nexthop=r["nexthop"])
                          for r in values["host_routes"]]
        if "service_types" in data:
            row.service_types = [subnet_models.SubnetServiceType(service_type=t)
                                 for t in data["service_types"]]

    def update(self, context, subnet_id, data, *, via_api=False):
        if self.events.has_subscribers(events.SUBNET, events.Event.BEFORE_UPDATE):
            self.events.publish(events.SUBNET, events.Event.BEFORE_UPDATE, events.Payload(
                context, subnet_id, original=self.get(context, subnet_id), request=data, via_api=via_api))
        original, result, mech_context = self._update_committed(context, subnet_id, data, via_api)
        self.mechanisms.update_subnet_postcommit(mech_context)
        self.events.publish(events.SUBNET, events.Event.AFTER_UPDATE, events.Payload(
            context, subnet_id, original=original, current=result, request=data, via_api=via_api))
        return result

    @db_api.retry_db_errors
    def _update_committed(self, context, subnet_id, data, via_api):
        from netweave.core.plugins.ml2 import driver_context
        with db_api.session_scope() as session:
            row = self.get_row(session, context, subnet_id)
            original = self._dict(session, row)
            changes = subnet_request.prepare_subnet_update(_subnet_state(row), data, subnet_id)
            for key in ("name", "description"):
                if key in data:
                    setattr(row, key, data[key])
            for key in ("gateway_ip", "enable_dhcp"):
                if key in changes:
                    setattr(row, key, changes[key])
            if "allocation_pools" in changes or "dns_nameservers" in changes or "host_routes" in changes:
                # Replace collections wholesale; flush the deletes before re-inserting equal keys.
                self._clear_children(session, row, changes, data)
            self._set_children(row, changes, data)
            common.bump_revision(row)
            session.flush()
            result = self._dict(session, row, common.load_tags(session, [row.id])[row.id])
            self.extensions.process_update_subnet(context, session, data, result)
            mech_context = driver_context.SubnetContext(context, session, result, None, original=original)
            self.mechanisms.update_subnet_precommit(mech_context)
            self.events.publish(events.SUBNET, events.Event.PRECOMMIT_UPDATE, events.Payload(
                context, subnet_id, original=original, current=result, request=data, session=session,
                via_api=via_api))
        return original, result, mech_context

    @staticmethod
    def _clear_children(session, row, changes, data):
        if "allocation_pools" in changes:
            row.allocation_pools = []
        if "dns_nameservers" in changes:
            row.dns_nameservers = []
        if "host_routes" in changes:
            row.routes = []
        if "service_types" in data:
            row.service_types = []
        session.flush()

    def delete(self, context, subnet_id, *, via_api=False):
        if self.events.has_subscribers(events.SUBNET, events.Event.BEFORE_DELETE):
            self.events.publish(events.SUBNET, events.Event.BEFORE_DELETE, events.Payload(
                context, subnet_id, original=self.get(context, subnet_id), via_api=via_api))
        result, mech_context = self._delete_committed(context, subnet_id, via_api)
        self.mechanisms.delete_subnet_postcommit(mech_context)
        self.events.publish(events.SUBNET, events.Event.AFTER_DELETE,
                            events.Payload(context, subnet_id, original=result, via_api=via_api))

    def _release_addresses(self, session, row):
        """Free every address on the subnet being deleted, or raise SubnetInUse.

        As in Neutron: on a SLAAC or DHCPv6-stateless subnet each port's address is
        its own EUI-64 one, so only router interfaces keep the subnet in use and the
        other ports just lose that address (their revision moves). Any other subnet
        is in use while a port not owned by an auto-delete owner holds an address.
        """
        ports, allocs = port_models.Port, port_models.IPAllocation
        holders = sa.select(allocs.port_id).where(allocs.subnet_id == row.id)
        if row.ip_version == 6 and addresses.is_auto_address_subnet(row.ipv6_ra_mode, row.ipv6_address_mode):
            blocking = addresses.ROUTER_INTERFACE_OWNERS_SNAT
            in_use = ports.device_owner.in_(blocking)
        else:
            in_use = ports.device_owner.not_in(self.networks.auto_delete_port_owners)
        if session.scalar(sa.select(sa.func.count()).select_from(ports).where(
                ports.id.in_(holders), in_use)):
            raise exc.SubnetInUse(subnet_id=row.id)
        for port in session.scalars(sa.select(ports).where(ports.id.in_(holders))):
            common.bump_revision(port)
        session.execute(sa.delete(allocs).where(allocs.subnet_id == row.id))

    @db_api.retry_db_errors
    def _delete_committed(self, context, subnet_id, via_api):
        from netweave.core.plugins.ml2 import driver_context
        with db_api.session_scope() as session:
            row = self.get_row(session, context, subnet_id)
            self._release_addresses(session, row)
            result = self._dict(session, row)
            mech_context = driver_context.SubnetContext(context, session, result, None)
            self.mechanisms.delete_subnet_precommit(mech_context)
            self.events.publish(events.SUBNET, events.Event.PRECOMMIT_DELETE, events.Payload(
                context, subnet_id, original=result, session=session, via_api=via_api))
            network = session.get(visibility.net_models.Network, row.network_id)
            if network is not None:
                common.bump_revision(network)
            common.delete_tags(session, subnet_id)
            session.delete(row)
        return result, mech_context
