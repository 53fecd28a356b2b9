"""LBaaS v2 with the real `openstack loadbalancer ...` CLI (python-octaviaclient) against
netweave's lbaasv2 plugin.

Under ``--os-auth-type none`` octaviaclient takes ``--os-endpoint`` (or a
``load_balancer_endpoint_override``) and appends ``/v2.0``: its requests go to
``/v2.0/lbaas/...``. Behind Keystone it takes the catalog's ``load-balancer``
endpoint the same way, so the endpoint is netweave's root URL.

- The book's worked example (spec A.7) end to end: netweave-server, netweave-rpc-server,
  a Linux bridge agent and a netweave-lbaas-agent (harness/lbaas.py's LbaasCloud), three
  HTTP servers in instance namespaces; every LBaaS step is a CLI command (``--wait``
  where the CLI offers it) and a client namespace's curl to the VIP goes round robin.
- The CLI's unset, tag, filter and error paths on a server with the noop driver.
- The CLI and openstacksdk through a real Keystone whose catalog holds netweave as the
  ``load-balancer`` (and ``network``) service.
"""
import json
import uuid

import openstack
import pytest
import requests

from harness import lbaas_server, server, system
from harness.cli import Cli, cli_environment, run_openstack
from harness.lbaas import HOST, LbaasCloud, curl, eventually
from harness.multihost import run

BOOK_WEBS = ("web1", "web2", "web3")



def lb_status(cli, lb):
    return cli.json("loadbalancer", "show", lb, "-c", "provisioning_status")["provisioning_status"]


def settle(cli, lb):
    """The change applied: the load balancer is ACTIVE again (faster than --wait's 3 s polls)."""
    eventually(lambda: lb_status(cli, lb) == "ACTIVE", "%s is ACTIVE" % lb)


# --- the book's example with the data plane ---------------------------------------------------


@pytest.fixture(scope="module")
def cloud(rabbitmq_server, tmp_path_factory):
    system.require_root()
    created = LbaasCloud(str(tmp_path_factory.mktemp("lbcli")), rabbitmq_server.transport_url)
    try:
        created.start()
        yield created
    finally:
        created.close()



