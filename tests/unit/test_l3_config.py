"""l3_agent.ini: Neutron's options and defaults, and what the agent refuses to start with."""
import pytest
from oslo_config import cfg

from netweave.service_plugins.router.agent import config


def test_configuration_refuses_what_it_cannot_serve():
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    conf(args=[], default_config_files=[])
    with pytest.raises(ValueError, match="interface_driver"):
        config.check(conf)
    conf.set_override("interface_driver", "linuxbridge")
    config.check(conf)
    for name, value, words in (("agent_mode", "dvr", "legacy routers only"),
                               ("external_network_bridge", "br-ex", "deprecated"),
                               ("external_ingress_mark", "0x10000", "external_ingress_mark")):
        conf.set_override(name, value)
        with pytest.raises(ValueError, match=words):
            config.check(conf)
        conf.clear_override(name)
    assert config.dataplane_settings(conf).enable_metadata_proxy is True
    assert conf.ha_confs_path == conf.state_path + "/ha_confs"
    assert (conf.ha_vrrp_auth_type, conf.ha_vrrp_advert_int, conf.send_arp_for_ha) == ("PASS", 2, 3)
    assert conf.handle_internal_only_routers is True and conf.agent.availability_zone == "nova"
    conf.set_override("metadata_access_mark", "1")
    assert config.dataplane_settings(conf).metadata_access_mark == "0x1"
    assert config.dataplane_settings(conf).metadata_port == 9697
