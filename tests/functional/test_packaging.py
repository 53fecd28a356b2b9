"""A wheel of netweave holds the ``netweave`` package, and works when installed normally.

The wheel is built from a copy of the work tree (an in-tree build would leave
build/ and egg-info behind) with ``pip wheel --no-deps --no-build-isolation
--no-index``: offline, using the setuptools of the interpreter running the
tests, which needs setuptools>=70.1 to build wheels (test-requirements.txt).

The install check puts that wheel, without dependencies, into a new venv made
with ``python -m venv --without-pip``, and pip installs into it from outside
(``pip --python``). The dependencies come from the environment running the
tests, not from an index (slow, and needs the network): a ``.pth`` file in the
new venv lists this environment's site-packages folders. ``--system-site-packages``
would not do: a venv created from a venv's interpreter sees the base Python's
site-packages, not the parent venv's. A plain folder named in a ``.pth`` file
is only added to sys.path; the ``.pth`` files inside it are not run, so the
editable install of netweave there (a meta path finder set up by such a file)
stays inactive and every ``netweave`` module has to come from the wheel, which
the tests check by file location, from a folder outside the repository.
"""
import configparser
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE_FOLDERS = {"core": "netweave/core", "extensions": "netweave/extensions",
                   "type_drivers": "netweave/type_drivers", "mechanism_drivers": "netweave/mechanism_drivers",
                   "service_plugins": "netweave/service_plugins"}
TYPE_DRIVERS = ("local", "flat", "vlan", "vxlan", "gre", "geneve")
CONSOLE_SCRIPTS = ("netweave-server", "netweave-db-manage", "netweave-all-in-one")
MIGRATION_FILES = ("netweave/core/db/migrations/env.py", "netweave/core/db/migrations/script.py.mako",
                   "netweave/core/db/migrations/versions/0001_initial_schema.py",
                   "netweave/service_plugins/port_security/migrations/port_security_0001_security_groups.py",
                   "netweave/service_plugins/port_security/migrations/port_security_0002_security_group_rbac.py",
                   "netweave/service_plugins/port_security/migrations/port_security_0003_stateful_security_group.py",
                   "netweave/service_plugins/port_security/migrations/port_security_0004_default_security_group_rules.py",
                   "netweave/service_plugins/port_security/migrations/port_security_0005_rule_list_index.py",
                   "netweave/service_plugins/router/migrations/router_0001_initial.py",
                   "netweave/service_plugins/lbaasv2/migrations/lbaasv2_0001_initial.py",
                   "netweave/service_plugins/lbaasv2/migrations/lbaasv2_0002_listener_stats.py",
                   "netweave/service_plugins/trunk/migrations/trunk_0001_initial.py",
                   "netweave/service_plugins/dns/migrations/dns_0001_initial.py",
                   "netweave/service_plugins/metering/migrations/metering_0001_initial.py")

pytestmark = pytest.mark.slow


