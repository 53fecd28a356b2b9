"""The Keystone harness: real tokens for the admin and a member, checked by Keystone itself,
and accepted by netweave's keystone pipeline (keystonemiddleware + context middleware)."""
import textwrap

import pytest
import webob
import webob.dec
from oslo_config import cfg

from netweave.core import policy
from netweave.core.api import auth
from netweave.core.config import common

pytestmark = pytest.mark.slow


def token_details(server, token):
    """Keystone's own view of a token (GET /v3/auth/tokens)."""
    response = server.admin_session.get(server.auth_url + "/auth/tokens",
                                        headers={"X-Subject-Token": token})
    return response.json()["token"]


def test_admin_gets_a_project_token(keystone_server):
    token = keystone_server.get_token(keystone_server.admin_username, keystone_server.admin_password,
                                      project_name=keystone_server.admin_project_name)
    details = token_details(keystone_server, token)
    assert details["project"]["name"] == "admin"
    assert "admin" in {role["name"] for role in details["roles"]}
    catalog_types = {service["type"] for service in details["catalog"]}
    assert "identity" in catalog_types


def test_member_user_gets_a_project_token(keystone_server):
    ids = keystone_server.create_project_user("ProjectA", "UserA", "secrete")
    token = keystone_server.get_token("UserA", "secrete", project_name="ProjectA")
    details = token_details(keystone_server, token)
    assert details["project"]["id"] == ids["project_id"]
    assert details["user"]["id"] == ids["user_id"]
    roles = {role["name"] for role in details["roles"]}
    assert "member" in roles and "admin" not in roles


@pytest.fixture(scope="module")
def keystone_pipeline(keystone_server, tmp_path_factory):
    """wrap_auth's keystone pipeline around an app that returns the caller's context."""
    keystone_server.create_service_user("netweave", "service-secret")
    options = keystone_server.authtoken_options("netweave", "service-secret")
    conf_file = tmp_path_factory.mktemp("netweave-conf") / "netweave.conf"
    conf_file.write_text("[DEFAULT]\nauth_strategy = keystone\n\n[keystone_authtoken]\n"
                         + textwrap.dedent("".join("%s = %s\n" % item for item in options.items())))
    conf = cfg.ConfigOpts()
    common.register(conf)
    conf(["--config-file", str(conf_file)], project="netweave", default_config_files=[])
    policy.reset()

    @webob.dec.wsgify
    def echo_context(request):
        ctx = request.environ[auth.CONTEXT_ENV_KEY]
        return webob.Response(json={"project_id": ctx.project_id, "user_id": ctx.user_id,
                                    "roles": sorted(ctx.roles), "is_admin": ctx.is_admin})

    yield auth.wrap_auth(echo_context, conf)
    policy.reset()


def test_keystone_pipeline_builds_context_from_a_real_token(keystone_server, keystone_pipeline):
    ids = keystone_server.create_project_user("ProjectB", "UserB", "secrete")
    token = keystone_server.get_token("UserB", "secrete", project_name="ProjectB")
    response = webob.Request.blank("/v2.0/networks", headers={"X-Auth-Token": token}).get_response(
        keystone_pipeline)
    assert response.status_int == 200
    assert response.json["project_id"] == ids["project_id"]
    assert response.json["user_id"] == ids["user_id"]
    assert "member" in response.json["roles"]
    assert response.json["is_admin"] is False


def test_keystone_pipeline_rejects_a_forged_token(keystone_pipeline):
    response = webob.Request.blank("/v2.0/networks", headers={"X-Auth-Token": "not-a-token"}).get_response(
        keystone_pipeline)
    assert response.status_int == 401
