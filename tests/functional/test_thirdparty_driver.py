"""Out-of-tree mechanism drivers, and what netweave-server does with unknown plug-in names.

tests/thirdparty/netweave_example_driver is a separate distribution that only
declares an entry point in ``netweave.ml2.mechanism_drivers``. The module
fixture pip-installs a copy of it into the interpreter running the tests
(``--no-deps --no-build-isolation --no-index``: offline, about two seconds,
with the setuptools the test requirements bring) and uninstalls it at
teardown. netweave-server, started from that same environment with
``mechanism_drivers = example_recorder``, must find it like any built-in driver.
"""
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import requests

from harness import processes
from harness import server as server_fixtures

DRIVER_SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "thirdparty", "netweave_example_driver")
DISTRIBUTION = "netweave-example-driver"
LOG_ENV = "NETWEAVE_EXAMPLE_DRIVER_LOG"
ADMIN = {"X-Project-Id": "p-thirdparty"}

pytestmark = pytest.mark.slow


def _pip(*args):
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def example_driver(tmp_path_factory):
    """The example distribution installed in this interpreter's environment."""
    # Build from a copy: an in-tree build would leave build/ and *.egg-info in tests/.
    source = str(tmp_path_factory.mktemp("thirdparty") / "netweave_example_driver")
    shutil.copytree(DRIVER_SOURCE, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    started = time.monotonic()
    result = _pip("install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", source)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        pytest.fail("pip install of %s failed (setuptools>=70.1 is needed to build wheels without "
                    "isolation):\n%s\n%s" % (source, result.stdout, result.stderr))
    try:
        assert importlib.metadata.version(DISTRIBUTION) == "0.1.0"
        yield {"install_seconds": elapsed}
    finally:
        removed = _pip("uninstall", "--yes", "--quiet", DISTRIBUTION)
        assert removed.returncode == 0, removed.stderr


@pytest.fixture(scope="module")
def recorder(example_driver, tmp_path_factory):
    """netweave-server with only the example driver; yields (server, path of the driver's log)."""
    directory = tmp_path_factory.mktemp("recorder-server")
    log_path = str(directory / "driver-calls.jsonl")
    server = server_fixtures.start_server(str(directory), ml2={"mechanism_drivers": "example_recorder"},
                                          env={LOG_ENV: log_path})
    yield server, log_path
    server.stop()


@pytest.fixture(scope="module")
def api(recorder):
    server, _log = recorder
    session = requests.Session()
    session.trust_env = False  # no proxy for 127.0.0.1
    session.headers.update(ADMIN)

    def call(method, path, body=None, expect=None):
        response = session.request(method, server.url + "/v2.0" + path, json=body, timeout=30)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response.json() if response.content else None
    return call


def _calls(log_path):
    with open(log_path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _events_for(log_path, resource_id):
    return [c["event"] for c in _calls(log_path) if c.get("id") == resource_id]


def _binds_for(log_path, port_id):
    return [c for c in _calls(log_path) if c["event"] == "bind_port" and c["id"] == port_id]


def test_install_is_quick_and_registers_the_entry_point(example_driver):
    names = {ep.name for ep in importlib.metadata.entry_points(group="netweave.ml2.mechanism_drivers")}
    assert "example_recorder" in names
    assert example_driver["install_seconds"] < 60


def test_server_initializes_the_driver(recorder):
    _server, log_path = recorder
    # The master process loads the plug-ins once, then every worker loads its own.
    assert [c["event"] for c in _calls(log_path)].count("initialize") >= 2


def test_network_and_port_calls_are_recorded(recorder, api):
    _server, log_path = recorder
    network = api("POST", "/networks", {"network": {"name": "recorded"}}, expect=201)["network"]
    assert _events_for(log_path, network["id"]) == ["create_network_precommit", "create_network_postcommit"]

    api("PUT", "/networks/" + network["id"], {"network": {"name": "renamed"}}, expect=200)
    assert _events_for(log_path, network["id"])[2:] == ["update_network_precommit",
                                                        "update_network_postcommit"]

    subnet = api("POST", "/subnets", {"subnet": {"network_id": network["id"], "ip_version": 4,
                                                 "cidr": "10.20.0.0/24"}}, expect=201)["subnet"]
    assert _events_for(log_path, subnet["id"]) == ["create_subnet_precommit", "create_subnet_postcommit"]

    port = api("POST", "/ports", {"port": {"network_id": network["id"]}}, expect=201)["port"]
    assert _events_for(log_path, port["id"]) == ["create_port_precommit", "create_port_postcommit"]
    assert port["binding:vif_type"] == "unbound"  # no host: nothing to bind

    api("DELETE", "/ports/" + port["id"], expect=204)
    assert _events_for(log_path, port["id"])[2:] == ["delete_port_precommit", "delete_port_postcommit"]
    api("DELETE", "/subnets/" + subnet["id"], expect=204)
    api("DELETE", "/networks/" + network["id"], expect=204)
    assert _events_for(log_path, network["id"])[-2:] == ["delete_network_precommit",
                                                         "delete_network_postcommit"]


def test_port_on_example_host_is_bound(recorder, api):
    _server, log_path = recorder
    network = api("POST", "/networks", {"network": {"name": "bind-me"}}, expect=201)["network"]
    assert network["provider:network_type"] == "vxlan"
    port = api("POST", "/ports", {"port": {"network_id": network["id"],
                                           "binding:host_id": "example-host-1"}}, expect=201)["port"]
    assert port["binding:host_id"] == "example-host-1"
    assert port["binding:vif_type"] == "example"
    assert port["binding:vif_details"] == {"port_filter": True}
    shown = api("GET", "/ports/" + port["id"], expect=200)["port"]
    assert (shown["binding:vif_type"], shown["binding:vif_details"]) == ("example", {"port_filter": True})

    assert _events_for(log_path, port["id"]) == ["create_port_precommit", "create_port_postcommit",
                                                 "bind_port"]
    (bind,) = _binds_for(log_path, port["id"])
    assert bind["host"] == "example-host-1"
    assert [(s["network_type"], s["segmentation_id"]) for s in bind["segments"]] == [
        ("vxlan", network["provider:segmentation_id"])]
    assert bind["bound_segment"] == bind["segments"][0]["id"]


def test_port_on_other_host_fails_to_bind(recorder, api):
    _server, log_path = recorder
    network = api("POST", "/networks", {"network": {"name": "elsewhere"}}, expect=201)["network"]
    port = api("POST", "/ports", {"port": {"network_id": network["id"],
                                           "binding:host_id": "other-host"}}, expect=201)["port"]
    assert port["binding:vif_type"] == "binding_failed"
    assert port["binding:vif_details"] == {}
    (bind,) = _binds_for(log_path, port["id"])
    assert bind["host"] == "other-host" and bind["bound_segment"] is None


def test_segment_types_the_driver_does_not_wire_stay_unbound(recorder, api):
    _server, log_path = recorder
    network = api("POST", "/networks", {"network": {"name": "gre-net", "provider:network_type": "gre"}},
                  expect=201)["network"]
    port = api("POST", "/ports", {"port": {"network_id": network["id"],
                                           "binding:host_id": "example-host-1"}}, expect=201)["port"]
    assert port["binding:vif_type"] == "binding_failed"
    (bind,) = _binds_for(log_path, port["id"])
    assert [s["network_type"] for s in bind["segments"]] == ["gre"]


def test_flat_and_vlan_segments_bind(recorder, api):
    for provider in ({"provider:network_type": "flat", "provider:physical_network": "physnet1"},
                     {"provider:network_type": "vlan", "provider:physical_network": "physnet1"}):
        body = {"network": dict(provider, name="provider")}
        network = api("POST", "/networks", body, expect=201)["network"]
        port = api("POST", "/ports", {"port": {"network_id": network["id"],
                                               "binding:host_id": "example-host-7"}}, expect=201)["port"]
        assert port["binding:vif_type"] == "example", provider


def test_changing_the_host_rebinds(recorder, api):
    _server, log_path = recorder
    network = api("POST", "/networks", {"network": {"name": "moving"}}, expect=201)["network"]
    port = api("POST", "/ports", {"port": {"network_id": network["id"],
                                           "binding:host_id": "other-host"}}, expect=201)["port"]
    assert port["binding:vif_type"] == "binding_failed"

    moved = api("PUT", "/ports/" + port["id"], {"port": {"binding:host_id": "example-host-2"}},
                expect=200)["port"]
    assert moved["binding:host_id"] == "example-host-2"
    assert (moved["binding:vif_type"], moved["binding:vif_details"]) == ("example", {"port_filter": True})

    back = api("PUT", "/ports/" + port["id"], {"port": {"binding:host_id": "other-host"}}, expect=200)["port"]
    assert back["binding:vif_type"] == "binding_failed"
    assert back["binding:vif_details"] == {}

    assert [b["host"] for b in _binds_for(log_path, port["id"])] == ["other-host", "example-host-2",
                                                                      "other-host"]
    assert _events_for(log_path, port["id"]).count("update_port_postcommit") == 2

    cleared = api("PUT", "/ports/" + port["id"], {"port": {"binding:host_id": ""}}, expect=200)["port"]
    assert cleared["binding:vif_type"] == "unbound"
    assert len(_binds_for(log_path, port["id"])) == 3  # no host, no binding attempt


# --- unknown plug-in names --------------------------------------------------------------------------


def _failed_start(directory, ml2=None, extra=""):
    """Run netweave-server with a bad plug-in name; return (exit code, its output)."""
    paths, _state = server_fixtures.write_config(str(directory), processes.free_tcp_port(), ml2=ml2,
                                                 extra=extra)
    config_args = [arg for path in paths for arg in ("--config-file", path)]
    subprocess.run([os.path.join(server_fixtures.BIN_DIR, "netweave-db-manage"), *config_args,
                    "upgrade", "heads"], check=True, capture_output=True, timeout=120)
    process = processes.start_process([os.path.join(server_fixtures.BIN_DIR, "netweave-server"),
                                       *config_args], str(directory / "server.log"))
    try:
        code = process.popen.wait(timeout=60)
    finally:
        process.stop()
    with open(process.log_path, encoding="utf-8", errors="replace") as handle:
        return code, handle.read()


def _error_line(output):
    lines = [line for line in output.splitlines() if line.startswith("netweave: ")]
    assert lines, output
    return lines[-1]


def _installed(message):
    """The names after 'installed: ' in a loading error."""
    listed = message.split("installed: ", 1)[1].split(" (entry point group", 1)[0]
    return {name.strip() for name in listed.split(",")}


def test_unknown_mechanism_driver_stops_the_server(example_driver, tmp_path):
    code, output = _failed_start(tmp_path, ml2={"mechanism_drivers": "nosuchdriver"})
    assert code != 0
    message = _error_line(output)
    assert "mechanism driver 'nosuchdriver'" in message
    # The installed drivers are listed, third-party ones included.
    assert "example_recorder" in _installed(message)
    assert "netweave.ml2.mechanism_drivers" in message


def test_unknown_type_driver_stops_the_server(tmp_path):
    code, output = _failed_start(tmp_path, ml2={"type_drivers": "local,vxlan,nosuchtype"})
    assert code != 0
    message = _error_line(output)
    assert "type driver 'nosuchtype'" in message
    assert {"flat", "geneve", "gre", "local", "vlan", "vxlan"} <= _installed(message)
    assert "netweave.ml2.type_drivers" in message


def test_unknown_service_plugin_stops_the_server(tmp_path):
    # write_config's file ends in [database]; the option belongs to [DEFAULT].
    code, output = _failed_start(tmp_path, extra="\n[DEFAULT]\nservice_plugins = nosuchplugin\n")
    assert code != 0
    message = _error_line(output)
    assert "service plugin 'nosuchplugin'" in message
    assert "installed: " in message and "netweave.service_plugins" in message
