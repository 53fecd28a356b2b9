"""The ML2 core plugin: Neutron's plugin method names over small resource services.

Nothing here holds state between requests; everything lives in the database, so
several server processes can serve one deployment.
"""
import logging

from oslo_config import cfg

from netweave.core import events
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.db.models import subnetpool as pool_models
from netweave.core.plugins.ml2 import managers
from netweave.core.plugins.ml2 import type_manager as type_manager_mod
from netweave.core.rpc import agent_notifier, dhcp_notifier
from netweave.core.services import (
    address_scopes,
    agent_placement,
    agents,
    availability,
    devices,
    dhcp_agents,
    dhcp_hooks,
    networks,
    port_status,
    ports,
    provisioning,
    quotas,
    rbac,
    resource_extenders,
    subnetpools,
    subnets,
    tags,
    tunnels,
)

LOG = logging.getLogger(__name__)

BASE_EXTENSIONS = (
    "provider", "external-net", "binding", "net-mtu", "net-mtu-writable", "standard-attr-description",
    "standard-attr-timestamp", "standard-attr-revisions", "revision-if-match", "project-id",
    "pagination", "sorting", "filter-validation", "tag", "standard-attr-tag", "tag-ext", "tag-creation",
    "tag-ports-during-bulk-creation", "quotas",
    "quota_details", "quota-check-limit", "quota-check-limit-default", "rbac-policies", "subnet_allocation",
    "default-subnetpools", "subnet-service-types",
    "network-ip-availability", "agent", "dhcp_agent_scheduler", "extra_dhcp_opt", "port-trusted-vif",
    "address-scope", "ip-substring-filtering",
)


