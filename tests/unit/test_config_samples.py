"""The sample files in etc/ match what the code declares.

tools/generate-config-samples.sh writes etc/netweave.conf.sample,
etc/ml2_conf.ini.sample, the agents' etc/linuxbridge_agent.ini.sample and
etc/openvswitch_agent.ini.sample, and etc/policy.yaml.sample with oslo-config-generator
and oslopolicy-sample-generator. Here it runs again into a temporary folder,
with the generators next to this interpreter, and any difference from the
committed files fails: an option or policy rule added without regenerating
the samples is caught. Only netweave's own option namespaces are sampled, so a
library release does not make the committed files stale.
"""
import difflib
import os
import re
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = ("netweave.conf.sample", "ml2_conf.ini.sample", "policy.yaml.sample", "linuxbridge_agent.ini.sample",
           "openvswitch_agent.ini.sample", "dhcp_agent.ini.sample", "metadata_agent.ini.sample",
           "lbaas_agent.ini.sample", "l3_agent.ini.sample")
SCRIPT = os.path.join(REPO, "tools", "generate-config-samples.sh")

# (sample file, section, option): what an operator of a Neutron-like service expects to set.
REQUIRED_OPTIONS = [
    ("dhcp_agent.ini.sample", "DEFAULT", name) for name in (
        "interface_driver", "enable_isolated_metadata", "force_metadata", "dnsmasq_config_file",
        "dnsmasq_dns_servers", "enable_metadata_network")
] + [
    ("metadata_agent.ini.sample", "DEFAULT", name) for name in (
        "nova_metadata_host", "nova_metadata_port", "nova_metadata_protocol", "metadata_proxy_shared_secret",
        "metadata_proxy_socket")
] + [
    ("l3_agent.ini.sample", "DEFAULT", name) for name in (
        "interface_driver", "agent_mode", "handle_internal_only_routers", "enable_metadata_proxy",
        "metadata_port", "external_ingress_mark", "send_arp_for_ha")
] + [
    ("l3_agent.ini.sample", "agent", "availability_zone"),
    ("ml2_conf.ini.sample", "l2pop", "agent_boot_time"),
    ("linuxbridge_agent.ini.sample", "securitygroup", "enable_ipset"),
    ("openvswitch_agent.ini.sample", "securitygroup", "enable_ipset"),
] + [
    ("netweave.conf.sample", "DEFAULT", name) for name in (
        "bind_host", "bind_port", "api_workers", "state_path", "core_plugin", "service_plugins",
        "auth_strategy", "base_mac", "allow_overlapping_ips", "global_physnet_mtu")
] + [
    ("netweave.conf.sample", "database", "connection"),
    ("netweave.conf.sample", "quotas", "quota_network"),
    ("ml2_conf.ini.sample", "ml2", "path_mtu"),
    ("ml2_conf.ini.sample", "ml2", "physical_network_mtus"),
    ("ml2_conf.ini.sample", "ml2_type_flat", "flat_networks"),
    ("ml2_conf.ini.sample", "ml2_type_vlan", "network_vlan_ranges"),
    ("ml2_conf.ini.sample", "ml2_type_vxlan", "vni_ranges"),
    ("ml2_conf.ini.sample", "ml2_type_gre", "tunnel_id_ranges"),
    ("ml2_conf.ini.sample", "ml2_type_geneve", "vni_ranges"),
    ("ml2_conf.ini.sample", "ml2_type_geneve", "max_header_size"),
    ("linuxbridge_agent.ini.sample", "linux_bridge", "physical_interface_mappings"),
    ("linuxbridge_agent.ini.sample", "linux_bridge", "bridge_mappings"),
    ("linuxbridge_agent.ini.sample", "vxlan", "enable_vxlan"),
    ("linuxbridge_agent.ini.sample", "vxlan", "local_ip"),
    ("linuxbridge_agent.ini.sample", "vxlan", "l2_population"),
    ("linuxbridge_agent.ini.sample", "vxlan", "arp_responder"),
    ("linuxbridge_agent.ini.sample", "agent", "polling_interval"),
    ("linuxbridge_agent.ini.sample", "agent", "report_interval"),
    ("openvswitch_agent.ini.sample", "ovs", "integration_bridge"),
    ("openvswitch_agent.ini.sample", "ovs", "tunnel_bridge"),
    ("openvswitch_agent.ini.sample", "ovs", "local_ip"),
    ("openvswitch_agent.ini.sample", "ovs", "bridge_mappings"),
    ("openvswitch_agent.ini.sample", "ovs", "datapath_type"),
    ("openvswitch_agent.ini.sample", "agent", "tunnel_types"),
    ("openvswitch_agent.ini.sample", "agent", "l2_population"),
    # Every agent reads netweave.conf too; that is where the message bus is set.
    ("netweave.conf.sample", "DEFAULT", "transport_url"),
    ("netweave.conf.sample", "DEFAULT", "host"),
    ("openvswitch_agent.ini.sample", "agent", "polling_interval"),
    ("openvswitch_agent.ini.sample", "agent", "report_interval"),
    ("openvswitch_agent.ini.sample", "agent", "resync_interval"),
    ("openvswitch_agent.ini.sample", "ovs", "of_rundir"),
]

