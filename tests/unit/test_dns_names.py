"""DNS names and domains: Neutron's validation messages and the dns_assignment rules."""
import pytest

from netweave.core import exceptions as exc
from netweave.core.api import validators as v
from netweave.service_plugins.dns import api_definitions as api
from netweave.service_plugins.dns import names

V4 = [{"subnet_id": "s4", "ip_address": "10.0.0.5"}]
DUAL = V4 + [{"subnet_id": "s6", "ip_address": "2001:db8::5"}]


@pytest.mark.parametrize("value", ["", "vm1", "my-vm", "vm1.example.org", "vm1.example.org.", "a" * 63,
                                   "x1.y2", ".".join(["a" * 63] * 4)[:-2]])
def test_good_names_pass(value):
    assert names.format_problem(value) is None


@pytest.mark.parametrize("value, reason", [
    ("bad-", "Name 'bad-' must not start or end with a hyphen"),
    ("-bad", "Name '-bad' must not start or end with a hyphen"),
    ("a..b", "Encountered an empty component"),
    (".", "Encountered an empty component"),
    ("a" * 64, "Name '%s' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen"
     % ("a" * 64)),
    ("my_vm", "Name 'my_vm' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen"),
    ("vm 1", "Name 'vm 1' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen"),
    ("vm\n", "Name 'vm\n' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen"),
    ("<project_id>", "Name '<project_id>' must be 1-63 characters long, each of which can only be alphanumeric "
     "or a hyphen"),
    ("vm.123", "TLD '123' must not be all numeric"),
    ("10.0.0.5", "TLD '5' must not be all numeric"),
])
def test_bad_names_give_neutrons_reason(value, reason):
    assert names.format_problem(value) == "'%s' not a valid PQDN or FQDN. Reason: %s" % (value, reason)


def test_the_fqdn_limit_is_255_without_the_trailing_dot():
    name = ".".join(["a" * 63] * 4)  # 255 characters
    assert names.format_problem(name) is None and names.format_problem(name + ".") is None
    longer = name + "b"
    assert names.format_problem(longer) == (
        "'%s' not a valid PQDN or FQDN. Reason: '%s' exceeds the 255 character FQDN limit" % (longer, longer))


def test_a_name_must_fit_the_configured_domain():
    assert names.name_domain_problem("vm1", "example.org") is None
    assert names.name_domain_problem("vm1.example.org.", "example.org.") is None
    assert names.name_domain_problem("a.vm1.example.org.", "example.org") is None
    for fqdn in ("vm1.other.org.", "example.org.", "xexample.org."):
        assert names.name_domain_problem(fqdn, "example.org.") == (
            "The dns_name passed is a FQDN. Its higher level labels must be equal to the dns_domain option in "
            "neutron.conf, that has been set to 'example.org.'. It must also include one or more valid DNS "
            "labels to the left of 'example.org.'")
    long_name = "a" * 243
    assert names.name_domain_problem(long_name, "example.org") == (
        "The dns_name passed is a PQDN and its size is '243'. The dns_domain option in neutron.conf is set to "
        "example.org, with a length of '13'. When the two are concatenated to form a FQDN (with a '.' at the "
        "end), the resulting length exceeds the maximum size of '255'")
    assert names.name_domain_problem("a" * 242, "example.org") is None


@pytest.mark.parametrize("value, reason", [
    ("example.org", "'example.org' is not a FQDN"),
    ("bad-.org.", "'bad-.org.' not a valid PQDN or FQDN. Reason: Name 'bad-' must not start or end with a hyphen"),
    ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61 + ".",
     "'%s' contains 254 characters. Adding a sub-domain will cause it to exceed the maximum length of a FQDN "
     "of '255'" % ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61 + ".")),
])
def test_bad_domains_give_neutrons_reason(value, reason):
    assert names.domain_problem(value) == reason


def test_good_domains_pass():
    assert names.domain_problem("") is None
    assert names.domain_problem("example.org.") is None


def test_api_converters_lowercase_and_refuse_non_strings():
    assert api.dns_name("MyVM.Example.ORG.") == "myvm.example.org."
    assert api.dns_domain("Corp.Example.org.") == "corp.example.org."
    for value in (5, None, ["vm"], {"a": 1}, True):
        with pytest.raises(exc.InvalidInput) as error:
            api.dns_name(value)
        assert error.value.msg == "Invalid input for operation: Input value %s must be string type." % (value,)
    with pytest.raises(v.AttributeInvalid, match="'example.org' is not a FQDN"):
        api.dns_domain("Example.org")
    with pytest.raises(v.AttributeInvalid, match="must not start or end with a hyphen"):
        api.dns_name("-vm")


def test_names_count_only_with_a_domain_other_than_the_default():
    assert not names.names_honoured("openstacklocal")
    assert not names.names_honoured("openstacklocal.")
    assert not names.names_honoured("")
    assert names.names_honoured("example.org")


def test_assignment_with_the_default_domain_ignores_the_name():
    assert names.assignment(DUAL, "vm1", "openstacklocal") == [
        {"hostname": "host-10-0-0-5", "ip_address": "10.0.0.5", "fqdn": "host-10-0-0-5.openstacklocal."},
        {"hostname": "host-2001-db8--5", "ip_address": "2001:db8::5", "fqdn": "host-2001-db8--5.openstacklocal."}]


def test_assignment_uses_the_name_and_the_configured_domain():
    assert names.assignment(DUAL, "vm1", "example.org") == [
        {"hostname": "vm1", "ip_address": "10.0.0.5", "fqdn": "vm1.example.org."},
        {"hostname": "vm1", "ip_address": "2001:db8::5", "fqdn": "vm1.example.org."}]
    # A FQDN is its own FQDN (and the host name, as in Neutron).
    assert names.assignment(V4, "vm1.example.org.", "example.org.") == [
        {"hostname": "vm1.example.org.", "ip_address": "10.0.0.5", "fqdn": "vm1.example.org."}]
    # No name: the generated one, in the configured domain.
    assert names.assignment(V4, "", "example.org") == [
        {"hostname": "host-10-0-0-5", "ip_address": "10.0.0.5", "fqdn": "host-10-0-0-5.example.org."}]


def test_assignment_without_a_domain_or_addresses():
    assert names.assignment(V4, "vm1", "") == [
        {"hostname": "host-10-0-0-5", "ip_address": "10.0.0.5", "fqdn": "host-10-0-0-5"}]
    assert names.assignment([], "vm1", "example.org") == []
