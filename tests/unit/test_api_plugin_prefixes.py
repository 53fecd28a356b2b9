"""A plugin may serve a URL prefix outside /v2.0: the app dispatches it to the plugin's routes only."""
import webob

from netweave.core import context as ctx
from netweave.core.api import app as app_mod
from netweave.core.api import router as router_mod


class _Conf:
    max_request_body_size = 1024


def _app(router):
    return app_mod.ApiApplication(router, definition=None, conf=_Conf())


def _get(app, path):
    request = webob.Request.blank(path)
    request.environ["netweave.context"] = ctx.Context(project_id="p", is_admin=True)
    return request.get_response(app)


def test_a_registered_prefix_reaches_its_routes():
    router = router_mod.Router()
    router.add_prefix("/v2/things")
    router.add_route("/v2/things/(?P<item_id>[^/]+)", {"GET": lambda request, context, item_id: {"id": item_id}})
    response = _get(_app(router), "/v2/things/abc")
    assert response.status_int == 200
    assert response.json == {"id": "abc"}


def test_an_unregistered_prefix_is_404_and_a_prefix_serves_nothing_but_its_routes():
    router = router_mod.Router()
    router.add_prefix("/v2/things")
    app = _app(router)
    assert _get(app, "/v2/other").status_int == 404
    assert _get(app, "/v2/things/a/b").status_int == 404
    # A prefix is matched on path segments: /v2/thingsX is not under /v2/things.
    assert _get(app, "/v2/thingsX").status_int == 404
    assert router.owns("/v2/things") and router.owns("/v2/things/x") and not router.owns("/v2/thingsX")


def test_a_prefix_route_answers_405_for_other_methods():
    router = router_mod.Router()
    router.add_prefix("/v2/things")
    router.add_route("/v2/things", {"GET": lambda request, context: {}})
    request = webob.Request.blank("/v2/things", method="DELETE")
    request.environ["netweave.context"] = ctx.Context(project_id="p", is_admin=True)
    assert request.get_response(_app(router)).status_int == 405


def test_only_the_methods_a_route_names_receive_the_body():
    router = router_mod.Router()
    router.add_prefix("/v2/things")
    router.add_route("/v2/things", {"GET": lambda request, context: {"read": True},
                                    "POST": lambda request, context, body: (201, {"got": body})},
                     body_methods={"POST"})
    app = _app(router)
    posted = webob.Request.blank("/v2/things", method="POST", body=b'{"a": 1}')
    posted.environ["netweave.context"] = ctx.Context(project_id="p", is_admin=True)
    response = posted.get_response(app)
    assert response.status_int == 201 and response.json == {"got": {"a": 1}}
    read = webob.Request.blank("/v2/things", method="GET")
    read.environ["netweave.context"] = ctx.Context(project_id="p", is_admin=True)
    assert read.get_response(app).json == {"read": True}
    assert router.dispatch("POST", "/v2/things").takes_body
    assert not router.dispatch("GET", "/v2/things").takes_body
