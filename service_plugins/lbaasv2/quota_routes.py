"""Octavia's quota API (``/lbaas/quotas``) over the core's per-project limits.

The limits are the ones /v2.0/quotas shows for the resources this plugin registers
(loadbalancer, listener, pool, member, healthmonitor), under Octavia's names: both
spellings Octavia answers with (``load_balancer`` and ``loadbalancer``,
``health_monitor`` and ``healthmonitor``). There are no L7 policies or rules here:
their limits show null and only null is taken. A null limit goes back to the
configured default, as Octavia's unset does. The core's policy rules apply
(get_quota, update_quota, delete_quota); a PUT or DELETE answers 202 as Octavia's.
"""
from netweave.core import exceptions as exc
from netweave.core.api import faults
from netweave.core.api import validators as v
from netweave.core.db import api as db_api
from netweave.service_plugins.lbaasv2 import constants as const

# Octavia's name -> the resource the core's quota service counts.
RESOURCES = {
    "load_balancer": const.LOADBALANCER, "loadbalancer": const.LOADBALANCER, "listener": const.LISTENER,
    "pool": const.POOL, "member": const.MEMBER, "health_monitor": const.HEALTHMONITOR,
    "healthmonitor": const.HEALTHMONITOR,
}
NOT_OFFERED = ("l7policy", "l7rule")
MAX_QUOTA = 2000000000  # Octavia's upper bound


def octavia_view(limits):
    view = {name: limits[resource] for name, resource in RESOURCES.items()}
    view.update(dict.fromkeys(NOT_OFFERED))
    return view


def parse_limits(body):
    """{resource: limit or None} of a PUT body; None means "the default"."""
    values = body.get("quota") if isinstance(body, dict) else None
    if not isinstance(values, dict) or not values:
        raise faults.bad_request("Resource body required: quota")
    unknown = sorted(set(values) - set(RESOURCES) - set(NOT_OFFERED))
    if unknown:
        raise faults.bad_request("Unrecognized attribute(s) '%s'" % ", ".join(unknown))
    limits = {}
    for name, value in values.items():
        if name in NOT_OFFERED:
            if value is not None:
                raise faults.bad_request("Invalid input for %s. Reason: there are no L7 policies or rules "
                                         "here, so no limit but null." % name)
            continue
        try:
            limits[RESOURCES[name]] = None if value is None else v.integer(-1, MAX_QUOTA)(value)
        except v.AttributeInvalid as error:
            raise faults.bad_request("Invalid input for %s. Reason: %s." % (name, error))
    return limits


class QuotaRoutes:
    def __init__(self, quotas, policy):
        self.quotas = quotas  # the core's QuotaService
        self.policy = policy

    def handlers(self):
        """{pattern under the lbaas prefix: {method: handler}} and the methods taking a body."""
        project = "/quotas/(?P<project_id>[^/]+)"
        return [("/quotas", {"GET": self.index}, ()),
                ("/quotas/defaults", {"GET": self.defaults}, ()),
                (project + "/default", {"GET": self.project_defaults}, ()),
                (project, {"GET": self.show, "PUT": self.update, "DELETE": self.reset}, {"PUT"})]

    def _own_limits(self, project_id):
        with db_api.reader_scope() as session:
            limits = self.quotas.limits(session, project_id)
        return {name: limits[name] for name in set(RESOURCES.values())}

    def _check_read(self, context, project_id):
        if not self.policy.check(context, "get_quota", {"tenant_id": project_id, "project_id": project_id}):
            raise exc.NotAuthorized()

    def _defaults(self):
        return octavia_view({name: self.quotas.default_limit(name) for name in set(RESOURCES.values())})

    def index(self, request, context):
        """The projects with limits of their own (an admin's view; others see their own)."""
        with db_api.reader_scope() as session:
            projects = self.quotas.projects_with_overrides(session)
        if not context.is_admin:
            projects = [p for p in projects if p == context.project_id]
        wanted = request.GET.getall("project_id")
        if wanted:
            projects = [p for p in projects if p in wanted]
        quotas = [dict(octavia_view(self._own_limits(p)), project_id=p) for p in projects]
        return 200, {"quotas": quotas, "quotas_links": []}

    def defaults(self, request, context):
        return 200, {"quota": self._defaults()}

    def project_defaults(self, request, context, project_id):
        self._check_read(context, project_id)
        return 200, {"quota": self._defaults()}

    def show(self, request, context, project_id):
        self._check_read(context, project_id)
        return 200, {"quota": octavia_view(self._own_limits(project_id))}

    def update(self, request, context, project_id, body):
        self.policy.enforce(context, "update_quota", {"tenant_id": project_id, "project_id": project_id})
        limits = parse_limits(body)
        with db_api.session_scope() as session:
            self.quotas.update(session, project_id, {k: value for k, value in limits.items() if value is not None})
            defaulted = [name for name, value in limits.items() if value is None]
            if defaulted:
                self.quotas.delete(session, project_id, defaulted)
        return 202, {"quota": octavia_view(self._own_limits(project_id))}

    def reset(self, request, context, project_id):
        self.policy.enforce(context, "delete_quota", {"tenant_id": project_id, "project_id": project_id})
        with db_api.session_scope() as session:
            self.quotas.delete(session, project_id, set(RESOURCES.values()))
        return 202, None
