"""Loadbalancerv2 agents over RPC, server side (topic "n-lbaasv2-plugin").

Asked (Neutron LBaaS's LoadBalancerCallbacks, narrowed):
  get_ready_devices(host) -> [load balancer id] scheduled to the agent on ``host``
      (waiting ones are scheduled to it first).
  get_loadbalancer(loadbalancer_id) -> the load balancer's description (describe()), None when gone.
  loadbalancer_deployed(loadbalancer_id, success=True) -> None: the agent applied the
      description; pending statuses settle (ACTIVE, or ERROR when it failed) and a
      load balancer pending deletion goes, with its VIP port.
  plug_vip_port(port_id, host) -> None: the VIP port is bound to ``host``, so the L2 agent
      there wires the tap the agent plugs.
  update_status(loadbalancer_id, statuses, stats, listener_stats=None) -> None: operating
      statuses the agent observed ({"member": {id: "ONLINE"|"OFFLINE"}, ...}), the load
      balancer's counters and each of its listeners' ({listener id: counters}; agents that
      predate it leave it out and the listeners keep what they had). Counters are
      {"active_connections", "total_connections", "bytes_in", "bytes_out", "request_errors"};
      both sets are stored in one transaction.
"""
import oslo_messaging

from netweave.core.db import api as db_api
from netweave.service_plugins.lbaasv2 import constants as const
from netweave.service_plugins.lbaasv2.tree import Tree

PLUGIN_TOPIC = "n-lbaasv2-plugin"

_OPERATING = {const.ONLINE, const.OFFLINE, const.DEGRADED, const.OPERATING_ERROR, const.NO_MONITOR}


def _common(row):
    return {"id": row.id, "name": row.name, "admin_state_up": row.admin_state_up,
            "provisioning_status": row.provisioning_status}


def describe(tree, lb_id, vip_port):
    """The load balancer as the agent renders it (agent/haproxy_config.py's input)."""
    lb = tree.loadbalancers[lb_id]
    listeners = [dict(_common(r), protocol=r.protocol, protocol_port=r.protocol_port,
                      connection_limit=r.connection_limit, default_pool_id=r.default_pool_id)
                 for r in (tree.listeners[i] for i in tree.listeners_of_lb(lb_id))]
    pools = []
    for pool_id in tree.pools_of_lb(lb_id):
        row = tree.pools[pool_id]
        persistence = None
        if row.persistence_type:
            persistence = {"type": row.persistence_type, "cookie_name": row.persistence_cookie_name}
        monitor = None
        monitor_id = tree.monitor_of_pool(pool_id)
        if monitor_id:
            hm = tree.monitors[monitor_id]
            monitor = dict(_common(hm), type=hm.type, delay=hm.delay, timeout=hm.timeout,
                           max_retries=hm.max_retries, max_retries_down=hm.max_retries_down,
                           http_method=hm.http_method, url_path=hm.url_path, expected_codes=hm.expected_codes)
        members = [dict(_common(m), address=m.address, protocol_port=m.protocol_port, weight=m.weight,
                        subnet_id=m.subnet_id)
                   for m in (tree.members[i] for i in tree.members_of_pool(pool_id))]
        pools.append(dict(_common(row), protocol=row.protocol, lb_algorithm=row.lb_algorithm,
                          session_persistence=persistence, healthmonitor=monitor, members=members))
    return dict(_common(lb), vip_address=lb.vip_address, vip_port_id=lb.vip_port_id,
                vip_subnet_id=lb.vip_subnet_id, vip_port=vip_port, listeners=listeners, pools=pools)


class LbaasRpcEndpoint:
    target = oslo_messaging.Target(version="2.0")

    def __init__(self, service, scheduler, ports, subnets):
        self.service = service
        self.scheduler = scheduler
        self.ports = ports
        self.subnets = subnets

    def get_ready_devices(self, context, host=None, **_kwargs):
        return self.scheduler.loadbalancers_of_host(host)

    def get_loadbalancer(self, context, loadbalancer_id=None, **_kwargs):
        with db_api.reader_scope() as session:
            tree = Tree(session, [loadbalancer_id])
            if loadbalancer_id not in tree.loadbalancers:
                return None
            lb = tree.loadbalancers[loadbalancer_id]
            port_id, subnet_id = lb.vip_port_id, lb.vip_subnet_id
        vip_port = self._vip_port(context, port_id, subnet_id)
        with db_api.reader_scope() as session:
            tree = Tree(session, [loadbalancer_id])
            if loadbalancer_id not in tree.loadbalancers:
                return None
            return describe(tree, loadbalancer_id, vip_port)

    def _vip_port(self, context, port_id, subnet_id):
        """What plugging needs: mac, network, the VIP's prefix length and the subnet's gateway."""
        if port_id is None:
            return None
        admin = context.elevated()
        try:
            port = self.ports.get(admin, port_id)
            subnet = self.subnets.get(admin, subnet_id)
        except Exception:  # noqa: BLE001 - gone meanwhile: the agent undeploys
            return None
        prefixlen = int(subnet["cidr"].split("/")[1])
        return {"id": port["id"], "mac_address": port["mac_address"], "network_id": port["network_id"],
                "binding_host": port.get("binding:host_id") or "",
                "fixed_ips": [dict(ip, prefixlen=prefixlen) for ip in port["fixed_ips"]
                              if ip["subnet_id"] == subnet_id],
                "gateway_ip": subnet.get("gateway_ip"), "mtu": 1500}

    def plug_vip_port(self, context, port_id=None, host=None, **_kwargs):
        self.ports.update(context.elevated(), port_id, {"binding:host_id": host or "", "admin_state_up": True})

    def loadbalancer_deployed(self, context, loadbalancer_id=None, success=True, **_kwargs):
        self.service.finish(loadbalancer_id, deployed=bool(success))

    def update_status(self, context, loadbalancer_id=None, statuses=None, stats=None, listener_stats=None,
                      **_kwargs):
        clean = {kind: {item: status for item, status in (values or {}).items() if status in _OPERATING}
                 for kind, values in (statuses or {}).items()}
        self.service.set_operating_statuses(loadbalancer_id, clean)
        if stats or listener_stats:
            self.service.set_stats(loadbalancer_id, stats or None, listener_stats or {})
