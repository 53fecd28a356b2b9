"""tempest's network API suite against a netweave all-in-one behind a real Keystone.

The cloud: a Keystone of its own (harness.keystone, one thread: tempest creates
identities from several workers, which Keystone on SQLite cannot take at once)
with netweave in its catalog as the ``network`` service; one netweave-all-in-one
with ``auth_strategy = keystone`` on a RabbitMQ, whose in-process agents (Linux
bridge, L3) wire a namespace made for them, so router interfaces and ports
really go ACTIVE; and a netweave-dhcp-agent process for the same host (tempest's
DHCP agent scheduling tests need one). An admin-made external
network stands in for the public network. tempest runs from its own virtualenv
(.venvs/tempest, tools/install.sh) in a workspace of its own, with dynamic
credentials and ``[enforce_scope] neutron = true`` as devstack configures it.

``run_suite`` answers {test id: status}, status one of "success", "fail", "skip",
parsed from the run's subunit stream.
"""
import csv
import io
import os
import pathlib
import shutil
import subprocess

import requests

from harness import dhcp, keystone, multihost, processes, system
from harness import server as server_harness

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV_ENV = "NETWEAVE_TEMPEST_VENV"
DEFAULT_VENV = REPO_ROOT / ".venvs" / "tempest"
HOST = "tempest-host"
SERVICE_USER = "netweave"
SERVICE_PASSWORD = "netweave-secret"
PUBLIC_CIDR = "172.24.4.0/24"
# The agents' VXLAN endpoint: tenant networks are VXLAN, and a port goes ACTIVE only
# once its network is wired, which takes a local_ip (no peer ever answers it).
TUNNEL_IP = "10.250.0.1"

_SERVER_INI = """\
[DEFAULT]
host = {host}
auth_strategy = keystone
transport_url = {transport_url}

[ml2]
type_drivers = local,flat,vlan,vxlan
tenant_network_types = vxlan

[ml2_type_flat]
flat_networks = public

[ml2_type_vlan]
network_vlan_ranges = physnet1:100:199

[ml2_type_vxlan]
vni_ranges = 1:1000

[agent]
polling_interval = 1
report_interval = 5

[linux_bridge]
physical_interface_mappings = public:pub0

[vxlan]
enable_vxlan = true
local_ip = {tunnel_ip}

[securitygroup]
firewall_driver = noop
"""

_TEMPEST_CONF = """\
[DEFAULT]
log_file = tempest.log
use_stderr = false

[auth]
use_dynamic_credentials = true
admin_username = {admin_username}
admin_password = {admin_password}
admin_project_name = {admin_project}
admin_domain_name = Default
create_isolated_networks = false

[identity]
uri_v3 = {auth_url}
auth_version = v3
region = {region}
disable_ssl_certificate_validation = true

[identity-feature-enabled]
api_v2 = false

[enforce_scope]
neutron = true

[service_available]
neutron = true
nova = false
glance = false
cinder = false
swift = false
horizon = false

[network]
public_network_id = {public_network_id}
floating_network_name = public
project_network_cidr = 10.100.0.0/16
project_network_mask_bits = 28
project_network_v6_cidr = 2001:db8::/48
project_network_v6_mask_bits = 64
shared_physical_network = false

[network-feature-enabled]
api_extensions = {extensions}
ipv6 = true
ipv6_subnet_attributes = true
port_security = true
"""


def tempest_venv():
    venv = pathlib.Path(os.environ.get(VENV_ENV) or DEFAULT_VENV)
    system.require((venv / "bin" / "tempest").exists(),
                   "tempest's virtualenv %s (tools/install.sh makes it)" % venv)
    return venv


def _direct_http():
    http = requests.Session()
    http.trust_env = False  # loopback only, whatever the proxy variables say
    return http