@pytest.mark.system("ip", "bridge", "haproxy", "curl")
@pytest.mark.slow
def test_book_example_with_the_cli_through_haproxy(cloud):
    net = cloud.network("PROJECT_NET", "192.168.200.0/24")
    subnet_id = cloud.api("GET", "/subnets?network_id=" + net["id"])["subnets"][0]["id"]
    webs = {name: cloud.web(name, net) for name in BOOK_WEBS}
    client_port = cloud.port(net, HOST)
    client = cloud.plug(HOST, net, client_port)
    cloud.wait_active(client_port, *[port for port, _instance in webs.values()], timeout=60)
    cli = Cli(cloud.server.url)

    lb = cli.json("loadbalancer", "create", "--name", "LB_WEB", "--vip-subnet-id", subnet_id, "--wait")
    assert (lb["name"], lb["provisioning_status"], lb["provider"], lb["vip_subnet_id"]) == (
        "LB_WEB", "ACTIVE", "haproxy", subnet_id)
    assert (lb["flavor_id"], lb["availability_zone"], lb["vip_qos_policy_id"], lb["tags"]) == (None, None, None, [])
    port = cloud.api("GET", "/ports/" + lb["vip_port_id"])["port"]
    assert port["device_owner"] == "neutron:LOADBALANCERV2" and port["device_id"] == lb["id"]
    assert [ip["ip_address"] for ip in port["fixed_ips"]] == [lb["vip_address"]]

    listener = cli.json("loadbalancer", "listener", "create", "--name", "LISTENER_WEB", "--protocol", "HTTP",
                        "--protocol-port", "80", "LB_WEB")
    assert (listener["protocol"], listener["protocol_port"], listener["connection_limit"]) == ("HTTP", 80, -1)
    assert listener["loadbalancers"] == [{"id": lb["id"]}] and listener["provisioning_status"] == "PENDING_CREATE"
    settle(cli, "LB_WEB")
    pool = cli.json("loadbalancer", "pool", "create", "--name", "POOL_WEB", "--lb-algorithm", "ROUND_ROBIN",
                    "--protocol", "HTTP", "--listener", "LISTENER_WEB", "--wait")
    assert (pool["lb_algorithm"], pool["protocol"], pool["session_persistence"]) == ("ROUND_ROBIN", "HTTP", None)
    assert pool["listeners"] == [{"id": listener["id"]}] and pool["loadbalancers"] == [{"id": lb["id"]}]
    members = {}
    for name, (_port, instance) in webs.items():
        members[name] = cli.json("loadbalancer", "member", "create", "--name", name, "--subnet-id", subnet_id,
                                 "--address", instance.ip, "--protocol-port", "80", "POOL_WEB")
        assert (members[name]["address"], members[name]["weight"], members[name]["subnet_id"]) == (
            instance.ip, 1, subnet_id)
        settle(cli, "LB_WEB")
    monitor = cli.json("loadbalancer", "healthmonitor", "create", "--name", "MONITOR_WEB", "--type", "HTTP",
                       "--delay", "2", "--timeout", "1", "--max-retries", "2", "--url-path", "/", "POOL_WEB")
    assert (monitor["delay"], monitor["timeout"], monitor["max_retries"], monitor["max_retries_down"],
            monitor["http_method"], monitor["url_path"], monitor["expected_codes"]) == (2, 1, 2, 3, "GET", "/", "200")
    assert monitor["pools"] == [{"id": pool["id"]}]
    settle(cli, "LB_WEB")

    # The agent served it: members ONLINE under the monitor, curl to the VIP goes round robin.
    def member_statuses():
        return {m["name"]: m["operating_status"] for m in cli.json("loadbalancer", "member", "list", "POOL_WEB")}

    eventually(lambda: set(member_statuses().values()) == {"ONLINE"}, "all members ONLINE", timeout=60)
    url = "http://%s/" % lb["vip_address"]
    eventually(lambda: curl(client.namespace, url), "the VIP answers")
    answers = [curl(client.namespace, url) for _ in range(6)]
    answered = 1 + len(answers)  # each curl is one connection to the listener's frontend
    assert sorted(answers[:3]) == ["This is %s" % name for name in BOOK_WEBS], answers
    assert answers[3:] == answers[:3], answers

    shown = cli.json("loadbalancer", "show", "LB_WEB")
    assert (shown["operating_status"], shown["listeners"], shown["pools"]) == (
        "ONLINE", [{"id": listener["id"]}], [{"id": pool["id"]}])
    assert [item["name"] for item in cli.json("loadbalancer", "list")] == ["LB_WEB"]
    status = json.loads(cli.run("loadbalancer", "status", "show", "LB_WEB").stdout)["loadbalancer"]
    status_pool = status["listeners"][0]["pools"][0]
    assert (status["operating_status"], status_pool["name"], status_pool["healthmonitor"]["name"]) == (
        "ONLINE", "POOL_WEB", "MONITOR_WEB")
    assert {m["name"]: m["operating_status"] for m in status_pool["members"]} == dict.fromkeys(BOOK_WEBS, "ONLINE")
    stats = eventually(lambda: (lambda s: s if s["total_connections"] > 0 else None)(
        cli.json("loadbalancer", "stats", "show", "LB_WEB")), "the agent reported the counters")
    assert set(stats) == {"active_connections", "bytes_in", "bytes_out", "request_errors", "total_connections"}
    assert stats["bytes_out"] > 0
    # The listener's own counters (its haproxy frontend), reported with the load balancer's: they
    # count every request made, and the load balancer's are their sum (one listener here). Each
    # is read once the agent's periodic report holds all the requests.
    listener_stats = eventually(lambda: (lambda s: s if s["total_connections"] >= answered else None)(
        cli.json("loadbalancer", "listener", "stats", "show", "LISTENER_WEB")), "the listener's counters")
    assert set(listener_stats) == set(stats) and listener_stats["bytes_in"] > 0 and listener_stats["bytes_out"] > 0

    def lb_and_listener_stats():
        totals = cli.json("loadbalancer", "stats", "show", "LB_WEB")
        listener_stats = cli.json("loadbalancer", "listener", "stats", "show", listener["id"])
        return totals if totals == listener_stats and totals["total_connections"] >= answered else None

    eventually(lb_and_listener_stats, "the load balancer's counters are its listener's")

    # list/show/set of every kind; --wait waits for the agent to apply each change.
    cli.run("loadbalancer", "set", "--description", "the book's load balancer", "LB_WEB", "--wait")
    assert cli.json("loadbalancer", "show", "LB_WEB")["description"] == "the book's load balancer"
    assert [(item["name"], item["protocol_port"]) for item in cli.json("loadbalancer", "listener", "list")] == [
        ("LISTENER_WEB", 80)]
    cli.run("loadbalancer", "listener", "set", "--connection-limit", "100", "LISTENER_WEB", "--wait")
    assert cli.json("loadbalancer", "listener", "show", "LISTENER_WEB")["connection_limit"] == 100
    assert [item["name"] for item in cli.json("loadbalancer", "pool", "list")] == ["POOL_WEB"]
    cli.run("loadbalancer", "pool", "set", "--description", "round robin", "POOL_WEB")
    settle(cli, "LB_WEB")
    assert cli.json("loadbalancer", "pool", "show", "POOL_WEB")["description"] == "round robin"
    assert [item["name"] for item in cli.json("loadbalancer", "healthmonitor", "list")] == ["MONITOR_WEB"]
    cli.run("loadbalancer", "healthmonitor", "set", "--delay", "3", "MONITOR_WEB", "--wait")
    assert cli.json("loadbalancer", "healthmonitor", "show", "MONITOR_WEB")["delay"] == 3
    assert sorted(item["name"] for item in cli.json("loadbalancer", "member", "list", "POOL_WEB")) == list(BOOK_WEBS)
    # An admin-down member leaves the rotation.
    cli.run("loadbalancer", "member", "set", "--disable", "POOL_WEB", "web2", "--wait")
    web2 = cli.json("loadbalancer", "member", "show", "POOL_WEB", "web2")
    assert (web2["admin_state_up"], web2["provisioning_status"]) == (False, "ACTIVE")
    eventually(lambda: {curl(client.namespace, url) for _ in range(6)} == {"This is web1", "This is web3"},
               "web2 left the rotation")

    # Deletes: a member and the monitor one by one, the rest with --cascade.
    cli.run("loadbalancer", "member", "delete", "POOL_WEB", "web3", "--wait")
    assert sorted(m["name"] for m in cli.json("loadbalancer", "member", "list", "POOL_WEB")) == ["web1", "web2"]
    eventually(lambda: {curl(client.namespace, url) for _ in range(4)} == {"This is web1"}, "web3 is gone")
    cli.run("loadbalancer", "healthmonitor", "delete", "MONITOR_WEB", "--wait")
    assert cli.json("loadbalancer", "healthmonitor", "list") == []
    assert "it has children" in cli.fails("loadbalancer", "delete", "LB_WEB")
    namespace = "qlbaas-" + lb["id"]
    assert namespace in run("ip", "netns", "list").stdout
    cli.run("loadbalancer", "delete", "--cascade", "LB_WEB", "--wait")
    assert cli.json("loadbalancer", "list") == []
    assert cli.json("loadbalancer", "listener", "list") == [] and cli.json("loadbalancer", "pool", "list") == []
    eventually(lambda: namespace not in run("ip", "netns", "list").stdout, "the namespace is gone")
    cloud.api("GET", "/ports/" + lb["vip_port_id"], expect=(404,))


