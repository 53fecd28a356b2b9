"""netweave-metadata-agent as a process: refusing to start without a broker, and answering
503 (not 500, not a hang) while no server answers its RPC."""
import os
import shutil
import subprocess
import tempfile
import textwrap

import pytest

from harness import processes, system
from harness import server as server_harness

AGENT = os.path.join(server_harness.BIN_DIR, "netweave-metadata-agent")


@pytest.fixture
def workdir():
    # Unix socket paths must stay under 108 characters.
    path = tempfile.mkdtemp(prefix="nwma-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _ini(workdir, extra=""):
    path = os.path.join(workdir, "metadata_agent.ini")
    with open(path, "w") as handle:
        handle.write(textwrap.dedent("""\
            [DEFAULT]
            state_path = {state}
            metadata_proxy_socket = {state}/metadata_proxy
            nova_metadata_port = 1
            """).format(state=workdir) + extra)
    return path


def test_agent_refuses_to_start_without_transport_url(workdir):
    result = subprocess.run([AGENT, "--config-file", _ini(workdir)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "transport_url is not set" in result.stderr
    assert not os.path.exists(os.path.join(workdir, "metadata_proxy"))


def test_agent_answers_503_while_no_server_answers(workdir, rabbitmq_url):
    system.require_executables("curl")
    ini = _ini(workdir, "transport_url = %s\nrpc_response_timeout = 2\n[agent]\nreport_interval = 0\n"
               % rabbitmq_url)
    socket_path = os.path.join(workdir, "metadata_proxy")
    agent = processes.start_process([AGENT, "--config-file", ini], os.path.join(workdir, "agent.log"))
    try:
        agent.wait_until(lambda: os.path.exists(socket_path), timeout=60, what="it listens on its socket")
        assert oct(os.stat(socket_path).st_mode & 0o777) == oct(0o644)

        def ask(*headers):
            argv = ["curl", "-s", "-m", "30", "--unix-socket", socket_path, "-o", "/dev/null", "-w", "%{http_code}"]
            for header in headers:
                argv += ["-H", header]
            return subprocess.run(argv + ["http://metadata/latest/meta-data/instance-id"], capture_output=True,
                                  text=True, timeout=60).stdout

        # Not from a proxy: no client address or network.
        assert ask() == "400"
        # From a proxy, but the server is not there to find the port.
        assert ask("X-Forwarded-For: 10.0.0.5", "X-Neutron-Network-ID: 3f1d2d8c-0000-4000-8000-000000000001") \
            == "503"
        assert agent.alive
    finally:
        agent.stop()
    assert not os.path.exists(socket_path)
