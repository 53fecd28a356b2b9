"""The context middlewares: what a request's headers turn into, and who gets a 401."""
import pytest
import webob
import webob.dec
from keystonemiddleware import auth_token
from oslo_config import cfg

from netweave.core import policy
from netweave.core.api import auth
from netweave.core.config import common


@pytest.fixture(autouse=True)
def fresh_enforcer():
    policy.reset()
    yield
    policy.reset()


class ContextRecorder:
    """The wrapped application: remembers the context it was called with."""

    def __init__(self):
        self.context = None

    @webob.dec.wsgify
    def __call__(self, request):
        self.context = request.environ[auth.CONTEXT_ENV_KEY]
        return webob.Response("ok")


def call(middleware_class, headers=None, environ=None):
    recorder = ContextRecorder()
    request = webob.Request.blank("/v2.0/networks", headers=headers or {}, environ=environ or {})
    response = request.get_response(middleware_class(recorder))
    return response, recorder.context


def make_conf(tmp_path, text):
    conf_file = tmp_path / "netweave.conf"
    conf_file.write_text(text)
    conf = cfg.ConfigOpts()
    common.register(conf)
    conf(["--config-file", str(conf_file)], project="netweave", default_config_files=[])
    return conf


# -- noauth ----------------------------------------------------------------------

def test_noauth_without_headers_is_admin_of_the_default_project():
    response, ctx = call(auth.NoAuthContextMiddleware)
    assert response.status_int == 200
    assert ctx.is_admin
    assert ctx.roles == ["admin"]
    assert ctx.project_id == auth.NOAUTH_DEFAULT_PROJECT
    assert ctx.user_id is None


def test_noauth_takes_project_user_and_roles_from_headers():
    _, ctx = call(auth.NoAuthContextMiddleware, {
        "X-Project-Id": "project-a", "X-User-Id": "user-a", "X-Roles": "member, reader,"})
    assert (ctx.project_id, ctx.user_id) == ("project-a", "user-a")
    assert ctx.roles == ["member", "reader"]
    assert not ctx.is_admin
    assert ctx.to_policy_values()["project_id"] == "project-a"


def test_noauth_accepts_the_legacy_tenant_header():
    _, ctx = call(auth.NoAuthContextMiddleware, {"X-Tenant-Id": "project-t", "X-Roles": "member"})
    assert ctx.project_id == "project-t"
    assert ctx.tenant_id == "project-t"


def test_noauth_admin_role_makes_an_admin():
    _, ctx = call(auth.NoAuthContextMiddleware, {"X-Project-Id": "p", "X-Roles": "Admin"})
    assert ctx.is_admin


def test_noauth_empty_roles_header_is_not_admin():
    _, ctx = call(auth.NoAuthContextMiddleware, {"X-Project-Id": "p", "X-Roles": ""})
    assert ctx.roles == []
    assert not ctx.is_admin


def test_request_id_from_outer_middleware_is_kept():
    _, ctx = call(auth.NoAuthContextMiddleware, environ={auth.REQUEST_ID_ENV_KEY: "req-outer"})
    assert ctx.request_id == "req-outer"
    _, other = call(auth.NoAuthContextMiddleware)
    assert other.request_id.startswith("req-") and other.request_id != "req-outer"


# -- keystone ----------------------------------------------------------------------

CONFIRMED = {"X-Identity-Status": "Confirmed", "X-User-Id": "user-a", "X-Project-Id": "project-a",
             "X-Roles": "member", "X-Project-Name": "ProjectA", "X-Auth-Token": "token-a"}


@pytest.mark.parametrize("status", ["Invalid", None])
def test_keystone_without_confirmed_identity_is_401(status):
    headers = dict(CONFIRMED)
    if status is None:
        del headers["X-Identity-Status"]
    else:
        headers["X-Identity-Status"] = status
    response, ctx = call(auth.KeystoneContextMiddleware, headers)
    assert response.status_int == 401
    assert ctx is None
    assert response.json["NeutronError"]["type"] == "Unauthorized"
    assert response.json["NeutronError"]["message"] == "Authentication required"


def test_keystone_without_user_is_401():
    headers = {k: v for k, v in CONFIRMED.items() if k != "X-User-Id"}
    response, _ = call(auth.KeystoneContextMiddleware, headers)
    assert response.status_int == 401


def test_keystone_builds_context_from_auth_token_headers():
    response, ctx = call(auth.KeystoneContextMiddleware, CONFIRMED,
                         environ={auth.REQUEST_ID_ENV_KEY: "req-k"})
    assert response.status_int == 200
    assert (ctx.project_id, ctx.user_id, ctx.roles) == ("project-a", "user-a", ["member"])
    assert ctx.project_name == "ProjectA"
    assert ctx.auth_token == "token-a"
    assert ctx.request_id == "req-k"
    assert not ctx.is_admin


def test_keystone_admin_follows_context_is_admin_from_policy_file(tmp_path):
    (tmp_path / "policy.yaml").write_text('"context_is_admin": "role:cloud-admin"\n')
    conf = make_conf(tmp_path, "[DEFAULT]\n")
    policy.init(conf)
    _, cloud_admin = call(auth.KeystoneContextMiddleware, dict(CONFIRMED, **{"X-Roles": "cloud-admin"}))
    assert cloud_admin.is_admin
    _, plain_admin = call(auth.KeystoneContextMiddleware, dict(CONFIRMED, **{"X-Roles": "admin"}))
    assert not plain_admin.is_admin


# -- wrap_auth ------------------------------------------------------------------------

def test_wrap_auth_noauth(tmp_path):
    conf = make_conf(tmp_path, "[DEFAULT]\nauth_strategy = noauth\n")
    recorder = ContextRecorder()
    app = auth.wrap_auth(recorder, conf)
    assert isinstance(app, auth.NoAuthContextMiddleware)
    webob.Request.blank("/", headers={"X-Project-Id": "p", "X-Roles": "member"}).get_response(app)
    assert recorder.context.project_id == "p"


def test_wrap_auth_keystone_rejects_a_request_without_token(tmp_path):
    conf = make_conf(tmp_path, "[DEFAULT]\nauth_strategy = keystone\n\n[keystone_authtoken]\n"
                               "www_authenticate_uri = http://127.0.0.1:1/v3\n")
    recorder = ContextRecorder()
    app = auth.wrap_auth(recorder, conf)
    assert isinstance(app, auth_token.AuthProtocol)
    # auth_token refuses before asking Keystone anything; nothing listens on port 1.
    response = webob.Request.blank("/v2.0/networks").get_response(app)
    assert response.status_int == 401
    assert recorder.context is None