# --- unset, tags, filters and errors (noop driver) -----------------------------------------


@pytest.fixture(scope="module", params=["sqlite"])
def noop_server(request, tmp_path_factory):
    yield from lbaas_server.serve(request, tmp_path_factory, driver="noop")


@pytest.fixture(scope="module")
def cli(noop_server):
    return Cli(noop_server.url)


@pytest.fixture(scope="module")
def subnet_id(cli):
    cli.run("network", "create", "CLI_NET")
    return cli.json("subnet", "create", "--subnet-range", "192.168.210.0/24", "--network", "CLI_NET",
                    "CLI_SUBNET")["id"]


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def test_unset_resets_what_octavia_resets(cli, subnet_id):
    lb = unique("LB")
    cli.run("loadbalancer", "create", "--name", lb, "--description", "to clear", "--vip-subnet-id", subnet_id)
    cli.run("loadbalancer", "unset", "--description", lb)
    assert cli.json("loadbalancer", "show", lb)["description"] == ""
    listener = cli.json("loadbalancer", "listener", "create", "--protocol", "HTTP", "--protocol-port", "80",
                        "--connection-limit", "100", lb)
    assert listener["connection_limit"] == 100
    cli.run("loadbalancer", "listener", "unset", "--connection-limit", listener["id"])
    assert cli.json("loadbalancer", "listener", "show", listener["id"])["connection_limit"] == -1
    # Options of features haproxy here does not offer: their unset sends nulls, which are taken.
    cli.run("loadbalancer", "listener", "unset", "--timeout-client-data", "--timeout-member-connect",
            "--insert-headers", "--allowed-cidrs", "--default-tls-container-ref", "--tls-versions",
            "--client-authentication", "--default-pool", listener["id"])
    shown = cli.json("loadbalancer", "listener", "show", listener["id"])
    assert (shown["timeout_client_data"], shown["timeout_member_connect"], shown["client_authentication"]) == (
        50000, 5000, "NONE")
    error = cli.fails("loadbalancer", "listener", "set", "--timeout-client-data", "1000", listener["id"])
    assert "Reason: '1000' is not in [50000]. (HTTP 400)" in error
    pool = cli.json("loadbalancer", "pool", "create", "--name", unique("POOL"), "--lb-algorithm", "ROUND_ROBIN",
                    "--protocol", "HTTP", "--loadbalancer", lb, "--session-persistence", "type=SOURCE_IP")
    cli.run("loadbalancer", "pool", "unset", "--session-persistence", "--name", "--tls-versions",
            "--ca-tls-container-ref", pool["id"])
    cli.run("loadbalancer", "pool", "set", "--disable-tls", pool["id"])
    shown = cli.json("loadbalancer", "pool", "show", pool["id"])
    assert (shown["session_persistence"], shown["name"]) == (None, "")
    member = cli.json("loadbalancer", "member", "create", "--address", "192.168.210.9", "--protocol-port", "80",
                      "--weight", "5", pool["id"])
    cli.run("loadbalancer", "member", "unset", "--weight", pool["id"], member["id"])
    assert cli.json("loadbalancer", "member", "show", pool["id"], member["id"])["weight"] == 1
    monitor = cli.json("loadbalancer", "healthmonitor", "create", "--type", "HTTP", "--delay", "5", "--timeout",
                       "4", "--max-retries", "3", "--http-method", "HEAD", "--url-path", "/health",
                       "--expected-codes", "200-204", "--max-retries-down", "5", pool["id"])
    cli.run("loadbalancer", "healthmonitor", "unset", "--http-method", "--url-path", "--expected-codes",
            "--max-retries-down", "--http-version", "--domain-name", monitor["id"])
    shown = cli.json("loadbalancer", "healthmonitor", "show", monitor["id"])
    assert (shown["http_method"], shown["url_path"], shown["expected_codes"], shown["max_retries_down"]) == (
        "GET", "/", "200", 3)
    cli.run("loadbalancer", "delete", "--cascade", lb)


