"""An out-of-tree service plugin, plugged in through entry points only.

tests/thirdparty/netweave_example_service is a separate distribution with a
resource of its own (``/v2.0/widgets``: name, project, network, the ``port_id``
of the port each widget owns), its own table and Alembic branch, an API
extension, policy defaults (owner or admin), an option and a BEFORE_DELETE
veto on ports: its widget ports cannot be deleted through the port API (409),
while its own delete of them works. No netweave file names it
(tests/unit/test_plugin_boundaries.py).

The module fixture pip-installs a copy of it into the interpreter running the
tests (offline, as tests/functional/test_thirdparty_driver.py does) and
uninstalls it at teardown. Then ``netweave-db-manage upgrade heads`` migrates
every branch and netweave-server runs with ``service_plugins = example_service``;
the unmodified ``openstack`` CLI and openstacksdk/keystoneauth raw requests use it.
"""
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from harness import processes
from harness import server as server_fixtures
from harness.cli import Cli
from harness.sdk import connect, unique

SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "thirdparty", "netweave_example_service")
DISTRIBUTION = "netweave-example-service"
PORT_NAME_PREFIX = "gadget-"
SEAMS = {
    "netweave.service_plugins": "example_service",
    "netweave.api_extensions": "example-widgets",
    "netweave.db.models": "example_service",
    "netweave.db.migrations": "example_service",
    "oslo.policy.policies": "netweave.example_service",
    "oslo.config.opts": "netweave.example_service",
}

pytestmark = pytest.mark.slow


def _pip(*args):
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)


def _run(argv, **kwargs):
    done = subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=300, **kwargs)
    assert done.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(map(str, argv)), done.stdout, done.stderr)
    return done


@pytest.fixture(scope="module")
def example_service(tmp_path_factory):
    """The example distribution installed in this interpreter's environment."""
    source = str(tmp_path_factory.mktemp("thirdparty") / "netweave_example_service")
    shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    result = _pip("install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", source)
    if result.returncode != 0:
        pytest.fail("pip install of %s failed:\n%s\n%s" % (source, result.stdout, result.stderr))
    try:
        assert importlib.metadata.version(DISTRIBUTION) == "0.1.0"
        yield
    finally:
        removed = _pip("uninstall", "--yes", "--quiet", DISTRIBUTION)
        assert removed.returncode == 0, removed.stderr


def _db_manage(paths, *args):
    config_args = [arg for path in paths for arg in ("--config-file", path)]
    return _run([os.path.join(server_fixtures.BIN_DIR, "netweave-db-manage"), *config_args, *args])


@pytest.fixture(scope="module")
def deployment(example_service, tmp_path_factory):
    """netweave-server with only the example service plugin, after upgrade heads."""
    directory = str(tmp_path_factory.mktemp("example-service-server"))
    port = processes.free_tcp_port()
    extra = textwrap.dedent("""
        [DEFAULT]
        service_plugins = example_service

        [example_service]
        port_name_prefix = %s
        """ % PORT_NAME_PREFIX)
    paths, _state = server_fixtures.write_config(directory, port, extra=extra)
    upgraded = _db_manage(paths, "upgrade", "heads")
    current = _db_manage(paths, "current")
    process = processes.start_process([os.path.join(server_fixtures.BIN_DIR, "netweave-server"),
                                       *[a for p in paths for a in ("--config-file", p)]],
                                      os.path.join(directory, "server.log"))
    url = "http://127.0.0.1:%d" % port
    try:
        process.wait_for_http(url + "/", timeout=60)
        yield {"url": url, "upgraded": upgraded.stdout, "current": current.stdout, "paths": paths}
    finally:
        process.stop()


def _widget_call(conn, method, path, body=None):
    response = conn.network.request("/widgets" + path, method, json=body, raise_exc=False)
    return response.status_code, (response.json() if response.content else None)


@pytest.fixture(scope="module")
def owner(deployment):
    return connect(deployment["url"], project="project-widgets", roles="member")


@pytest.fixture(scope="module")
def stranger(deployment):
    return connect(deployment["url"], project="project-elsewhere", roles="member")


@pytest.fixture(scope="module")
def widget(owner):
    network = owner.network.create_network(name=unique("widget-net"))
    code, body = _widget_call(owner, "POST", "", {"widget": {"name": "w1", "network_id": network.id}})
    assert code == 201, body
    return body["widget"]


def test_every_seam_is_an_entry_point_of_the_package(example_service):
    for group, name in SEAMS.items():
        found = [ep for ep in importlib.metadata.entry_points(group=group, name=name)
                 if ep.dist is not None and ep.dist.metadata["Name"] == DISTRIBUTION]
        assert len(found) == 1, (group, name)


def test_upgrade_heads_runs_the_plugins_branch(deployment):
    revisions = {line for line in deployment["current"].splitlines() if line and " " not in line}
    # Other in-tree plugins (the router) add branches of their own.
    assert {"0008_foreign_key_indexes", "port_security_0006", "example_service_0001"} <= revisions


