"""DNS integration (dns-integration, dns-domain-ports) through openstacksdk, the CLI and plain HTTP.

``dns_server`` runs netweave-server with ``[ml2] extension_drivers =
dns_domain_ports`` and ``[DEFAULT] dns_domain = example.org.``, where ports'
names count; ``aio_server`` (every installed driver, the default
``openstacklocal`` domain) shows Neutron's behaviour there: names are ignored
and every address gets host-<address>.openstacklocal.
"""
import openstack.exceptions
import pytest
import requests

from harness import sdk, server
from harness.cli import Cli

DOMAIN = "example.org."
# A valid PQDN of 243 characters: with ".example.org." it would exceed 255.
LONG_PQDN = ".".join(c * 60 for c in "abcd")


@pytest.fixture(scope="module")
def dns_server(tmp_path_factory):
    running = server.start_server(str(tmp_path_factory.mktemp("dns")), ml2={"extension_drivers": "dns_domain_ports"},
                                  extra="\n[DEFAULT]\ndns_domain = %s\n" % DOMAIN)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(dns_server):
    return sdk.connect(dns_server.url)


@pytest.fixture(scope="module")
def subnet(admin):
    network = admin.network.create_network(name=sdk.unique("dns-net"), dns_domain="Corp.Example.ORG.")
    return admin.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.70.0.0/24",
                                       name=sdk.unique("dns-sub"))


def _post(url, resource, body):
    return requests.post("%s/v2.0/%ss" % (url, resource), json={resource: body}, timeout=30)


def _put(url, resource, item_id, body):
    return requests.put("%s/v2.0/%ss/%s" % (url, resource, item_id), json={resource: body}, timeout=30)


def _refused(response):
    assert response.status_code == 400, response.text
    return response.json()["NeutronError"]["message"]


def test_both_extensions_are_listed(admin):
    aliases = {e.alias: e for e in admin.network.extensions()}
    assert aliases["dns-integration"].name == "DNS Integration"
    assert aliases["dns-integration"].description == "Provides integration with DNS."
    assert aliases["dns-domain-ports"].name == "dns_domain for ports"


def test_network_dns_domain_round_trips_lowercased(admin, subnet):
    network = admin.network.get_network(subnet.network_id)
    assert network.dns_domain == "corp.example.org."
    network = admin.network.update_network(network, dns_domain="lab.example.org.")
    assert admin.network.get_network(network.id).dns_domain == "lab.example.org."
    # '' removes it.
    assert admin.network.update_network(network, dns_domain="").dns_domain == ""
    assert admin.network.get_network(network.id).dns_domain == ""
    bare = admin.network.create_network(name=sdk.unique("bare"))
    assert bare.dns_domain == ""


def test_port_dns_attributes_round_trip_through_the_sdk(admin, subnet):
    port = admin.network.create_port(network_id=subnet.network_id, dns_name="My-VM", dns_domain="Apps.Example.org.",
                                     name=sdk.unique("dns-port"))
    address = port.fixed_ips[0]["ip_address"]
    assert port.dns_name == "my-vm" and port.dns_domain == "apps.example.org."
    assert port.dns_assignment == [{"hostname": "my-vm", "ip_address": address, "fqdn": "my-vm.example.org."}]
    shown = admin.network.get_port(port.id)
    assert (shown.dns_name, shown.dns_domain, shown.dns_assignment) == (
        port.dns_name, port.dns_domain, port.dns_assignment)

    renamed = admin.network.update_port(port, dns_name="web1.example.org.")
    assert renamed.dns_name == "web1.example.org." and renamed.dns_domain == "apps.example.org."
    assert renamed.dns_assignment == [{"hostname": "web1.example.org.", "ip_address": address,
                                       "fqdn": "web1.example.org."}]
    # A new address gets the same name.
    moved = admin.network.update_port(port, fixed_ips=[{"subnet_id": subnet.id, "ip_address": "10.70.0.77"}])
    assert moved.dns_assignment == [{"hostname": "web1.example.org.", "ip_address": "10.70.0.77",
                                     "fqdn": "web1.example.org."}]
    cleared = admin.network.update_port(port, dns_name="", dns_domain="")
    assert cleared.dns_name == "" and cleared.dns_domain == ""
    assert cleared.dns_assignment == [{"hostname": "host-10-70-0-77", "ip_address": "10.70.0.77",
                                       "fqdn": "host-10-70-0-77.example.org."}]
    listed = {p.id: p for p in admin.network.ports(network_id=subnet.network_id)}
    assert listed[port.id].dns_assignment == cleared.dns_assignment


