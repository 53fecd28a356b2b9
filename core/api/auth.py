"""Authentication middlewares: they put the caller's Context in the WSGI environ.

auth_strategy=keystone: keystonemiddleware's auth_token validates the token and
sets the X-* identity headers, then KeystoneContextMiddleware reads them.
auth_strategy=noauth: NoAuthContextMiddleware trusts the X-* headers as sent.
"""
import json

import webob

from netweave.core import context as nw_context
from netweave.core import exceptions, policy

CONTEXT_ENV_KEY = "netweave.context"
# An outer middleware may assign the request id; the context then carries it.
REQUEST_ID_ENV_KEY = "netweave.request_id"
NOAUTH_DEFAULT_PROJECT = "admin"


def _context_overrides(environ):
    request_id = environ.get(REQUEST_ID_ENV_KEY)
    return {"request_id": request_id} if request_id else {}


def _unauthorized(environ, start_response):
    error = exceptions.Unauthorized()
    body = {"NeutronError": {"type": error.type, "message": error.msg, "detail": ""}}
    response = webob.Response(status=error.status, content_type="application/json",
                              charset="UTF-8", body=json.dumps(body).encode("utf-8"))
    return response(environ, start_response)


def _roles_from_header(value):
    return [role.strip() for role in value.split(",") if role.strip()]


def build_noauth_context(environ):
    """Context of a request when nothing is authenticated.

    Neutron gives every such request an admin context. Here the headers may
    narrow it: X-Project-Id (or X-Tenant-Id), X-User-Id and X-Roles. Without an
    X-Roles header the caller is admin; without a project header the project is
    NOAUTH_DEFAULT_PROJECT.
    """
    overrides = _context_overrides(environ)
    roles_header = environ.get("HTTP_X_ROLES")
    if roles_header is None:
        overrides.update(roles=["admin"], is_admin=True)
    else:
        overrides["roles"] = _roles_from_header(roles_header)
    ctx = nw_context.Context.from_environ(environ, **overrides)
    if not ctx.project_id:
        # A client sending no project header (an unmodified CLI with auth type
        # "none") still owns what it creates: the noauth default project.
        ctx.project_id = NOAUTH_DEFAULT_PROJECT
    if roles_header is not None:
        ctx.is_admin = policy.check_is_admin(ctx)
    return ctx


def build_keystone_context(environ):
    """Context from the headers auth_token sets; None when the caller is not authenticated.

    X-Identity-Status is only 'Confirmed' for a valid token; with
    delay_auth_decision auth_token lets other requests through marked 'Invalid'.
    An X-Service-Token that failed validation (X-Service-Identity-Status other
    than 'Confirmed') rejects the request too, as auth_token itself would.
    """
    if environ.get("HTTP_X_IDENTITY_STATUS") != "Confirmed":
        return None
    if environ.get("HTTP_X_SERVICE_IDENTITY_STATUS", "Confirmed") != "Confirmed":
        return None
    ctx = nw_context.Context.from_environ(environ, **_context_overrides(environ))
    if not ctx.user_id:
        return None
    # Admin rights come from the policy's context_is_admin, which policy.yaml may change.
    ctx.is_admin = policy.check_is_admin(ctx)
    return ctx


class NoAuthContextMiddleware:
    """Builds the context from the request headers without authenticating anyone."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        environ[CONTEXT_ENV_KEY] = build_noauth_context(environ)
        return self.application(environ, start_response)


class KeystoneContextMiddleware:
    """Builds the context from keystonemiddleware's headers; 401 without a confirmed identity."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        ctx = build_keystone_context(environ)
        if ctx is None:
            return _unauthorized(environ, start_response)
        environ[CONTEXT_ENV_KEY] = ctx
        return self.application(environ, start_response)


def wrap_auth(app, conf):
    """Put the middlewares of ``conf.auth_strategy`` in front of ``app``.

    keystonemiddleware reads its [keystone_authtoken] options from the same
    ``conf`` object, so one configuration file drives both. auth_token always
    runs with delay_auth_decision: it only marks a request's identity, and
    KeystoneContextMiddleware answers the 401 with a NeutronError body (auth_token
    still adds the WWW-Authenticate header to it).
    """
    policy.init(conf)
    if conf.auth_strategy == "noauth":
        return NoAuthContextMiddleware(app)
    # Imported here so that noauth deployments never load keystonemiddleware.
    from keystonemiddleware import auth_token
    return auth_token.AuthProtocol(KeystoneContextMiddleware(app),
                                   {"oslo_config_config": conf, "delay_auth_decision": True})
