"""No core file names a service plugin: everything a plugin brings comes through entry points.

port_security is the plugin proven here: its API definitions, tables, migrations,
policies, options and RPC topic live in service_plugins/port_security/, so the
core (core/) and the builtin API extensions (extensions/) must not mention its
names at all, nor the out-of-tree example service plugin's. The type drivers
must not either. The L2 agents in mechanism_drivers/ wire the agent-side
firewall (Neutron's ``[securitygroup]`` option group, the firewall's RPC agent)
and read the anti-spoofing keys of device details: only the files listed in
MECHANISM_DRIVER_USES may, each for the reason given.
"""
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PORT_SECURITY_NAMES = re.compile(r"security[-_]?groups?|allowed[-_]address[-_]pairs|port[-_]security",
                                 re.IGNORECASE)
EXAMPLE_SERVICE_NAMES = re.compile(r"example[-_]?service|widget", re.IGNORECASE)

# Neutron's literal name of the standard-attr-tag extension lists the resources that
# may carry tags; the text is Neutron's, what is taggable is decided by the plugins.
ALLOWED_LINES = {
    ("extensions/tags.py", '    "security_group, floatingip",'),
}

MECHANISM_DRIVER_USES = {
    "mechanism_drivers/linuxbridge/config.py": "the agent's [securitygroup] options (Neutron's group)",
    "mechanism_drivers/openvswitch/config.py": "the agent's [securitygroup] options (Neutron's group)",
    "mechanism_drivers/linuxbridge/cmd.py": "starts the firewall's RPC agent next to the L2 agent",
    "mechanism_drivers/openvswitch/rpc.py": "starts the firewall's RPC agent next to the L2 agent",
    "mechanism_drivers/openvswitch/agent.py": "holds that firewall agent (iptables_hybrid)",
    "mechanism_drivers/openvswitch/desired.py": "anti-spoofing flows from the device details' address pairs",
}


def _source_files(folder):
    for root, dirs, files in os.walk(os.path.join(REPO, folder)):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in sorted(files):
            if name.endswith((".py", ".mako", ".ini", ".cfg", ".txt", ".json", ".yaml")):
                path = os.path.join(root, name)
                yield os.path.relpath(path, REPO).replace(os.sep, "/"), path


def _hits(folder, pattern):
    found = []
    for rel, path in _source_files(folder):
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                line = line.rstrip("\n")
                if pattern.search(line) and (rel, line) not in ALLOWED_LINES:
                    found.append("%s:%d: %s" % (rel, number, line.strip()))
    return found


@pytest.mark.parametrize("folder", ["core", "extensions", "type_drivers"])
def test_no_port_security_names_outside_the_plugin(folder):
    hits = _hits(folder, PORT_SECURITY_NAMES)
    assert not hits, "port_security is named outside service_plugins/port_security:\n" + "\n".join(hits)


@pytest.mark.parametrize("folder", ["core", "extensions", "type_drivers", "mechanism_drivers",
                                    "service_plugins"])
def test_no_in_tree_file_names_the_example_service_plugin(folder):
    hits = _hits(folder, EXAMPLE_SERVICE_NAMES)
    assert not hits, "\n".join(hits)


def test_mechanism_drivers_name_port_security_only_for_the_agents_firewall():
    files = {hit.split(":", 1)[0] for hit in _hits("mechanism_drivers", PORT_SECURITY_NAMES)}
    unexpected = sorted(files - set(MECHANISM_DRIVER_USES))
    assert not unexpected, "port_security named in mechanism_drivers beyond the agents' firewall: %s" % unexpected
    # The list stays honest: every exception is still needed.
    assert files == set(MECHANISM_DRIVER_USES)


def test_the_check_finds_what_it_looks_for():
    """The patterns catch every spelling, so a clean result means something."""
    for text in ("security_group", "SecurityGroup", "securitygroup", "security-groups", "SECURITY_GROUP",
                 "allowed_address_pairs", "allowed-address-pairs", "port_security", "port-security"):
        assert PORT_SECURITY_NAMES.search(text), text
    assert _hits("service_plugins", PORT_SECURITY_NAMES)