class TempestCloud:
    """Keystone + netweave, registered with each other, and the public network."""

    def __init__(self, workdir, transport_url):
        self.workdir = pathlib.Path(workdir)
        self.transport_url = transport_url
        (self.workdir / "keystone").mkdir(parents=True, exist_ok=True)
        self.keystone = keystone.KeystoneServer(keystone.keystone_venv(), self.workdir / "keystone", threads=1)
        self.lab = multihost.Namespaces("nwtmp")
        self.server = None
        self.dhcp_agent = None
        # dnsmasq drops root for 'nobody' and must still read its files.
        self.dhcp_state_path = dhcp.world_readable_dir("nwtmpdhcp-")
        self.public_network_id = None

    def start(self):
        self.keystone.start()
        host_ns = self.lab.host("host")
        # The public network's NIC: one end of a veth in the agents' namespace.
        multihost.run("ip", "-n", host_ns, "link", "add", "pub0", "type", "veth", "peer", "name", "pub0peer")
        multihost.run("ip", "-n", host_ns, "link", "set", "pub0", "up")
        multihost.run("ip", "-n", host_ns, "link", "add", "tun0", "type", "veth", "peer", "name", "tun0peer")
        multihost.run("ip", "-n", host_ns, "addr", "add", TUNNEL_IP + "/24", "dev", "tun0")
        multihost.run("ip", "-n", host_ns, "link", "set", "tun0", "up")
        self.keystone.create_service_user(SERVICE_USER, SERVICE_PASSWORD)
        ini = self.workdir / "netweave.ini"
        ini.write_text(_SERVER_INI.format(host=HOST, transport_url=self.transport_url,
                                          tunnel_ip=TUNNEL_IP) + self._authtoken_section())
        self.server = server_harness.start_all_in_one(
            str(self.workdir), extra_args=["--config-file", str(ini), "--l2-agent-netns", host_ns])
        self.dhcp_agent = self._start_dhcp_agent(host_ns)
        self._register_in_catalog()
        self.public_network_id = self._create_public_network()
        self._wait_for_agents()

    def stop(self):
        try:
            if self.dhcp_agent is not None:
                self.dhcp_agent.stop()
            dhcp.stop_served_networks(self.dhcp_state_path)
            if self.server is not None:
                self.server.stop()
            self.keystone.stop()
        finally:
            self.lab.close()
            shutil.rmtree(self.dhcp_state_path, ignore_errors=True)

    def _start_dhcp_agent(self, host_ns):
        ini = dhcp.dhcp_agent_ini(str(self.workdir / "dhcp_agent.ini"), HOST, self.transport_url,
                                  self.dhcp_state_path)
        return processes.start_process(
            [os.path.join(server_harness.BIN_DIR, "netweave-dhcp-agent"), "--config-file", ini,
             "--netns", host_ns], str(self.workdir / "dhcp-agent.log"))

    def _wait_for_agents(self):
        wanted = {"Linux bridge agent", "L3 agent", "DHCP agent"}

        def alive():
            agents = self.admin_request("GET", "/agents")["agents"]
            return wanted <= {a["agent_type"] for a in agents if a["host"] == HOST and a["alive"]}
        multihost.Cloud.wait(alive, "the L2, L3 and DHCP agents of %s report" % HOST, timeout=90)

    def _authtoken_section(self):
        options = self.keystone.authtoken_options(SERVICE_USER, SERVICE_PASSWORD)
        options["service_type"] = "network"
        return "\n[keystone_authtoken]\n" + "".join("%s = %s\n" % item for item in options.items())

    def _register_in_catalog(self):
        admin = self.keystone.admin_session
        base = self.keystone.auth_url
        service = admin.post(base + "/services", json={"service": {
            "type": "network", "name": "neutron", "enabled": True}}).json()["service"]
        for interface in ("public", "internal", "admin"):
            admin.post(base + "/endpoints", json={"endpoint": {
                "service_id": service["id"], "interface": interface, "url": self.server.url,
                "region_id": self.keystone.region, "enabled": True}})

    def admin_request(self, method, path, body=None):
        token = self.keystone.get_token(self.keystone.admin_username, self.keystone.admin_password,
                                        project_name=self.keystone.admin_project_name)
        response = _direct_http().request(method, self.server.url + "/v2.0" + path, json=body,
                                          headers={"X-Auth-Token": token}, timeout=30)
        if response.status_code >= 400:
            raise RuntimeError("%s %s: %d %s" % (method, path, response.status_code, response.text))
        return response.json() if response.content else None

    def _create_public_network(self):
        network = self.admin_request("POST", "/networks", {"network": {
            "name": "public", "router:external": True,
            "provider:network_type": "flat", "provider:physical_network": "public"}})["network"]
        self.admin_request("POST", "/subnets", {"subnet": {
            "name": "public-subnet", "network_id": network["id"], "ip_version": 4,
            "cidr": PUBLIC_CIDR, "enable_dhcp": False}})
        return network["id"]

    def extension_aliases(self):
        return sorted(item["alias"] for item in self.admin_request("GET", "/extensions")["extensions"])