def test_migrated_schema_equals_the_models_on_both_databases(example_service, tmp_path, postgres_url):
    """With the plugin installed, upgrade heads gives exactly the tables its models and netweave's declare."""
    probe = textwrap.dedent("""\
        import json, sys
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext
        from netweave.core.db import all_models, api, setup
        diffs = {}
        for url in sys.argv[1:]:
            setup.upgrade(url, "heads")
            engine = api.create_engine(url)
            with engine.connect() as connection:
                diffs[engine.dialect.name] = [str(d) for d in compare_metadata(
                    MigrationContext.configure(connection), all_models.metadata)]
                tables = set(connection.dialect.get_table_names(connection))
            engine.dispose()
            assert "example_widgets" in tables and "example_widgets" in all_models.metadata.tables
        print(json.dumps(diffs))
        """)
    done = _run([sys.executable, "-c", probe, "sqlite:///%s" % (tmp_path / "example.db"), postgres_url],
                cwd=str(tmp_path))
    diffs = json.loads(done.stdout.strip().splitlines()[-1])
    assert diffs == {"sqlite": [], "postgresql": []}


def test_openstack_extension_list_shows_it(deployment):
    extensions = Cli(deployment["url"]).json("extension", "list", "--network")
    by_alias = {e["Alias"]: e for e in extensions}
    assert by_alias["example-widgets"]["Name"] == "Example widgets"


def test_service_providers_of_the_plugin_are_listed(deployment, owner):
    listed = Cli(deployment["url"]).json("network", "service", "provider", "list")
    assert sorted((p["Service Type"], p["Name"], p["Default"]) for p in listed) == [
        ("EXAMPLE_WIDGET", "gizmo", True), ("EXAMPLE_WIDGET", "sprocket", False)]
    response = owner.network.get("/service-providers?default=true&fields=name&fields=default")
    assert response.status_code == 200
    assert response.json() == {"service_providers": [{"name": "gizmo", "default": True}]}


def test_widget_create_list_show_and_its_port(owner, widget, deployment):
    assert widget["name"] == "w1" and widget["project_id"] == "project-widgets" and widget["port_id"]
    code, listed = _widget_call(owner, "GET", "")
    assert code == 200 and widget["id"] in [w["id"] for w in listed["widgets"]]
    code, shown = _widget_call(owner, "GET", "/" + widget["id"])
    assert code == 200 and shown["widget"] == widget
    code, renamed = _widget_call(owner, "PUT", "/" + widget["id"], {"widget": {"name": "w1b"}})
    assert code == 200 and renamed["widget"]["name"] == "w1b"
    port = Cli(deployment["url"]).json("port", "show", widget["port_id"])
    # The option from [example_service] names the port; the owner is the plugin's own.
    assert port["name"] == PORT_NAME_PREFIX + "w1"
    assert port["device_owner"] == "example:widget" and port["device_id"] == widget["id"]


def test_bad_widget_input_is_a_clear_4xx(owner):
    code, body = _widget_call(owner, "POST", "", {"widget": {"name": "no-network"}})
    assert code == 400 and "network_id" in body["NeutronError"]["message"]
    code, body = _widget_call(owner, "POST", "", {"widget": {"network_id": "not-a-uuid"}})
    assert code == 400
    code, body = _widget_call(owner, "GET", "/0b4e5b2c-7d10-4a1e-9c55-2f0e3c1a9a01")
    assert code == 404 and body["NeutronError"]["type"] == "WidgetNotFound"


def test_another_project_gets_404(stranger, widget):
    code, body = _widget_call(stranger, "GET", "/" + widget["id"])
    assert code == 404, body
    code, _body = _widget_call(stranger, "DELETE", "/" + widget["id"])
    assert code == 404
    code, listed = _widget_call(stranger, "GET", "")
    assert code == 200 and widget["id"] not in [w["id"] for w in listed["widgets"]]


def test_port_api_cannot_delete_a_widget_port(deployment, owner, widget):
    cli = Cli(deployment["url"])
    stderr = cli.fails("port", "delete", widget["port_id"])
    assert "belongs to widget %s and cannot be deleted directly" % widget["id"] in stderr
    response = owner.network.request("/ports/" + widget["port_id"], "DELETE", raise_exc=False)
    assert response.status_code == 409
    fault = response.json()["NeutronError"]
    assert fault["type"] == "WidgetPortInUse" and widget["port_id"] in fault["message"]
    assert cli.json("port", "show", widget["port_id"])["id"] == widget["port_id"]


def test_deleting_the_widget_deletes_its_port(deployment, owner):
    network = owner.network.create_network(name=unique("widget-net"))
    code, body = _widget_call(owner, "POST", "", {"widget": {"name": "short-lived", "network_id": network.id}})
    assert code == 201, body
    created = body["widget"]
    code, _body = _widget_call(owner, "DELETE", "/" + created["id"])
    assert code == 204
    assert owner.network.request("/ports/" + created["port_id"], "GET", raise_exc=False).status_code == 404
    assert _widget_call(owner, "GET", "/" + created["id"])[0] == 404
    owner.network.delete_network(network.id)  # nothing of the widget is left on it


def test_policy_and_option_samples_include_the_plugin(example_service):
    bin_dir = os.path.dirname(sys.executable)
    policies = _run([os.path.join(bin_dir, "oslopolicy-sample-generator"), "--namespace",
                     "netweave.example_service"]).stdout
    assert '#"get_widget": "rule:admin_or_owner"' in policies
    options = _run([os.path.join(bin_dir, "oslo-config-generator"), "--namespace",
                    "netweave.example_service"]).stdout
    assert "[example_service]" in options and "#port_name_prefix = widget-" in options