def test_tags_are_kept_and_filter_lists(cli, subnet_id):
    tagged, other = unique("LB"), unique("LB")
    lb = cli.json("loadbalancer", "create", "--name", tagged, "--vip-subnet-id", subnet_id, "--tag", "book",
                  "--tag", "web")
    assert lb["tags"] == ["book", "web"]
    cli.run("loadbalancer", "create", "--name", other, "--vip-subnet-id", subnet_id, "--tag", "web")
    cli.run("loadbalancer", "set", "--tag", "front", tagged)
    cli.run("loadbalancer", "unset", "--tag", "web", tagged)
    assert cli.json("loadbalancer", "show", tagged)["tags"] == ["book", "front"]

    def names(*filters):
        return {item["name"] for item in cli.json("loadbalancer", "list", *filters)} & {tagged, other}

    assert names("--tags", "book,front") == {tagged}
    assert names("--tags", "book,web") == set()
    assert names("--any-tags", "front,web") == {tagged, other}
    assert names("--not-tags", "web") == {tagged}
    assert names("--not-any-tags", "book,web") == set()
    listener = cli.json("loadbalancer", "listener", "create", "--protocol", "TCP", "--protocol-port", "22",
                        "--tag", "ssh", tagged)
    assert [item["id"] for item in cli.json("loadbalancer", "listener", "list", "--tags", "ssh")] == [listener["id"]]
    pool = cli.json("loadbalancer", "pool", "create", "--lb-algorithm", "SOURCE_IP", "--protocol", "TCP",
                    "--listener", listener["id"], "--tag", "ssh")
    member = cli.json("loadbalancer", "member", "create", "--address", "192.168.210.22", "--protocol-port", "22",
                      "--tag", "ssh", pool["id"])
    monitor = cli.json("loadbalancer", "healthmonitor", "create", "--type", "TCP", "--delay", "5", "--timeout", "4",
                       "--max-retries", "3", "--tag", "ssh", pool["id"])
    assert [pool["tags"], member["tags"], monitor["tags"]] == [["ssh"]] * 3
    cli.run("loadbalancer", "member", "set", "--tag", "admin", pool["id"], member["id"])
    assert cli.json("loadbalancer", "member", "show", pool["id"], member["id"])["tags"] == ["admin", "ssh"]
    cli.run("loadbalancer", "delete", "--cascade", tagged)
    cli.run("loadbalancer", "delete", other)
    assert names() == set()


