"""The namespace proxy's haproxy configuration and the metadata agent's small pure parts."""
import os
import subprocess

import pytest

from harness import system
from netweave.core.agent.metadata import agent as agent_mod
from netweave.core.agent.metadata import backend as backend_mod
from netweave.core.agent.metadata import config as metadata_config
from netweave.core.agent.metadata import proxy

NET = "03327707-c369-4bd7-bd71-a42d9bcf49b8"
ROUTER = "5bd3e5f0-2b61-4c43-9e4a-0d7d6e2d0a11"


def _lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_network_proxy_listens_on_port_80_and_names_the_network():
    text = proxy.render_config(NET, "network", "/var/lib/netweave/metadata_proxy", "/run/p.pid", "0", "0")
    lines = _lines(text)
    assert "bind 0.0.0.0:80" in lines
    assert "server metadata /var/lib/netweave/metadata_proxy" in lines
    assert "http-request add-header X-Neutron-Network-ID %s" % NET in lines
    assert "option forwardfor" in lines
    assert "pidfile     /run/p.pid" in text
    assert "daemon" in lines
    assert "uid         0" in text and "gid         0" in text
    assert "X-Neutron-Router-ID %s" % NET not in text


def test_client_headers_are_deleted_before_the_proxy_adds_its_own():
    lines = _lines(proxy.render_config(NET, "network", "/s", "/p", "0", "0"))
    added = lines.index("http-request add-header X-Neutron-Network-ID %s" % NET)
    for header in ("X-Forwarded-For", "X-Neutron-Network-ID", "X-Neutron-Router-ID"):
        assert lines.index("http-request del-header %s" % header) < added


def test_router_proxy_listens_on_9697_and_names_the_router():
    lines = _lines(proxy.render_config(ROUTER, "router", "/s", "/p", "nobody", "nogroup"))
    assert "bind 0.0.0.0:9697" in lines
    assert "http-request add-header X-Neutron-Router-ID %s" % ROUTER in lines
    assert "user        nobody" in lines
    assert "group       nogroup" in lines


def test_port_and_ipv6_bind_can_be_chosen():
    assert "bind 0.0.0.0:8080" in _lines(proxy.render_config(NET, "network", "/s", "/p", "0", "0", port=8080))
    assert "bind [::]:80" in _lines(proxy.render_config(NET, "network", "/s", "/p", "0", "0", bind_host="::"))


def test_metadata_over_ipv6_listens_on_the_link_local_address_of_one_device():
    lines = _lines(proxy.render_config(NET, "network", "/s", "/p", "0", "0", bind_v6_interface="ns-1234"))
    assert lines[lines.index("bind 0.0.0.0:80") + 1] == "bind fe80::a9fe:a9fe:80 interface ns-1234"
    assert not [line for line in _lines(proxy.render_config(NET, "network", "/s", "/p", "0", "0"))
                if "fe80" in line]
    with pytest.raises(proxy.ProxyConfigError):
        proxy.render_config(NET, "network", "/s", "/p", "0", "0", bind_v6_interface="ns-1 interface lo")


@pytest.mark.parametrize("kwargs", [
    {"kind": "subnet"},
    {"resource_id": NET + "\n    server evil 10.0.0.1:80"},
    {"resource_id": "a b"},
    {"socket_path": "/tmp/x y"},
    {"user": "root\ndaemon"},
    {"port": 0},
    {"port": 70000},
])
def test_values_that_would_break_the_file_are_refused(kwargs):
    args = dict(resource_id=NET, kind="network", socket_path="/s", pid_file="/p", user="0", group="0")
    args.update(kwargs)
    with pytest.raises(proxy.ProxyConfigError):
        proxy.render_config(**args)