class Ml2Plugin:
    """Composed of: TypeManager, MechanismManager, ExtensionManager and the resource services.

    ``events`` is the process's one EventRegistry: the resource services publish
    every network, subnet, subnet pool and port write to it, and service plugins
    subscribe to it in their ``initialize``. The methods the API controllers call
    (``create_<member>`` and the others below) are the REST API's changes
    (``via_api=True``); plugins acting for themselves call the services.

    The server calls the same hooks as on a service plugin (``connect_agents``,
    ``rpc_endpoints``, ``register_routes``); the agent notifier sends nothing
    until it is connected to a transport.
    """

    def __init__(self, conf=None):
        self.conf = conf or cfg.CONF
        self.events = events.EventRegistry()
        self.type_manager = type_manager_mod.TypeManager()
        self.mechanism_manager = managers.MechanismManager(self.conf.ml2.mechanism_drivers)
        self.extension_manager = managers.ExtensionManager(self.conf.ml2.extension_drivers)
        self.quotas = quotas.QuotaService(self.conf)
        for name, model in (("network", net_models.Network), ("subnet", subnet_models.Subnet),
                            ("port", port_models.Port), ("subnetpool", pool_models.SubnetPool),
                            ("rbac_policy", net_models.NetworkRBAC)):
            self.quotas.register(name, model)
        self.rbac = rbac.RbacService(self.quotas)
        self.rbac.register(rbac.network_object_type())
        self.rbac.register(subnetpools.object_type())
        self.rbac.register(address_scopes.object_type())
        self.tags = tags.TagService()
        self._tagged_models = {"networks": net_models.Network, "subnets": subnet_models.Subnet,
                               "ports": port_models.Port, "subnetpools": pool_models.SubnetPool}
        self.agent_notifier = agent_notifier.AgentNotifier()
        self.agents = agents.AgentService(self.conf)
        self.provisioning = provisioning.ProvisioningBlocks()
        # Seams of service plugins: attributes they add to resources read back, and the
        # policy the agent schedulers place networks (and routers) through.
        self.extenders = resource_extenders.ResourceExtenders()
        self.placement = agent_placement.Placement()
        self.networks = networks.NetworkService(self.conf, self.type_manager, self.mechanism_manager,
                                                self.extension_manager, self.quotas, self.rbac, self.events,
                                                notifier=self.agent_notifier, extenders=self.extenders)
        self.address_scopes = address_scopes.AddressScopeService()
        self.subnetpools = subnetpools.SubnetPoolService(self.conf, self.quotas, self.events, self.address_scopes)
        self.subnets = subnets.SubnetService(self.conf, self.networks, self.subnetpools,
                                             self.mechanism_manager, self.extension_manager, self.quotas,
                                             self.events)
        self.ports = ports.PortService(self.conf, self.networks, self.mechanism_manager,
                                       self.extension_manager, self.quotas, self.events, agents=self.agents,
                                       provisioning=self.provisioning, notifier=self.agent_notifier)
        self.availability = availability.IpAvailabilityService()
        self.devices = devices.DeviceService(self.ports, self.provisioning,
                                             port_status.PortStatusChanger(self.ports, self.mechanism_manager))
        self.tunnels = tunnels.TunnelEndpoints(self.type_manager)
        # DHCP: networks scheduled to DHCP agents, their notifications and the "DHCP"
        # provisioning block, hooked to the resource events.
        self.dhcp_scheduler = dhcp_agents.DhcpAgentScheduler(self.conf, clock=lambda: self.agents.clock(),
                                                             placement=self.placement)
        self.dhcp_notifier = dhcp_notifier.DhcpAgentNotifier()
        self.dhcp_hooks = dhcp_hooks.DhcpHooks(self.conf, self.dhcp_scheduler, self.dhcp_notifier,
                                               self.provisioning, self.ports,
                                               extension_keys=self.extension_manager.dhcp_attributes())
        self.dhcp_hooks.subscribe(self.events, self.networks)

    @property
    def supported_extension_aliases(self):
        return list(BASE_EXTENSIONS) + self.extension_manager.extension_aliases()

    def initialize(self, sync=False):
        """Driver set-up; with ``sync`` also the allocation tables (needs the database)."""
        self.type_manager.initialize()
        if sync:
            self._sync_allocations()
        self.mechanism_manager.initialize()
        self.extension_manager.initialize()

    # --- RPC with the agents ----------------------------------------------------
    def connect_agents(self, transport):
        """Send agent notifications over ``transport`` from now on."""
        self.agent_notifier.connect(transport)
        self.dhcp_notifier.connect(transport)

    def rpc_endpoints(self):
        from netweave.core.rpc import dhcp_endpoints, metadata_endpoint, server_endpoints, topics

        reports = dhcp_endpoints.DhcpReportFollowUp(self.agents, self.dhcp_hooks)
        endpoints = metadata_endpoint.add_to(server_endpoints.endpoints_by_topic(
            self.devices, self.tunnels, reports, self.agent_notifier), self.ports)
        endpoints[topics.PLUGIN].append(dhcp_endpoints.DhcpRpcEndpoint(self.dhcp_scheduler, self.ports,
                                                                       self.devices, self.dhcp_hooks))
        return endpoints

    def register_routes(self, router, policy):
        """The dhcp_agent_scheduler calls under /v2.0/agents and /v2.0/networks."""
        from netweave.core.api import agent_scheduler
        from netweave.extensions import dhcpagentscheduler

        hosting = dhcpagentscheduler.hosting(self.dhcp_scheduler, self.dhcp_hooks, self.networks, self.agents)
        agent_scheduler.AgentSchedulerController(hosting, policy).register(router)

    @db_api.retry_db_errors
    def _sync_allocations(self):
        # Two servers starting together may insert the same rows; the loser retries.
        with db_api.session_scope() as session:
            self.type_manager.sync_allocations(session)

    # --- networks ----------------------------------------------------------
    def create_network(self, context, body):
        return self.networks.create(context, body["network"], via_api=True)

    def update_network(self, context, network_id, body):
        return self.networks.update(context, network_id, body["network"], via_api=True)

    def delete_network(self, context, network_id):
        return self.networks.delete(context, network_id, via_api=True)

    def get_network(self, context, network_id, fields=None):
        return self.networks.get(context, network_id, fields)

    def get_networks(self, context, **kwargs):
        return self.networks.list(context, **kwargs)

    def get_network_owners(self, context, network_ids):
        return self.networks.owners(context, network_ids)

    # --- subnets -----------------------------------------------------------
    def create_subnet(self, context, body):
        return self.subnets.create(context, body["subnet"], via_api=True)

    def update_subnet(self, context, subnet_id, body):
        return self.subnets.update(context, subnet_id, body["subnet"], via_api=True)

    def delete_subnet(self, context, subnet_id):
        return self.subnets.delete(context, subnet_id, via_api=True)

    def get_subnet(self, context, subnet_id, fields=None):
        return self.subnets.get(context, subnet_id, fields)

    def get_subnets(self, context, **kwargs):
        return self.subnets.list(context, **kwargs)

    # --- subnet pools ------------------------------------------------------
    def create_subnetpool(self, context, body):
        return self.subnetpools.create(context, body["subnetpool"], via_api=True)

    def update_subnetpool(self, context, pool_id, body):
        return self.subnetpools.update(context, pool_id, body["subnetpool"], via_api=True)

    def delete_subnetpool(self, context, pool_id):
        return self.subnetpools.delete(context, pool_id, via_api=True)

    def get_subnetpool(self, context, pool_id, fields=None):
        return self.subnetpools.get(context, pool_id, fields)

    def get_subnetpools(self, context, **kwargs):
        return self.subnetpools.list(context, **kwargs)

    # --- address scopes ----------------------------------------------------
    def create_address_scope(self, context, body):
        return self.address_scopes.create(context, body["address_scope"])

    def update_address_scope(self, context, scope_id, body):
        return self.address_scopes.update(context, scope_id, body["address_scope"])

    def delete_address_scope(self, context, scope_id):
        return self.address_scopes.delete(context, scope_id)

    def get_address_scope(self, context, scope_id, fields=None):
        return self.address_scopes.get(context, scope_id, fields)

    def get_address_scopes(self, context, **kwargs):
        return self.address_scopes.list(context, **kwargs)

    # --- ports -------------------------------------------------------------
    def create_port(self, context, body):
        return self.ports.create(context, body["port"], via_api=True)

    def create_port_bulk(self, context, body):
        return self.ports.create_bulk(context, [item["port"] for item in body["ports"]], via_api=True)

    def update_port(self, context, port_id, body):
        return self.ports.update(context, port_id, body["port"], via_api=True)

    def delete_port(self, context, port_id):
        return self.ports.delete(context, port_id, via_api=True)

    def get_port(self, context, port_id, fields=None):
        return self.ports.get(context, port_id, fields)

    def get_port_with_network_owner(self, context, port_id, fields=None):
        return self.ports.get_with_network_owner(context, port_id, fields)

    def get_ports(self, context, **kwargs):
        return self.ports.list(context, **kwargs)

    def get_ports_with_network_owners(self, context, **kwargs):
        """(get_ports(), {network id: owner} of the networks the read had at hand)."""
        owners = {}
        return self.ports.list(context, network_owners=owners, **kwargs), owners

    # --- rbac policies -----------------------------------------------------
    def create_rbac_policy(self, context, body):
        return self.rbac.create(context, body["rbac_policy"])

    def update_rbac_policy(self, context, policy_id, body):
        return self.rbac.update(context, policy_id, body["rbac_policy"])

    def delete_rbac_policy(self, context, policy_id):
        return self.rbac.delete(context, policy_id)

    def get_rbac_policy(self, context, policy_id, fields=None):
        return self.rbac.get(context, policy_id, fields)

    def get_rbac_policies(self, context, **kwargs):
        return self.rbac.list(context, **kwargs)

    # --- agents ------------------------------------------------------------
    def create_agent(self, context, body):
        raise exc.BadRequest(resource="agent", msg="agents are created by their own state reports")

    def update_agent(self, context, agent_id, body):
        return self.agents.update(context, agent_id, body["agent"])

    def delete_agent(self, context, agent_id):
        return self.agents.delete(context, agent_id)

    def get_agent(self, context, agent_id, fields=None):
        return self.agents.get(context, agent_id, fields)

    def get_agents(self, context, **kwargs):
        return self.agents.list(context, **kwargs)

    # --- network ip availability -------------------------------------------
    def get_network_ip_availability(self, context, network_id, fields=None):
        return self.availability.get(context, network_id, fields)

    def get_network_ip_availabilities(self, context, **kwargs):
        return self.availability.list(context, **kwargs)

    # --- tags: which row's revision a tag change bumps ----------------------
    def register_tagged_model(self, collection, model):
        """Tag changes on ``collection`` bump the revision of its ``model`` rows (a plugin's
        taggable resources register here in ``initialize``)."""
        self._tagged_models[collection] = model

    def tag_touch(self, collection, resource_id):
        model = self._tagged_models.get(collection)

        def touch(session):
            if model is None:
                return
            row = session.get(model, resource_id)
            if row is not None:
                from netweave.core.services import common
                common.bump_revision(row)
        return touch