def test_children_list_by_load_balancer(cli, subnet_id):
    first, second = unique("LB"), unique("LB")
    ids = {}
    for name in (first, second):
        ids[name] = cli.json("loadbalancer", "create", "--name", name, "--vip-subnet-id", subnet_id)["id"]
        listener = cli.json("loadbalancer", "listener", "create", "--name", name + "-l", "--protocol", "HTTP",
                            "--protocol-port", "80", name)
        cli.run("loadbalancer", "pool", "create", "--name", name + "-p", "--lb-algorithm", "ROUND_ROBIN",
                "--protocol", "HTTP", "--listener", listener["id"])
    for name in (first, second):
        listed = cli.json("loadbalancer", "listener", "list", "--loadbalancer", name)
        assert [item["name"] for item in listed] == [name + "-l"]
        assert [item["name"] for item in cli.json("loadbalancer", "pool", "list", "--loadbalancer", name)] == [
            name + "-p"]
    assert [item["name"] for item in cli.json("loadbalancer", "list", "--name", first)] == [first]
    assert sorted(item["id"] for item in cli.json("loadbalancer", "list", "--vip-subnet-id", subnet_id,
                                                  "--provisioning-status", "ACTIVE", "--provider", "haproxy")
                  if item["id"] in ids.values()) == sorted(ids.values())
    # One by one, each delete waiting for its entity to go: the pool, the listener, the load balancer.
    cli.run("loadbalancer", "set", "--disable", second, "--wait")
    status = json.loads(cli.run("loadbalancer", "status", "show", second).stdout)["loadbalancer"]
    assert (status["operating_status"], status["listeners"][0]["operating_status"]) == ("DISABLED", "DISABLED")
    assert cli.json("loadbalancer", "list", "--disable")[0]["name"] == second
    cli.run("loadbalancer", "pool", "delete", second + "-p", "--wait")
    cli.run("loadbalancer", "listener", "delete", second + "-l", "--wait")
    assert cli.json("loadbalancer", "show", second)["listeners"] == []
    cli.run("loadbalancer", "delete", second, "--wait")
    cli.run("loadbalancer", "delete", "--cascade", first)
    assert {item["name"] for item in cli.json("loadbalancer", "list")} & {first, second} == set()


