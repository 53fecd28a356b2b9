"""The HTTP surface: Octavia v2 paths under /v2/lbaas and /v2.0/lbaas, one implementation.

Each handler enforces the resource's policy rule on the resource itself (a
hidden resource is a 404 before any 403), parses the body with schemas.py and
answers with Octavia's envelopes: ``{"loadbalancer": {...}}``,
``{"loadbalancers": [...], "loadbalancers_links": []}``. An error keeps
Neutron's ``NeutronError`` and also carries Octavia's ``faultcode``,
``faultstring`` and ``debuginfo``: the message octaviaclient prints is the
``faultstring``.
"""
import functools
import json

from netweave.core.api import faults
from netweave.service_plugins.lbaasv2 import constants as const
from netweave.service_plugins.lbaasv2 import models, schemas
from netweave.service_plugins.lbaasv2.quota_routes import QuotaRoutes

OCTAVIA_ROOT = "/v2"
PREFIXES = ("/v2/lbaas", "/v2.0/lbaas")
_ID = r"(?P<item_id>[^/]+)"

# collection -> (member key, model, schema)
_RESOURCES = {
    "loadbalancers": ("loadbalancer", models.LoadBalancer, schemas.LOADBALANCER),
    "listeners": ("listener", models.Listener, schemas.LISTENER),
    "pools": ("pool", models.Pool, schemas.POOL),
    "healthmonitors": ("healthmonitor", models.HealthMonitor, schemas.HEALTHMONITOR),
}


def octavia_fault(status, neutron_body):
    """Neutron's error body with Octavia's fault keys beside it."""
    error = neutron_body["NeutronError"]
    return dict(neutron_body, faultcode="Client" if status < 500 else "Server",
                faultstring=error["message"], debuginfo=None)


def _with_octavia_faults(handler):
    @functools.wraps(handler)
    def wrapped(request, context, **kwargs):
        try:
            return handler(request, context, **kwargs)
        except Exception as error:  # noqa: BLE001 - shaped as the core shapes every error
            response = faults.to_response(error)
            return response.status_code, octavia_fault(response.status_code, json.loads(response.text))
    return wrapped


def _octavia(handlers):
    return {method: _with_octavia_faults(handler) for method, handler in handlers.items()}


def _filters(request):
    filters = {}
    for key, value in request.GET.items():
        if key in ("fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse", "cascade"):
            continue
        filters.setdefault(key, []).append(value)
    return filters


