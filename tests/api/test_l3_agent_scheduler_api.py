"""The l3_agent_scheduler calls over HTTP, without any L3 agent: shapes, 404s and admin-only access."""
import uuid

import pytest
import requests

from harness import ml2_plugin
from harness import router_server as router_server_harness

MEMBER = {"X-Project-Id": "l3-sched-member", "X-Roles": "member"}


@pytest.fixture(scope="module", params=ml2_plugin.BACKENDS)
def router_server(request, tmp_path_factory):
    yield from router_server_harness.serve(request, tmp_path_factory)


def _call(server, method, path, headers=None, **kwargs):
    return requests.request(method, server.url + path, headers=headers or {}, timeout=30, **kwargs)


def test_a_router_without_agents_lists_none_and_unknown_ids_are_404(router_server):
    created = _call(router_server, "POST", "/v2.0/routers", json={"router": {"name": "sched"}})
    assert created.status_code == 201, created.text
    router_id = created.json()["router"]["id"]
    listed = _call(router_server, "GET", "/v2.0/routers/%s/l3-agents" % router_id)
    assert listed.status_code == 200 and listed.json() == {"agents": []}
    missing = _call(router_server, "GET", "/v2.0/routers/%s/l3-agents" % uuid.uuid4())
    assert missing.status_code == 404 and missing.json()["NeutronError"]["type"] == "RouterNotFound"
    no_agent = _call(router_server, "GET", "/v2.0/agents/%s/l3-routers" % uuid.uuid4())
    assert no_agent.status_code == 404, no_agent.text
    bad = _call(router_server, "POST", "/v2.0/agents/%s/l3-routers" % uuid.uuid4(), json={"router_id": None})
    assert bad.status_code == 400 and "router_id" in bad.json()["NeutronError"]["message"]


def test_members_may_not_see_or_change_the_hosting(router_server):
    created = _call(router_server, "POST", "/v2.0/routers", json={"router": {"name": "mine"}}, headers=MEMBER)
    router_id = created.json()["router"]["id"]
    for method, path, body in (("GET", "/v2.0/routers/%s/l3-agents" % router_id, None),
                               ("GET", "/v2.0/agents/%s/l3-routers" % uuid.uuid4(), None),
                               ("POST", "/v2.0/agents/%s/l3-routers" % uuid.uuid4(), {"router_id": router_id}),
                               ("DELETE", "/v2.0/agents/%s/l3-routers/%s" % (uuid.uuid4(), router_id), None)):
        answer = _call(router_server, method, path, headers=MEMBER, json=body)
        assert answer.status_code == 403, (method, path, answer.text)
