"""The contract between the server and a service plugin.

A service plugin is a class named by an entry point in ``netweave.service_plugins``
and listed in ``[DEFAULT] service_plugins``. The server builds it with no
arguments, then calls, in this order and each exactly once per process:

  initialize(core)            core is the loaded core plugin; its services
                              (``events``, ``quotas``, ``networks``, ``subnets``,
                              ``ports``, ``agents``, ``provisioning``, ``rbac``,
                              ``extenders``: attributes added to others' resources,
                              ``placement``: the agent schedulers' placement policy)
                              and ``register_tagged_model`` are what a plugin may use.
                              Subscribe to resource events here.
  connect_agents(transport)   only when a message transport is configured:
                              from now on the plugin may cast to its agents.
  rpc_endpoints()             in processes that serve agent RPC.
  register_routes(router, policy)
                              in API processes, for calls the declarative
                              resources do not cover (member actions with
                              their own bodies, sub-collections).

For each resource of its API extensions (declared through the
``netweave.api_extensions`` entry points and listed in
``supported_extension_aliases``) the plugin offers Neutron's method names:
``create_<member>``, ``update_<member>``, ``delete_<member>``,
``get_<member>`` and ``get_<collection>`` (optionally
``create_<member>_bulk``). The core plugin also offers
``get_port_with_network_owner(context, id, fields)`` returning the port and
the owner of its network, or None when the caller does not see that network:
a member's show of a port then needs no second read for its policy target.

A plugin whose service has providers (drivers an operator picks per resource,
Neutron's ``[service_providers]``) returns them from ``service_providers()``;
``GET /v2.0/service-providers`` (the ``service-type`` extension, always
served) lists those of every loaded plugin.
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class ServiceProvider:
    """One provider of a service: ``service_type`` is Neutron's type name
    (``L3_ROUTER_NAT``, ``LOADBALANCERV2``...), ``default`` whether resources
    that name no provider get this one."""
    service_type: str
    name: str
    default: bool = False

    def to_dict(self):
        return {"service_type": self.service_type, "name": self.name, "default": self.default}


class ServicePlugin:
    """Base class: every hook is optional and does nothing by default."""

    # API extension aliases this plugin serves.
    supported_extension_aliases = ()

    def initialize(self, core):
        """Hook into the core plugin (events, quotas, services)."""

    def connect_agents(self, transport):
        """Start sending casts to this plugin's agents over ``transport``."""

    def rpc_endpoints(self):
        """{topic: [endpoint objects]} served to agents; empty when the plugin has none."""
        return {}

    def register_routes(self, router, policy):
        """Add custom routes to the API router: ``router.add_route(pattern, {method: handler},
        body_methods={...})``, where the handlers of ``body_methods`` receive the parsed JSON
        request body as their ``body`` keyword (see core/api/router.py)."""

    def service_providers(self):
        """The ServiceProvider entries this plugin offers (read once, when the API is built)."""
        return ()
