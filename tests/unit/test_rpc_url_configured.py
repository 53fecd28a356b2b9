"""transport.url_configured: whether the files a process read name a transport_url."""
from oslo_config import cfg

from netweave.core.rpc import transport


def _parsed(*args):
    conf = cfg.ConfigOpts()
    conf(args=list(args), project="netweave-url-test", default_config_files=[], default_config_dirs=[])
    return conf


def test_a_transport_url_in_a_config_file_or_dir_counts_before_the_option_is_registered(tmp_path, monkeypatch):
    monkeypatch.delenv("OS_DEFAULT__TRANSPORT_URL", raising=False)
    ini = tmp_path / "server.ini"
    ini.write_text("[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:5672/\n")
    assert transport.url_configured(_parsed("--config-file", str(ini)))
    folder = tmp_path / "conf.d"
    folder.mkdir()
    (folder / "rpc.conf").write_text(ini.read_text())
    assert transport.url_configured(_parsed("--config-dir", str(folder)))
    plain = tmp_path / "plain.ini"
    plain.write_text("[DEFAULT]\ndebug = true\n")
    assert not transport.url_configured(_parsed("--config-file", str(plain)))