def test_ports_without_a_name_or_address(admin, subnet):
    port = admin.network.create_port(network_id=subnet.network_id)
    address = port.fixed_ips[0]["ip_address"]
    assert port.dns_name == "" and port.dns_domain == ""
    assert port.dns_assignment == [{"hostname": "host-" + address.replace(".", "-"), "ip_address": address,
                                    "fqdn": "host-%s.example.org." % address.replace(".", "-")}]
    bare = admin.network.create_network(name=sdk.unique("noaddr"))
    lone = admin.network.create_port(network_id=bare.id, dns_name="lonely")
    assert lone.dns_name == "lonely" and lone.dns_assignment == []


def test_two_ports_may_share_a_name(admin, subnet):
    # Neutron refuses no duplicate names without an external DNS service.
    first = admin.network.create_port(network_id=subnet.network_id, dns_name="twin")
    second = admin.network.create_port(network_id=subnet.network_id, dns_name="twin")
    assert first.dns_assignment[0]["fqdn"] == second.dns_assignment[0]["fqdn"] == "twin.example.org."


@pytest.mark.parametrize("value, message", [
    ("bad-", "Invalid input for dns_name. Reason: 'bad-' not a valid PQDN or FQDN. Reason: Name 'bad-' must not "
             "start or end with a hyphen."),
    ("a..b", "Invalid input for dns_name. Reason: 'a..b' not a valid PQDN or FQDN. Reason: Encountered an empty "
             "component."),
    ("my_vm", "Invalid input for dns_name. Reason: 'my_vm' not a valid PQDN or FQDN. Reason: Name 'my_vm' must be "
              "1-63 characters long, each of which can only be alphanumeric or a hyphen."),
    ("a" * 64, "Invalid input for dns_name. Reason: '{0}' not a valid PQDN or FQDN. Reason: Name '{0}' must be "
               "1-63 characters long, each of which can only be alphanumeric or a hyphen.".format("a" * 64)),
    ("vm.42", "Invalid input for dns_name. Reason: 'vm.42' not a valid PQDN or FQDN. Reason: TLD '42' must not "
              "be all numeric."),
    ("vm1.other.org.", "Invalid input for dns_name. Reason: The dns_name passed is a FQDN. Its higher level labels "
                       "must be equal to the dns_domain option in neutron.conf, that has been set to "
                       "'example.org.'. It must also include one or more valid DNS labels to the left of "
                       "'example.org.'."),
    (LONG_PQDN, "Invalid input for dns_name. Reason: The dns_name passed is a PQDN and its size is '243'. The "
                "dns_domain option in neutron.conf is set to example.org., with a length of '13'. When the two "
                "are concatenated to form a FQDN (with a '.' at the end), the resulting length exceeds the "
                "maximum size of '255'."),
    (5, "Invalid input for operation: Input value 5 must be string type."),
    (None, "Invalid input for operation: Input value None must be string type."),
])
def test_bad_dns_names_are_refused_on_create_and_update(dns_server, subnet, value, message):
    assert _refused(_post(dns_server.url, "port", {"network_id": subnet.network_id, "dns_name": value})) == message
    port = _post(dns_server.url, "port", {"network_id": subnet.network_id, "dns_name": "kept"}).json()["port"]
    assert _refused(_put(dns_server.url, "port", port["id"], {"dns_name": value})) == message
    # Nothing was half-written.
    again = requests.get("%s/v2.0/ports/%s" % (dns_server.url, port["id"]), timeout=30).json()["port"]
    assert again["dns_name"] == "kept" and again["revision_number"] == port["revision_number"]


