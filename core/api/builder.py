"""Assembling the WSGI pipeline from the loaded plugins and extensions."""
from netweave.core.api import app as app_mod
from netweave.core.api import auth, quotas_controller, tags_controller
from netweave.core.api import controller as controller_mod
from netweave.core.api import extension as extension_mod
from netweave.core.api import router as router_mod
from netweave.core.services import service_providers


class PolicyEngine:
    """The questions the API asks the policy module."""

    def __init__(self, policy_module):
        self._policy = policy_module

    def enforce(self, context, action, target):
        self._policy.enforce(context, action, target)

    def check(self, context, action, target):
        return self._policy.check(context, action, target)

    def decisions(self, context):
        """``check`` for many targets of one request (a list's rows), each rule evaluated
        once per distinct value of what it reads of them."""
        return self._policy.decisions(context)

    def rule_exists(self, action):
        return action in self._policy.init().rules


def _find_plugin(plugins, method):
    for plugin in plugins:
        if hasattr(plugin, method):
            return plugin
    return None


def _reads_with_network_owners(resource, plugin, core_plugin):
    """Keyword arguments of the controller: the core plugin reads ports with their
    networks' owners in the same query (a member's show and page need those owners for
    their policy targets); other items read the owners apart."""
    if resource.collection == "ports" and plugin is core_plugin:
        return {"show_with_network_owner": core_plugin.get_port_with_network_owner,
                "list_with_network_owners": core_plugin.get_ports_with_network_owners}
    return {}


def build_api(conf, core_plugin, service_plugins=()):
    """The bare API application (no middlewares) and its definition."""
    from netweave.core import policy as policy_module
    policy_module.init(conf)
    policy = PolicyEngine(policy_module)
    # The service-type extension answers from what the service plugins declare.
    catalog = service_providers.ServiceProviderCatalog(service_plugins)
    plugins = [core_plugin] + list(service_plugins)
    aliases = list(catalog.supported_extension_aliases)
    for plugin in plugins:
        aliases.extend(plugin.supported_extension_aliases)
    definition = extension_mod.ApiDefinition(aliases)
    router = router_mod.Router()
    controllers = {}
    for collection, resource in definition.resources.items():
        plugin = _find_plugin(plugins + [catalog], "get_%s" % collection)
        if plugin is None:
            continue
        controller = controller_mod.ResourceController(
            resource, plugin, core_plugin, policy, conf, **_reads_with_network_owners(resource, plugin, core_plugin))
        controllers[collection] = controller
        router.add_collection(controller)
        url_name = resource.url_name
        for action, verb in resource.member_actions.items():
            # A member action's GET reads; its other verbs write the body (controller.member_action).
            router.add_member_action(url_name, action, verb, controller.member_action(action, verb),
                                     takes_body=verb != "GET")
    router.tags = tags_controller.TagController(controllers, core_plugin.tags, core_plugin.tag_touch)
    if "quotas" in definition.extensions:
        quotas_controller.QuotaController(core_plugin.quotas, policy).register(router)
    for plugin in plugins:
        plugin.register_routes(router, policy)
    return app_mod.ApiApplication(router, definition, conf), definition


def build_wsgi_app(conf, core_plugin, service_plugins=()):
    api, _definition = build_api(conf, core_plugin, service_plugins)
    pipeline = auth.wrap_auth(api, conf)
    return app_mod.RequestIdMiddleware(app_mod.FaultGuard(pipeline))
