"""What the router plugin says about other resources' changes (core resource events).

- A port a router or floating IP owns is not deleted through the port API
  (BEFORE_DELETE veto, payload.via_api); the plugin's own deletes pass.
- A deleted port takes its floating IP associations with it (PRECOMMIT_DELETE,
  in the port's transaction), and says so in the payload's metadata
  (const.FLOATINGIPS_DISASSOCIATED) for the L3 notifier.
- An external network with router gateways stays external (BEFORE_UPDATE).
- A subnet's gateway address stays while a router interface holds it (BEFORE_UPDATE).
- Deleting an external network first deletes its floating IPs that point nowhere
  (BEFORE_DELETE, as Neutron); associated ones, like gateways, keep it in use.
"""
import sqlalchemy as sa

from netweave.core import events
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.service_plugins.router import constants as const
from netweave.service_plugins.router import db_reads, models
from netweave.service_plugins.router import exceptions as rexc


def owner_exists(session, port):
    """Whether the router or floating IP named by the port's device_id still exists."""
    model = models.FloatingIP if port["device_owner"] == const.DEVICE_OWNER_FLOATINGIP else models.Router
    return session.scalar(sa.select(model.id).where(model.id == port["device_id"])) is not None


class PortGuards:
    def __init__(self, floatingips):
        self.floatingips = floatingips

    def subscribe(self, registry):
        registry.subscribe(self.refuse_api_delete, events.PORT, events.Event.BEFORE_DELETE)
        registry.subscribe(self.disassociate_floatingips, events.PORT, events.Event.PRECOMMIT_DELETE)
        registry.subscribe(self.keep_gateway_networks_external, events.NETWORK, events.Event.BEFORE_UPDATE)
        registry.subscribe(self.delete_unassociated_floatingips, events.NETWORK, events.Event.BEFORE_DELETE)
        registry.subscribe(self.keep_router_gateway_ips, events.SUBNET, events.Event.BEFORE_UPDATE)

    @staticmethod
    def refuse_api_delete(resource, event, payload):
        port = payload.latest
        if not payload.via_api or port is None or port.get("device_owner") not in const.SERVICE_PORT_OWNERS:
            return
        with db_api.reader_scope() as session:
            if not owner_exists(session, port):
                # Left behind by a router that is gone: nothing to protect.
                return
        raise rexc.ServicePortInUse(port_id=payload.resource_id or port["id"],
                                    reason="has device owner %s" % port["device_owner"])

    def disassociate_floatingips(self, resource, event, payload):
        port_id = payload.resource_id or (payload.latest or {}).get("id")
        if port_id and payload.session is not None and self.floatingips.disassociate_port(payload.session, port_id):
            payload.metadata[const.FLOATINGIPS_DISASSOCIATED] = True

    @staticmethod
    def keep_gateway_networks_external(resource, event, payload):
        request = payload.request or {}
        if request.get("router:external", True) or not (payload.original or {}).get("router:external"):
            return
        network_id = payload.resource_id
        with db_api.reader_scope() as session:
            gateways = session.scalar(
                sa.select(sa.func.count()).select_from(models.RouterPort)
                .join(db_reads.Port, db_reads.Port.id == models.RouterPort.port_id)
                .where(models.RouterPort.port_type == const.DEVICE_OWNER_ROUTER_GW,
                       db_reads.Port.network_id == network_id))
        if gateways:
            raise exc.ExternalNetworkInUse(net_id=network_id)

    def delete_unassociated_floatingips(self, resource, event, payload):
        network = payload.original or {}
        if not network.get("router:external"):
            return
        with db_api.reader_scope() as session:
            fip_ids = list(session.scalars(sa.select(models.FloatingIP.id).where(
                models.FloatingIP.floating_network_id == payload.resource_id,
                models.FloatingIP.fixed_port_id.is_(None))))
        for fip_id in fip_ids:
            try:
                self.floatingips.delete(payload.context.elevated(), fip_id)
            except rexc.FloatingIPNotFound:
                pass  # deleted meanwhile

    @staticmethod
    def keep_router_gateway_ips(resource, event, payload):
        request, original = payload.request or {}, payload.original or {}
        if "gateway_ip" not in request or not original.get("gateway_ip") \
                or request["gateway_ip"] == original["gateway_ip"]:
            return
        with db_api.reader_scope() as session:
            port_id = session.scalar(
                sa.select(db_reads.IPAllocation.port_id)
                .join(db_reads.Port, db_reads.Port.id == db_reads.IPAllocation.port_id)
                .where(db_reads.IPAllocation.subnet_id == payload.resource_id,
                       db_reads.IPAllocation.ip_address == original["gateway_ip"],
                       db_reads.Port.device_owner.in_(const.ROUTER_INTERFACE_OWNERS)).limit(1))
        if port_id is not None:
            raise rexc.GatewayIpInUse(ip_address=original["gateway_ip"], port_id=port_id)