def test_the_cli_prints_the_servers_reason(cli, subnet_id):
    lb = unique("LB")
    cli.run("loadbalancer", "create", "--name", lb, "--vip-subnet-id", subnet_id)
    cli.run("loadbalancer", "listener", "create", "--protocol", "HTTP", "--protocol-port", "80", lb)
    error = cli.fails("loadbalancer", "listener", "create", "--protocol", "HTTP", "--protocol-port", "80", lb)
    assert "already has a listener with protocol_port of 80 (HTTP 409)" in error
    error = cli.fails("loadbalancer", "delete", lb)
    assert "it has children (HTTP 409)" in error
    pool = cli.json("loadbalancer", "pool", "create", "--lb-algorithm", "ROUND_ROBIN", "--protocol", "HTTP",
                    "--loadbalancer", lb)
    error = cli.fails("loadbalancer", "healthmonitor", "create", "--type", "HTTP", "--delay", "3", "--timeout", "5",
                      "--max-retries", "3", pool["id"])
    assert "Delay must be greater than or equal to timeout. (HTTP 400)" in error
    error = cli.fails("loadbalancer", "create", "--vip-subnet-id", subnet_id, "--availability-zone", "az1")
    assert "Invalid input for availability_zone" in error and "(HTTP 400)" in error
    error = cli.fails("loadbalancer", "member", "create", "--address", "10.9.9.9", "--subnet-id", subnet_id,
                      "--protocol-port", "80", pool["id"])
    assert "is not in the CIDR 192.168.210.0/24" in error
    providers = cli.json("loadbalancer", "provider", "list")
    assert [item["name"] for item in providers] == ["haproxy"]
    defaults = cli.json("loadbalancer", "quota", "defaults", "show")
    assert (defaults["load_balancer"], defaults["pool"], defaults["member"], defaults["l7policy"]) == (10, 10, -1, None)
    project = str(uuid.uuid4())  # an id the CLI takes without asking Keystone
    assert cli.json("loadbalancer", "quota", "show", project) == defaults
    # The CLI looks flavors up by name: none are defined.
    assert "Unable to locate small in flavors" in cli.fails("loadbalancer", "create", "--vip-subnet-id", subnet_id,
                                                            "--flavor", "small")
    cli.run("loadbalancer", "delete", "--cascade", lb)


def test_endpoint_override_of_the_load_balancer_service(noop_server):
    """OS_LOAD_BALANCER_ENDPOINT_OVERRIDE points octaviaclient alone elsewhere; it appends /v2.0
    unless the URL ends with it."""
    env = dict(cli_environment(), OS_AUTH_TYPE="none", OS_ENDPOINT=noop_server.url)
    for override, served in ((noop_server.url + "/v2.0", True), (noop_server.url + "/", True),
                             (noop_server.url + "/elsewhere", False)):
        done = run_openstack(["loadbalancer", "provider", "list", "-f", "json"],
                             dict(env, OS_LOAD_BALANCER_ENDPOINT_OVERRIDE=override))
        assert (done.returncode == 0) is served, (override, done.stderr)
        if served:
            assert json.loads(done.stdout)[0]["name"] == "haproxy"
        else:
            assert "(HTTP 404)" in done.stderr


# --- through Keystone --------------------------------------------------------------------------

PASSWORD = "lb-member-secret"


def register_endpoint(keystone, service_type, url):
    """A service of ``service_type`` whose public endpoint is ``url``; returns the service id."""
    admin = keystone.admin_session
    service = admin.post(keystone.auth_url + "/services", json={"service": {
        "type": service_type, "name": unique("netweave-" + service_type), "enabled": True}}).json()["service"]
    admin.post(keystone.auth_url + "/endpoints", json={"endpoint": {
        "service_id": service["id"], "interface": "public", "url": url, "region_id": keystone.region,
        "enabled": True}})
    return service["id"]


@pytest.fixture(scope="module")
def keystone_deployment(keystone_server, tmp_path_factory):
    """netweave-server (lbaasv2, noop driver) validating Keystone tokens, in Keystone's catalog as
    the network and load-balancer services, and a member of a project of its own."""
    suffix = uuid.uuid4().hex[:8]
    service_user = "netweave-lb-%s" % suffix
    keystone_server.create_service_user(service_user, "service-secret")
    options = keystone_server.authtoken_options(service_user, "service-secret")
    options["service_type"] = "network"
    authtoken = "\n[keystone_authtoken]\n" + "".join("%s = %s\n" % item for item in options.items())
    running = server.start_server(str(tmp_path_factory.mktemp("lbks")), auth_strategy="keystone",
                                  ml2=lbaas_server.ML2, extra=lbaas_server.plugin_config("noop") + authtoken)
    services = []
    try:
        # Octavia's catalog entry is its root URL: octaviaclient appends /v2.0 itself.
        services = [register_endpoint(keystone_server, kind, running.url) for kind in ("network", "load-balancer")]
        project, username = "LbProject-" + suffix, "LbUser-" + suffix
        ids = keystone_server.create_project_user(project, username, PASSWORD)
        yield {"server": running, "keystone": keystone_server, "project": project, "project_id": ids["project_id"],
               "username": username}
    finally:
        for service_id in services:
            # Deleting a service deletes its endpoints: the shared Keystone's catalog is as before.
            keystone_server.admin_session.delete(keystone_server.auth_url + "/services/" + service_id)
        running.stop()