def test_haproxy_accepts_the_rendered_file(tmp_path):
    system.require_executables("haproxy")
    for kind in ("network", "router"):
        path = tmp_path / ("%s.conf" % kind)
        path.write_text(proxy.render_config(NET, kind, str(tmp_path / "sock"), str(tmp_path / "p.pid"),
                                            str(os.geteuid()), str(os.getegid())))
        result = subprocess.run([system.find_executable("haproxy"), "-c", "-f", str(path)],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_config_file_is_named_after_the_resource(tmp_path):
    ns_proxy = proxy.NamespaceProxy(str(tmp_path), str(tmp_path / "sock"))
    assert ns_proxy.config_path(NET) == os.path.join(str(tmp_path), "ns-metadata-proxy", NET + ".conf")
    assert not ns_proxy.active(NET)
    assert ns_proxy.pid(NET) is None
    with pytest.raises(proxy.ProxyConfigError):
        ns_proxy.config_path("../../etc/passwd x")


def test_signature_is_hex_hmac_sha256_of_the_instance_id():
    # Computed independently: echo -n <id> | openssl dgst -sha256 -hmac MetadataSecret123
    assert backend_mod.sign_instance_id("MetadataSecret123", "9b0d7e0e-6b8e-4a86-9d26-7fbd0f6a2c11") == \
        "1e46da8a96f59af8a891d1741e9b9a701d683d736c9e0666f8c8fb0f1fd5e201"
    assert backend_mod.sign_instance_id("other", "9b0d7e0e-6b8e-4a86-9d26-7fbd0f6a2c11") != \
        "1e46da8a96f59af8a891d1741e9b9a701d683d736c9e0666f8c8fb0f1fd5e201"


def test_signed_headers_carry_instance_project_and_client():
    settings = backend_mod.BackendSettings(shared_secret="s3")
    headers = backend_mod.signed_headers(settings, "10.0.0.5", "inst-1", "proj-1")
    assert headers == {"X-Forwarded-For": "10.0.0.5", "X-Instance-ID": "inst-1", "X-Tenant-ID": "proj-1",
                       "X-Instance-ID-Signature": backend_mod.sign_instance_id("s3", "inst-1")}


def test_socket_mode_follows_the_proxy_user_and_group():
    assert agent_mod.socket_mode("user", "", "") == 0o644
    assert agent_mod.socket_mode("group", "", "") == 0o664
    assert agent_mod.socket_mode("all", "", "") == 0o666
    assert agent_mod.socket_mode("deduce", "", "") == 0o644
    assert agent_mod.socket_mode("deduce", str(os.geteuid()), "") == 0o644
    other_uid = str(os.geteuid() + 4242)
    assert agent_mod.socket_mode("deduce", other_uid, str(os.getegid())) == 0o664
    assert agent_mod.socket_mode("deduce", other_uid, str(os.getegid() + 4242)) == 0o666


def test_state_report_names_the_metadata_agent():
    from oslo_config import cfg

    conf = cfg.ConfigOpts()
    metadata_config.register_agent_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("host", "controller01")
    conf.set_override("nova_metadata_host", "controller01")
    state = agent_mod.agent_state(conf)
    assert (state["agent_type"], state["binary"], state["topic"], state["host"]) == \
        ("Metadata agent", "netweave-metadata-agent", "N/A", "controller01")
    assert state["configurations"]["nova_metadata_host"] == "controller01"
    assert state["configurations"]["nova_metadata_port"] == 8775


def test_options_have_neutrons_names_and_defaults():
    from oslo_config import cfg

    conf = cfg.ConfigOpts()
    metadata_config.register_agent_opts(conf)
    conf(["--config-file", "/dev/null"], default_config_files=[])
    conf.set_override("state_path", "/var/lib/neutron")
    assert conf.metadata_proxy_socket == "/var/lib/neutron/metadata_proxy"
    assert (conf.nova_metadata_host, conf.nova_metadata_port, conf.nova_metadata_protocol) == \
        ("127.0.0.1", 8775, "http")
    assert conf.metadata_proxy_shared_secret == ""
    assert conf.nova_metadata_insecure is False
    listed = {opt.dest for group, opts in metadata_config.list_opts() for opt in opts}
    # Every [DEFAULT] option the agent registers is in the sample (oslo.config's own excepted).
    registered = {name for name in conf} - {"config_file", "config_dir", "config_source", "shell_completion",
                                            "agent"}
    assert registered <= listed
    assert {"metadata_proxy_socket", "nova_metadata_host", "nova_metadata_port", "nova_metadata_protocol",
            "nova_metadata_insecure", "nova_client_cert", "nova_client_priv_key", "metadata_proxy_shared_secret",
            "metadata_workers", "metadata_backlog", "cache_url", "metadata_proxy_user",
            "metadata_proxy_group", "metadata_proxy_socket_mode", "report_interval"} <= listed


def test_the_proxy_options_alone_serve_the_dhcp_agent():
    from oslo_config import cfg

    conf = cfg.ConfigOpts()
    metadata_config.register_proxy_opts(conf)
    metadata_config.register_proxy_opts(conf)  # twice is harmless
    conf([], default_config_files=[])
    conf.set_override("state_path", "/srv/nw")
    assert conf.metadata_proxy_socket == "/srv/nw/metadata_proxy"
