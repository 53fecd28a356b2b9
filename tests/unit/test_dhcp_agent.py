"""The DHCP agent's reconciler with an in-memory server and a recording driver."""
import copy
import uuid

from netweave.core.agent.dhcp import agent as agent_mod
from netweave.core.agent.dhcp import config as dhcp_config
from netweave.core.agent.dhcp import rpc as dhcp_rpc

HOST = "controller01"


def _network(cidr="10.0.0.0/24", ports=(), enable_dhcp=True):
    network_id = str(uuid.uuid4())
    subnet_id = str(uuid.uuid4())
    return {"id": network_id, "name": "n", "project_id": "p", "tenant_id": "p", "admin_state_up": True,
            "mtu": 1450,
            "subnets": [{"id": subnet_id, "network_id": network_id, "cidr": cidr, "ip_version": 4,
                         "gateway_ip": cidr.replace("0/24", "1"), "enable_dhcp": enable_dhcp,
                         "dns_nameservers": [], "host_routes": [], "allocation_pools": [],
                         "ipv6_ra_mode": None, "ipv6_address_mode": None}],
            "ports": list(ports)}


def _vm(network, ip, port_id=None):
    return {"id": port_id or str(uuid.uuid4()), "network_id": network["id"], "mac_address": "fa:16:3e:00:00:01",
            "admin_state_up": True, "device_owner": "compute:nova", "device_id": "vm",
            "fixed_ips": [{"subnet_id": network["subnets"][0]["id"], "ip_address": ip}], "extra_dhcp_opts": []}


class FakeServer:
    def __init__(self, *networks):
        self.networks = {n["id"]: n for n in networks}
        self.calls = []
        self.ready = []
        self.fail_next = False

    def get_active_networks_info(self, context, host):
        self.calls.append(("active", host))
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("broker down")
        return copy.deepcopy(list(self.networks.values()))

    def get_network_info(self, context, network_id, host):
        self.calls.append(("info", network_id))
        return copy.deepcopy(self.networks.get(network_id))

    def create_dhcp_port(self, context, port, host):
        data = port["port"]
        self.calls.append(("create", data["network_id"], data["device_id"], host))
        network = self.networks.get(data["network_id"])
        if network is None:
            return None
        created = {"id": str(uuid.uuid4()), "network_id": data["network_id"], "mac_address": "fa:16:3e:dd:dd:dd",
                   "admin_state_up": True, "device_owner": data["device_owner"], "device_id": data["device_id"],
                   "fixed_ips": [{"subnet_id": f["subnet_id"], "ip_address": "10.0.0.2"} for f in data["fixed_ips"]],
                   "extra_dhcp_opts": []}
        network["ports"].append(created)
        return copy.deepcopy(created)

    def update_dhcp_port(self, context, port_id, port, host):
        self.calls.append(("update", port_id, port))
        return None

    def release_dhcp_port(self, context, network_id, device_id, host):
        self.calls.append(("release", network_id, device_id))

    def dhcp_ready_on_ports(self, context, port_ids):
        self.ready.append(list(port_ids))


class RecordingDriver:
    def __init__(self, known=()):
        self.known = set(known)
        self.served = []
        self.torn_down = []

    def serve(self, network, dhcp_port, check_devices=False):
        self.served.append((network["id"], dhcp_port["id"], check_devices, copy.deepcopy(network)))
        self.known.add(network["id"])

    def teardown(self, network_id):
        self.torn_down.append(network_id)
        self.known.discard(network_id)

    def known_networks(self):
        return sorted(self.known)


def _agent(server, driver, **kwargs):
    return agent_mod.DhcpAgent(dhcp_config.DhcpSettings(), HOST, server, None, driver, num_sync_threads=2,
                               **kwargs)


def test_full_sync_creates_ports_serves_reports_and_cleans_up():
    net = _network()
    vm = _vm(net, "10.0.0.5")
    net["ports"].append(vm)
    unscheduled = str(uuid.uuid4())
    server, driver = FakeServer(net), RecordingDriver(known=[unscheduled])
    agent = _agent(server, driver)
    assert agent.run_once()
    device_id = dhcp_rpc.dhcp_device_id(HOST, net["id"])
    assert ("create", net["id"], device_id, HOST) in server.calls
    assert driver.torn_down == [unscheduled]
    assert ("release", unscheduled, dhcp_rpc.dhcp_device_id(HOST, unscheduled)) in server.calls
    (network_id, _port_id, check, served) = driver.served[0]
    assert network_id == net["id"] and check
    assert device_id in [p["device_id"] for p in served["ports"]]
    assert server.ready == [[vm["id"]]]
    state = agent.agent_state()
    assert state["agent_type"] == "DHCP agent" and state["binary"] == "netweave-dhcp-agent"
    assert state["topic"] == "dhcp_agent" and state["availability_zone"] == "nova"
    assert state["configurations"] == {"dhcp_driver": "dnsmasq", "dhcp_lease_duration": 86400, "networks": 1,
                                       "subnets": 1, "ports": 2, "log_agent_heartbeats": False}

    # A second full sync finds its port and reports nothing again.
    agent.request_resync("test")
    assert agent.run_once()
    assert [c for c in server.calls if c[0] == "create"] == [("create", net["id"], device_id, HOST)]
    assert server.ready == [[vm["id"]]]