class TempestWorkspace:
    """One ``tempest init`` directory configured for a TempestCloud."""

    def __init__(self, venv, directory):
        self.venv = pathlib.Path(venv)
        self.directory = pathlib.Path(directory)

    def _tool(self, name):
        return str(self.venv / "bin" / name)

    def init(self, cloud):
        # The workspace registry stays beside the workspace, and tempest's HOME is the
        # workspace: nothing lands in ~/.tempest.
        subprocess.run([self._tool("tempest"), "init", "--name", "netweave-%s" % os.getpid(),
                        "--workspace-path", str(self.directory.parent / "workspaces.yaml"),
                        str(self.directory)], check=True, capture_output=True, timeout=120,
                       env=dict(os.environ, HOME=str(self.directory.parent)))
        config = _TEMPEST_CONF.format(
            admin_username=cloud.keystone.admin_username,
            admin_password=cloud.keystone.admin_password,
            admin_project=cloud.keystone.admin_project_name,
            auth_url=cloud.keystone.auth_url, region=cloud.keystone.region,
            public_network_id=cloud.public_network_id,
            extensions=",".join(cloud.extension_aliases()))
        (self.directory / "etc" / "tempest.conf").write_text(config)

    def run_suite(self, regex, concurrency, timeout):
        """Runs the tests matching regex; answers {test id: status} and the run's output."""
        env = dict(os.environ, OS_TEST_TIMEOUT="300", PYTHONWARNINGS="ignore",
                   TEMPEST_CONFIG_DIR=str(self.directory / "etc"), TEMPEST_CONFIG="tempest.conf",
                   HOME=str(self.directory.parent))
        for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            env.pop(variable, None)
        run = subprocess.run([self._tool("tempest"), "run", "--regex", regex,
                              "--concurrency", str(concurrency)],
                             cwd=self.directory, env=env, capture_output=True, text=True,
                             timeout=timeout)
        stream = subprocess.run([self._tool("stestr"), "last", "--subunit"], cwd=self.directory,
                                capture_output=True, timeout=120, check=True).stdout
        # subunit2csv exits 1 when the stream holds a failure: its table is what counts.
        table = subprocess.run([self._tool("subunit2csv"), "--no-passthrough"], input=stream,
                               capture_output=True, timeout=120)
        if not table.stdout.startswith(b"test,"):
            raise RuntimeError("subunit2csv gave no table: %s" % table.stderr.decode(errors="replace"))
        return parse_results(table.stdout.decode()), run.stdout + run.stderr


# subunit's statuses as the suite counts them; any other is a failure.
_STATUSES = {"success": "success", "xfail": "success", "skip": "skip"}


def parse_results(csv_text):
    """{test id without its [tags]: "success", "skip" or "fail"} from subunit2csv's table."""
    results = {}
    for row in csv.DictReader(io.StringIO(csv_text)):
        test_id = row["test"].split("[", 1)[0]
        results[test_id] = _STATUSES.get(row["status"], "fail")
    return results

