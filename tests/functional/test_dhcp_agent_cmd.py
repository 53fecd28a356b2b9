"""netweave-dhcp-agent refuses a configuration it cannot work with, naming the problem."""
import os
import subprocess

from harness import server as server_harness

AGENT = os.path.join(server_harness.BIN_DIR, "netweave-dhcp-agent")


def _run(tmp_path, text):
    ini = tmp_path / "dhcp_agent.ini"
    ini.write_text(text)
    return subprocess.run([AGENT, "--config-file", str(ini)], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_without_transport_url(tmp_path):
    result = _run(tmp_path, "[DEFAULT]\ninterface_driver = linuxbridge\nstate_path = %s\n" % tmp_path)
    assert result.returncode == 2
    assert "transport_url is not set" in result.stderr


def test_unknown_interface_driver(tmp_path):
    result = _run(tmp_path, "[DEFAULT]\ninterface_driver = nosuchdriver\nstate_path = %s\n"
                            "transport_url = rabbit://guest:guest@127.0.0.1:1/\n" % tmp_path)
    assert result.returncode == 2
    assert "interface_driver 'nosuchdriver'" in result.stderr


def test_missing_interface_driver(tmp_path):
    result = _run(tmp_path, "[DEFAULT]\nstate_path = %s\ntransport_url = rabbit://guest:guest@127.0.0.1:1/\n"
                  % tmp_path)
    assert result.returncode == 2
    assert "interface_driver is not set" in result.stderr