def test_port_events_touch_only_the_cache_and_report_changes():
    net = _network()
    server, driver = FakeServer(net), RecordingDriver()
    agent = _agent(server, driver)
    agent.run_once()
    calls = len(server.calls)
    notifications = agent_mod.DhcpNotifications(agent)
    vm = _vm(net, "10.0.0.7")
    notifications.port_create_end(None, payload={"port": vm})
    assert agent.run_once()
    assert len(server.calls) == calls          # no network fetch for a port event
    assert vm["id"] in [p["id"] for p in driver.served[-1][3]["ports"]]
    assert driver.served[-1][2] is False
    assert server.ready[-1] == [vm["id"]]
    # Its address changes: served again and reported again.
    moved = dict(vm, fixed_ips=[{"subnet_id": vm["fixed_ips"][0]["subnet_id"], "ip_address": "10.0.0.8"}])
    notifications.port_update_end(None, payload={"port": moved})
    agent.run_once()
    assert server.ready[-1] == [vm["id"]]
    notifications.port_delete_end(None, payload={"port_id": vm["id"], "network_id": net["id"]})
    agent.run_once()
    assert vm["id"] not in [p["id"] for p in driver.served[-1][3]["ports"]]
    # A port of a network not served here is ignored.
    served_count = len(driver.served)
    notifications.port_create_end(None, payload={"port": dict(vm, network_id=str(uuid.uuid4()))})
    agent.run_once()
    assert len(driver.served) == served_count


def test_subnet_and_network_events():
    net = _network()
    server, driver = FakeServer(net), RecordingDriver()
    agent = _agent(server, driver)
    agent.run_once()
    notifications = agent_mod.DhcpNotifications(agent)
    notifications.subnet_update_end(None, payload={"subnet": {"id": "s", "network_id": net["id"]}})
    agent.run_once()
    assert server.calls[-1] == ("info", net["id"])
    # DHCP switched off on the only subnet: the network is no longer served.
    server.networks[net["id"]]["subnets"][0]["enable_dhcp"] = False
    notifications.subnet_update_end(None, payload={"subnet": {"id": "s", "network_id": net["id"]}})
    agent.run_once()
    assert driver.torn_down == [net["id"]]
    assert net["id"] not in agent.networks
    # Back on, through network_create_end (the network was added to the agent).
    server.networks[net["id"]]["subnets"][0]["enable_dhcp"] = True
    notifications.network_create_end(None, payload={"network": {"id": net["id"]}})
    agent.run_once()
    assert net["id"] in agent.networks
    notifications.network_delete_end(None, payload={"network_id": net["id"]})
    agent.run_once()
    assert driver.torn_down == [net["id"], net["id"]]
    assert server.calls[-1] == ("release", net["id"], dhcp_rpc.dhcp_device_id(HOST, net["id"]))


def test_failed_pass_makes_the_next_one_full():
    net = _network()
    server, driver = FakeServer(net), RecordingDriver()
    server.fail_next = True
    agent = _agent(server, driver)
    assert not agent.run_once()
    assert driver.served == []
    assert agent.run_once()
    assert [c[0] for c in server.calls].count("active") == 2
    assert driver.served[0][0] == net["id"]


def test_periodic_resync():
    now = [100.0]
    server, driver = FakeServer(_network()), RecordingDriver()
    agent = _agent(server, driver, resync_interval=60, clock=lambda: now[0])
    agent.run_once()
    agent.run_once()
    assert [c[0] for c in server.calls].count("active") == 1
    now[0] += 61
    agent.run_once()
    assert [c[0] for c in server.calls].count("active") == 2


def test_dhcp_port_gets_missing_subnets():
    net = _network()
    device_id = dhcp_rpc.dhcp_device_id(HOST, net["id"])
    second = dict(net["subnets"][0], id=str(uuid.uuid4()), cidr="10.1.0.0/24", gateway_ip="10.1.0.1")
    net["subnets"].append(second)
    net["ports"].append({"id": "dp", "network_id": net["id"], "mac_address": "fa:16:3e:dd:dd:dd",
                         "admin_state_up": True, "device_owner": "network:dhcp", "device_id": device_id,
                         "fixed_ips": [{"subnet_id": net["subnets"][0]["id"], "ip_address": "10.0.0.2"}],
                         "extra_dhcp_opts": []})
    server, driver = FakeServer(net), RecordingDriver()
    agent = _agent(server, driver)
    agent.run_once()
    update = [c for c in server.calls if c[0] == "update"]
    assert update == [("update", "dp", {"port": {"fixed_ips": [
        {"subnet_id": net["subnets"][0]["id"], "ip_address": "10.0.0.2"}, {"subnet_id": second["id"]}]}})]
    # The fake answers None (the network went meanwhile): nothing is served, the rest is cleaned.
    assert driver.served == []
