"""/v2.0/quotas: defaults, per-project limits and usage (quota_details).

Every resource registered with the QuotaService (the core's and those plugins
register) can be set. A PUT may carry ``force`` or ``check_limit`` (Neutron's
quota-check-limit): a new limit below the project's usage is refused (400)
unless ``force`` is true.
"""
from netweave.core import exceptions as exc
from netweave.core.api import faults
from netweave.core.api import validators as v
from netweave.core.db import api as db_api

PROJECT = r"(?P<project_id>[^/]+)"


class QuotaController:
    def __init__(self, quotas, policy):
        self.quotas = quotas
        self.policy = policy

    def register(self, router):
        router.add_route(r"/v2\.0/quotas", {"GET": self.index})
        router.add_route(r"/v2\.0/quotas/tenant", {"GET": self.tenant})
        router.add_route(r"/v2\.0/quotas/project", {"GET": self.tenant})
        router.add_route(r"/v2\.0/quotas/%s/default" % PROJECT, {"GET": self.defaults})
        router.add_route(r"/v2\.0/quotas/%s/details" % PROJECT, {"GET": self.details})
        router.add_route(r"/v2\.0/quotas/%s" % PROJECT,
                         {"GET": self.show, "PUT": self.update, "DELETE": self.delete}, body_methods={"PUT"})

    def _check_read(self, context, project_id):
        target = {"tenant_id": project_id, "project_id": project_id}
        if not self.policy.check(context, "get_quota", target):
            raise exc.NotAuthorized()

    def _limits(self, project_id):
        with db_api.reader_scope() as session:
            return self.quotas.limits(session, project_id)

    def index(self, request, context):
        self.policy.enforce(context, "get_quota", {"tenant_id": context.project_id})
        if not context.is_admin:
            raise exc.NotAuthorized()
        with db_api.reader_scope() as session:
            projects = self.quotas.projects_with_overrides(session)
            result = []
            for project_id in projects:
                limits = self.quotas.limits(session, project_id)
                result.append(dict(limits, tenant_id=project_id, project_id=project_id))
        return {"quotas": result}

    def tenant(self, request, context):
        return {"tenant": {"tenant_id": context.project_id}, "project": {"id": context.project_id}}

    def show(self, request, context, project_id):
        self._check_read(context, project_id)
        return {"quota": self._limits(project_id)}

    def defaults(self, request, context, project_id):
        self._check_read(context, project_id)
        return {"quota": {name: self.quotas.default_limit(name) for name in self.quotas.countable}}

    def details(self, request, context, project_id):
        self._check_read(context, project_id)
        with db_api.reader_scope() as session:
            limits = self.quotas.limits(session, project_id)
            detail = {name: {"limit": limit, "used": self.quotas.usage(session, project_id, name),
                             "reserved": 0} for name, limit in limits.items()}
        return {"quota": detail}

    def update(self, request, context, project_id, body):
        self.policy.enforce(context, "update_quota", {"tenant_id": project_id})
        values = body.get("quota") if isinstance(body, dict) else None
        if not isinstance(values, dict) or not values:
            raise faults.bad_request("Unable to find 'quota' in request body")
        values = dict(values)
        flags = {}
        for flag in ("force", "check_limit"):
            if flag in values:
                try:
                    flags[flag] = v.boolean(values.pop(flag))
                except v.AttributeInvalid as error:
                    raise faults.bad_request("Invalid input for %s. Reason: %s." % (flag, error))
        if not values:
            raise faults.bad_request("Unable to find 'quota' in request body")
        clean = {}
        for name, limit in values.items():
            if name not in self.quotas.countable:
                raise faults.bad_request("Unrecognized attribute(s) '%s'" % name)
            try:
                clean[name] = v.integer(-1, 2 ** 31 - 1)(limit)
            except v.AttributeInvalid as error:
                raise faults.bad_request("Invalid input for %s. Reason: %s." % (name, error))
        self._store(project_id, clean, check_limit=not flags.get("force", False))
        return {"quota": self._limits(project_id)}

    @db_api.retry_db_errors
    def _store(self, project_id, values, check_limit):
        with db_api.session_scope() as session:
            if check_limit:
                below = self.quotas.first_below_usage(session, project_id, values)
                if below is not None:
                    raise faults.bad_request(
                        "Quota limit %s for %s must be greater than or equal to already used %s"
                        % (below[1], below[0], below[2]))
            self.quotas.update(session, project_id, values)

    def delete(self, request, context, project_id):
        self.policy.enforce(context, "delete_quota", {"tenant_id": project_id})
        with db_api.session_scope() as session:
            self.quotas.delete(session, project_id)