def keystone_cli(deployment, *args, admin=False, check=True):
    """The CLI with a password and nothing else: the member of the deployment's project, or the
    bootstrap admin (admin project)."""
    keystone = deployment["keystone"]
    user, password, project = ((keystone.admin_username, keystone.admin_password, keystone.admin_project_name)
                               if admin else (deployment["username"], PASSWORD, deployment["project"]))
    env = dict(cli_environment(), OS_AUTH_URL=keystone.auth_url, OS_AUTH_TYPE="password", OS_USERNAME=user,
               OS_PASSWORD=password, OS_PROJECT_NAME=project, OS_USER_DOMAIN_ID="default",
               OS_PROJECT_DOMAIN_ID="default", OS_IDENTITY_API_VERSION="3", OS_REGION_NAME=keystone.region,
               OS_INTERFACE="public")
    done = run_openstack(list(args), env)
    if not check:
        return done
    assert done.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(args), done.stdout, done.stderr)
    return json.loads(done.stdout) if "json" in args else done.stdout


@pytest.mark.slow
def test_cli_and_sdk_find_netweave_in_the_keystone_catalog(keystone_deployment):
    deployment = keystone_deployment
    assert keystone_cli(deployment, "loadbalancer", "list", "-f", "json") == []
    keystone_cli(deployment, "network", "create", "KS_NET")
    subnet = keystone_cli(deployment, "subnet", "create", "--subnet-range", "192.168.220.0/24", "--network",
                          "KS_NET", "KS_SUBNET", "-f", "json")
    lb = keystone_cli(deployment, "loadbalancer", "create", "--name", "LB_KS", "--vip-subnet-id", subnet["id"],
                      "--wait", "-f", "json")
    assert (lb["project_id"], lb["provisioning_status"], lb["vip_subnet_id"]) == (
        deployment["project_id"], "ACTIVE", subnet["id"])
    listed = keystone_cli(deployment, "loadbalancer", "list", "-f", "json")
    assert [(item["name"], item["project_id"]) for item in listed] == [("LB_KS", deployment["project_id"])]

    # openstacksdk's load_balancer proxy finds the same endpoint by the same catalog.
    keystone = deployment["keystone"]
    conn = openstack.connection.Connection(
        session=keystone.session(deployment["username"], PASSWORD, project_name=deployment["project"]),
        region_name=keystone.region)
    assert [item.name for item in conn.load_balancer.load_balancers()] == ["LB_KS"]
    listener = conn.load_balancer.create_listener(loadbalancer_id=lb["id"], protocol="HTTP", protocol_port=80)
    assert listener.project_id == deployment["project_id"]
    # Without a token the load-balancer paths refuse like every other.
    http = requests.Session()
    http.trust_env = False
    assert http.get(deployment["server"].url + "/v2.0/lbaas/loadbalancers", timeout=30).status_code == 401

    # Octavia's quota commands: the admin names the project, the member meets the limit.
    keystone_cli(deployment, "loadbalancer", "quota", "set", "--loadbalancer", "1", deployment["project"],
                 admin=True)
    # A member may not look project names up in Keystone: it names its project by id.
    shown = keystone_cli(deployment, "loadbalancer", "quota", "show", deployment["project_id"], "-f", "json")
    assert (shown["load_balancer"], shown["pool"]) == (1, 10)
    refused = keystone_cli(deployment, "loadbalancer", "create", "--vip-subnet-id", subnet["id"], check=False)
    assert refused.returncode != 0 and "Quota exceeded for resources: loadbalancer. (HTTP 409)" in refused.stderr
    refused = keystone_cli(deployment, "loadbalancer", "quota", "set", "--pool", "1", deployment["project_id"],
                           check=False)
    assert refused.returncode != 0 and "(HTTP 403)" in refused.stderr
    keystone_cli(deployment, "loadbalancer", "quota", "reset", deployment["project"], admin=True)
    assert keystone_cli(deployment, "loadbalancer", "quota", "show", deployment["project_id"], "-f",
                        "json")["load_balancer"] == 10

    keystone_cli(deployment, "loadbalancer", "delete", "--cascade", "LB_KS", "--wait")
    assert keystone_cli(deployment, "loadbalancer", "list", "-f", "json") == []
