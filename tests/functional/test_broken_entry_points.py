"""A broken entry point of a service plugin seam stops the commands with a message naming it.

The broken entry points are declared by a tiny distribution made on the fly:
a ``*.dist-info`` folder (METADATA and entry_points.txt) in a folder put on the
commands' PYTHONPATH, where importlib.metadata finds it like any installed
package. Nothing is installed into the environment.
"""
import os
import subprocess

import pytest

from harness import processes
from harness import server as server_fixtures

pytestmark = pytest.mark.slow


def _broken_distribution(directory, group, line):
    info = directory / "broken_seam-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-seam\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[%s]\n%s\n" % (group, line))
    (directory / "broken_seam_plain.py").write_text('"""A module, not a package."""\n')
    return {"PYTHONPATH": str(directory)}


def _config(tmp_path):
    paths, _state = server_fixtures.write_config(str(tmp_path / "server"), processes.free_tcp_port())
    return [arg for path in paths for arg in ("--config-file", path)]


def _db_manage(config_args, env=None):
    return subprocess.run([os.path.join(server_fixtures.BIN_DIR, "netweave-db-manage"), *config_args,
                           "upgrade", "heads"], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **(env or {})), stdin=subprocess.DEVNULL)


def _error_line(output):
    lines = [line for line in output.splitlines() if line.startswith("netweave: ")]
    assert lines, output
    return lines[-1]


def _server_fails(tmp_path, env):
    config_args = _config(tmp_path)
    assert _db_manage(config_args).returncode == 0
    process = processes.start_process([os.path.join(server_fixtures.BIN_DIR, "netweave-server"), *config_args],
                                      str(tmp_path / "server.log"), env=env)
    try:
        code = process.popen.wait(timeout=60)
    finally:
        process.stop()
    with open(process.log_path, encoding="utf-8", errors="replace") as handle:
        return code, handle.read()


def test_broken_api_extension_stops_the_server(tmp_path):
    env = _broken_distribution(tmp_path / "dist", "netweave.api_extensions",
                               "broken-ext = no_such_module_anywhere:EXTENSION")
    code, output = _server_fails(tmp_path, env)
    assert code != 0
    message = _error_line(output)
    assert "'broken-ext = no_such_module_anywhere:EXTENSION' (entry point group netweave.api_extensions)" in message


def test_broken_policy_entry_point_stops_the_server(tmp_path):
    env = _broken_distribution(tmp_path / "dist", "oslo.policy.policies",
                               "netweave.broken = no_such_module_anywhere:list_rules")
    code, output = _server_fails(tmp_path, env)
    assert code != 0
    assert "'netweave.broken = no_such_module_anywhere:list_rules'" in _error_line(output)


@pytest.mark.parametrize("group, line", [
    ("netweave.db.models", "broken = no_such_module_anywhere"),
    ("netweave.db.migrations", "broken = broken_seam_plain"),
])
def test_broken_schema_entry_point_stops_db_manage(tmp_path, group, line):
    env = _broken_distribution(tmp_path / "dist", group, line)
    done = _db_manage(_config(tmp_path), env)
    assert done.returncode != 0
    message = _error_line(done.stdout + done.stderr)
    assert "'%s' (entry point group %s)" % (line, group) in message
