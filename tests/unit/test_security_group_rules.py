"""Security group rule values, address pairs and membership changes: pure conversion and checks."""
import pytest

from netweave.core.api import validators as v
from netweave.service_plugins.port_security import exceptions as sg_exc
from netweave.service_plugins.port_security import extension_driver, port_events, rules
from netweave.service_plugins.port_security.extensions import allowed_address_pairs, securitygroup

G = "11111111-1111-4111-8111-111111111111"


def rule(**values):
    base = {"security_group_id": G, "direction": "ingress", "ethertype": "IPv4", "protocol": None,
            "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None}
    base.update(values)
    return base


@pytest.mark.parametrize("given, stored", [
    (None, None), ("any", None), ("ANY", None), ("TCP", "tcp"), ("udp", "udp"), ("icmp", "icmp"),
    ("icmpv6", "ipv6-icmp"), ("ipv6-icmp", "ipv6-icmp"), ("6", "6"), (17, "17"), (0, "0"), ("255", "255"),
    ("vrrp", "vrrp"),
])
def test_protocols_by_name_or_number(given, stored):
    assert rules.convert_protocol(given) == stored


@pytest.mark.parametrize("given", ["256", -1, "tcpx", "", True, 3.5, ["tcp"]])
def test_unknown_protocols_are_refused_with_neutrons_message(given):
    with pytest.raises(sg_exc.SecurityGroupRuleInvalidProtocol) as error:
        rules.convert_protocol(given)
    assert error.value.status == 400
    assert error.value.msg.startswith("Security group rule protocol %s not supported. Only protocol values "
                                      % (given,))


def test_ethertype_is_case_insensitive_and_checked():
    assert rules.convert_ethertype("ipv6") == "IPv6" and rules.convert_ethertype("IPV4") == "IPv4"
    with pytest.raises(sg_exc.SecurityGroupRuleInvalidEtherType):
        rules.convert_ethertype("IPv5")


@pytest.mark.parametrize("given, stored", [(None, None), (0, 0), ("80", 80), (65535, 65535)])
def test_port_values(given, stored):
    assert rules.convert_port(given) == stored


@pytest.mark.parametrize("given", [65536, -1, "http", True, 1.5])
def test_bad_port_values(given):
    with pytest.raises(sg_exc.SecurityGroupInvalidPortValue):
        rules.convert_port(given)


@pytest.mark.parametrize("given, stored, normalized", [
    ("10.0.0.1", "10.0.0.1/32", "10.0.0.1/32"), ("10.0.0.1/24", "10.0.0.1/24", "10.0.0.0/24"),
    ("0.0.0.0/0", "0.0.0.0/0", "0.0.0.0/0"), ("fd00::1/64", "fd00::1/64", "fd00::/64"), ("", None, None),
])
def test_remote_prefix_keeps_host_bits_and_normalizes_separately(given, stored, normalized):
    assert rules.convert_ip_prefix(given) == stored
    assert rules.normalized_cidr(stored) == normalized


@pytest.mark.parametrize("given", ["10.1", "10.0.0.0/33", "fd00::/129", "x", "10.0.0.0/", 5])
def test_bad_remote_prefixes(given):
    with pytest.raises(sg_exc.InvalidCIDR):
        rules.convert_ip_prefix(given)


@pytest.mark.parametrize("values, error", [
    ({"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": G}, sg_exc.SecurityGroupRemoteGroupAndRemoteIpPrefix),
    ({"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}, sg_exc.SecurityGroupRuleParameterConflict),
    ({"remote_ip_prefix": "fd00::/64"}, sg_exc.SecurityGroupRuleParameterConflict),
    ({"protocol": "ipv6-icmp"}, sg_exc.SecurityGroupEthertypeConflictWithProtocol),
    ({"protocol": "58"}, sg_exc.SecurityGroupEthertypeConflictWithProtocol),
    ({"port_range_min": 22, "port_range_max": 22}, sg_exc.SecurityGroupProtocolRequiredWithPorts),
    ({"protocol": "tcp", "port_range_min": 90, "port_range_max": 80}, sg_exc.SecurityGroupInvalidPortRange),
    ({"protocol": "udp", "port_range_min": 53}, sg_exc.SecurityGroupInvalidPortRange),
    ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 10}, sg_exc.SecurityGroupInvalidPortValue),
    ({"protocol": "icmp", "port_range_min": 256}, sg_exc.SecurityGroupInvalidIcmpValue),
    ({"protocol": "icmp", "port_range_max": 0}, sg_exc.SecurityGroupMissingIcmpType),
    ({"protocol": "gre", "port_range_min": 1, "port_range_max": 2}, sg_exc.SecurityGroupInvalidProtocolForPortRange),
])
def test_whole_rule_checks(values, error):
    with pytest.raises(error):
        rules.validate_rule(rule(**values))


@pytest.mark.parametrize("values", [
    {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
    {"protocol": "6", "port_range_min": 1, "port_range_max": 65535},
    {"protocol": "icmp", "port_range_min": 8, "port_range_max": 0},
    {"protocol": "icmp", "port_range_min": 8},
    {"ethertype": "IPv6", "protocol": "ipv6-icmp", "port_range_min": 135},
    {"ethertype": "IPv6", "protocol": "icmp"},
    {"protocol": "tcp"},
    {"ethertype": "IPv6", "remote_ip_prefix": "::/0"},
    {"remote_group_id": G},
])
def test_valid_rules_pass_unchanged(values):
    assert rules.validate_rule(rule(**values)) == rule(**values)


def test_invalid_icmp_values_name_the_field():
    with pytest.raises(sg_exc.SecurityGroupInvalidIcmpValue) as error:
        rules.validate_rule(rule(protocol="icmp", port_range_min=8, port_range_max=300))
    assert error.value.msg == "Invalid value for ICMP code (port_range_max) 300. It must be 0 to 255."


def test_duplicate_keys_see_through_spellings():
    key = rules.duplicate_key
    assert key(rule(protocol="tcp", port_range_min=22, port_range_max=22)) == key(
        rule(protocol="6", port_range_min=22, port_range_max=22))
    assert key(rule(remote_ip_prefix="0.0.0.0/0")) == key(rule())
    assert key(rule(ethertype="IPv6", remote_ip_prefix="::/0")) == key(rule(ethertype="IPv6"))
    assert key(rule(ethertype="IPv6", protocol="icmp")) == key(rule(ethertype="IPv6", protocol="ipv6-icmp"))
    assert key(rule(remote_ip_prefix="10.0.0.7/8")) == key(rule(remote_ip_prefix="10.0.0.0/8"))
    assert key(rule(direction="egress")) != key(rule())
    assert key(rule(protocol="udp")) != key(rule(protocol="tcp"))
    assert key(rule(remote_group_id=G)) != key(rule())


def test_canonical_protocols_for_the_agents():
    assert rules.canonical_protocol("6", "IPv4") == "tcp"
    assert rules.canonical_protocol("icmp", "IPv6") == "ipv6-icmp"
    assert rules.canonical_protocol("58", "IPv6") == "ipv6-icmp"
    assert rules.canonical_protocol("1", "IPv4") == "icmp"
    assert rules.canonical_protocol("vrrp", "IPv4") == "112"
    assert rules.canonical_protocol("ipv6-frag", "IPv6") == "44"
    assert rules.canonical_protocol("112", "IPv4") == "112"
    assert rules.canonical_protocol(None, "IPv4") is None


def test_initial_rules_of_default_and_other_groups():
    assert rules.default_rules(G, is_default=False) == [
        {"direction": "egress", "ethertype": "IPv4", "remote_group_id": None},
        {"direction": "egress", "ethertype": "IPv6", "remote_group_id": None}]
    assert sorted((r["direction"], r["ethertype"], r["remote_group_id"]) for r in rules.default_rules(G, True)) == [
        ("egress", "IPv4", None), ("egress", "IPv6", None), ("ingress", "IPv4", G), ("ingress", "IPv6", G)]


def test_group_name_default_is_refused_in_any_case():
    for name in ("default", "Default", "DEFAULT"):
        with pytest.raises(sg_exc.SecurityGroupDefaultAlreadyExists):
            securitygroup._name_not_default(name)
    assert securitygroup._name_not_default("web") == "web"


def test_address_pair_attribute():
    assert allowed_address_pairs.address_pairs(None) == []
    assert allowed_address_pairs.address_pairs([{"ip_address": "10.0.0.0/24", "mac_address": "FA:16:3E:00:00:01"}]) == [
        {"ip_address": "10.0.0.0/24", "mac_address": "fa:16:3e:00:00:01"}]
    for bad, reason in ((["10.0.0.1"], "list of dictionaries"), ([{"mac_address": "fa:16:3e:00:00:01"}],
                                                                   "must contain ip_address"),
                        ([{"ip_address": "10.0.0.1", "vlan": 3}], "Unrecognized attribute(s) 'vlan'"),
                        ([{"ip_address": "10.0.0.300"}], "not a valid IP address"), ("10.0.0.1", "must be a list")):
        with pytest.raises(v.AttributeInvalid) as error:
            allowed_address_pairs.address_pairs(bad)
        assert reason in str(error.value)


def test_address_pairs_completed_with_the_port_mac():
    mac = "fa:16:3e:aa:bb:cc"
    given = [{"ip_address": "10.0.0.9"}, {"ip_address": "10.0.0.1", "mac_address": "fa:16:3e:00:00:01"}]
    assert extension_driver.complete_pairs(given, mac) == [
        {"ip_address": "10.0.0.1", "mac_address": "fa:16:3e:00:00:01"}, {"ip_address": "10.0.0.9", "mac_address": mac}]
    with pytest.raises(sg_exc.DuplicateAddressPairInRequest):
        extension_driver.complete_pairs([{"ip_address": "10.0.0.9"}, {"ip_address": "10.0.0.9", "mac_address": mac}],
                                        mac)
    with pytest.raises(sg_exc.AllowedAddressPairExhausted):
        extension_driver.complete_pairs([{"ip_address": "10.0.0.%d" % i} for i in range(11)], mac)


def test_membership_changes():
    port = {"security_groups": ["a"], "fixed_ips": [{"ip_address": "10.0.0.5"}], "allowed_address_pairs": [],
            "port_security_enabled": True, "name": "x"}
    assert port_events.changed_groups(None, port) == ["a"]
    assert port_events.changed_groups(port, None) == ["a"]
    assert port_events.changed_groups(port, dict(port, name="y")) == []
    assert port_events.changed_groups(port, dict(port, security_groups=["b"])) == ["a", "b"]
    assert port_events.changed_groups(port, dict(port, fixed_ips=[])) == ["a"]
    assert port_events.changed_groups(dict(port, security_groups=[]), dict(port, security_groups=[])) == []


def test_ipv6_destination_options_is_spelled_as_neutron_does():
    assert rules.convert_protocol("IPv6-Opts") == "ipv6-opts"
    assert rules.protocol_number("ipv6-opts") == 60
    # A row stored under the former spelling still reaches the agents.
    assert rules.canonical_protocol("ipv6-opt", "IPv6") == "60"
    assert rules.protocol_number("hopopt") == 0
