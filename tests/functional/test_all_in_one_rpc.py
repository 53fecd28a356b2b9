"""netweave-all-in-one serves the agents' RPC in its own process, on the in-process transport.

The all-in-one's assembly (``all_in_one.build``) runs in a child interpreter,
so its global configuration stays out of the test process. In that child an
agent reports its state, asks about devices and listens to fanout
notifications, all over ``fake://``; the API, called through the same WSGI
application the all-in-one serves, shows the agent.
"""
import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""\
    import json, sys, time, queue
    import webob
    from netweave.core import context
    from netweave.core.agent import notifications, rpc, state_reporter
    from netweave.core.cmd import all_in_one
    from netweave.core.db import setup as db_setup
    from netweave.core.rpc import transport

    conf = all_in_one.build_conf(all_in_one._parse(["--state-path", sys.argv[1]]))
    db_setup.upgrade(db_setup.database_url(conf))
    app, servers = all_in_one.build(conf)
    out = {"transport_url": conf.transport_url}
    bus = transport.get_transport(conf)
    ctx = context.get_admin_context()
    state = {"agent_type": "Linux bridge agent", "binary": "netweave-linuxbridge-agent", "host": "aio-host",
             "topic": "q-agent-notifier", "configurations": {"bridge_mappings": {}}}
    reporter = state_reporter.StateReporter(rpc.StateReportApi(bus), ctx, lambda: state, 30)
    out["reports"] = [reporter.report_once(), reporter.report_once()]

    received = queue.Queue()

    class Endpoints:
        def network_update(self, context, network=None, **kwargs):
            received.put(("network_update", network["id"], network["admin_state_up"]))

        def network_delete(self, context, network_id=None, **kwargs):
            received.put(("network_delete", network_id))

    consumers = notifications.create_consumers(bus, "aio-host", [Endpoints()])
    consumers.start()

    def call(method, path, body=None, headers=None):
        request = webob.Request.blank("/v2.0" + path, method=method, headers=headers or {})
        if body is not None:
            request.json_body = body
        response = request.get_response(app)
        return response.status_int, (response.json_body if response.body else None)

    out["agents"] = call("GET", "/agents")[1]["agents"]
    agent_id = out["agents"][0]["id"]
    member = {"X-Project-Id": "p-member", "X-Roles": "member"}
    out["member_list"] = call("GET", "/agents", headers=member)
    out["member_show"] = call("GET", "/agents/" + agent_id, headers=member)[0]
    out["alive_filter"] = [len(call("GET", "/agents?alive=" + v)[1]["agents"]) for v in ("true", "false")]
    out["post"] = call("POST", "/agents", {"agent": {}})[0]
    out["put_host"] = call("PUT", "/agents/" + agent_id, {"agent": {"host": "elsewhere"}})[0]
    out["put_description"] = call("PUT", "/agents/" + agent_id, {"agent": {"description": "rack 4"}})
    out["extension"] = call("GET", "/extensions/agent")[1]
    network = call("POST", "/networks", {"network": {"name": "aio"}})[1]["network"]
    call("PUT", "/networks/" + network["id"], {"network": {"admin_state_up": False}})
    call("DELETE", "/networks/" + network["id"])
    out["received"] = [received.get(timeout=10), received.get(timeout=10)]
    out["network_id"] = network["id"]
    api = rpc.PluginApi(bus)
    out["unknown_down"] = api.update_device_down(ctx, "tap00000000-00", "lb01", "aio-host")
    out["tunnels"] = api.tunnel_sync(ctx, "192.0.2.50", "vxlan", "aio-host")
    consumers.stop()
    servers.stop()
    transport.cleanup()
    print(json.dumps(out))
    """)


@pytest.fixture(scope="module")
def aio_agent_run(tmp_path_factory):
    """What the child printed: one run serves every test of this module."""
    folder = tmp_path_factory.mktemp("aio-rpc")
    script = folder / "aio_agent.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(folder / "state")], capture_output=True,
                          text=True, timeout=120, cwd=str(folder))
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_all_in_one_serves_agents_in_process(aio_agent_run):
    out = aio_agent_run
    assert out["transport_url"] == "fake://"
    assert out["reports"] == ["new", "alive"]
    (agent,) = out["agents"]
    assert (agent["agent_type"], agent["host"], agent["alive"], agent["admin_state_up"]) == (
        "Linux bridge agent", "aio-host", True, True)
    assert agent["configurations"] == {"bridge_mappings": {}}
    # Two topics, two consumers: nothing orders one against the other.
    assert sorted(out["received"]) == [["network_delete", out["network_id"]],
                                       ["network_update", out["network_id"], False]]
    assert out["unknown_down"] == {"device": "tap00000000-00", "exists": False}
    assert out["tunnels"] == {"tunnels": [{"ip_address": "192.0.2.50", "host": "aio-host"}]}


def test_agent_api_rules(aio_agent_run):
    out = aio_agent_run
    # Agents are for administrators: others see none, as in Neutron.
    assert out["member_list"] == [200, {"agents": []}]
    assert out["member_show"] == 404
    assert out["alive_filter"] == [1, 0]
    assert out["post"] == 400 and out["put_host"] == 400
    status, body = out["put_description"]
    assert status == 200 and body["agent"]["description"] == "rack 4"
    assert out["extension"]["extension"]["name"] == "agent"
    assert out["extension"]["extension"]["description"] == "The agent management extension."