_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")
_OPTION = re.compile(r"^#([A-Za-z0-9_.-]+) =( |$)")


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _committed(name):
    return _read(os.path.join(REPO, "etc", name))


def _sample_options(text):
    """{section: {option names}} from the commented-out defaults of an oslo-config-generator sample."""
    found = {}
    section = None
    for line in text.splitlines():
        match = _SECTION.match(line)
        if match:
            section = match.group(1)
            found.setdefault(section, set())
            continue
        match = _OPTION.match(line)
        if match and section is not None:
            found[section].add(match.group(1))
    return found


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples")
    env = dict(os.environ, BIN_DIR=os.path.dirname(sys.executable))
    result = subprocess.run(["bash", SCRIPT, str(out)], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.mark.parametrize("name", SAMPLES)
def test_committed_sample_is_current(regenerated, name):
    fresh = _read(os.path.join(str(regenerated), name))
    committed = _committed(name)
    if fresh != committed:
        diff = "".join(list(difflib.unified_diff(
            committed.splitlines(True), fresh.splitlines(True), "etc/" + name + " (committed)",
            name + " (from the code)"))[:80])
        pytest.fail("etc/%s is stale; run tools/generate-config-samples.sh and commit it:\n%s" % (name, diff))


@pytest.mark.parametrize("name", SAMPLES)
def test_generator_inputs_name_the_committed_outputs(name):
    """The inputs' own output_file (used when the generators run by hand) points at etc/."""
    inputs = {"netweave.conf.sample": "oslo-config-generator/netweave.conf",
              "ml2_conf.ini.sample": "oslo-config-generator/ml2_conf.ini",
              "linuxbridge_agent.ini.sample": "oslo-config-generator/linuxbridge_agent.ini",
              "openvswitch_agent.ini.sample": "oslo-config-generator/openvswitch_agent.ini",
              "dhcp_agent.ini.sample": "oslo-config-generator/dhcp_agent.ini",
              "metadata_agent.ini.sample": "oslo-config-generator/metadata_agent.ini",
              "lbaas_agent.ini.sample": "oslo-config-generator/lbaas_agent.ini",
              "l3_agent.ini.sample": "oslo-config-generator/l3_agent.ini",
              "policy.yaml.sample": "oslo-policy-generator/netweave.conf"}
    text = _read(os.path.join(REPO, "etc", inputs[name]))
    assert re.search(r"^output_file = etc/%s$" % re.escape(name), text, re.M), text


@pytest.mark.parametrize("sample,section,option", REQUIRED_OPTIONS,
                         ids=["%s:%s" % (s, o) for _f, s, o in REQUIRED_OPTIONS])
def test_required_option_is_documented(sample, section, option):
    options = _sample_options(_committed(sample))
    assert section in options, "no [%s] in etc/%s" % (section, sample)
    assert option in options[section], "[%s] %s missing from etc/%s" % (section, option, sample)


def test_server_sample_holds_only_netweave_sections():
    sections = set(_sample_options(_committed("netweave.conf.sample")))
    # [lbaasv2]: the lbaasv2 service plugin's own options.
    assert sections == {"DEFAULT", "database", "quotas", "lbaasv2"}


def test_ml2_sample_has_only_ml2_sections():
    sections = set(_sample_options(_committed("ml2_conf.ini.sample")))
    assert sections == {"DEFAULT", "ml2", "ml2_type_flat", "ml2_type_vlan", "ml2_type_vxlan",
                        "ml2_type_gre", "ml2_type_geneve", "l2pop"}
    assert not _sample_options(_committed("ml2_conf.ini.sample"))["DEFAULT"]


@pytest.mark.parametrize("name,sections", [
    ("linuxbridge_agent.ini.sample", {"DEFAULT", "agent", "linux_bridge", "vxlan", "securitygroup"}),
    ("openvswitch_agent.ini.sample", {"DEFAULT", "agent", "ovs", "securitygroup"}),
])
def test_agent_samples_hold_the_agents_sections(name, sections):
    """Each agent's ini documents its own groups; server options stay in netweave.conf."""
    found = _sample_options(_committed(name))
    assert set(found) == sections
    assert not found["DEFAULT"]


def test_policy_sample_lists_every_default_rule_commented_out():
    """The core's rules and those of every in-tree plugin's netweave.* policy entry point."""
    from netweave.core import policy
    text = _committed("policy.yaml.sample")
    # As shipped everything is a comment, so the defaults in the code apply.
    assert yaml.safe_load(text) is None
    uncommented = yaml.safe_load("".join(line[1:] for line in text.splitlines(True) if line.startswith('#"')))
    assert uncommented == {rule.name: rule.check_str for rule in policy.default_rules()}
    assert "create_security_group" in uncommented and "create_port:allowed_address_pairs" in uncommented


def test_policy_generator_names_every_netweave_policy_namespace():
    import importlib.metadata
    text = _read(os.path.join(REPO, "etc", "oslo-policy-generator", "netweave.conf"))
    namespaces = set(re.findall(r"^namespace = (\S+)$", text, re.M))
    declared = {ep.name for ep in importlib.metadata.entry_points(group="oslo.policy.policies")
                if ep.name.startswith("netweave") and ep.value.startswith("netweave.")}
    assert namespaces == declared
