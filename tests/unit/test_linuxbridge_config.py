"""linuxbridge_agent.ini: options, defaults and what the agent makes of them."""
import textwrap

import pytest
from oslo_config import cfg

from netweave.mechanism_drivers.linuxbridge import config


def load(tmp_path, text):
    path = tmp_path / "linuxbridge_agent.ini"
    path.write_text(textwrap.dedent(text))
    conf = cfg.ConfigOpts()
    config.register_agent_opts(conf)
    conf(["--config-file", str(path)], project="netweave", default_config_files=[])
    return conf


def test_book_example(tmp_path):
    conf = load(tmp_path, """
        [linux_bridge]
        physical_interface_mappings = physnet1:eth2,physnet2:bond2
        [vxlan]
        enable_vxlan = true
        l2_population = true
        local_ip = 10.20.0.101
        arp_responder = true
        [securitygroup]
        firewall_driver = iptables
        [agent]
        polling_interval = 5
        """)
    settings = config.settings_from_conf(conf)
    assert settings.interfaces == {"physnet1": "eth2", "physnet2": "bond2"}
    assert settings.local_ip == "10.20.0.101" and settings.vxlan_enabled
    assert settings.l2_population and settings.arp_responder
    assert settings.udp_dstport == 4789 and settings.ttl is None and settings.tos is None
    assert settings.polling_interval == 5 and settings.firewall_driver == "iptables"


def test_defaults(tmp_path):
    settings = config.settings_from_conf(load(tmp_path, ""))
    assert settings.interfaces == {} and settings.bridges == {}
    assert settings.enable_vxlan and not settings.vxlan_enabled     # no local_ip
    assert not settings.l2_population and not settings.arp_responder
    assert settings.vxlan_group == "224.0.0.1" and settings.udp_dstport == 4789


def test_kernel_port_and_multicast(tmp_path):
    settings = config.settings_from_conf(load(tmp_path, """
        [vxlan]
        local_ip = 192.0.2.9
        udp_dstport = 8472
        vxlan_group = 239.0.0.0/8
        ttl = 16
        """))
    assert settings.udp_dstport == 8472 and settings.ttl == 16
    assert settings.vxlan_group_for(5) == "239.0.0.5"


@pytest.mark.parametrize("text, message", [
    ("[linux_bridge]\nphysical_interface_mappings = physnet1:eth1,physnet1:eth2\n", "mapped twice"),
    ("[linux_bridge]\nphysical_interface_mappings = physnet1:eth1\nbridge_mappings = physnet1:br1\n", "both"),
    ("[linux_bridge]\nbridge_mappings = physnet1\n", "not <physical_network>"),
    ("[linux_bridge]\nphysical_interface_mappings = physnet1:averyveryverylongname\n", "longer than"),
    ("[vxlan]\nvxlan_group = 10.1.1.1\n", "not a multicast"),
    ("[vxlan]\nudp_srcport_min = 5000\n", "udp_srcport"),
])
def test_bad_values_name_the_option(tmp_path, text, message):
    with pytest.raises(config.ConfigError, match=message):
        config.settings_from_conf(load(tmp_path, text))


def test_shares_the_agent_section_with_the_other_agents():
    from netweave.core.config import agent as common_agent
    conf = cfg.ConfigOpts()
    common_agent.register(conf)
    config.register_agent_opts(conf)    # no duplicate-option error
    assert {name for _group, opts in config.list_opts() for name in [o.name for o in opts]} >= {
        "physical_interface_mappings", "bridge_mappings", "enable_vxlan", "local_ip", "l2_population",
        "arp_responder", "udp_dstport", "ttl", "tos", "vxlan_group", "polling_interval", "firewall_driver",
        "enable_security_group"}