class Routes:
    def __init__(self, service, policy, agents, quotas):
        self.service = service
        self.policy = policy
        self.agents = agents  # the core's AgentService
        self.quota_routes = QuotaRoutes(quotas, policy)

    def register(self, router):
        # Octavia's version document, which clients discover the load-balancer endpoint by.
        router.add_prefix(OCTAVIA_ROOT)
        router.add_route(OCTAVIA_ROOT, {"GET": self._version})
        router.add_route("/v2.0/agents/(?P<agent_id>[^/]+)/agent-loadbalancers", {"GET": self._agent_loadbalancers})
        for prefix in PREFIXES:
            router.add_prefix(prefix)
            self._register_under(router, prefix)

    def _register_under(self, router, prefix):
        def add(pattern, handlers, body_methods=()):
            router.add_route(prefix + pattern, _octavia(handlers), body_methods=body_methods)

        for collection, (member, model, schema) in _RESOURCES.items():
            base = "/" + collection
            add(base, {"GET": self._index(collection, member, model), "POST": self._create(member, schema)},
                body_methods={"POST"})
            add(base + "/" + _ID, {"GET": self._show(member, model), "PUT": self._update(member, model, schema),
                                   "DELETE": self._delete(member, model)}, body_methods={"PUT"})
        lb = "/loadbalancers/" + _ID
        add(lb + "/(status|statuses)", {"GET": self._status})
        add(lb + "/loadbalancer-hosting-agent", {"GET": self._hosting_agent})
        add(lb + "/stats", {"GET": self._stats})
        add("/listeners/" + _ID + "/stats", {"GET": self._listener_stats})
        add("/providers", {"GET": self._providers})
        # No flavors or availability zones are defined: empty lists, so a name the CLI looks up
        # is "not found" rather than the whole path.
        add("/flavors", {"GET": lambda request, context: (200, {"flavors": [], "flavors_links": []})})
        add("/availabilityzones", {"GET": lambda request, context: (
            200, {"availability_zones": [], "availability_zones_links": []})})
        for pattern, handlers, body_methods in self.quota_routes.handlers():
            add(pattern, handlers, body_methods)
        members = "/pools/(?P<pool_id>[^/]+)/members"
        add(members, {"GET": self._member_index, "POST": self._member_create}, body_methods={"POST"})
        add(members + "/" + _ID, {"GET": self._member_show, "PUT": self._member_update,
                                  "DELETE": self._member_delete}, body_methods={"PUT"})

    @staticmethod
    def _version(request, context):
        return 200, {"version": {"id": "v2.0", "status": "CURRENT",
                                 "links": [{"href": request.host_url + OCTAVIA_ROOT + "/", "rel": "self"}]}}

    @staticmethod
    def _providers(request, context):
        # The one provider load balancers are created with (Octavia: GET /v2/lbaas/providers).
        return 200, {"providers": [{"name": const.PROVIDER,
                                    "description": "haproxy in a namespace, deployed by a Loadbalancerv2 agent"}]}

    # --- generic resources -----------------------------------------------------

    def _index(self, collection, member, model):
        def handler(request, context):
            items = self.service.list(context, model, _filters(request))
            items = [i for i in items if self.policy.check(context, "get_" + member, i)]
            return 200, {collection: items, collection + "_links": []}
        return handler

    def _create(self, member, schema):
        def handler(request, context, body):
            data = schemas.parse(schema, body, member, creating=True)
            target = dict(data, project_id=data.get("project_id") or data.get("tenant_id") or context.project_id)
            target["tenant_id"] = target["project_id"]
            self.policy.enforce(context, "create_" + member, target)
            return 201, {member: getattr(self.service, "create_" + member)(context, data)}
        return handler

    def _show(self, member, model):
        def handler(request, context, item_id):
            item = self.service.show(context, model, item_id)
            self.policy.enforce(context, "get_" + member, item)
            return 200, {member: item}
        return handler

    def _update(self, member, model, schema):
        def handler(request, context, item_id, body):
            self.policy.enforce(context, "update_" + member, self.service.show(context, model, item_id))
            data = schemas.parse(schema, body, member, creating=False)
            return 200, {member: getattr(self.service, "update_" + member)(context, item_id, data)}
        return handler

    def _delete(self, member, model):
        def handler(request, context, item_id):
            self.policy.enforce(context, "delete_" + member, self.service.show(context, model, item_id))
            if model is models.LoadBalancer:
                cascade = request.GET.get("cascade", "false").lower() in ("true", "1", "yes")
                self.service.delete_loadbalancer(context, item_id, cascade)
            else:
                self.service.delete_child(context, model, item_id)
            return 204, None
        return handler

    # --- load balancer and listener extras -------------------------------------

    def _status(self, request, context, item_id):
        lb = self.service.show(context, models.LoadBalancer, item_id)
        self.policy.enforce(context, "get_loadbalancer_status", lb)
        return 200, {"statuses": self.service.status(context, item_id)}

    def _stats(self, request, context, item_id):
        lb = self.service.show(context, models.LoadBalancer, item_id)
        self.policy.enforce(context, "get_loadbalancer_stats", lb)
        return 200, {"stats": self.service.stats(context, item_id)}

    def _listener_stats(self, request, context, item_id):
        listener = self.service.show(context, models.Listener, item_id)
        self.policy.enforce(context, "get_listener_stats", listener)
        return 200, {"stats": self.service.listener_stats(context, item_id)}

    # --- the agent scheduler extension (admin only, as Neutron's policy has it) ------------

    def _hosting_agent(self, request, context, item_id):
        lb = self.service.show(context, models.LoadBalancer, item_id)
        self.policy.enforce(context, "get_loadbalancer_hosting_agent", lb)
        agent_id = self.service.agent_of(item_id)
        return 200, {"agent": self.agents.get(context, agent_id) if agent_id else None}

    def _agent_loadbalancers(self, request, context, agent_id):
        agent = self.agents.get(context, agent_id)
        self.policy.enforce(context, "get_loadbalancers_on_agent", agent)
        return 200, {"loadbalancers": self.service.loadbalancers_of_agent(context, agent_id)}

    # --- members ---------------------------------------------------------------

    def _member_index(self, request, context, pool_id):
        items = self.service.list(context, models.Member, _filters(request), pool_id=pool_id)
        items = [i for i in items if self.policy.check(context, "get_member", i)]
        return 200, {"members": items, "members_links": []}

    def _member_create(self, request, context, pool_id, body):
        data = schemas.parse(schemas.MEMBER, body, "member", creating=True)
        self.policy.enforce(context, "get_pool", self.service.show(context, models.Pool, pool_id))
        target = dict(data, project_id=data.get("project_id") or data.get("tenant_id") or context.project_id)
        self.policy.enforce(context, "create_member", target)
        return 201, {"member": self.service.create_member(context, pool_id, data)}

    def _member_show(self, request, context, pool_id, item_id):
        item = self.service.show_member(context, pool_id, item_id)
        self.policy.enforce(context, "get_member", item)
        return 200, {"member": item}

    def _member_update(self, request, context, pool_id, item_id, body):
        self.policy.enforce(context, "update_member", self.service.show_member(context, pool_id, item_id))
        data = schemas.parse(schemas.MEMBER, body, "member", creating=False)
        return 200, {"member": self.service.update_member(context, pool_id, item_id, data)}

    def _member_delete(self, request, context, pool_id, item_id):
        self.policy.enforce(context, "delete_member", self.service.show_member(context, pool_id, item_id))
        self.service.delete_member(context, pool_id, item_id)
        return 204, None
