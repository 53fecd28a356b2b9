"""Agent processes load no server database code: no SQLAlchemy, no Alembic.

Each agent console script of setup.cfg is imported in a fresh interpreter and
its ``main`` run with --help (option registration and parsing, which import
what start-up needs); then every agent-side module is imported too (what
the agents import lazily once running).
"""
import configparser
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER_ONLY = ("sqlalchemy", "alembic")

AGENT_SCRIPTS = ("netweave-linuxbridge-agent", "netweave-openvswitch-agent", "netweave-dhcp-agent",
                 "netweave-metadata-agent", "netweave-lbaas-agent",
                 "netweave-l3-agent")

PROBE = """
import importlib, sys
module = importlib.import_module(sys.argv[1])
try:
    getattr(module, sys.argv[2])(["--help"])
except SystemExit:
    pass
for name in sys.argv[3:]:
    importlib.import_module(name)
print("LOADED:" + ",".join(name for name in %r if name in sys.modules))
""" % (SERVER_ONLY,)

# What the agents import once running (RPC wiring, firewall, extensions, daemons).
AGENT_MODULES = (
    "netweave.core.agent.service", "netweave.core.agent.loop", "netweave.core.agent.extensions",
    "netweave.core.agent.plugin_client", "netweave.core.agent.commands", "netweave.core.agent.rpc",
    "netweave.core.agent.state_reporter", "netweave.core.agent.notifications", "netweave.core.agent.interface",
    "netweave.core.agent.external_process", "netweave.core.agent.dhcp.agent", "netweave.core.agent.dhcp.driver",
    "netweave.core.agent.metadata.agent", "netweave.core.agent.metadata.proxy", "netweave.core.context",
    "netweave.core.rpc.transport", "netweave.core.rpc.servers",
    "netweave.mechanism_drivers.linuxbridge.agent", "netweave.mechanism_drivers.linuxbridge.notifications",
    "netweave.mechanism_drivers.openvswitch.agent", "netweave.mechanism_drivers.openvswitch.rpc",
    "netweave.service_plugins.port_security.agent_rpc",
    "netweave.service_plugins.port_security.firewall.iptables",
    "netweave.service_plugins.router.agent.agent", "netweave.service_plugins.router.agent.applier",
    "netweave.service_plugins.router.agent.rpc", "netweave.service_plugins.router.agent.interfaces",
)


def console_scripts():
    parser = configparser.ConfigParser()
    parser.read(os.path.join(ROOT, "setup.cfg"))
    scripts = {}
    for line in parser["options.entry_points"]["console_scripts"].strip().splitlines():
        name, target = (part.strip() for part in line.split("=", 1))
        scripts[name] = target
    return scripts


def test_the_checked_scripts_are_console_scripts():
    assert set(AGENT_SCRIPTS) <= set(console_scripts())


@pytest.mark.parametrize("script", AGENT_SCRIPTS)
def test_agent_loads_no_database_code(script):
    module, function = console_scripts()[script].split(":")
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", PROBE, module, function] + list(AGENT_MODULES),
                            capture_output=True, text=True, timeout=120, cwd="/")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout            # main really ran
    assert _loaded(result.stdout) == "", "%s loads %s" % (script, _loaded(result.stdout))


def test_the_probe_sees_database_code_when_it_is_loaded():
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", PROBE, "netweave.core.cmd.db_manage", "main"],
                            capture_output=True, text=True, timeout=120, cwd="/")
    assert _loaded(result.stdout) == "sqlalchemy,alembic"


def test_the_api_server_loads_no_alembic():
    """Its workers fork from a master that checked the schema in a child: they never migrate."""
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", PROBE, "netweave.core.cmd.server", "main",
                             "netweave.core.db.setup", "netweave.core.api.builder", "netweave.core.service"],
                            capture_output=True, text=True, timeout=120, cwd="/")
    assert result.returncode == 0, result.stderr
    assert _loaded(result.stdout) == "sqlalchemy"


def _loaded(stdout):
    return stdout.strip().splitlines()[-1].split("LOADED:", 1)[1]