@pytest.mark.parametrize("value, message", [
    ("example.org", "Invalid input for dns_domain. Reason: 'example.org' is not a FQDN."),
    ("-x.org.", "Invalid input for dns_domain. Reason: '-x.org.' not a valid PQDN or FQDN. Reason: Name '-x' "
                "must not start or end with a hyphen."),
    ([], "Invalid input for operation: Input value [] must be string type."),
])
def test_bad_dns_domains_are_refused_on_networks_and_ports(dns_server, subnet, value, message):
    assert _refused(_post(dns_server.url, "network", {"dns_domain": value})) == message
    assert _refused(_put(dns_server.url, "network", subnet.network_id, {"dns_domain": value})) == message
    assert _refused(_post(dns_server.url, "port", {"network_id": subnet.network_id, "dns_domain": value})) == message


def test_dns_assignment_is_read_only(dns_server, subnet):
    message = _refused(_post(dns_server.url, "port", {"network_id": subnet.network_id, "dns_assignment": []}))
    assert message == "Attribute 'dns_assignment' not allowed in POST"


def test_sdk_errors_carry_the_reason(admin, subnet):
    with pytest.raises(openstack.exceptions.BadRequestException) as error:
        admin.network.create_port(network_id=subnet.network_id, dns_name="-x")
    assert "must not start or end with a hyphen" in sdk.fault_of(error.value)["message"]


def test_cli_port_create_and_show_with_a_dns_name(dns_server, subnet):
    cli = Cli(dns_server.url)
    created = cli.json("port", "create", "--network", subnet.network_id, "--dns-name", "cli-vm",
                       "--dns-domain", "ops.example.org.", sdk.unique("cli-dns"))
    assert created["dns_name"] == "cli-vm" and created["dns_domain"] == "ops.example.org."
    shown = cli.json("port", "show", created["id"])
    address = shown["fixed_ips"][0]["ip_address"]
    assert shown["dns_assignment"] == [{"hostname": "cli-vm", "ip_address": address, "fqdn": "cli-vm.example.org."}]
    cli.run("port", "set", "--dns-name", "cli-vm2", created["id"])
    assert cli.json("port", "show", created["id"])["dns_assignment"][0]["fqdn"] == "cli-vm2.example.org."
    assert "must not start or end with a hyphen" in cli.fails("port", "set", "--dns-name", "cli-", created["id"])
    network = cli.json("network", "create", "--dns-domain", "cli.example.org.", sdk.unique("cli-net"))
    assert network["dns_domain"] == "cli.example.org."


# --- the default domain (the all-in-one as installed) ------------------------------------------------

def test_with_the_default_domain_names_are_ignored(aio_server):
    admin = sdk.connect(aio_server.url)
    aliases = {e.alias for e in admin.network.extensions()}
    assert {"dns-integration", "dns-domain-ports"} <= aliases
    network = admin.network.create_network(name=sdk.unique("default-dns"), dns_domain="corp.example.org.")
    assert network.dns_domain == "corp.example.org."
    admin.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.71.0.0/24")
    port = admin.network.create_port(network_id=network.id, dns_name="ignored", dns_domain="x.example.org.")
    address = port.fixed_ips[0]["ip_address"]
    hostname = "host-" + address.replace(".", "-")
    assert port.dns_name == "" and port.dns_domain == ""
    assert port.dns_assignment == [{"hostname": hostname, "ip_address": address,
                                    "fqdn": hostname + ".openstacklocal."}]
    assert admin.network.update_port(port, dns_name="still-ignored").dns_name == ""
    # The format is still checked.
    with pytest.raises(openstack.exceptions.BadRequestException):
        admin.network.create_port(network_id=network.id, dns_name="bad-")