def _run(argv, **kwargs):
    kwargs.setdefault("timeout", 300)
    result = subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, **kwargs)
    assert result.returncode == 0, "%s failed (%d):\n%s\n%s" % (
        " ".join(map(str, argv)), result.returncode, result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Path of a freshly built netweave wheel."""
    source = tmp_path_factory.mktemp("source") / "netweave"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".venvs", "wheelhouse", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
        "state", "*.sqlite"))
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "--disable-pip-version-check", "wheel", "--no-deps",
          "--no-build-isolation", "--no-index", "--quiet", "--wheel-dir", out, source])
    (built,) = [p for p in out.iterdir() if p.suffix == ".whl"]
    return built


@pytest.fixture(scope="module")
def wheel_names(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _dist_info_file(wheel, names, filename):
    (path,) = [n for n in names if n.endswith(".dist-info/" + filename) and n.count("/") == 1]
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(path).decode("utf-8")


@pytest.fixture(scope="module")
def entry_points(wheel, wheel_names):
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str
    parser.read_string(_dist_info_file(wheel, wheel_names, "entry_points.txt"))
    return {group: dict(parser[group]) for group in parser.sections()}


def test_only_the_netweave_package_is_top_level(wheel_names):
    top = {name.split("/", 1)[0] for name in wheel_names}
    assert top == {"netweave", "netweave-0.1.0.dist-info"}, top
    assert not any(n.startswith(("netweave/tests/", "netweave/tools/")) for n in wheel_names)


def test_every_module_of_the_package_folders_is_shipped(wheel_names):
    missing = []
    for folder, package_path in PACKAGE_FOLDERS.items():
        assert package_path + "/__init__.py" in wheel_names
        for root, dirs, files in os.walk(os.path.join(REPO, folder)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for filename in files:
                if filename.endswith(".py"):
                    rel = os.path.relpath(os.path.join(root, filename), os.path.join(REPO, folder))
                    shipped = package_path + "/" + rel.replace(os.sep, "/")
                    if shipped not in wheel_names:
                        missing.append(shipped)
    assert not missing, "not in the wheel (a folder without __init__.py?): %s" % missing


def test_wheel_holds_core_type_drivers_extensions_and_migrations(wheel_names):
    for name in ("netweave/core/db/setup.py", "netweave/core/plugins/ml2/plugin.py",
                 "netweave/core/cmd/server.py", "netweave/extensions/__init__.py") + MIGRATION_FILES:
        assert name in wheel_names, name
    for driver in TYPE_DRIVERS:
        assert "netweave/type_drivers/%s.py" % driver in wheel_names, driver


def test_entry_points(entry_points):
    scripts = entry_points["console_scripts"]
    assert set(CONSOLE_SCRIPTS) <= set(scripts)
    assert scripts["netweave-server"] == "netweave.core.cmd.server:main"
    type_drivers = entry_points["netweave.ml2.type_drivers"]
    assert set(TYPE_DRIVERS) <= set(type_drivers)
    for name in TYPE_DRIVERS:
        assert type_drivers[name].startswith("netweave.type_drivers.%s:" % name), type_drivers[name]
    assert entry_points["netweave.core_plugins"]["ml2"] == "netweave.core.plugins.ml2.plugin:Ml2Plugin"
    assert set(entry_points["oslo.config.opts"]) >= {"netweave", "netweave.ml2"}
    assert "netweave" in entry_points["oslo.policy.policies"]
    assert entry_points["netweave.db.migrations"] == {
        "core": "netweave.core.db.migrations.versions",
        "port_security": "netweave.service_plugins.port_security.migrations",
        "router": "netweave.service_plugins.router.migrations",
        "lbaasv2": "netweave.service_plugins.lbaasv2.migrations",
        "trunk": "netweave.service_plugins.trunk.migrations",
        "dns": "netweave.service_plugins.dns.migrations",
        "az": "netweave.service_plugins.az.migrations",
        "metering": "netweave.service_plugins.metering.migrations"}
    assert "port_security" in entry_points["netweave.db.models"]
    extensions = entry_points["netweave.api_extensions"]
    assert extensions["provider"] == "netweave.extensions.provider:EXTENSION"
    assert extensions["security-group"].startswith("netweave.service_plugins.port_security.")


def test_metadata_declares_the_runtime_dependencies(wheel, wheel_names):
    metadata = _dist_info_file(wheel, wheel_names, "METADATA")
    required = {line.split(":", 1)[1].strip().split(";")[0].split(">")[0].split("=")[0].split("[")[0].lower()
                for line in metadata.splitlines() if line.startswith("Requires-Dist:")}
    assert {"stevedore", "oslo.config", "sqlalchemy", "alembic", "keystonemiddleware", "gunicorn"} <= required


# --- installed (not editable) ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A new venv with only the wheel installed, dependencies borrowed through a .pth file."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", python, "install",
          "--no-deps", "--no-index", "--quiet", wheel])
    site_packages = _run([python, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                         ).stdout.strip()
    ours = sysconfig.get_paths()
    borrowed = [p for p in dict.fromkeys((ours["purelib"], ours["platlib"])) if p != site_packages]
    with open(os.path.join(site_packages, "zz-test-dependencies.pth"), "w") as handle:
        handle.write("".join(p + "\n" for p in borrowed))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    workdir = tmp_path_factory.mktemp("elsewhere")  # not the repository: nothing found through the cwd
    return {"venv": str(venv), "python": str(python), "env": env, "cwd": str(workdir)}


_PROBE = textwrap.dedent("""\
    import importlib.metadata, json, os, sys, types
    import netweave
    import netweave.core.db.setup as db_setup
    dist = importlib.metadata.distribution("netweave")
    loaded = {}
    for ep in dist.entry_points:
        if ep.group in ("console_scripts", "netweave.ml2.type_drivers", "netweave.core_plugins",
                        "netweave.db.migrations"):
            target = ep.load()
            module = target if isinstance(target, types.ModuleType) else sys.modules[target.__module__]
            loaded[ep.group + ":" + ep.name] = module.__file__
    print(json.dumps({
        "namespace": list(netweave.__path__),
        "setup": db_setup.__file__,
        "migrations": sorted(os.listdir(db_setup.MIGRATIONS_DIR)),
        "versions": sorted(os.listdir(os.path.join(db_setup.MIGRATIONS_DIR, "versions"))),
        "migrations_dir": db_setup.MIGRATIONS_DIR,
        "dist": str(dist.locate_file("")),
        "loaded": loaded,
    }))
    """)


def test_installed_wheel_imports_from_its_own_files(installed):
    result = _run([installed["python"], "-I", "-c", _PROBE], cwd=installed["cwd"], env=installed["env"])
    probe = json.loads(result.stdout)
    venv = installed["venv"] + os.sep
    assert probe["namespace"] and all(p.startswith(venv) for p in probe["namespace"]), probe["namespace"]
    assert probe["setup"].startswith(venv), probe["setup"]
    assert probe["dist"].startswith(venv), probe["dist"]
    assert probe["migrations_dir"].startswith(venv)
    assert {"env.py", "script.py.mako", "versions"} <= set(probe["migrations"])
    assert "0001_initial_schema.py" in probe["versions"]
    expected = {"console_scripts:" + s for s in CONSOLE_SCRIPTS} | {
        "netweave.ml2.type_drivers:" + d for d in TYPE_DRIVERS} | {"netweave.core_plugins:ml2"} | {
        "netweave.db.migrations:core", "netweave.db.migrations:port_security"}
    assert expected <= set(probe["loaded"])
    outside = {name: path for name, path in probe["loaded"].items() if not path.startswith(venv)}
    assert not outside, outside


def test_installed_db_manage_runs_the_packaged_migrations(installed, tmp_path):
    state = tmp_path / "state"
    conf = tmp_path / "netweave.conf"
    conf.write_text("[DEFAULT]\nstate_path = %s\n" % state)
    db_manage = os.path.join(installed["venv"], "bin", "netweave-db-manage")
    upgraded = _run([db_manage, "--config-file", conf, "upgrade"], cwd=installed["cwd"], env=installed["env"])
    assert "Database upgraded to heads" in upgraded.stdout
    current = _run([db_manage, "--config-file", conf, "current"], cwd=installed["cwd"], env=installed["env"])
    revisions = {line for line in current.stdout.splitlines() if line and " " not in line}  # not the log lines
    assert revisions == {"0008_foreign_key_indexes", "port_security_0006", "router_0003", "lbaasv2_0003", "trunk_0001",
                         "dns_0001", "az_0002", "metering_0001"}
    history = _run([db_manage, "--config-file", conf, "history"], cwd=installed["cwd"], env=installed["env"])
    assert "port_security_0006 (port_security) (head)" in history.stdout and "(core) (head)" in history.stdout
    assert (state / "netweave.sqlite").exists()
