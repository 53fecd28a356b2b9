"""Service plugin ``lbaasv2``: load balancers, listeners, pools, members and health monitors
(the Octavia v2 API on /v2/lbaas and /v2.0/lbaas) over the core's subnets and ports.

It keeps its own tables (models.py, the Alembic branch ``lbaasv2``), counts the
quotas loadbalancer, listener, pool, member and healthmonitor, creates each VIP
as a port (device_owner ``neutron:LOADBALANCERV2``) and refuses API deletes of
those ports. Changes reach haproxy through the configured provisioner.
"""
from oslo_config import cfg

from netweave.core import events
from netweave.core.plugins import service_base
from netweave.core.rpc import casts
from netweave.service_plugins.lbaasv2 import config, models, provisioning, scheduling
from netweave.service_plugins.lbaasv2 import constants as const
from netweave.service_plugins.lbaasv2 import exceptions as lexc
from netweave.service_plugins.lbaasv2.routes import Routes
from netweave.service_plugins.lbaasv2.service import LoadBalancerService


class LoadBalancerPluginv2(service_base.ServicePlugin):
    supported_extension_aliases = ["lbaasv2", "lbaas_agent_schedulerv2"]

    def __init__(self, conf=None):
        self.conf = conf or cfg.CONF
        config.register_opts(self.conf)
        self.service = None
        self.scheduler = None
        self.provisioner = None
        self._ports = None
        self._subnets = None
        self._agents = None
        self._quotas = None

    def initialize(self, core):
        for name, model in ((const.LOADBALANCER, models.LoadBalancer), (const.LISTENER, models.Listener),
                            (const.POOL, models.Pool), (const.MEMBER, models.Member),
                            (const.HEALTHMONITOR, models.HealthMonitor)):
            core.quotas.register(name, model)
        self.scheduler = scheduling.Scheduler(core.agents)
        if self.conf.lbaasv2.driver == "noop":
            self.provisioner = provisioning.NoopProvisioner()
        else:
            self.provisioner = provisioning.AgentProvisioner(
                self.scheduler, casts.CastClient(provisioning.AGENT_TOPIC))
        self._ports, self._subnets, self._agents, self._quotas = core.ports, core.subnets, core.agents, core.quotas
        self.service = LoadBalancerService(core.quotas, core.subnets, core.ports, self.provisioner)
        if isinstance(self.provisioner, provisioning.NoopProvisioner):
            self.provisioner.service = self.service
        core.events.subscribe(self._refuse_api_delete_of_vip, events.PORT, events.Event.BEFORE_DELETE)

    @staticmethod
    def _refuse_api_delete_of_vip(_resource, _event, payload):
        port = payload.original
        if payload.via_api and port is not None and port.get("device_owner") == const.DEVICE_OWNER_VIP:
            raise lexc.VipPortDeleteRefused(port_id=port["id"], lb_id=port.get("device_id"))

    def connect_agents(self, transport):
        if isinstance(self.provisioner, provisioning.AgentProvisioner):
            self.provisioner.connect(transport)

    def rpc_endpoints(self):
        # Here, not at import: only RPC servers load oslo.messaging.
        from netweave.service_plugins.lbaasv2 import lbaas_rpc

        endpoint = lbaas_rpc.LbaasRpcEndpoint(self.service, self.scheduler, self._ports, self._subnets)
        return {lbaas_rpc.PLUGIN_TOPIC: [endpoint]}

    def register_routes(self, router, policy):
        Routes(self.service, policy, self._agents, self._quotas).register(router)
